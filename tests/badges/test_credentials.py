from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import jsonschema
import pytest

from badges import (
    Association,
    ClrRecord,
    Endorsement,
    InvalidInput,
    Recipient,
    SigningKey,
    build_clr_credential,
    build_endorsement_credential,
    build_ob2_assertion,
    build_ob2_badgeclass,
    build_ob2_cryptographic_key,
    build_ob2_profile,
    build_ob2_revocation_list,
    canonize,
    hash_identity,
    sign_data_integrity,
)
from badges.ob2 import OB2Assertion

from .conftest import ISSUER_ID, NOW, load_shared_json, vm


def _validate(document: dict[str, Any], *path: str) -> None:
    schema = load_shared_json("schemas", *path)
    validator = jsonschema.Draft201909Validator(schema, format_checker=jsonschema.Draft201909Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]


def test_identity_hash_matches_the_spec_examples() -> None:
    assert hash_identity("a@example.com", "Kosher").startswith("sha256$b5809d8a")
    assert hash_identity("camille.martin@example.fr", "b0a1c2d3e4f5") == (
        "sha256$cc30fcd288405af1aac95e1285e73571619b273858a1825cea4f8c6fd2d4cc6e"
    )


def test_ob3_credential_has_the_strict_shape(make_credential: Callable[..., dict[str, Any]]) -> None:
    credential = make_credential()
    assert credential["@context"][:2] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert credential["issuer"]["type"] == ["Profile"]
    identifier = credential["credentialSubject"]["identifier"][0]
    assert identifier["type"] == "IdentityObject"
    # The e-mail is normalised (trimmed, lowercased) before hashing.
    assert identifier["identityHash"] == hash_identity("camille.martin@example.fr", "b0a1c2d3e4f5")
    assert credential["credentialStatus"]["statusListIndex"] == "42"
    canonize(credential)  # every term is defined by the contexts


@pytest.mark.shared
def test_signed_ob3_credential_passes_both_official_schemas(
    make_credential: Callable[..., dict[str, Any]], ed_key: SigningKey
) -> None:
    signed = sign_data_integrity(make_credential(), ed_key, vm(ed_key), created=NOW)
    _validate(signed, "ob_v3p0", "ob_v3p0_achievementcredential_schema.gh-pages.json")
    _validate(signed, "ob_v3p0", "ob_v3p0_achievementcredential_schema.purl-via-conform-ed.json")
    _validate(signed["issuer"], "ob_v3p0", "ob_v3p0_profile_schema.gh-pages.json")


@pytest.mark.shared
def test_identifier_only_credential_passes_the_strict_schema(
    make_credential: Callable[..., dict[str, Any]], ed_key: SigningKey
) -> None:
    credential = make_credential(
        recipient=Recipient(email="x@example.org", salt="s"), status=(), evidence=(), valid_until=None
    )
    signed = sign_data_integrity(credential, ed_key, vm(ed_key), created=NOW)
    _validate(signed, "ob_v3p0", "ob_v3p0_achievementcredential_schema.gh-pages.json")


def _endorsement(issuer_profile: Any) -> dict[str, Any]:
    return build_endorsement_credential(
        Endorsement(
            id="urn:uuid:0e6c8f9a-1111-4222-8333-944455556666",
            issuer=issuer_profile,
            subject_id="https://badges.example.fr/achievements/conduite-projet",
            name="Recommandation du CNAM",
            comment="Référentiel solide.",
            valid_from=datetime(2025, 1, 1, tzinfo=UTC),
        )
    )


@pytest.mark.shared
def test_endorsement_credential_passes_the_strict_schema(issuer: Any, ed_key: SigningKey) -> None:
    signed = sign_data_integrity(_endorsement(issuer), ed_key, vm(ed_key), created=NOW)
    _validate(signed, "ob_v3p0", "ob_v3p0_endorsementcredential_schema.gh-pages.json")


@pytest.mark.shared
def test_clr_credential_passes_the_clr_schema(
    make_credential: Callable[..., dict[str, Any]], issuer: Any, achievement: Any, ed_key: SigningKey
) -> None:
    inner = sign_data_integrity(make_credential(), ed_key, vm(ed_key), created=NOW)
    clr = build_clr_credential(
        ClrRecord(
            id="urn:uuid:7d1c0b6e-2222-4333-8444-a55566667777",
            issuer=issuer,
            recipient=Recipient(did="did:example:learner-1234"),
            name="Dossier de jury",
            valid_from=NOW,
            credentials=(inner,),
            achievements=(achievement,),
            associations=(Association("isParentOf", achievement.id, "https://badges.example.fr/achievements/other"),),
            partial=True,
        )
    )
    signed = sign_data_integrity(clr, ed_key, vm(ed_key), created=NOW)
    _validate(signed, "clr_v2p0", "clr_v2p0_clrcredential_schema.json")


def test_builders_reject_bad_input(make_award: Callable[..., Any]) -> None:
    from badges import build_ob3_credential

    with pytest.raises(InvalidInput):
        build_ob3_credential(make_award(recipient=Recipient()))
    with pytest.raises(InvalidInput):
        build_ob3_credential(make_award(valid_until=datetime(2020, 1, 1, tzinfo=UTC)))
    with pytest.raises(InvalidInput):
        build_ob3_credential(make_award(valid_from=datetime(2025, 1, 1)))
    with pytest.raises(InvalidInput):
        build_ob3_credential(make_award(recipient=Recipient(email="x@example.org")))


def test_ob2_documents(rsa_key: SigningKey) -> None:
    assertion = build_ob2_assertion(
        OB2Assertion(
            id="urn:uuid:2f1f3a52-8d1b-4b8a-9d2f-6c1e2b0b7a11",
            badge="https://badges.example.org/badgeclasses/teamwork.json",
            recipient_email="alice@example.org",
            salt="s3lt",
            issued_on=datetime(2025, 1, 15, 10, tzinfo=UTC),
            signed_by="https://badges.example.org/keys/1.json",
        )
    )
    assert assertion["recipient"]["identity"] == hash_identity("alice@example.org", "s3lt")
    assert assertion["verification"] == {"type": "SignedBadge", "creator": "https://badges.example.org/keys/1.json"}
    badge = build_ob2_badgeclass(
        id="https://b.example/bc",
        name="Teamwork",
        description="d",
        image="https://b.example/i.png",
        criteria_narrative="n",
        issuer="https://b.example/issuer",
    )
    assert badge["criteria"] == {"narrative": "n"}
    profile = build_ob2_profile(
        id=ISSUER_ID,
        name="n",
        url="https://b.example",
        email="c@b.example",
        public_keys=("https://b.example/k",),
        revocation_list="https://b.example/r",
    )
    assert profile["publicKey"] == "https://b.example/k"
    key = build_ob2_cryptographic_key(id="https://b.example/k", owner=ISSUER_ID, public_key=rsa_key.public)
    assert key["publicKeyPem"].startswith("-----BEGIN PUBLIC KEY-----")
    listing = build_ob2_revocation_list(
        id="https://b.example/r", issuer=ISSUER_ID, revoked={"urn:uuid:1": "fraude", "urn:uuid:2": None}
    )
    assert listing["revokedAssertions"] == [{"id": "urn:uuid:1", "revocationReason": "fraude"}, {"id": "urn:uuid:2"}]
