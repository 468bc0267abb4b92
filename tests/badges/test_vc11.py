"""OB 3.0 credentials on the VC Data Model 1.1 and EnvelopedVerifiableCredential wrappers (issue 15,
defect 2): genuine ones verify, and each refusal names its real reason.

The vectors in data/vc11_vectors.json were signed by independent implementations (Digital
Bazaar's Ed25519Signature2020 and eddsa-rdfc-2022 suites, jose) with fixed test keys; regenerate
them with bench/js/make_vc11_vectors.mjs (see its header). No node is needed here.
"""

from __future__ import annotations

import base64
import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from badges import Resolvers, SigningKey, verify
from badges.contexts import PINNED
from badges.encoding import b64url_decode, b64url_encode
from badges.errors import ProofError
from badges.jws import vc11_credential_from_claims

from .conftest import shared_dir

VECTORS = json.loads((Path(__file__).parent / "data" / "vc11_vectors.json").read_text(encoding="utf-8"))
NOW = datetime.fromisoformat(VECTORS["now"].replace("Z", "+00:00"))
LEARNER = "did:example:learner-vc11"
GENUINE = sorted(name for name, vector in VECTORS["vectors"].items() if vector["expect"] == "valid")
REFUSED = sorted(name for name, vector in VECTORS["vectors"].items() if vector["expect"] != "valid")
EMBEDDED = [name for name in GENUINE if "proof" in VECTORS["vectors"][name].get("credential", {})]
FORMATS = {
    "ed25519-2020-https": "vc11-data-integrity",
    "ed25519-2020-did-key": "vc11-data-integrity",
    "eddsa-rdfc-2022-did-key": "vc11-data-integrity",
    "eddsa-rdfc-2022-https": "vc11-data-integrity",
    "vc-jwt-eddsa-did-key": "vc11-jwt",
    "vc-jwt-es256-https": "vc11-jwt",
    "enveloped-vc-jwt": "enveloped+vc-jwt",
    "enveloped-vc11-jwt": "enveloped+vc11-jwt",
}


def _data(name: str) -> Any:
    vector = VECTORS["vectors"][name]
    return copy.deepcopy(vector["credential"]) if "credential" in vector else vector["token"]


def _documents() -> dict[str, Any]:
    return copy.deepcopy(VECTORS["documents"])


