"""The compact signed badge (BL1): round trips, an independent check of the COSE signature,
and every verdict against a trust list and a status bundle (issue 17)."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import uuid
import zlib
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import base45
import cbor2
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

import badges
from badges import Resolvers, SigningKey, compact
from badges.qr import qr_version

from .conftest import ISSUER_ID, NOW, STATUS_URL

BASE = "https://badges.example.fr"
CREDENTIAL_ID = uuid.UUID("4f8c7a3e-2b1d-4c6e-9a0f-1e2d3c4b5a69")
CREDENTIAL_URL = f"{BASE}/credentials/{CREDENTIAL_ID}"
SHORT_URL = f"{BASE}/c/h6k9yk7jv7"
SUSPENSION_URL = f"{BASE}/status/2"
JS_DIR = Path(__file__).resolve().parents[2] / "bench" / "js"


@pytest.fixture
def badge(make_credential: Callable[..., dict[str, Any]]) -> compact.CompactBadge:
    credential = make_credential(id=CREDENTIAL_URL)
    return compact.badge_from_credential(credential, url=SHORT_URL, suspension=(SUSPENSION_URL, 42))


def trust_for(key: SigningKey, status: compact.KeyState = "active", **dates: datetime) -> compact.TrustList:
    entry = compact.TrustedKey.for_key(key.public, status, **dates)
    issuer = compact.TrustedIssuer(ISSUER_ID, "Territoire apprenant (exemple)", (ISSUER_ID,), (entry,))
    return compact.TrustList(BASE, 1748779200, (issuer,))


def bundle(*, revoked: int | None = None, suspended: int | None = None, iat: int = 1748779200) -> compact.StatusBundle:
    lists = []
    for url, purpose, index in ((STATUS_URL, "revocation", revoked), (SUSPENSION_URL, "suspension", suspended)):
        bits = badges.StatusList()
        if index is not None:
            bits.set(index)
        lists.append(compact.BundledList(url, purpose, bits, iat))
    return compact.StatusBundle.of(BASE, iat, lists)


def outcomes(report: badges.VerificationReport) -> dict[str, str]:
    return {c.name: c.outcome for c in report.checks}


def reason(report: badges.VerificationReport, name: str) -> str:
    check = report.check(name)
    assert check is not None, report.to_json()
    return check.reason_fr


# ---------------------------------------------------------------------------------------------
# Content and round trips


def test_claims_come_from_the_credential(
    badge: compact.CompactBadge, make_credential: Callable[..., dict[str, Any]]
) -> None:
    assert badge.issuer == ISSUER_ID and badge.url == SHORT_URL and badge.credential_id == CREDENTIAL_ID
    assert badge.name == "Conduite de projet collectif" and badge.language == "fr"
    assert badge.competencies == ("BC02",) and badge.competency_count is None
    revocation_list, suspension_list = compact.status_list_id(STATUS_URL), compact.status_list_id(SUSPENSION_URL)
    assert badge.revocation == (revocation_list, 42) and badge.suspension == (suspension_list, 42)
    assert badge.achievement_type == "Competency" and badge.holder_name is None and badge.issuer_name is None
    assert badge.valid_from == badge.issued_at == int(datetime(2025, 3, 1, 9, tzinfo=UTC).timestamp())
    claims = badge.claims()
    blason = claims[compact.BLASON_CLAIMS]
    assert claims[7] == CREDENTIAL_ID.bytes and 5 not in blason and 4 not in blason
    assert 6 not in claims  # iat equals nbf: left out, read back as nbf
    assert blason[8] == [revocation_list.bytes, 42] and blason[9] == [suspension_list.bytes, 42]
    named = compact.badge_from_credential(make_credential(id=CREDENTIAL_URL), issuer_name=True)
    assert named.url == CREDENTIAL_URL and named.issuer_name == "Territoire apprenant (exemple)"


def test_a_status_list_id_is_the_uuid_its_url_ends_with() -> None:
    list_id = uuid.UUID("9ae4b3d1-7cc8-4c43-b85c-91f2504e40a5")
    assert compact.status_list_id(f"{BASE}/status/{list_id}") == list_id
    hashed = compact.status_list_id(STATUS_URL)  # no UUID at the end: the SHA-256 of the URL, cut
    assert hashed.bytes == hashlib.sha256(STATUS_URL.encode()).digest()[:16] and hashed != list_id


def test_claims_are_encoded_deterministically(badge: compact.CompactBadge) -> None:
    """claims() builds its maps in deterministic order, so plain cbor2 writes the canonical bytes."""
    for sample in (
        badge,
        replace(badge, holder_name="Camille Martin", valid_until=1900000000, issued_at=1740000000, issuer_name="X"),
        replace(badge, competencies=("A", "B"), competency_count=12, revocation=None, achievement_type=None),
    ):
        assert cbor2.dumps(sample.claims()) == cbor2.dumps(sample.claims(), canonical=True)
        assert compact.CompactBadge.from_claims(cbor2.loads(cbor2.dumps(sample.claims()))) == sample


def test_competencies_are_bounded(make_credential: Callable[..., dict[str, Any]], achievement: Any) -> None:
    many = tuple(
        badges.Alignment(
            target_name=f"C{i}",
            target_url=f"https://r.example/{i}",
            target_code=f"RNCP{i:05d}" + ("X" * 50 if i == 3 else "BC01"),
        )
        for i in range(11)
    )
    credential = make_credential(id=CREDENTIAL_URL, achievement=replace(achievement, alignments=many))
    long = compact.badge_from_credential(credential)
    assert len(long.competencies) == compact.MAX_COMPETENCIES and long.competency_count == 11
    # A code too long is left out rather than cut (a cut code would name another competency).
    assert "RNCP00004BC01" in long.competencies and not any(code.startswith("RNCP00003") for code in long.competencies)
    assert all(len(code) <= compact.MAX_CODE_CHARS for code in long.competencies)


@pytest.mark.parametrize("kind", ["Ed25519", "P-256"])
def test_round_trip(badge: compact.CompactBadge, ed_key: SigningKey, p256_key: SigningKey, kind: str) -> None:
    key = ed_key if kind == "Ed25519" else p256_key
    text = compact.sign_compact(badge, key)
    assert text.startswith("BL1:") and compact.ALPHANUMERIC_TEXT.fullmatch(text)
    decoded = compact.decode_compact(text)
    assert decoded.algorithm == {"Ed25519": "EdDSA", "P-256": "ES256"}[kind]
    assert decoded.kid == compact.compact_kid(key.public) and len(decoded.kid) == 8
    assert compact.CompactBadge.from_claims(decoded.claims) == badge
    report = compact.verify_compact(text, trust_list=trust_for(key), status_bundle=bundle(), now=NOW)
    assert report.valid and report.failed() == [] and outcomes(report)["status"] == "pass", report.to_json()
    assert report.format == "bl1-cose" and report.credential is not None
    assert report.credential["name"] == "Conduite de projet collectif" and "holderName" not in report.credential
    # The issuer's name comes from the trust list; the credential id from the short address's platform.
    assert report.credential["issuer"] == {"id": ISSUER_ID, "name": "Territoire apprenant (exemple)"}
    assert report.credential["id"] == CREDENTIAL_URL and report.credential["url"] == SHORT_URL
    assert qr_version(text, error_correction="M") <= 13


def test_holder_name_only_when_given(badge: compact.CompactBadge, ed_key: SigningKey) -> None:
    shown = replace(badge, holder_name="Camille Martin")
    report = compact.verify_compact(compact.sign_compact(shown, ed_key), trust_list=trust_for(ed_key), now=NOW)
    assert report.credential is not None and report.credential["holderName"] == "Camille Martin"
    assert "Camille" not in json.dumps(
        compact.verify_compact(compact.sign_compact(badge, ed_key), trust_list=None).to_json()
    )


def test_kid_is_the_first_bytes_of_the_sha256_of_the_thumbprint(ed_key: SigningKey) -> None:
    expected = hashlib.sha256(ed_key.public.thumbprint().encode()).digest()[:8]
    assert compact.compact_kid(ed_key.public) == expected


# ---------------------------------------------------------------------------------------------
# Independent checks: the Sig_structure rebuilt by hand and checked with cryptography; a COSE
# implementation from npm (@auth0/cose) when bench/js is installed.


def _by_hand(text: str, public: Any) -> dict[Any, Any]:
    cose = zlib.decompress(base45.b45decode(text[4:]))
    tagged = cbor2.loads(cose)
    assert tagged.tag == 18
    protected, unprotected, payload, signature = tagged.value
    assert unprotected == {}
    header = cbor2.loads(protected)
    to_be_signed = cbor2.dumps(["Signature1", protected, b"", payload])
    if header[1] == -8:
        public.verify(signature, to_be_signed)
    else:
        assert header[1] == -7 and len(signature) == 64
        der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
        public.verify(der, to_be_signed, ec.ECDSA(hashes.SHA256()))
    return cbor2.loads(payload)  # type: ignore[no-any-return]


@pytest.mark.parametrize("kind", ["Ed25519", "P-256"])
def test_signature_checked_by_hand(
    badge: compact.CompactBadge, ed_key: SigningKey, p256_key: SigningKey, kind: str
) -> None:
    key = ed_key if kind == "Ed25519" else p256_key
    text = compact.sign_compact(badge, key)
    claims = _by_hand(text, key.public.key)
    assert claims[1] == ISSUER_ID and claims[compact.BLASON_CLAIMS][2] == "Conduite de projet collectif"
    tampered = compact.sign_compact(replace(badge, name="Autre"), key)
    forged = cbor2.loads(zlib.decompress(base45.b45decode(tampered[4:])))
    original = cbor2.loads(zlib.decompress(base45.b45decode(text[4:])))
    forged.value[3] = original.value[3]  # the other payload's signature
    forged_text = "BL1:" + base45.b45encode(zlib.compress(cbor2.dumps(forged))).decode()
    with pytest.raises(InvalidSignature):
        _by_hand(forged_text, key.public.key)
    assert isinstance(ed_key.public.key, ed25519.Ed25519PublicKey)


@pytest.mark.parametrize("kind", ["Ed25519", "P-256"])
def test_pycose_verifies_our_payloads(
    badge: compact.CompactBadge, ed_key: SigningKey, p256_key: SigningKey, other_ed_key: SigningKey, kind: str
) -> None:
    from cryptography.hazmat.primitives import serialization
    from pycose.keys import EC2Key, OKPKey
    from pycose.keys.curves import P256, Ed25519
    from pycose.messages import Sign1Message

    key = ed_key if kind == "Ed25519" else p256_key
    text = compact.sign_compact(badge, key)

    def cose_key(public: Any) -> Any:
        if isinstance(public, ed25519.Ed25519PublicKey):
            raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            return OKPKey(crv=Ed25519, x=raw)
        numbers = public.public_numbers()
        return EC2Key(crv=P256, x=numbers.x.to_bytes(32, "big"), y=numbers.y.to_bytes(32, "big"))

    message = Sign1Message.decode(zlib.decompress(base45.b45decode(text[4:])))
    message.key = cose_key(key.public.key)
    assert message.verify_signature()
    assert message.phdr[next(h for h in message.phdr if getattr(h, "identifier", None) == 4)] == compact.compact_kid(
        key.public
    )
    if kind == "Ed25519":
        message.key = cose_key(other_ed_key.public.key)
        assert not message.verify_signature()


def test_an_npm_cose_implementation_verifies_our_payloads(
    badge: compact.CompactBadge, ed_key: SigningKey, p256_key: SigningKey, tmp_path: Path
) -> None:
    node = shutil.which("node")
    if node is None or not (JS_DIR / "node_modules" / "@auth0" / "cose").is_dir():
        pytest.skip("node or bench/js/node_modules (npm ci in bench/js) is absent")
    samples = [
        {"payload": compact.sign_compact(badge, key), "jwk": key.public.jwk(alg=key.algorithm), "valid": True}
        for key in (ed_key, p256_key)
    ]
    samples.append({**samples[0], "jwk": p256_key.public.jwk(alg="ES256"), "valid": False})
    path = tmp_path / "compact.json"
    path.write_text(json.dumps(samples), encoding="utf-8")
    done = subprocess.run(
        [node, str(JS_DIR / "verify_compact.mjs"), str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("ok ") == 3


# ---------------------------------------------------------------------------------------------
# Verdicts


def test_tampered_and_unreadable(badge: compact.CompactBadge, ed_key: SigningKey) -> None:
    text = compact.sign_compact(badge, ed_key)
    cose = cbor2.loads(zlib.decompress(base45.b45decode(text[4:])))
    claims = cbor2.loads(cose.value[2])
    claims[compact.BLASON_CLAIMS][2] = "Diplôme d'ingénieur"
    cose.value[2] = cbor2.dumps(claims)
    forged = "BL1:" + base45.b45encode(zlib.compress(cbor2.dumps(cose))).decode()
    report = compact.verify_compact(forged, trust_list=trust_for(ed_key), now=NOW)
    assert not report.valid and outcomes(report)["proof"] == "fail" and reason(report, "proof").startswith("Falsifié")
    for broken in ("BL1:", "BL1:AAAA", text[:-6], "BL1:" + base45.b45encode(zlib.compress(b"\x00" * 9000)).decode()):
        report = compact.verify_compact(broken, trust_list=trust_for(ed_key), now=NOW)
        assert outcomes(report) == {"format": "fail"} and not report.valid


def test_unknown_issuer(badge: compact.CompactBadge, ed_key: SigningKey, other_ed_key: SigningKey) -> None:
    text = compact.sign_compact(badge, other_ed_key)
    report = compact.verify_compact(text, trust_list=trust_for(ed_key), now=NOW)
    assert outcomes(report)["issuer_key"] == "fail" and reason(report, "issuer_key").startswith("Émetteur inconnu")
    # A known key naming another issuer than its own is not that issuer's either.
    text = compact.sign_compact(replace(badge, issuer="https://autre.example/issuers/1"), ed_key)
    report = compact.verify_compact(text, trust_list=trust_for(ed_key), now=NOW)
    assert not report.valid and reason(report, "issuer_key").startswith("Émetteur inconnu")
    report = compact.verify_compact(text, trust_list=None, now=NOW)
    assert not report.valid and outcomes(report)["issuer_key"] == "fail"


def test_compromised_key_refused_whatever_the_date(badge: compact.CompactBadge, ed_key: SigningKey) -> None:
    text = compact.sign_compact(badge, ed_key)  # signed (iat) long before the key was compromised
    trust = trust_for(ed_key, "compromised", compromised_at=datetime(2026, 1, 5, tzinfo=UTC))
    report = compact.verify_compact(text, trust_list=trust, status_bundle=bundle(), now=NOW)
    assert not report.valid and reason(report, "issuer_key").startswith("Clé compromise")
    assert "5 janvier 2026" in reason(report, "issuer_key")
    assert report.check("issuer_key").reason_en.startswith("Compromised key")  # type: ignore[union-attr]


def test_retired_key_still_verifies(badge: compact.CompactBadge, ed_key: SigningKey) -> None:
    trust = trust_for(ed_key, "retired", retired_at=datetime(2025, 5, 1, tzinfo=UTC))
    report = compact.verify_compact(
        compact.sign_compact(badge, ed_key), trust_list=trust, status_bundle=bundle(), now=NOW
    )
    assert report.valid and "retirée" in reason(report, "issuer_key")


def test_expired_and_not_yet_valid(badge: compact.CompactBadge, ed_key: SigningKey) -> None:
    text = compact.sign_compact(badge, ed_key)
    later = compact.verify_compact(text, trust_list=trust_for(ed_key), now=datetime(2027, 3, 2, tzinfo=UTC))
    assert not later.valid and reason(later, "validity").startswith("Expiré")
    assert later.check("validity").reason_en.startswith("Expired")  # type: ignore[union-attr]
    early = compact.verify_compact(text, trust_list=trust_for(ed_key), now=datetime(2025, 2, 1, tzinfo=UTC))
    assert not early.valid and reason(early, "validity").startswith("Pas encore valable")


def test_revoked_once_the_status_bundle_is_refreshed(badge: compact.CompactBadge, ed_key: SigningKey) -> None:
    text = compact.sign_compact(badge, ed_key)
    before = compact.verify_compact(text, trust_list=trust_for(ed_key), status_bundle=bundle(), now=NOW)
    assert before.valid and "Ni révoqué ni suspendu selon les listes du 1 juin 2025" in reason(before, "status")
    refreshed = bundle(revoked=42, iat=1748865600)
    after = compact.verify_compact(text, trust_list=trust_for(ed_key), status_bundle=refreshed, now=NOW)
    assert not after.valid and reason(after, "status") == "Révoqué selon les listes du 2 juin 2025 à 12 h 00 UTC."
    suspended = compact.verify_compact(text, trust_list=trust_for(ed_key), status_bundle=bundle(suspended=42), now=NOW)
    assert not suspended.valid and reason(suspended, "status").startswith("Suspendu selon les listes du")
    missing = compact.verify_compact(text, trust_list=trust_for(ed_key), status_bundle=None, now=NOW)
    assert missing.valid and outcomes(missing)["status"] == "warning"


# ---------------------------------------------------------------------------------------------
# Signed trust material, and badges.verify through resolvers


def test_trust_material_signed_by_the_platform_key(ed_key: SigningKey, other_ed_key: SigningKey) -> None:
    trust = trust_for(ed_key)
    token = compact.sign_trust_material(trust.payload(), ed_key, compact.TRUST_LIST_TYPE)
    header = json.loads(badges.encoding.b64url_decode(token.split(".")[0]))
    assert header == {"alg": "EdDSA", "kid": ed_key.public.thumbprint(), "typ": "blason-trust-list+jwt"}
    assert compact.load_trust_list(token, ed_key.public).payload() == trust.payload()
    with pytest.raises(badges.ProofError):
        compact.load_trust_list(token, other_ed_key.public)
    with pytest.raises(badges.ProofError):  # a trust list is not a status bundle
        compact.load_status_bundle(token, ed_key.public)
    status_token = compact.sign_trust_material(bundle(revoked=3).payload(), ed_key, compact.STATUS_BUNDLE_TYPE)
    loaded = compact.load_status_bundle(status_token, ed_key.public)
    assert loaded.payload() == bundle(revoked=3).payload()
    found = loaded.find(compact.status_list_id(STATUS_URL))
    assert found is not None and found.url == STATUS_URL and found.purpose == "revocation" and found.bits.get(3)


def test_badges_verify_reads_a_bl1_text_through_the_resolvers(
    badge: compact.CompactBadge, ed_key: SigningKey, p256_key: SigningKey, other_ed_key: SigningKey
) -> None:
    platform = other_ed_key
    text = compact.sign_compact(badge, p256_key)
    documents = {
        BASE + compact.TRUST_LIST_PATH: compact.sign_trust_material(
            trust_for(p256_key).payload(), platform, compact.TRUST_LIST_TYPE
        ),
        BASE + compact.STATUS_BUNDLE_PATH: compact.sign_trust_material(
            bundle(revoked=42).payload(), platform, compact.STATUS_BUNDLE_TYPE
        ),
        BASE + compact.PLATFORM_PATH: {"jwk": platform.public.jwk()},
    }
    report = badges.verify(f"  {text}\n", resolvers=Resolvers.from_mapping(documents), now=NOW)
    assert report.format == "bl1-cose" and outcomes(report)["proof"] == "pass"
    assert not report.valid and reason(report, "status").startswith("Révoqué")
    # Trust material already trusted (the platform itself) is taken as it is.
    trusted = Resolvers.from_mapping({BASE + compact.TRUST_LIST_PATH: trust_for(p256_key)})
    assert badges.verify(text, resolvers=trusted, now=NOW).valid
    # Nothing to resolve: the issuer cannot be recognised.
    report = badges.verify(text, now=NOW)
    assert not report.valid and outcomes(report)["issuer_key"] == "fail"


def test_a_fetched_trust_list_vouches_only_for_its_own_host(
    badge: compact.CompactBadge, ed_key: SigningKey, other_ed_key: SigningKey
) -> None:
    """A platform at another address cannot vouch for an issuer of badges.example.fr."""
    evil = "https://evil.example"
    text = compact.sign_compact(replace(badge, url=f"{evil}/c/h6k9yk7jv7"), ed_key)
    documents = {
        evil + compact.TRUST_LIST_PATH: compact.sign_trust_material(
            replace(trust_for(ed_key), iss=evil).payload(), other_ed_key, compact.TRUST_LIST_TYPE
        ),
        evil + compact.PLATFORM_PATH: {"jwk": other_ed_key.public.jwk()},
    }
    report = badges.verify(text, resolvers=Resolvers.from_mapping(documents), now=NOW)
    assert not report.valid and reason(report, "issuer_key").startswith("Émetteur inconnu")


# The longest badge the sizes are stated for: a 160-character name, the holder's name, 8 codes.
LONGEST = {
    "name": "Coordonner un projet de tiers-lieu nourricier avec les habitants et les élus " * 2,
    "holder_name": "Marie-Hélène de La Tour-Dubreuil",
    "competencies": tuple(f"RNCP37873BC0{i}" for i in range(8)),
    "competency_count": 12,
}


def test_sizes_stay_within_a_printable_qr_code(badge: compact.CompactBadge, ed_key: SigningKey) -> None:
    """A typical badge fits QR version 13 (M): 69 modules, 0.51 mm each when the code is 35 mm wide."""
    typical = compact.sign_compact(badge, ed_key)
    longest = compact.sign_compact(replace(badge, **LONGEST), ed_key)
    assert len(typical) <= 483 and qr_version(typical, error_correction="M") <= 13
    assert len(typical) < len(longest) <= 656 and qr_version(longest, error_correction="M") <= 16
