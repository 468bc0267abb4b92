"""The public verification form (/verify): every way of sending a badge, French first, bad input on the page."""

from __future__ import annotations

import html
import io
import json
import re
from typing import Any

import pytest

from app.platform.rate_limit import RateLimit
from app.runtime import runtime
from app.services.issuing import revocation
from app.web.verification import form as verify_form
from tests.public_fixtures import BASE, Issued, NoNetwork
from tests.web.csrf_support import csrf_token


@pytest.fixture(autouse=True)
def no_network(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(verify_form, "verify_fetcher", NoNetwork)


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return re.sub(r"\s+", " ", html.unescape(response.get_data(as_text=True)))


def _send(
    client,
    *,
    badge: str = "",
    file: tuple[bytes, str] | None = None,
    lang: str = "",  # type: ignore[no-untyped-def]
    **fields: str,
):
    data: dict[str, Any] = {"badge": badge, "csrf_token": csrf_token(client), **fields}
    data["file"] = (io.BytesIO(file[0]), file[1]) if file else (io.BytesIO(b""), "")
    return client.post("/verify" + (f"?lang={lang}" if lang else ""), data=data, content_type="multipart/form-data")


def test_the_form_is_french_first_and_english_on_request(client) -> None:
    page = client.get("/verify")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "Vérifier un badge" in _text(page) and 'enctype="multipart/form-data"' in page.get_data(as_text=True)
    assert "form-action 'self'" in page.headers["Content-Security-Policy"]
    english = client.get("/verify?lang=en")
    assert "Verify a badge" in _text(english) and 'action="/verify?lang=en"' in english.get_data(as_text=True)


def test_every_form_of_our_badge_is_genuine(client, issued: Issued) -> None:
    credential = issued.credential
    image = client.get(f"{issued.path}/badge.png").data
    svg = client.get(f"{issued.path}/badge.svg").data
    for sent in (
        {"badge": json.dumps(credential.ob3_credential)},
        {"badge": credential.ob3_jwt},
        {"badge": credential.ob2_jws},
        {"badge": issued.url},
        {"badge": f"{BASE}/c/{credential.short_code}"},
        {"file": (image, "badge.png")},
        {"file": (svg, "badge.svg")},
    ):
        response = _send(client, **sent)
        text = _text(response)
        assert response.status_code == 200, (sent, text[:500])
        assert "Badge authentique" in text and "Contrôles effectués" in text, sent
        assert response.headers["Cache-Control"] == "no-store"
    name = issued.credential.ob3_credential["credentialSubject"]["achievement"]["name"]
    assert name in text and issued.setup.issuer.name in text
    assert f'href="{issued.url}"' in response.get_data(as_text=True)


def test_a_revoked_badge_says_so_with_the_reason_in_english_too(client, session, issued: Issued, settings) -> None:
    revocation.revoke(
        session, issued.setup.grants(session), issued.credential.id, "Erreur de destinataire", settings=settings
    )
    session.commit()
    text = _text(_send(client, badge=issued.credential.ob3_jwt))
    assert "Badge révoqué" in text and "Erreur de destinataire" in text
    assert "Revoked badge" in _text(_send(client, badge=issued.credential.ob3_jwt, lang="en"))


def test_a_tampered_badge_and_a_wrong_recipient_are_not_genuine(client, issued: Issued) -> None:
    tampered = dict(issued.credential.ob3_credential)
    tampered["validFrom"] = "2020-01-01T00:00:00Z"
    text = _text(_send(client, badge=json.dumps(tampered)))
    assert "Badge authentique" not in text and "✕" in text
    wrong = _text(_send(client, badge=issued.credential.ob3_jwt, recipient="quelquun@ailleurs.example"))
    assert "Badge authentique" not in wrong and "quelquun@ailleurs.example" in wrong


@pytest.mark.parametrize(
    ("sent", "status", "message"),
    [
        ({}, 422, "Choisissez un fichier de badge"),
        ({"badge": "   "}, 422, "Choisissez un fichier de badge"),
        ({"badge": "x", "file": (b"%PDF-1.4 not a badge", "a.pdf")}, 422, "soit un fichier, soit un texte"),
        ({"file": (b"%PDF-1.4 not a badge", "a.pdf")}, 415, "ni une image de badge"),
        ({"badge": "[" * 100 + "]" * 100}, 200, "Badge illisible"),
        ({"badge": '{"a":' * 100 + "1" + "}" * 100}, 422, "n'a pas pu être lu"),
    ],
)
def test_bad_input_is_answered_on_the_page(client, sent, status, message) -> None:  # type: ignore[no-untyped-def]
    response = _send(client, **sent)
    text = _text(response)
    assert response.status_code == status, text[:400]
    assert message in text, text[:600]


def test_a_file_past_the_upload_limit_is_refused(client, app) -> None:  # type: ignore[no-untyped-def]
    limit = min(runtime(app).settings.max_upload_bytes, 4 * 1024 * 1024)
    response = _send(client, file=(b"\x89PNG\r\n\x1a\n" + b"0" * limit, "big.png"))
    assert response.status_code == 413 and "trop volumineux" in _text(response)


def test_the_form_shares_the_apis_rate_limit(client, app) -> None:  # type: ignore[no-untyped-def]
    runtime(app).verify_limiter = RateLimit(1, 1)  # the autouse fixture puts the roomy one back
    assert _send(client, badge="x").status_code == 200
    limited = _send(client, badge="x")
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert "Trop de vérifications" in _text(limited)
    assert client.post("/api/v1/verify", json={"credential": "x"}).status_code == 429
