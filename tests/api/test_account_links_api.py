"""The API of e-mailed links: POST /auth/password-reset (always 202), /auth/password-reset/confirm, the invitation
a new account with an e-mail receives, and POST /people/{id}/invitation to send it again."""

from __future__ import annotations

import re
from email.message import EmailMessage

from sqlalchemy import select

from app.models import AuditEvent, RefreshToken
from app.platform.rate_limit import LoginLimits, RateLimit
from app.runtime import runtime
from tests.api.support import assert_problem
from tests.conftest import PASSWORD

V1 = "/api/v1"
NEW = "une phrase assez longue"


def token_in(message: EmailMessage, page: str) -> str:
    found = re.search(rf"https://blason\.test/{page}/([\w-]+)", message.get_content())
    assert found, message.get_content()
    return found.group(1)


def test_a_reset_request_answers_202_whether_the_account_exists_or_not(client, make_person, outbox):
    person = make_person()
    for email in (person.email, "personne@example.org"):
        response = client.post(f"{V1}/auth/password-reset", json={"email": email})
        assert response.status_code == 202 and response.get_data() == b""
    [message] = outbox()
    assert message["To"] == person.email


def test_a_reset_request_is_validated_and_throttled(app, client, make_person):
    assert_problem(client.post(f"{V1}/auth/password-reset", json={"email": "pas-une-adresse"}), 422, "#/email")
    runtime(app).login_limits = LoginLimits(account=RateLimit(1, 0.001), address=RateLimit(100, 100))
    email = make_person().email
    assert client.post(f"{V1}/auth/password-reset", json={"email": email}).status_code == 202
    throttled = client.post(f"{V1}/auth/password-reset", json={"email": email})
    assert_problem(throttled, 429)
    assert int(throttled.headers["Retry-After"]) >= 1


def test_confirm_with_the_e_mailed_token_sets_the_password_once_and_ends_the_sessions(
    client, make_person, outbox, session
):
    person = make_person()
    login = client.post(f"{V1}/auth/login", json={"email": person.email, "password": PASSWORD}).get_json()
    client.post(f"{V1}/auth/password-reset", json={"email": person.email})
    token = token_in(outbox()[-1], "mot-de-passe")
    confirmed = client.post(f"{V1}/auth/password-reset/confirm", json={"token": token, "password": NEW})
    assert confirmed.status_code == 204
    assert client.post(f"{V1}/auth/login", json={"email": person.email, "password": NEW}).status_code == 200
    assert client.post(f"{V1}/auth/login", json={"email": person.email, "password": PASSWORD}).status_code == 401
    assert client.post(f"{V1}/auth/refresh", json={"refreshToken": login["refreshToken"]}).status_code == 401
    again = client.post(f"{V1}/auth/password-reset/confirm", json={"token": token, "password": NEW})
    assert_problem(again, 422, "#/token")
    assert session.scalars(select(RefreshToken.revoked_at).where(RefreshToken.person_id == person.id)).first()


def test_confirm_names_the_field_that_is_wrong(client, make_person, outbox):
    body = assert_problem(
        client.post(f"{V1}/auth/password-reset/confirm", json={"token": "inconnu", "password": NEW}), 422, "#/token"
    )
    assert "inconnu" not in str(body)
    person = make_person()
    client.post(f"{V1}/auth/password-reset", json={"email": person.email})
    token = token_in(outbox()[-1], "mot-de-passe")
    short = client.post(f"{V1}/auth/password-reset/confirm", json={"token": token, "password": "court"})
    assert_problem(short, 422, "#/password")
    assert_problem(client.post(f"{V1}/auth/password-reset/confirm", json={"password": NEW}), 422, "#/token")


def test_a_coordinator_s_new_account_with_an_e_mail_is_invited(
    client, headers, make_person, make_project, grant, outbox, session
):
    project = make_project()
    coordinator = make_person(display_name="Karim Benali")
    grant(coordinator, "coordinator", project.territory_id)
    created = client.post(
        f"{V1}/people",
        json={"displayName": "Marie Curie", "email": "marie.curie@example.org", "projectId": str(project.id)},
        headers=headers(coordinator),
    )
    assert created.status_code == 201
    [message] = outbox()
    assert message["To"] == "marie.curie@example.org" and message["Subject"] == "Votre compte Blason vous attend"
    assert "Karim Benali vous a créé un compte" in message.get_content()
    token = token_in(message, "invitation")
    assert token not in str(session.scalars(select(AuditEvent.data)).all())
    assisted = client.post(
        f"{V1}/people",
        json={"displayName": "Marcel Dubreuil", "isAssisted": True, "projectId": str(project.id)},
        headers=headers(coordinator),
    )
    assert assisted.status_code == 201 and len(outbox()) == 1  # no e-mail, no invitation


def test_an_invitation_is_sent_again_by_a_coordinator_of_the_person_only(
    client, headers, make_person, make_project, make_territory, grant, outbox
):
    project = make_project()
    coordinator, stranger, tutor = make_person(), make_person(), make_person()
    grant(coordinator, "coordinator", project.territory_id)
    grant(stranger, "coordinator", make_territory())
    grant(tutor, "tutor", project)
    invited = make_person(password_hash=None, locale="en")
    grant(invited, "learner", project)
    path = f"{V1}/people/{invited.id}/invitation"
    assert_problem(client.post(path, headers=headers(stranger)), 404)
    assert_problem(client.post(path, headers=headers(tutor)), 403)
    assert_problem(client.post(path), 401)
    assert client.post(path, headers=headers(coordinator)).status_code == 202
    [message] = outbox()
    assert message["Subject"] == "Your Blason account is waiting for you" and "?lang=en" in message.get_content()
    no_mail = make_person(email=None, password_hash=None, is_assisted=True)
    grant(no_mail, "learner", project)
    assert_problem(client.post(f"{V1}/people/{no_mail.id}/invitation", headers=headers(coordinator)), 409)


def test_an_invitation_token_does_not_confirm_a_reset(client, headers, make_person, grant, outbox):
    admin = make_person()
    grant(admin, "platform_admin")
    created = client.post(
        f"{V1}/people", json={"displayName": "Ada", "email": "ada@example.org"}, headers=headers(admin)
    )
    assert created.status_code == 201
    token = token_in(outbox()[-1], "invitation")
    confirm = client.post(f"{V1}/auth/password-reset/confirm", json={"token": token, "password": NEW})
    assert_problem(confirm, 422, "#/token")
