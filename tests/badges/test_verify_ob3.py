"""Round trips and tamper cases for OB 3.0 Data Integrity and VC-JWT."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest

from badges import (
    Endorsement,
    Resolvers,
    SigningKey,
    StatusEntry,
    UndefinedTermError,
    build_endorsement_credential,
    sign_data_integrity,
    sign_vc_jwt,
    verify,
)
from badges.encoding import b64url_decode, b64url_encode

from .conftest import ISSUER_ID, LEARNER_DID, LEARNER_EMAIL, NOW, SUSPENSION_URL, vm

KID_ES = ISSUER_ID + "/keys/es256"
KID_RS = ISSUER_ID + "/keys/rs256"
KID_ED = ISSUER_ID + "/keys/eddsa"


@pytest.fixture
def signed(make_credential: Callable[..., dict[str, Any]], ed_key: SigningKey) -> dict[str, Any]:
    return sign_data_integrity(make_credential(), ed_key, vm(ed_key), created=NOW)


@pytest.fixture
def jwt_resolvers(
    status_documents: Callable[..., dict[str, Any]], p256_key: SigningKey, rsa_key: SigningKey, ed_key: SigningKey
) -> Resolvers:
    documents = dict(status_documents())
    documents[KID_ES] = p256_key.public.jwk(KID_ES)
    documents[KID_RS] = rsa_key.public.jwk(KID_RS)
    documents[KID_ED] = ed_key.public.jwk(KID_ED)
    return Resolvers.from_mapping(documents)


def _failed(report: Any) -> list[str]:
    return report.failed()


def test_data_integrity_round_trip(signed: dict[str, Any], resolvers: Resolvers) -> None:
    report = verify(signed, resolvers=resolvers, now=NOW, recipient=LEARNER_EMAIL)
    assert report.valid, report.to_json()
    assert report.format == "vc-data-integrity"
    assert {c.name: c.outcome for c in report.checks} == {
        "format": "pass",
        "structure": "pass",
        "proof": "pass",
        "issuer_key": "pass",
        "status": "pass",
        "validity": "pass",
        "recipient": "pass",
        "endorsements": "skipped",
    }
    assert all(c.reason_fr and c.reason_en for c in report.checks)
    # Also from bytes and from a JSON string.
    assert verify(json.dumps(signed).encode(), resolvers=resolvers, now=NOW).valid


def test_did_key_and_resolved_multikey_methods(
    make_credential: Callable[..., dict[str, Any]], ed_key: SigningKey, resolvers: Resolvers
) -> None:
    did = ed_key.public.did_key()
    credential = make_credential(issuer=__import__("badges").Profile(id=did, name="Émetteur"), status=())
    signed = sign_data_integrity(credential, ed_key, ed_key.public.did_key_verification_method(), created=NOW)
    assert verify(signed, now=NOW).valid
    method = ISSUER_ID + "/keys/ed-1"
    document = ed_key.public.multikey_document(ISSUER_ID, method)
    signed = sign_data_integrity(make_credential(status=()), ed_key, method, created=NOW)
    assert verify(signed, resolvers=Resolvers.from_mapping({method: document}), now=NOW).valid


@pytest.mark.parametrize(
    "algorithm,kid,key_name", [("ES256", KID_ES, "p256_key"), ("RS256", KID_RS, "rsa_key"), ("EdDSA", KID_ED, "ed_key")]
)
def test_vc_jwt_round_trip(
    algorithm: str,
    kid: str,
    key_name: str,
    make_credential: Callable[..., dict[str, Any]],
    jwt_resolvers: Resolvers,
    request: pytest.FixtureRequest,
) -> None:
    key: SigningKey = request.getfixturevalue(key_name)
    token = sign_vc_jwt(make_credential(), key, kid)
    header = jwt.get_unverified_header(token)
    assert header == {"alg": algorithm, "kid": kid, "typ": "JWT"}
    payload = json.loads(b64url_decode(token.split(".")[1]))
    assert payload["iss"] == ISSUER_ID and payload["sub"] == LEARNER_DID
    assert payload["jti"] == payload["id"] and payload["nbf"] == 1740819600
    report = verify(token, resolvers=jwt_resolvers, now=NOW, recipient=LEARNER_DID)
    assert report.valid, report.to_json()
    assert report.format == "vc-jwt"


def test_vc_jwt_without_typ(
    make_credential: Callable[..., dict[str, Any]], p256_key: SigningKey, jwt_resolvers: Resolvers
) -> None:
    token = sign_vc_jwt(make_credential(), p256_key, KID_ES, typ=False)
    assert "typ" not in jwt.get_unverified_header(token)
    assert verify(token, resolvers=jwt_resolvers, now=NOW).valid


# --- tamper cases -----------------------------------------------------------------------


def test_one_changed_byte_fails(signed: dict[str, Any], resolvers: Resolvers) -> None:
    tampered = copy.deepcopy(signed)
    tampered["credentialSubject"]["achievement"]["name"] = "Conduite de projet collectiF"
    assert _failed(verify(tampered, resolvers=resolvers, now=NOW)) == ["proof"]
    text = json.dumps(signed)
    flipped = text.replace("2025-03-01T09:00:00Z", "2025-03-01T09:00:01Z", 1)
    assert "proof" in _failed(verify(flipped, resolvers=resolvers, now=NOW))


def test_added_undefined_term_fails(signed: dict[str, Any], resolvers: Resolvers) -> None:
    tampered = {**signed, "unsignedClaim": "admin"}
    report = verify(tampered, resolvers=resolvers, now=NOW)
    assert _failed(report) == ["proof"]
    assert "undefined" in report.check("proof").reason_en  # type: ignore[union-attr]


def test_signing_refuses_undefined_terms(make_credential: Callable[..., dict[str, Any]], ed_key: SigningKey) -> None:
    with pytest.raises(UndefinedTermError):
        sign_data_integrity({**make_credential(), "nickname": "x"}, ed_key, vm(ed_key), created=NOW)


def test_wrong_key_fails(
    make_credential: Callable[..., dict[str, Any]], ed_key: SigningKey, other_ed_key: SigningKey, resolvers: Resolvers
) -> None:
    # Signed with another key but claiming the issuer's verification method.
    forged = sign_data_integrity(make_credential(), other_ed_key, vm(ed_key), created=NOW)
    assert _failed(verify(forged, resolvers=resolvers, now=NOW)) == ["proof"]


def test_key_not_linked_to_issuer_fails(
    make_credential: Callable[..., dict[str, Any]],
    other_ed_key: SigningKey,
    resolvers: Resolvers,
    other_p256_key: SigningKey,
    jwt_resolvers: Resolvers,
) -> None:
    rogue = sign_data_integrity(
        make_credential(), other_ed_key, vm(other_ed_key, "https://rogue.example/issuer"), created=NOW
    )
    assert _failed(verify(rogue, resolvers=resolvers, now=NOW)) == ["issuer_key"]
    kid = "https://rogue.example/keys/1"
    documents = {kid: other_p256_key.public.jwk(kid)}
    token = sign_vc_jwt(make_credential(status=()), other_p256_key, kid)
    report = verify(token, resolvers=Resolvers.from_mapping(documents), now=NOW)
    assert _failed(report) == ["issuer_key"]


def test_relabelled_cryptosuite_fails(signed: dict[str, Any], resolvers: Resolvers) -> None:
    for suite in ("eddsa-2022", "ecdsa-rdfc-2019", "eddsa-jcs-2022"):
        tampered = copy.deepcopy(signed)
        tampered["proof"][0]["cryptosuite"] = suite
        assert _failed(verify(tampered, resolvers=resolvers, now=NOW)) == ["proof"]
    tampered = copy.deepcopy(signed)
    tampered["proof"][0]["type"] = "Ed25519Signature2020"
    assert _failed(verify(tampered, resolvers=resolvers, now=NOW)) == ["proof"]


def _forge(header: dict[str, Any], payload: dict[str, Any], signature: bytes = b"") -> str:
    return ".".join(
        [
            b64url_encode(json.dumps(header).encode()),
            b64url_encode(json.dumps(payload).encode()),
            b64url_encode(signature),
        ]
    )


def test_alg_none_fails(
    make_credential: Callable[..., dict[str, Any]], p256_key: SigningKey, jwt_resolvers: Resolvers
) -> None:
    token = sign_vc_jwt(make_credential(), p256_key, KID_ES)
    payload = json.loads(b64url_decode(token.split(".")[1]))
    report = verify(_forge({"alg": "none", "kid": KID_ES}, payload), resolvers=jwt_resolvers, now=NOW)
    assert not report.valid and _failed(report) == ["format"]


def test_hs256_keyed_with_the_public_key_fails(
    make_credential: Callable[..., dict[str, Any]], rsa_key: SigningKey, jwt_resolvers: Resolvers
) -> None:
    import hashlib
    import hmac

    token = sign_vc_jwt(make_credential(), rsa_key, KID_RS)
    payload = json.loads(b64url_decode(token.split(".")[1]))
    header = {"alg": "HS256", "kid": KID_RS, "typ": "JWT"}
    signing_input = ".".join(token.split(".")[:1])  # replaced below
    for secret in (rsa_key.public.pem().encode(), json.dumps(rsa_key.public.jwk(KID_RS)).encode()):
        head = b64url_encode(json.dumps(header).encode())
        body = b64url_encode(json.dumps(payload).encode())
        signing_input = f"{head}.{body}"
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        forged = f"{signing_input}.{b64url_encode(mac)}"
        report = verify(forged, resolvers=jwt_resolvers, now=NOW)
        assert not report.valid and _failed(report) == ["format"]


def test_extra_jose_header_and_wrong_typ_fail(
    make_credential: Callable[..., dict[str, Any]], p256_key: SigningKey, jwt_resolvers: Resolvers
) -> None:
    payload = json.dumps({**make_credential(), "iss": ISSUER_ID}).encode()
    for headers in (
        {"kid": KID_ES, "cty": "vc"},
        {"kid": KID_ES, "typ": "vc+sd-jwt"},
        {"kid": KID_ES, "typ": "application/json"},
        {"kid": KID_ES, "typ": 7},
    ):
        token = jwt.PyJWS().encode(payload, p256_key.key, algorithm="ES256", headers=headers)
        assert _failed(verify(token, resolvers=jwt_resolvers, now=NOW)) == ["format"]


@pytest.mark.parametrize("typ", ["JWT", "jwt", "vc+jwt", "application/vc+jwt", "vc+ld+jwt", "VC+LD+JWT", None])
def test_the_registered_vc_jwt_types_are_read(
    typ: str | None, make_credential: Callable[..., dict[str, Any]], p256_key: SigningKey, jwt_resolvers: Resolvers
) -> None:
    """OB 3.0 names ``JWT``; the W3C's media types are ``vc+jwt`` and ``vc+ld+jwt``; ``typ`` may be absent."""
    payload = json.loads(b64url_decode(sign_vc_jwt(make_credential(), p256_key, KID_ES).split(".")[1]))
    headers = {"kid": KID_ES, "typ": typ}  # PyJWS leaves out a typ of None
    token = jwt.PyJWS().encode(json.dumps(payload).encode(), p256_key.key, algorithm="ES256", headers=headers)
    assert jwt.get_unverified_header(token).get("typ") == typ
    report = verify(token, resolvers=jwt_resolvers, now=NOW)
    assert report.valid, _failed(report)


