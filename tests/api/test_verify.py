"""POST /api/v1/verify: any form, ours or another issuer's; bad input is a clear 4xx or a failed verdict."""

from __future__ import annotations

import base64
import io
import json
import struct
import zlib
from datetime import UTC, datetime
from typing import Any

import pytest

import badges
from app.api import verification as verify_api
from app.platform.rate_limit import RateLimit
from app.runtime import runtime
from tests.api.support import assert_problem, png_bytes
from tests.public_fixtures import BASE, Issued, NoNetwork

API = "/api/v1/verify"


def _post(client, **body: Any):  # type: ignore[no-untyped-def]
    return client.post(API, json=body)


def _upload(client, data: bytes, name: str = "badge.png"):  # type: ignore[no-untyped-def]
    return client.post(API, data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


@pytest.fixture(autouse=True)
def no_network(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(verify_api, "verify_fetcher", NoNetwork)


def test_every_form_of_our_badge_verifies_without_network(client, issued: Issued) -> None:
    credential = issued.credential
    forms = [
        {"credential": credential.ob3_credential},
        {"credential": credential.ob3_jwt},
        {"credential": json.dumps(credential.ob3_credential)},
        {"credential": credential.ob2_jws},
        {"url": f"{BASE}/ob2/assertions/{credential.id}"},
        {"url": issued.url},
        {"url": f"{BASE}/c/{credential.short_code}"},
    ]
    for body in forms:
        r = _post(client, **body)
        assert r.status_code == 200, (body, r.json)
        assert r.json["verdict"] == "genuine" and r.json["valid"] is True, (body, r.json)
        assert r.json["verdictFr"] == "Badge authentique"
        assert {c["name"] for c in r.json["checks"]} >= {"format", "proof", "status", "validity"}
    assert r.json["verificationUrl"] == issued.url
    for extension in ("png", "svg"):
        image = client.get(f"{issued.path}/badge.{extension}").data
        r = _upload(client, image, f"badge.{extension}")
        assert r.status_code == 200 and r.json["verdict"] == "genuine", r.json
        assert r.json["format"].startswith(("png-itxt+", "svg-cdata+"))


def test_recipient_is_matched_when_given(client, issued: Issued) -> None:
    email = issued.setup.learner.email
    r = _post(client, credential=issued.credential.ob3_credential, recipient=email)
    assert r.json["verdict"] == "genuine" and _check(r, "recipient")["outcome"] == "pass"
    r = _post(client, credential=issued.credential.ob3_credential, recipient="someone@else.fr")
    assert r.json["verdict"] == "wrong_recipient" and r.json["valid"] is False


def _check(response, name: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return next(c for c in response.json["checks"] if c["name"] == name)


def test_tampered_credentials_fail_their_proof(client, issued: Issued) -> None:
    document = json.loads(json.dumps(issued.credential.ob3_credential))
    document["credentialSubject"]["achievement"]["name"] = "Animer une réunion publiquE"  # one byte
    r = _post(client, credential=document)
    assert r.status_code == 200 and r.json["verdict"] == "invalid" and r.json["valid"] is False
    assert _check(r, "proof")["outcome"] == "fail"

    token = issued.credential.ob3_jwt
    header, payload, signature = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    raw[raw.index(b"Animer")] = ord("a")
    tampered = ".".join([header, base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode(), signature])
    r = _post(client, credential=tampered)
    assert r.json["verdict"] == "invalid" and _check(r, "proof")["outcome"] == "fail"
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    assert _post(client, credential=flipped).json["verdict"] == "invalid"


def test_truncated_credentials_are_unreadable_or_invalid(client, issued: Issued) -> None:
    token = issued.credential.ob3_jwt
    text = json.dumps(issued.credential.ob3_credential)
    cases = {
        token[: len(token) // 2]: "format",
        token[: token.rindex(".") + 5]: "proof",
        text[: len(text) // 2]: "format",
        token.rsplit(".", 1)[0]: "format",
    }
    for truncated, failing in cases.items():
        r = _post(client, credential=truncated)
        assert r.status_code == 200, r.json
        assert r.json["valid"] is False and r.json["verdict"] in ("unreadable", "invalid"), r.json
        assert _check(r, failing)["outcome"] == "fail", (failing, r.json)
    png = client.get(f"{issued.path}/badge.png").data
    r = _upload(client, png[: len(png) - 40])
    assert r.status_code == 415


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/assertion",
        "https://10.0.0.1/a",
        "http://[::1]:8080/a",
        "http://localhost/a",
        "http://169.254.169.254/latest/meta-data",
        "file:///etc/passwd",
        "ftp://example.org/a",
        "https://user:pw@example.org/a",
    ],
)
def test_private_or_odd_urls_are_refused_without_being_fetched(client, monkeypatch, url: str) -> None:
    monkeypatch.setattr(verify_api, "verify_fetcher", badges.GuardedFetcher)
    body = assert_problem(_post(client, url=url), 422, "#/url")
    assert "not fetched" in body["detail"] or "Only http" in body["detail"] or "no host" in body["detail"]


def test_a_hostname_resolving_to_a_private_address_is_refused(client, monkeypatch) -> None:
    connections: list[str] = []
    for addresses in (["127.0.0.1"], ["93.184.215.14", "10.1.2.3"], ["::ffff:192.168.1.1"]):

        def resolve(host: str, port: int, found=addresses) -> list[str]:
            connections.append(host)
            return found

        monkeypatch.setattr(verify_api, "verify_fetcher", lambda r=resolve: badges.GuardedFetcher(resolve=r))
        body = assert_problem(_post(client, url="https://badges.evil.example/assertion/1"), 422, "#/url")
        assert "private" in body["detail"]
    assert connections == ["badges.evil.example"] * 3


def test_another_issuers_credential_is_fetched_through_the_fetcher_only(client, monkeypatch) -> None:
    key = badges.generate_key("Ed25519")
    issuer_id = "https://autre-emetteur.example/issuer"
    method = f"{issuer_id}#{key.public.multibase()}"
    now = datetime.now(UTC)
    status = badges.sign_data_integrity(
        badges.build_status_list_credential(
            id="https://autre-emetteur.example/status/1",
            issuer=issuer_id,
            status_list=badges.StatusList(),
            purpose="revocation",
            valid_from=now,
        ),
        key,
        method,
        created=now,
    )
    foreign = badges.Award(
        id="https://autre-emetteur.example/credentials/9",
        issuer=badges.Profile(id=issuer_id, name="Autre émetteur", url="https://autre-emetteur.example"),
        recipient=badges.Recipient(did="did:example:sam"),
        achievement=badges.Achievement(
            id="https://autre-emetteur.example/achievements/1",
            name="Jardiner",
            description="Jardin partagé.",
            criteria=badges.Criteria(narrative="Avoir jardiné."),
        ),
        valid_from=now,
        status=(badges.StatusEntry("https://autre-emetteur.example/status/1", index=7),),
    )
    credential = badges.sign_data_integrity(badges.build_ob3_credential(foreign), key, method, created=now)
    documents = {
        issuer_id: badges.controller_document(issuer_id, [key.public]),
        "https://autre-emetteur.example/status/1": status,
    }
    fetched: list[str] = []

    class Stub:
        def get_json(self, url: str) -> Any:
            fetched.append(url)
            if url not in documents:
                raise badges.ResolutionError("unknown")
            return documents[url]

    monkeypatch.setattr(verify_api, "verify_fetcher", Stub)
    r = _post(client, credential=credential)
    assert r.status_code == 200 and r.json["verdict"] == "genuine", r.json
    assert "verificationUrl" not in r.json
    assert sorted(set(fetched)) == sorted(documents)  # each document fetched once
    forged = badges.sign_data_integrity(
        badges.build_ob3_credential(foreign), badges.generate_key("Ed25519"), method, created=now
    )
    assert _post(client, credential=forged).json["verdict"] == "invalid"
    other_key = badges.generate_key("Ed25519")
    squatter = badges.sign_data_integrity(
        badges.build_ob3_credential(foreign), other_key, f"{issuer_id}#{other_key.public.multibase()}", created=now
    )
    assert _post(client, credential=squatter).json["verdict"] == "unknown_key"


def test_unknown_urls_of_ours_are_not_fetched(client) -> None:
    body = assert_problem(_post(client, url=f"{BASE}/credentials/00000000-0000-0000-0000-000000000000"), 422, "#/url")
    assert "No badge" in body["detail"]
    assert_problem(_post(client, url=f"{BASE}/c/zzzzzzzzzz"), 422, "#/url")


def _bomb() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    # 64 x 64 grey pixels declared, 16 MB of zeros inside: a decompression bomb (about 16 KB on disk).
    pixels = zlib.compress(b"\0" * (16 * 1024 * 1024), 9)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 64, 64, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", pixels)
        + chunk(b"IEND", b"")
    )


def _giant() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\0" * 100))
        + chunk(b"IEND", b"")
    )


def test_bad_uploads_are_clear_4xx(client) -> None:
    assert_problem(_upload(client, _bomb()), 413)
    assert_problem(_upload(client, _giant()), 413)
    assert_problem(_upload(client, b"%PDF-1.7 not an image", "badge.pdf"), 415)
    assert_problem(_upload(client, bytes(range(256)) * 4, "noise.bin"), 415)
    assert_problem(_upload(client, b"\x89PNG\r\n\x1a\n" + b"\0" * 40), 415)
    assert_problem(_upload(client, b"<svg xmlns='http://www.w3.org/2000/svg'><unclosed></svg>", "b.svg"), 415)
    assert_problem(_upload(client, b"<!DOCTYPE svg [<!ENTITY a 'b'>]><svg/>", "b.svg"), 415)
    assert_problem(_upload(client, b"x" * (300 * 1024), "big.png"), 413)
    r = _upload(client, png_bytes(4, 4))  # a real image with nothing baked in: a failed verdict
    assert r.status_code == 200 and r.json["verdict"] == "unreadable"
    assert_problem(client.post(API, data={"other": "x"}, content_type="multipart/form-data"), 422, "#/file")


def test_bad_bodies_are_clear_4xx(client) -> None:
    assert_problem(client.post(API, data="{not json", content_type="application/json"), 400)
    assert_problem(client.post(API, data="[" * 100000, content_type="application/json"), 400)
    assert_problem(_post(client), 422, "#/credential")
    assert_problem(_post(client, credential={"a": 1}, url="https://example.org/a"), 422, "#/credential")
    assert_problem(_post(client, credential=42), 422, "#/credential")
    assert_problem(_post(client, url="x" * 3000), 422, "#/url")
    assert_problem(client.post(API, json=[1, 2]), 422)
    deep: Any = {}
    for _ in range(200):
        deep = {"a": deep}
    assert_problem(_post(client, credential=deep), 422, "#/credential")
    for junk in ("", "   ", "not a badge", "{}", "a.b.c", '{"type": "Assertion"}'):
        r = _post(client, credential=junk)
        assert r.status_code in (200, 422), (junk, r.json)
        if r.status_code == 200:
            assert r.json["valid"] is False
    r = _post(client, credential={"@context": ["https://www.w3.org/ns/credentials/v2"], "type": "x"})
    assert r.status_code == 200 and r.json["verdict"] == "invalid"


def test_rate_limited_per_client_with_retry_after(client, app) -> None:
    runtime(app).verify_limiter = RateLimit(2, 1)  # the fixture puts the roomy one back
    assert _post(client, credential="x").status_code == 200
    assert _post(client, credential="x").status_code == 200
    r = _post(client, credential="x")
    body = assert_problem(r, 429)
    assert int(r.headers["Retry-After"]) >= 1 and body["type"].endswith("/too-many-requests")
    other = client.post(API, json={"credential": "x"}, environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 200


def test_documented_in_openapi(client) -> None:
    spec = client.get("/api/v1/openapi.json").json
    operation = spec["paths"]["/api/v1/verify"]["post"]
    assert operation["security"] == [] and "429" in operation["responses"]
    assert {"application/json", "multipart/form-data"} <= set(operation["requestBody"]["content"])


def test_a_revoked_hosted_ob2_assertion_given_as_json_is_revoked_with_its_reason(  # type: ignore[no-untyped-def]
    client, session, issued: Issued, settings
) -> None:
    from app.services.issuing import revocation

    hosted = client.get(f"/ob2/assertions/{issued.credential.id}", headers={"Accept": "application/json"}).json
    assert _post(client, credential=hosted).json["verdict"] == "genuine"
    revocation.revoke(
        session, issued.setup.grants(session), issued.credential.id, "Erreur de destinataire", settings=settings
    )
    session.commit()
    r = _post(client, credential=hosted)
    assert r.status_code == 200 and r.json["verdict"] == "revoked", r.json
    failed = [c for c in r.json["checks"] if c["outcome"] == "fail"]
    assert [c["name"] for c in failed] == ["status"]  # no second, spurious "unavailable" proof
    assert "Erreur de destinataire" in failed[0]["reasonFr"] and "Erreur de destinataire" in failed[0]["reasonEn"]