def _verify(data: Any, documents: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    resolvers = Resolvers.from_mapping(_documents() if documents is None else documents)
    return verify(data, resolvers=resolvers, now=NOW, **kwargs)


def _outcomes(report: Any) -> dict[str, str]:
    return {check.name: check.outcome for check in report.checks}


def _resign_payload(token: str, change: Any) -> str:
    """Change the payload of a JWT and keep its (now wrong) signature."""
    header, payload, signature = token.split(".")
    claims = json.loads(b64url_decode(payload))
    change(claims)
    return ".".join((header, b64url_encode(json.dumps(claims).encode()), signature))


def test_every_kind_is_in_the_vectors() -> None:
    assert set(GENUINE) == set(FORMATS)
    assert {"revoked", "expired", "wrong-key", "issuer-not-controlling-key"} <= set(REFUSED)


@pytest.mark.parametrize("name", GENUINE)
def test_genuine_credentials_verify(name: str) -> None:
    report = _verify(_data(name), recipient=LEARNER)
    assert report.valid, report.to_json()
    assert report.format == FORMATS[name]
    outcomes = _outcomes(report)
    assert outcomes["proof"] == outcomes["issuer_key"] == outcomes["validity"] == "pass"
    assert outcomes["recipient"] == "pass"
    assert report.credential["credentialSubject"]["achievement"]["name"] == "Animation d'un atelier numérique"
    if "status" in json.dumps(report.credential.get("credentialStatus", "")):
        assert outcomes["status"] == "pass"


def test_the_proof_check_names_the_suite() -> None:
    legacy = _verify(_data("ed25519-2020-https")).check("proof")
    modern = _verify(_data("eddsa-rdfc-2022-https")).check("proof")
    assert legacy is not None and "Ed25519Signature2020" in legacy.reason_fr
    assert modern is not None and "eddsa-rdfc-2022" in modern.reason_en


@pytest.mark.parametrize("name", REFUSED)
def test_each_refusal_names_its_real_reason(name: str) -> None:
    report = _verify(_data(name))
    assert not report.valid
    assert report.failed() == [VECTORS["vectors"][name]["expect"]], report.to_json()


def test_reasons_in_words() -> None:
    assert _verify(_data("revoked")).check("status").reason_fr == "Ce badge a été révoqué."  # type: ignore[union-attr]
    assert _verify(_data("expired")).check("validity").reason_fr == "Ce badge a expiré."  # type: ignore[union-attr]
    linkage = _verify(_data("issuer-not-controlling-key")).check("issuer_key")
    assert linkage is not None and "impostor.example.net" in linkage.reason_en
    contradiction = _verify(_data("vc-jwt-iss-contradicts-vc")).check("structure")
    assert contradiction is not None and "iss claim does not match" in contradiction.reason_en


@pytest.mark.parametrize("name", EMBEDDED)
@pytest.mark.parametrize(
    "path,value",
    [
        (("credentialSubject", "achievement", "name"), "Animation d'un atelier numériquE"),
        (("issuanceDate",), "2024-09-01T08:30:00Z"),
        (("credentialSubject", "id"), "did:example:someone-else"),
    ],
    ids=["achievement-name", "issuance-date", "subject-id"],
)
def test_a_changed_field_fails_the_proof(name: str, path: tuple[str, ...], value: str) -> None:
    credential = _data(name)
    target = credential
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    report = _verify(credential)
    assert report.failed() == ["proof"], report.to_json()


@pytest.mark.parametrize("name", ["vc-jwt-eddsa-did-key", "vc-jwt-es256-https"])
def test_a_changed_jwt_payload_fails_the_proof(name: str) -> None:
    def change(claims: dict[str, Any]) -> None:
        claims["vc"]["credentialSubject"]["achievement"]["name"] = "Autre badge"

    report = _verify(_resign_payload(_data(name), change))
    assert report.failed() == ["proof"], report.to_json()


def test_a_jwt_checked_with_another_key_fails(other_p256_key: SigningKey) -> None:
    documents = _documents()
    controller = documents[VECTORS["issuer"]]
    method = next(m for m in controller["verificationMethod"] if m["id"].endswith("#key-es256"))
    method["publicKeyJwk"] = other_p256_key.public.jwk(method["id"])
    report = _verify(_data("vc-jwt-es256-https"), documents)
    assert report.failed() == ["proof"], report.to_json()


def test_a_key_the_issuer_no_longer_lists_is_not_its_key(ed_key: SigningKey) -> None:
    documents = _documents()
    controller = documents[VECTORS["issuer"]]
    # The controller document names another key under the same id: the signature cannot verify.
    controller["verificationMethod"][0]["publicKeyMultibase"] = ed_key.public.multibase()
    assert _verify(_data("ed25519-2020-https"), documents).failed() == ["proof", "status"]


def test_an_altered_status_list_is_not_trusted() -> None:
    documents = _documents()
    status_url = _data("ed25519-2020-https")["credentialStatus"]["statusListCredential"]
    documents[status_url]["credentialSubject"]["encodedList"] = documents[status_url]["credentialSubject"][
        "encodedList"
    ].replace("A", "B", 1)
    report = _verify(_data("ed25519-2020-https"), documents)
    assert report.failed() == ["status"]
    assert "does not verify" in report.check("status").reason_en  # type: ignore[union-attr]


def test_an_unreachable_status_list_is_a_status_failure_not_tampering() -> None:
    documents = _documents()
    del documents[_data("eddsa-rdfc-2022-https")["credentialStatus"]["statusListCredential"]]
    report = _verify(_data("eddsa-rdfc-2022-https"), documents)
    assert report.failed() == ["status"] and _outcomes(report)["proof"] == "pass"


def test_ed25519_signature_2020_needs_its_suite_context() -> None:
    credential = _data("ed25519-2020-did-key")
    credential["@context"].remove("https://w3id.org/security/suites/ed25519-2020/v1")
    report = _verify(credential)
    assert report.failed() == ["proof"]


def test_wrong_recipient_is_refused() -> None:
    report = _verify(_data("eddsa-rdfc-2022-did-key"), recipient="did:example:someone-else")
    assert report.failed() == ["recipient"]


# --- VC-JWT 1.1 claims (VC Data Model 1.1 section 6.3.1) ----------------------------------------


def test_claims_fill_what_the_vc_claim_leaves_out() -> None:
    report = _verify(_data("vc-jwt-es256-https"))
    payload = json.loads(b64url_decode(_data("vc-jwt-es256-https").split(".")[1]))
    assert "id" not in payload["vc"] and "issuanceDate" not in payload["vc"]
    credential = report.credential
    assert credential["id"] == payload["jti"]
    assert credential["issuer"]["id"] == payload["iss"] == VECTORS["issuer"]
    assert credential["credentialSubject"]["id"] == payload["sub"] == LEARNER
    assert credential["issuanceDate"] == "2024-09-02T08:30:00Z"


def test_exp_sets_the_expiration_date() -> None:
    report = _verify(_data("vc-jwt-eddsa-did-key"))
    assert report.credential["expirationDate"] == "2030-01-01T00:00:00Z"


@pytest.mark.parametrize(
    "claims,message",
    [
        ({"nbf": 1}, "nbf claim does not match vc.issuanceDate"),
        ({"exp": 2}, "exp claim does not match vc.expirationDate"),
        ({"sub": "did:example:other"}, "sub claim does not match"),
        ({"jti": "urn:uuid:other"}, "jti claim does not match"),
        ({"iss": "https://other.example"}, "iss claim does not match"),
        ({"nbf": "2024-09-02"}, "not a NumericDate"),
    ],
    ids=["nbf", "exp", "sub", "jti", "iss", "nbf-type"],
)
def test_a_claim_contradicting_the_vc_member_is_refused(claims: dict[str, Any], message: str) -> None:
    vc = {
        "id": "urn:uuid:one",
        "issuer": {"id": "https://issuer.example"},
        "issuanceDate": "2024-09-02T08:30:00Z",
        "expirationDate": "2030-01-01T00:00:00Z",
        "credentialSubject": {"id": LEARNER},
    }
    with pytest.raises(ProofError, match=message):
        vc11_credential_from_claims({"vc": vc, **claims})


def test_a_jwt_without_vc_object_is_refused() -> None:
    with pytest.raises(ProofError, match="vc claim"):
        vc11_credential_from_claims({"vc": "not an object"})


# --- EnvelopedVerifiableCredential ------------------------------------------------------------


def _inner_token() -> str:
    return str(_data("enveloped-vc-jwt")["id"].split(",", 1)[1])


def test_a_base64_data_url_envelope_verifies() -> None:
    token = _inner_token()
    envelope = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": "EnvelopedVerifiableCredential",
        "id": "data:application/vc+jwt;base64," + base64.b64encode(token.encode()).decode(),
    }
    assert _verify(envelope).valid