def test_jwt_claims_must_match(
    make_credential: Callable[..., dict[str, Any]], p256_key: SigningKey, jwt_resolvers: Resolvers
) -> None:
    token = sign_vc_jwt(make_credential(), p256_key, KID_ES)
    payload = json.loads(b64url_decode(token.split(".")[1]))
    payload["sub"] = "did:example:someone-else"
    forged = jwt.PyJWS().encode(
        json.dumps(payload).encode(), p256_key.key, algorithm="ES256", headers={"kid": KID_ES, "typ": "JWT"}
    )
    assert _failed(verify(forged, resolvers=jwt_resolvers, now=NOW)) == ["structure"]


def test_jwt_signed_by_another_key_fails(
    make_credential: Callable[..., dict[str, Any]], other_p256_key: SigningKey, jwt_resolvers: Resolvers
) -> None:
    token = sign_vc_jwt(make_credential(), other_p256_key, KID_ES)
    assert _failed(verify(token, resolvers=jwt_resolvers, now=NOW)) == ["proof"]


def test_expired_and_not_yet_valid(
    signed: dict[str, Any],
    resolvers: Resolvers,
    make_credential: Callable[..., dict[str, Any]],
    p256_key: SigningKey,
    jwt_resolvers: Resolvers,
) -> None:
    later = datetime(2027, 3, 2, tzinfo=UTC)
    earlier = datetime(2025, 2, 1, tzinfo=UTC)
    assert _failed(verify(signed, resolvers=resolvers, now=later)) == ["validity"]
    assert _failed(verify(signed, resolvers=resolvers, now=earlier)) == ["validity"]
    token = sign_vc_jwt(make_credential(), p256_key, KID_ES)
    assert _failed(verify(token, resolvers=jwt_resolvers, now=later)) == ["validity"]
    assert _failed(verify(token, resolvers=jwt_resolvers, now=earlier)) == ["validity"]


