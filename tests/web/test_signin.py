"""Getting in through the pages: the home page, /connexion, /deconnexion, the session cookie, CSRF."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select, update

from app.models import AuditEvent, Person, WebSession
from app.platform.rate_limit import LoginLimits, RateLimit
from app.runtime import runtime
from app.services.identity import web_sessions
from app.web import account
from app.web.session_cookie import COOKIE
from tests.conftest import PASSWORD
from tests.web.csrf_support import csrf_token

WRONG = "E-mail ou mot de passe incorrect."


def sign_in(client: Any, email: str, password: str = PASSWORD, **extra: str) -> Any:
    data = {"email": email, "password": password, "csrf_token": csrf_token(client), **extra}
    return client.post("/connexion", data=data)


def text(response: Any) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def session_cookie(response: Any) -> str:
    return next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(COOKIE + "="))


def test_a_visitor_sees_what_blason_is_and_where_to_go(client):
    page = client.get("/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert 'href="/connexion"' in page.get_data(as_text=True) and 'href="/verify"' in page.get_data(as_text=True)
    assert "Se connecter" in text(page) and "Vérifier un badge" in text(page)
    english = client.get("/?lang=en")
    assert "Sign in" in text(english) and 'href="/connexion?lang=en"' in english.get_data(as_text=True)


def test_signing_in_sets_a_strict_cookie_and_shows_the_home_by_role(client, make_person, make_project, grant, session):
    person = make_person(display_name="Lucie Perrin")
    grant(person, "learner", make_project())
    response = sign_in(client, person.email)
    assert response.status_code == 303 and response.headers["Location"] == "/"
    cookie = session_cookie(response)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie  # testing is not development
    token = cookie.split(";")[0].split("=", 1)[1]
    row = session.scalars(select(WebSession).where(WebSession.person_id == person.id)).one()
    assert row.token_hash == web_sessions.token_hash(token)
    assert "session" not in [c.key for c in client._cookies.values()]  # no Flask cookie session
    home = client.get("/")
    assert "Bonjour Lucie Perrin" in text(home) and "apprenant ou apprenante dans un projet" in text(home)
    assert home.headers["Cache-Control"] == "no-store"
    assert session.scalar(select(func.count()).where(AuditEvent.action == "auth.signed_in")) == 1


def test_a_new_token_at_each_sign_in(client, make_person, session):
    person = make_person()
    first = session_cookie(sign_in(client, person.email)).split(";")[0]
    second = session_cookie(sign_in(client, person.email)).split(";")[0]
    assert first != second
    assert session.scalar(select(func.count()).where(WebSession.person_id == person.id)) == 1  # the old one ended


def test_in_development_the_cookie_is_not_secure(client, make_person, app, monkeypatch):
    import dataclasses

    rt = runtime(app)
    monkeypatch.setattr(rt, "settings", dataclasses.replace(rt.settings, env="development"))
    cookie = session_cookie(sign_in(client, make_person().email))
    assert "Secure" not in cookie and "HttpOnly" in cookie


def test_a_wrong_password_and_an_unknown_account_read_the_same(client, make_person, session):
    person = make_person()
    wrong = sign_in(client, person.email, "not-the-password")
    unknown = sign_in(client, "personne@example.org", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert WRONG in text(wrong) and WRONG in text(unknown)
    assert text(wrong).replace(person.email, "X") == text(unknown).replace("personne@example.org", "X")
    assert COOKIE + "=" not in " ".join(wrong.headers.getlist("Set-Cookie"))
    assert session.scalar(select(func.count()).where(AuditEvent.action == "auth.login_failed")) == 2


def test_missing_fields_are_named_beside_them(client):
    response = client.post("/connexion", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="email-error"' in html and "Indiquez votre adresse e-mail." in html
    assert 'aria-describedby="password-error"' in html


def test_a_disabled_person_cannot_sign_in_and_is_signed_out(client, make_person, session):
    person = make_person(display_name="Karim Benali")
    sign_in(client, person.email)
    assert "Bonjour Karim Benali" in text(client.get("/"))
    session.execute(update(Person).where(Person.id == person.id).values(is_active=False))
    session.commit()
    home = client.get("/")
    assert "Bonjour" not in text(home) and "Se connecter" in text(home)
    assert any(h.startswith(COOKIE + "=;") for h in home.headers.getlist("Set-Cookie"))  # cookie cleared
    assert sign_in(client, person.email).status_code == 401


@pytest.mark.parametrize(
    ("asked", "lands"),
    [
        ("/frameworks?lang=en", "/frameworks?lang=en"),
        ("/verify", "/verify"),
        ("https://evil.example/", "/"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("", "/"),
    ],
)
def test_after_signing_in_only_a_local_path_is_followed(client, make_person, asked, lands):
    assert account.local_target(asked) == lands
    response = sign_in(client, make_person().email, next=asked)
    assert response.status_code == 303 and response.headers["Location"] == lands


def test_the_form_keeps_where_the_person_was_going(client):
    html = client.get("/connexion?next=/frameworks").get_data(as_text=True)
    assert 'name="next" value="/frameworks"' in html
    assert 'name="next" value="/"' in client.get("/connexion?next=https://evil.example").get_data(as_text=True)


def test_signing_out_ends_the_session(client, make_person, session):
    person = make_person()
    sign_in(client, person.email)
    token = csrf_token(client, "/")
    response = client.post("/deconnexion", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert any(h.startswith(COOKIE + "=;") for h in response.headers.getlist("Set-Cookie"))
    assert session.scalar(select(func.count()).where(WebSession.person_id == person.id)) == 0


@pytest.mark.parametrize("path", ["/connexion", "/deconnexion", "/verify"])
def test_a_form_without_its_csrf_token_is_refused_with_a_french_page(client, make_person, path):
    person = make_person()
    for token in (None, "0" * 64):
        data = {"email": person.email, "password": PASSWORD, "badge": "x"}
        if token:
            data["csrf_token"] = token
        response = client.post(path, data=data)
        assert response.status_code == 400 and response.mimetype == "text/html"
        assert "Formulaire expiré" in text(response)
    assert "Form expired" in text(client.post(path + "?lang=en", data={}))


def test_a_csrf_token_of_another_browser_is_refused(app, client, make_person):
    other = app.test_client()
    stolen = csrf_token(other)
    response = client.post(
        "/connexion", data={"email": make_person().email, "password": PASSWORD, "csrf_token": stolen}
    )
    assert response.status_code == 400


def test_once_signed_in_the_token_is_tied_to_the_session(client, make_person):
    sign_in(client, make_person().email)
    before = csrf_token(client, "/")
    assert 'name="csrf_token"' in client.get("/").get_data(as_text=True)
    sign_in(client, make_person().email)  # another session in this browser: a new token
    assert csrf_token(client, "/") != before


def test_the_json_api_needs_no_csrf_token(client, make_person):
    person = make_person()
    response = client.post("/api/v1/auth/login", json={"email": person.email, "password": PASSWORD})
    assert response.status_code == 200


def test_too_many_attempts_get_a_french_429_page(app, client, make_person):
    person = make_person()
    runtime(app).login_limits = LoginLimits(account=RateLimit(2, 1), address=RateLimit(1000, 1000))
    for _ in range(2):
        assert sign_in(client, person.email, "wrong").status_code == 401
    throttled = sign_in(client, person.email, PASSWORD)  # even the right password waits
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) > 0
    assert "Trop de tentatives de connexion" in text(throttled)
    unknown = [sign_in(client, "inconnu@example.org", "wrong") for _ in range(3)][-1]
    assert unknown.status_code == 429 and "Trop de tentatives" in text(unknown)  # same for no account


def test_the_csrf_field_escapes_what_it_writes(app, monkeypatch):
    from app.web import csrf

    monkeypatch.setattr(csrf, "token", lambda: '"><script>alert(1)</script>')
    with app.test_request_context("/"):
        html = str(csrf.field())
    assert "<script>" not in html and 'value="&#34;&gt;&lt;script&gt;' in html
