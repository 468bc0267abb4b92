from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from badges import (
    Resolvers,
    SigningKey,
    bake_png,
    bake_svg,
    build_ob2_assertion,
    build_ob2_badgeclass,
    build_ob2_cryptographic_key,
    build_ob2_profile,
    build_ob2_revocation_list,
    sign_ob2_assertion,
    verify,
)
from badges.ob2 import OB2Assertion

from .conftest import NOW, tiny_png

BASE = "https://badges.example.org"
ISSUER = f"{BASE}/issuer.json"
KEY = f"{BASE}/keys/1.json"
BADGE = f"{BASE}/badgeclasses/teamwork.json"
REVOCATIONS = f"{BASE}/revocations.json"
ASSERTION_ID = "urn:uuid:2f1f3a52-8d1b-4b8a-9d2f-6c1e2b0b7a11"
HOSTED_ID = f"{BASE}/assertions/1"


def _assertion(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = dict(
        id=ASSERTION_ID,
        badge=BADGE,
        recipient_email="alice@example.org",
        salt="s3lt",
        issued_on=datetime(2025, 1, 15, tzinfo=UTC),
        signed_by=KEY,
    )
    values.update(overrides)
    return build_ob2_assertion(OB2Assertion(**values))


def _documents(key: SigningKey, revoked: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        ISSUER: build_ob2_profile(
            id=ISSUER, name="Example", url=BASE, email="c@example.org", public_keys=(KEY,), revocation_list=REVOCATIONS
        ),
        KEY: build_ob2_cryptographic_key(id=KEY, owner=ISSUER, public_key=key.public),
        BADGE: build_ob2_badgeclass(
            id=BADGE,
            name="Teamwork",
            description="Collaborates.",
            image=f"{BASE}/img.png",
            criteria_narrative="Contributed.",
            issuer=ISSUER,
        ),
        REVOCATIONS: build_ob2_revocation_list(id=REVOCATIONS, issuer=ISSUER, revoked={r: "raison" for r in revoked}),
    }


def test_signed_round_trip(rsa_key: SigningKey) -> None:
    token = sign_ob2_assertion(_assertion(), rsa_key)
    resolvers = Resolvers.from_mapping(_documents(rsa_key))
    report = verify(token, resolvers=resolvers, now=NOW, recipient="Alice@Example.org")
    assert report.valid, report.to_json()
    assert report.format == "ob2-jws"
    baked = verify(bake_png(tiny_png(), token, "ob2"), resolvers=resolvers, now=NOW)
    assert baked.valid and baked.format == "png-itxt+ob2-jws"


def test_signed_tampering(rsa_key: SigningKey, p256_key: SigningKey) -> None:
    token = sign_ob2_assertion(_assertion(), rsa_key)
    head, body, signature = token.split(".")
    payload = json.loads(__import__("badges").encoding.b64url_decode(body))
    payload["issuedOn"] = "2025-01-16T00:00:00Z"
    from badges.encoding import b64url_encode

    forged = f"{head}.{b64url_encode(json.dumps(payload).encode())}.{signature}"
    resolvers = Resolvers.from_mapping(_documents(rsa_key))
    assert verify(forged, resolvers=resolvers, now=NOW).failed() == ["proof"]
    other = __import__("badges").generate_key("RSA")
    assert verify(sign_ob2_assertion(_assertion(), other), resolvers=resolvers, now=NOW).failed() == ["proof"]
    revoked = Resolvers.from_mapping(_documents(rsa_key, revoked=(ASSERTION_ID,)))
    assert verify(token, resolvers=revoked, now=NOW).failed() == ["status"]
    unlinked = _documents(rsa_key)
    unlinked[ISSUER]["publicKey"] = f"{BASE}/keys/other.json"
    assert verify(token, resolvers=Resolvers.from_mapping(unlinked), now=NOW).failed() == ["issuer_key"]
    expired = sign_ob2_assertion(_assertion(expires=datetime(2025, 2, 1, tzinfo=UTC)), rsa_key)
    assert verify(expired, resolvers=resolvers, now=NOW).failed() == ["validity"]
    assert verify(token, resolvers=resolvers, now=NOW, recipient="bob@example.org").failed() == ["recipient"]


def test_hosted_round_trip_and_revocation(rsa_key: SigningKey) -> None:
    hosted = _assertion(id=HOSTED_ID, signed_by=None)
    documents = {**_documents(rsa_key), HOSTED_ID: hosted}
    report = verify(hosted, resolvers=Resolvers.from_mapping(documents), now=NOW)
    assert report.valid, report.to_json()
    assert verify(HOSTED_ID, resolvers=Resolvers.from_mapping(documents), now=NOW).valid
    svg = bake_svg(b'<svg xmlns="http://www.w3.org/2000/svg"></svg>', json.dumps(hosted), "ob2")
    assert verify(svg, resolvers=Resolvers.from_mapping(documents), now=NOW).valid
    gone = Resolvers.from_mapping(documents, gone=frozenset({HOSTED_ID}))
    assert verify(hosted, resolvers=gone, now=NOW).failed() == ["status"]


def test_a_revoked_hosted_assertion_is_revoked_with_its_reason_and_nothing_else_fails(rsa_key: SigningKey) -> None:
    """The 410 the host answers says why; that is the verdict, not also an "unavailable" proof."""
    hosted = _assertion(id=HOSTED_ID, signed_by=None)
    withdrawn = {**hosted, "revoked": True, "revocationReason": "Attribué  par erreur."}
    answered = Resolvers.from_mapping({**_documents(rsa_key), HOSTED_ID: withdrawn}, gone=frozenset({HOSTED_ID}))
    for given in (hosted, HOSTED_ID):
        report = verify(given, resolvers=answered, now=NOW)
        assert report.failed() == ["status"]
        status = report.check("status")
        assert status is not None
        assert status.reason_fr == "Ce badge a été révoqué. Raison donnée par l'émetteur : Attribué par erreur."
        assert status.reason_en == "Revoked (HTTP 410 Gone). Reason given by the issuer: Attribué par erreur."
    silent = Resolvers.from_mapping(_documents(rsa_key), gone=frozenset({HOSTED_ID}))
    assert verify(hosted, resolvers=silent, now=NOW).check("status").reason_en == "Revoked (HTTP 410 Gone)."


def test_a_signed_assertion_on_the_revocation_list_carries_the_list_s_reason(rsa_key: SigningKey) -> None:
    token = sign_ob2_assertion(_assertion(), rsa_key)
    report = verify(token, resolvers=Resolvers.from_mapping(_documents(rsa_key, revoked=(ASSERTION_ID,))), now=NOW)
    assert report.failed() == ["status"]
    assert report.check("status").reason_en == "Revoked. Reason given by the issuer: raison"


def test_a_hosted_assertion_must_match_and_live_with_its_issuer(rsa_key: SigningKey) -> None:
    hosted = _assertion(id=HOSTED_ID, signed_by=None)
    documents = {**_documents(rsa_key), HOSTED_ID: hosted}
    altered = {**hosted, "issuedOn": "2025-01-01T00:00:00Z"}
    assert "proof" in verify(altered, resolvers=Resolvers.from_mapping(documents), now=NOW).failed()
    elsewhere = "https://evil.example/assertions/1"
    moved = _assertion(id=elsewhere, signed_by=None)
    report = verify(moved, resolvers=Resolvers.from_mapping({**documents, elsewhere: moved}), now=NOW)
    assert report.failed() == ["issuer_key"]


@pytest.mark.parametrize("kind", ["Ed25519", "P-256"])
def test_ob2_signing_requires_rsa(kind: str, ed_key: SigningKey, p256_key: SigningKey) -> None:
    from badges import KeyFormatError

    with pytest.raises(KeyFormatError):
        sign_ob2_assertion(_assertion(), ed_key if kind == "Ed25519" else p256_key)