def test_revoked(
    signed: dict[str, Any],
    status_documents: Callable[..., dict[str, Any]],
    make_credential: Callable[..., dict[str, Any]],
    p256_key: SigningKey,
) -> None:
    revoked = Resolvers.from_mapping(status_documents(revoked=(42,)))
    report = verify(signed, resolvers=revoked, now=NOW)
    assert _failed(report) == ["status"]
    assert report.check("status").reason_fr == "Ce badge a été révoqué."  # type: ignore[union-attr]
    documents = dict(status_documents(revoked=(42,)))
    documents[KID_ES] = p256_key.public.jwk(KID_ES)
    token = sign_vc_jwt(make_credential(), p256_key, KID_ES)
    assert _failed(verify(token, resolvers=Resolvers.from_mapping(documents), now=NOW)) == ["status"]
    # Other indexes do not affect this credential.
    other = Resolvers.from_mapping(status_documents(revoked=(41, 43)))
    assert verify(signed, resolvers=other, now=NOW).valid


def test_suspended(
    make_credential: Callable[..., dict[str, Any]], ed_key: SigningKey, status_documents: Callable[..., dict[str, Any]]
) -> None:
    credential = make_credential(status=(StatusEntry(SUSPENSION_URL, 7, "suspension"),))
    signed = sign_data_integrity(credential, ed_key, vm(ed_key), created=NOW)
    report = verify(signed, resolvers=Resolvers.from_mapping(status_documents(suspended=(7,))), now=NOW)
    assert _failed(report) == ["status"]
    assert report.check("status").reason_en == "Suspended."  # type: ignore[union-attr]
    lifted = Resolvers.from_mapping(status_documents())
    assert verify(signed, resolvers=lifted, now=NOW).valid