def test_an_envelope_arrives_as_json_text_and_bytes() -> None:
    text = json.dumps(_data("enveloped-vc-jwt"))
    assert _verify(text).valid and _verify(text.encode()).valid


def test_a_tampered_enveloped_jwt_fails_its_proof() -> None:
    def change(claims: dict[str, Any]) -> None:
        claims["validFrom"] = "2020-01-01T00:00:00Z"

    envelope = _data("enveloped-vc-jwt")
    envelope["id"] = "data:application/vc+jwt," + _resign_payload(_inner_token(), change)
    report = _verify(envelope)
    assert report.failed() == ["proof"], report.to_json()


@pytest.mark.parametrize(
    "media", ["application/vc+sd-jwt", "application/dc+sd-jwt", "application/vc+cose", "text/plain"]
)
def test_an_unsupported_envelope_format_says_so(media: str) -> None:
    envelope = {
        "@context": "https://www.w3.org/ns/credentials/v2",
        "type": "EnvelopedVerifiableCredential",
        "id": f"data:{media},{_inner_token()}~",
    }
    report = _verify(envelope)
    assert report.failed() == ["format"] and report.check("proof") is None
    check = report.check("format")
    assert check is not None and "non pris en charge" in check.reason_fr and media in check.reason_en
    assert "modifié" not in check.reason_fr


@pytest.mark.parametrize(
    "envelope",
    [
        {"@context": "https://www.w3.org/ns/credentials/v2", "type": "EnvelopedVerifiableCredential"},
        {"@context": "https://www.w3.org/ns/credentials/v2", "type": "EnvelopedVerifiableCredential", "id": "x"},
        {"@context": "https://www.w3.org/2018/credentials/v1", "type": "EnvelopedVerifiableCredential", "id": "data:,"},
        {
            "@context": "https://www.w3.org/ns/credentials/v2",
            "type": "EnvelopedVerifiableCredential",
            "id": "data:application/vc+jwt,not-a-jwt",
        },
    ],
    ids=["no-id", "not-data-url", "vc11-context", "not-a-jwt"],
)
def test_a_malformed_envelope_is_unreadable(envelope: dict[str, Any]) -> None:
    report = _verify(envelope)
    assert report.failed() == ["format"]


# --- pinned contexts ---------------------------------------------------------------------------

VC11_CONTEXTS = {
    "credentials-v1.jsonld": "credentials-v1.jsonld",
    "ob-v3p0-context-3.0.0.json": "ob-v3p0-context.json",
    "ob-v3p0-context-3.0.1.json": "ob-v3p0-context-3.0.1.json",
    "data-integrity-v1.jsonld": "data-integrity-v1.jsonld",
    "ed25519-signature-2020-v1.jsonld": "ed25519-signature-2020-v1.jsonld",
}


@pytest.mark.shared
@pytest.mark.parametrize("ours", sorted(VC11_CONTEXTS))
def test_vc11_contexts_match_the_shared_standards(ours: str) -> None:
    import badges

    assert ours in {pin.filename for pin in PINNED.values()}
    mine = json.loads((Path(badges.__file__).parent / "contexts" / ours).read_bytes())
    reference = json.loads((shared_dir() / "standards" / "contexts" / VC11_CONTEXTS[ours]).read_bytes())
    assert mine == reference


def test_vectors_are_dated_before_the_clock() -> None:
    assert NOW == datetime(2025, 6, 1, 12, tzinfo=UTC)
