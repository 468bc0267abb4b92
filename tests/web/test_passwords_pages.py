"""Choosing a password from an e-mailed link, through the pages: /mot-de-passe-oublie, /mot-de-passe/<token>,
/invitation/<token>; the same answer for unknown accounts, errors next to their field, one page for dead links."""

from __future__ import annotations

import logging
import re
from email.message import EmailMessage
from typing import Any

from sqlalchemy import select

from app.access_log import REDACT_SECRETS, redact
from app.models import AccountLink, Person, WebSession
from app.platform.rate_limit import LoginLimits, RateLimit
from app.runtime import runtime
from app.services.identity import access, account_links
from app.services.identity.audit import Actor
from app.web.session_cookie import COOKIE
from tests.conftest import PASSWORD
from tests.web.csrf_support import csrf_token
from tests.web.page_support import page_text, sign_in_as

NEUTRAL = "Si un compte existe pour cette adresse, un e-mail vient de lui être envoyé."
DEAD = "Ce lien n'est plus valable"
NEW = "une phrase assez longue"


def ask_reset(client: Any, email: str, lang: str = "") -> Any:
    return client.post(
        "/mot-de-passe-oublie" + lang, data={"email": email, "csrf_token": csrf_token(client, "/mot-de-passe-oublie")}
    )


def link_in(message: EmailMessage) -> str:
    found = re.search(r"https://blason\.test(/\S+)", message.get_content())
    assert found, message.get_content()
    return found.group(1)


def choose(client: Any, path: str, password: str = NEW, repeated: str | None = None) -> Any:
    data = {"password": password, "repeated": password if repeated is None else repeated}
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/mot-de-passe-oublie")})


def test_the_sign_in_page_links_to_the_forgotten_password_page(client):
    assert 'href="/mot-de-passe-oublie"' in client.get("/connexion").get_data(as_text=True)
    assert 'href="/mot-de-passe-oublie?lang=en"' in client.get("/connexion?lang=en").get_data(as_text=True)
    page = client.get("/mot-de-passe-oublie")
    assert page.status_code == 200 and "Mot de passe oublié" in page_text(page)


def test_the_answer_is_the_same_for_an_unknown_address_and_only_a_known_one_gets_mail(
    client, make_person, outbox, session
):
    person = make_person(display_name="Lucie Perrin")
    known, unknown = ask_reset(client, person.email), ask_reset(client, "personne@example.org")
    assert (known.status_code, known.headers["Location"]) == (unknown.status_code, unknown.headers["Location"])
    assert known.status_code == 303 and known.headers["Location"] == "/mot-de-passe-oublie?envoye=1"
    answer = client.get(known.headers["Location"])
    assert NEUTRAL in page_text(answer) and "60 minutes" in page_text(answer)
    [message] = outbox()
    assert message["To"] == person.email and message["Subject"] == "Choisir un nouveau mot de passe Blason"
    assert link_in(message).startswith("/mot-de-passe/")


def test_an_address_is_required_and_its_error_is_tied_to_the_field(client):
    for value, words in (("", "Indiquez votre adresse e-mail."), ("lucie", "Indiquez une adresse e-mail complète")):
        page = ask_reset(client, value)
        html = page.get_data(as_text=True)
        assert page.status_code == 422 and words in page_text(page)
        assert 'aria-invalid="true" aria-describedby="email-error"' in html and 'id="email-error"' in html


def test_reset_requests_are_throttled_per_address_with_the_429_message(app, client, make_person, outbox):
    rt = runtime(app)
    rt.login_limits = LoginLimits(account=RateLimit(2, 0.001), address=RateLimit(100, 100))
    person = make_person()
    assert ask_reset(client, person.email).status_code == 303
    assert ask_reset(client, person.email.upper()).status_code == 303
    third = ask_reset(client, person.email)
    assert third.status_code == 429 and int(third.headers["Retry-After"]) >= 1
    assert "Trop de demandes" in page_text(third)
    assert len(outbox()) == 2


