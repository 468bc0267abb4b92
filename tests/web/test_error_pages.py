"""Error pages: a person's browser gets a French (or English) page in the site's layout for every error,
status and Retry-After kept, never an internal; programs and the JSON API keep problem+json.

The errors are raised by test-only routes of a fresh app built here (never by the product's routes);
the real routes are checked too where they meet these errors on their own (unknown page, wrong
method, a form without its token, a signed-in page's blueprint).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask, abort
from werkzeug.exceptions import TooManyRequests

from app import create_app
from app.platform import errors as e
from tests.conftest import JWT_PEM, KEK
from tests.web.page_support import page_text, sign_in_as

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}  # as Chromium asks
SECRET = "table contributions row 4f1c password=hunter2"  # what a raise says: for the log only


def throw(error: Exception) -> None:
    raise error


# What each test route raises: service errors as views meet them, HTTP errors, an unexpected bug.
RAISERS: dict[int, Callable[[], None]] = {
    400: lambda: abort(400, SECRET),
    403: lambda: throw(e.PermissionDenied(SECRET)),
    404: lambda: throw(e.NotFound(SECRET)),
    409: lambda: throw(e.Conflict(SECRET)),
    413: lambda: throw(e.PayloadTooLarge(SECRET)),
    415: lambda: throw(e.UnsupportedMediaType(SECRET)),
    429: lambda: throw(TooManyRequests(retry_after=42)),
    500: lambda: throw(RuntimeError(SECRET)),
}

# status: (French title, English title)
WORDS = {
    400: ("Demande incorrecte", "Bad request"),
    403: ("Action non autorisée", "Not allowed"),
    404: ("Page introuvable", "Page not found"),
    405: ("Action impossible ici", "Not possible here"),
    409: ("Cela a changé entre-temps", "This changed in the meantime"),
    413: ("Fichier trop volumineux", "File too large"),
    415: ("Type de fichier refusé", "File type not accepted"),
    429: ("Trop de demandes", "Too many requests"),
    500: ("Un problème est survenu", "Something went wrong"),
}
INTERNALS = re.compile(
    r"Traceback|File \"|RuntimeError|PermissionDenied|NotFound|PayloadTooLarge|UnsupportedMediaType|Conflict\b|"
    r"TooManyRequests|BadRequest|werkzeug|sqlalchemy|hunter2|4f1c|problem\+json|\"status\""
)


@pytest.fixture(scope="module")
def error_app(engine, tmp_path_factory: pytest.TempPathFactory) -> Flask:  # type: ignore[no-untyped-def]
    """A fresh app with routes that fail on purpose, a page one and an API one for each status."""
    app = create_app(
        {
            "ENV": "testing",
            "INSTANCE_DIR": str(tmp_path_factory.mktemp("errors")),
            "ENGINE": engine,
            "DATABASE_URL": str(engine.url),
            "PUBLIC_BASE_URL": "https://blason.test",
            "SECRET_KEY": "test-secret",
            "JWT_PRIVATE_KEY": JWT_PEM,
            "KEY_ENCRYPTION_KEYS": KEK,
            "PASSWORD_HASH_TIME_COST": 1,
            "PASSWORD_HASH_MEMORY_KIB": 8,
            "LOG_LEVEL": "WARNING",
        }
    )

    def fail(status: int) -> Any:
        RAISERS[status]()

    app.add_url_rule("/essai/erreur/<int:status>", "test_page_error", fail)
    app.add_url_rule("/api/v1/essai/erreur/<int:status>", "test_api_error", fail)
    app.add_url_rule("/essai/envoi", "test_post_only", lambda: "", methods=["POST"])
    return app


def assert_error_page(response: Any, status: int, lang: str = "fr") -> str:
    """The page: status kept, in the layout, in ``lang``, its words, and nothing of the machinery."""
    assert response.status_code == status
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    title = WORDS[status][0 if lang == "fr" else 1]
    assert f'<html lang="{lang}">' in html and '<main id="main">' in html and "<footer>" in html
    assert re.search(rf"<h1>{re.escape(title)}</h1>", html), html[:2000]
    assert ("Code d'erreur" if lang == "fr" else "Error code") in page_text(response)
    assert 'href="/' in html  # a way back home
    assert not INTERNALS.search(html), INTERNALS.search(html)
    assert response.headers["Cache-Control"] == "no-store"
    return html


@pytest.mark.parametrize("status", sorted(RAISERS))
def test_a_browser_gets_a_french_page_in_the_layout(error_app, status, caplog):
    with caplog.at_level(logging.ERROR):
        response = error_app.test_client().get(f"/essai/erreur/{status}", headers=HTML)
    assert_error_page(response, status)
    if status == 500:  # the real error goes to the log, and only there
        assert SECRET in caplog.text and "RuntimeError" in caplog.text


@pytest.mark.parametrize("status", sorted(RAISERS))
def test_in_english_with_lang_en(error_app, status):
    response = error_app.test_client().get(f"/essai/erreur/{status}?lang=en", headers=HTML)
    assert_error_page(response, status, "en")


@pytest.mark.parametrize("status", sorted(RAISERS))
def test_the_browsers_language_is_followed_too(error_app, status):
    response = error_app.test_client().get(f"/essai/erreur/{status}", headers=HTML | {"Accept-Language": "en-GB"})
    assert_error_page(response, status, "en")


def test_a_too_many_requests_page_keeps_its_retry_after(error_app):
    response = error_app.test_client().get("/essai/erreur/429", headers=HTML)
    assert_error_page(response, 429)
    assert response.headers["Retry-After"] == "42"


def test_a_wrong_method_keeps_its_allow_header(error_app, client):
    for app_client, path in ((error_app.test_client(), "/essai/envoi"), (client, "/deconnexion")):
        response = app_client.get(path, headers=HTML)
        assert_error_page(response, 405)
        assert "POST" in response.headers["Allow"]


@pytest.mark.parametrize("status", sorted(RAISERS))
def test_the_api_and_programs_keep_problem_json(error_app, status):
    client = error_app.test_client()
    api = client.get(f"/api/v1/essai/erreur/{status}", headers=HTML)  # the API, whatever the Accept header
    program = client.get(f"/essai/erreur/{status}", headers={"Accept": "application/json"})
    bare = client.get(f"/essai/erreur/{status}")  # no Accept header: */*
    for response in (api, program, bare):
        assert response.status_code == status and response.mimetype == "application/problem+json"
        assert response.get_json()["status"] == status
    if status == 429:
        assert api.headers["Retry-After"] == "42"
    if status == 500:
        assert SECRET not in api.get_data(as_text=True)


def test_an_unknown_page_is_the_french_404(client):
    assert_error_page(client.get("/cette-page-n-existe-pas", headers=HTML), 404)
    assert_error_page(client.get("/cette-page-n-existe-pas?lang=en", headers=HTML), 404, "en")
    api = client.get("/api/v1/cette-route-n-existe-pas", headers=HTML)
    assert api.status_code == 404 and api.mimetype == "application/problem+json"


def test_a_signed_in_page_answers_with_a_page_whatever_the_accept_header(client, app, make_person):
    sign_in_as(client, app, make_person(display_name="Hélène Garnier"))
    token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', client.get("/").get_data(as_text=True))
    assert token
    for accept in ("*/*", "application/json"):
        response = client.post(
            "/agir-pour/00000000-0000-0000-0000-000000000007",
            data={"csrf_token": token.group(1)},
            headers={"Accept": accept},
        )
        html = assert_error_page(response, 404)
        assert "Vous : Hélène Garnier" in page_text(response) and 'aria-label="Menu principal"' in html


def test_a_form_without_its_token_is_the_french_400_page(client):
    response = client.post("/connexion", data={"email": "a@example.org", "password": "x"}, headers=HTML)
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert "<h1>Formulaire expiré</h1>" in response.get_data(as_text=True)
    assert not INTERNALS.search(response.get_data(as_text=True))
