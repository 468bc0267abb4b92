"""The verifier's two doors, POST /api/v1/verify and the /verify form, share one intake.

The same input meets the same limit at both (a 413 problem+json from the API, the French message
beside the field on the page), and both spend from the same rate limit.
"""

from __future__ import annotations

import html
import io
import re
from typing import Any

import pytest

from app.api import verification as verify_api
from app.platform.rate_limit import RateLimit
from app.runtime import runtime
from app.services.verification import intake
from app.web.verification import form as verify_form
from tests.api.support import assert_problem
from tests.public_fixtures import NoNetwork
from tests.web.csrf_support import csrf_token

API = "/api/v1/verify"
TWO_MIB = 2 * 1024 * 1024


@pytest.fixture(autouse=True)
def no_network(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(verify_api, "verify_fetcher", NoNetwork)
    monkeypatch.setattr(verify_form, "verify_fetcher", NoNetwork)


@pytest.fixture()
def big_bodies(app, monkeypatch):  # type: ignore[no-untyped-def]
    # The test settings cap request bodies at 320 KiB (uploads of 256 KiB); texts may reach 2 MiB.
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 3 * 1024 * 1024)


def _form(client, *, badge: str = "", file: bytes = b"", name: str = ""):  # type: ignore[no-untyped-def]
    # Encoded here: the test client would spool a large body to a temporary file it leaves open.
    boundary = "blason-test-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{csrf_token(client)}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="badge"\r\n\r\n{badge}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + file
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return client.post("/verify", data=body, content_type=f"multipart/form-data; boundary={boundary}")


def _beside(response: Any, field: str) -> str:
    """The message shown beside a field, which the field names as describing it."""
    page = response.get_data(as_text=True)
    tag = "textarea" if field == "badge" else "input"
    found = re.search(
        rf'<p class="field-error" id="{field}-error">([^<]*)</p>\s*<{tag} [^>]*id="{field}"[^>]*'
        rf'aria-describedby="{field}-hint {field}-error"',
        page,
    )
    assert found, page[-2500:]
    return html.unescape(found.group(1))


def test_one_text_limit_of_two_mib_at_both_doors(client, big_bodies) -> None:  # type: ignore[no-untyped-def]
    assert intake.MAX_CREDENTIAL_BYTES == TWO_MIB
    within = "x" * (300 * 1024)  # past the form's former 256 KiB, within the one limit
    assert client.post(API, json={"credential": within}).status_code == 200
    assert _form(client, badge=within).status_code == 200
    past = "x" * (TWO_MIB + 1)
    body = assert_problem(client.post(API, json={"credential": past}), 413, "#/credential")
    assert body["type"].endswith("/payload-too-large")
    page = _form(client, badge=past)
    assert page.status_code == 413
    assert _beside(page, "badge") == "Ce texte est trop long (au plus 2048 Kio)."
    far = _form(client, badge="x" * (TWO_MIB + 100 * 1024))  # past what Flask lets the form field hold
    assert far.status_code == 413 and far.mimetype == "text/html"
    assert _beside(far, "badge") == "Ce texte est trop long (au plus 2048 Kio)."


def test_a_credential_object_past_the_limit_is_refused_too(client, big_bodies) -> None:  # type: ignore[no-untyped-def]
    document = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "name": "x" * TWO_MIB,
    }
    assert_problem(client.post(API, json={"credential": document}), 413, "#/credential")
    document["name"] = "x" * (TWO_MIB - 200)
    assert client.post(API, json={"credential": document}).status_code == 200


def test_one_upload_limit_at_both_doors(client, app) -> None:  # type: ignore[no-untyped-def]
    limit = intake.upload_limit(runtime(app).settings.max_upload_bytes)
    assert limit == 256 * 1024  # the test settings' MAX_UPLOAD_BYTES, under the 10 MiB image cap
    past = b"\x89PNG\r\n\x1a\n" + b"0" * (limit - 7)
    assert_problem(
        client.post(API, data={"file": (io.BytesIO(past), "big.png")}, content_type="multipart/form-data"),
        413,
        "#/file",
    )
    page = _form(client, file=past, name="big.png")
    assert page.status_code == 413
    assert _beside(page, "file").startswith("Ce fichier est trop volumineux")
    whole = _form(client, file=past * 2, name="big.png")  # past the request limit itself: still the page
    assert whole.status_code == 413 and whole.mimetype == "text/html"
    assert _beside(whole, "file").startswith("Ce fichier est trop volumineux")


def test_one_address_limit_at_both_doors(client) -> None:  # type: ignore[no-untyped-def]
    long_url = "https://example.org/" + "a" * intake.MAX_URL_CHARS
    assert_problem(client.post(API, json={"url": long_url}), 422, "#/url")
    assert_problem(client.post(API, json={"credential": long_url}), 422, "#/url")
    page = _form(client, badge=long_url)
    assert page.status_code == 422
    assert _beside(page, "badge").startswith("Cette adresse n'est pas valable")


def test_both_doors_spend_one_window(client, app) -> None:  # type: ignore[no-untyped-def]
    runtime(app).verify_limiter = RateLimit(2, 2)  # the autouse fixture puts the roomy one back
    assert client.post(API, json={"credential": "x"}).status_code == 200
    assert _form(client, badge="x").status_code == 200
    api, page = client.post(API, json={"credential": "x"}), _form(client, badge="x")
    assert_problem(api, 429)
    assert page.status_code == 429 and "Trop de vérifications" in html.unescape(page.get_data(as_text=True))
    assert 59 <= int(api.headers["Retry-After"]) <= 60 and 59 <= int(page.headers["Retry-After"]) <= 60