def test_a_reset_link_sets_the_password_ends_other_sessions_and_signs_in(app, client, make_person, outbox, session):
    person = make_person(display_name="Lucie Perrin")
    elsewhere = app.test_client()
    sign_in_as(elsewhere, app, person)
    assert "Bonjour Lucie Perrin" in page_text(elsewhere.get("/"))
    ask_reset(client, person.email)
    path = link_in(outbox()[-1])
    form = client.get(path)
    assert form.status_code == 200 and "Bonjour Lucie Perrin" in page_text(form)
    assert form.headers["Cache-Control"] == "no-store"
    done = choose(client, path)
    assert done.status_code == 303 and done.headers["Location"] == "/"
    assert any(h.startswith(COOKIE + "=") for h in done.headers.getlist("Set-Cookie"))
    assert "Bonjour Lucie Perrin" in page_text(client.get("/"))
    assert len(session.scalars(select(WebSession).where(WebSession.person_id == person.id)).all()) == 1
    assert "Lucie Perrin" not in page_text(elsewhere.get("/"))  # the other browser was signed out
    assert runtime(app).passwords.verify(session.get(Person, person.id).password_hash, NEW)
    again = client.get(path)
    assert again.status_code == 404 and DEAD in page_text(again)
    assert 'href="/mot-de-passe-oublie"' in again.get_data(as_text=True)


def test_password_errors_are_shown_next_to_their_field_and_nothing_is_saved(client, make_person, outbox, session):
    person = make_person()
    ask_reset(client, person.email)
    path = link_in(outbox()[-1])
    short = choose(client, path, "court")
    html = short.get_data(as_text=True)
    assert short.status_code == 422 and "au moins 12 caractères" in page_text(short)
    assert 'id="password-error"' in html and 'aria-describedby="password-hint password-error"' in html
    assert 'href="#password"' in html  # the summary at the top leads to the field
    differ = choose(client, path, NEW, NEW + " !")
    assert differ.status_code == 422 and "ne sont pas identiques" in page_text(differ)
    assert 'aria-invalid="true" aria-describedby="repeated-error"' in differ.get_data(as_text=True)
    link = session.scalars(select(AccountLink).where(AccountLink.person_id == person.id)).one()
    assert link.used_at is None
    english = choose(client, path + "?lang=en", "short")
    assert "at least 12 characters" in page_text(english)


def test_unknown_used_and_expired_links_get_the_same_page(app, client, make_person, outbox, session):
    person = make_person()
    ask_reset(client, person.email)
    path = link_in(outbox()[-1])
    link = session.scalars(select(AccountLink).where(AccountLink.person_id == person.id)).one()
    link.expires_at = link.created_at  # expired
    session.commit()
    pages = [client.get(path), choose(client, path), client.get("/mot-de-passe/inconnu"), client.get("/invitation/x")]
    assert [p.status_code for p in pages] == [404] * 4
    assert all(DEAD in page_text(p) and "Demander un nouveau lien" in page_text(p) for p in pages)
    assert "nouvelle invitation" in page_text(pages[3]) and "nouvelle invitation" not in page_text(pages[0])
    assert "This link is no longer valid" in page_text(client.get("/mot-de-passe/inconnu?lang=en"))


def test_an_invitation_link_lets_the_new_person_choose_a_password_and_signs_them_in(
    app, client, make_person, outbox, session
):
    invited = make_person(display_name="Marie Curie", password_hash=None)
    grants = access.Grants(Actor(None), platform_admin=True)
    settings = account_links.LinkSettings(base_url="https://blason.test")
    [message] = account_links.invite(session, grants, invited, settings=settings)
    session.commit()
    path = re.search(r"https://blason\.test(/\S+)", message.body).group(1)  # type: ignore[union-attr]
    form = client.get(path)
    assert "Bienvenue sur Blason" in page_text(form) and invited.email in page_text(form)
    assert choose(client, path).headers["Location"] == "/"
    assert "Bonjour Marie Curie" in page_text(client.get("/"))
    assert DEAD in page_text(client.get(path))
    assert client.get(path.replace("/invitation/", "/mot-de-passe/")).status_code == 404  # not a reset link


def test_link_tokens_never_reach_the_request_log(caplog):
    line = '127.0.0.1 - - "GET /mot-de-passe/AbC-123_x?lang=en HTTP/1.1" 200 -'
    assert redact(line) == '127.0.0.1 - - "GET /mot-de-passe/[redacted]?lang=en HTTP/1.1" 200 -'
    assert redact("POST /invitation/secret HTTP/1.1") == "POST /invitation/[redacted] HTTP/1.1"
    assert redact("GET /mot-de-passe-oublie?envoye=1") == "GET /mot-de-passe-oublie?envoye=1"
    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, '"%s" %s', ("GET /invitation/tok", 200), None)
    REDACT_SECRETS.filter(record)
    assert "tok" not in record.getMessage()


def test_a_person_without_e_mail_cannot_reset_and_gets_the_same_answer(client, make_person, outbox):
    make_person(email=None, password_hash=None, is_assisted=True)
    assert ask_reset(client, "personne@example.org").headers["Location"] == "/mot-de-passe-oublie?envoye=1"
    assert outbox() == []
    assert PASSWORD  # the fixtures' password is untouched by any of this