def test_forged_status_list_fails(
    signed: dict[str, Any], other_ed_key: SigningKey, status_documents: Callable[..., dict[str, Any]]
) -> None:
    documents = status_documents()
    listing = copy.deepcopy(documents["https://badges.example.fr/status/1"])
    listing.pop("proof")
    documents["https://badges.example.fr/status/1"] = sign_data_integrity(
        listing, other_ed_key, vm(other_ed_key), created=NOW
    )
    report = verify(signed, resolvers=Resolvers.from_mapping(documents), now=NOW)
    assert _failed(report) == ["status"]


def test_unreachable_status_fails(signed: dict[str, Any]) -> None:
    assert "status" in _failed(verify(signed, resolvers=Resolvers.from_mapping({}), now=NOW))


def test_recipient_mismatch(signed: dict[str, Any], resolvers: Resolvers) -> None:
    assert verify(signed, resolvers=resolvers, now=NOW, recipient=LEARNER_DID).valid
    report = verify(signed, resolvers=resolvers, now=NOW, recipient="someone@example.org")
    assert _failed(report) == ["recipient"]


def test_endorsements_are_verified(
    make_credential: Callable[..., dict[str, Any]], issuer: Any, ed_key: SigningKey, resolvers: Resolvers
) -> None:
    endorsement = sign_data_integrity(
        build_endorsement_credential(
            Endorsement(
                id="urn:uuid:0e6c8f9a-1111-4222-8333-944455556666",
                issuer=issuer,
                subject_id="https://badges.example.fr/achievements/conduite-projet",
                name="Recommandation",
                valid_from=datetime(2025, 1, 1, tzinfo=UTC),
            )
        ),
        ed_key,
        vm(ed_key),
        created=NOW,
    )
    credential = make_credential(endorsements=(endorsement,))
    signed = sign_data_integrity(credential, ed_key, vm(ed_key), created=NOW)
    report = verify(signed, resolvers=resolvers, now=NOW)
    assert report.valid and report.check("endorsements").outcome == "pass"  # type: ignore[union-attr]
    bad = copy.deepcopy(endorsement)
    bad["name"] = "Recommandation modifiée"
    signed = sign_data_integrity(make_credential(endorsements=(bad,)), ed_key, vm(ed_key), created=NOW)
    assert _failed(verify(signed, resolvers=resolvers, now=NOW)) == ["endorsements"]
