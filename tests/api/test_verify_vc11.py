"""Another issuer's OB 3.0 credential on the VC 1.1 data model, or in a VC 2.0 envelope, is genuine
through POST /api/v1/verify and the /verify form (issue 15, defect 2). The issuers are did:key ones,
so nothing is fetched."""

from __future__ import annotations

import html
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from app.api import verification as verify_api
from app.web.verification import form as verify_form
from tests.public_fixtures import NoNetwork
from tests.web.csrf_support import csrf_token

VECTORS = json.loads(
    (Path(__file__).resolve().parents[1] / "badges" / "data" / "vc11_vectors.json").read_text(encoding="utf-8")
)["vectors"]
# did:key issuers without a status list: genuine today whatever the clock (they expire in 2030 at the
# earliest), with no network.
NO_NETWORK = ["eddsa-rdfc-2022-did-key", "ed25519-2020-did-key", "vc-jwt-eddsa-did-key", "enveloped-vc-jwt"]


def _sent(name: str) -> Any:
    vector = VECTORS[name]
    return vector.get("credential") or vector["token"]


@pytest.fixture(autouse=True)
def no_network(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(verify_api, "verify_fetcher", NoNetwork)
    monkeypatch.setattr(verify_form, "verify_fetcher", NoNetwork)


@pytest.mark.parametrize("name", NO_NETWORK)
def test_the_api_finds_them_genuine(client, name: str) -> None:
    r = client.post("/api/v1/verify", json={"credential": _sent(name)})
    assert r.status_code == 200, r.json
    assert r.json["verdict"] == "genuine" and r.json["valid"] is True, r.json
    assert {c["name"]: c["outcome"] for c in r.json["checks"]}["proof"] == "pass"


def test_the_api_says_an_unsupported_envelope_is_unsupported_not_tampered(client) -> None:
    envelope = {
        "@context": "https://www.w3.org/ns/credentials/v2",
        "type": "EnvelopedVerifiableCredential",
        "id": "data:application/vc+sd-jwt,eyJhbGciOiJFZERTQSJ9.e30.c2ln~",
    }
    r = client.post("/api/v1/verify", json={"credential": envelope})
    assert r.status_code == 200 and r.json["valid"] is False
    assert r.json["verdict"] == "unreadable", r.json  # not "invalid" (tampered)
    checks = {c["name"]: c for c in r.json["checks"]}
    assert checks["format"]["outcome"] == "fail" and "non pris en charge" in checks["format"]["reasonFr"]


def test_the_form_finds_them_genuine(client) -> None:
    for name in ("ed25519-2020-did-key", "vc-jwt-eddsa-did-key", "enveloped-vc-jwt"):
        sent = _sent(name)
        badge = sent if isinstance(sent, str) else json.dumps(sent)
        data = {"badge": badge, "csrf_token": csrf_token(client), "file": (io.BytesIO(b""), "")}
        response = client.post("/verify", data=data, content_type="multipart/form-data")
        text = re.sub(r"\s+", " ", html.unescape(response.get_data(as_text=True)))
        assert response.status_code == 200, text[:500]
        assert "Badge authentique" in text, (name, text[:800])
