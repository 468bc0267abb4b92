"""Data Integrity proofs: ``DataIntegrityProof`` with the ``eddsa-rdfc-2022`` cryptosuite, and
the legacy ``Ed25519Signature2020`` suite (verification only)."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import datetime
from functools import lru_cache
from typing import Any

from .canon import canonize
from .contexts import ED25519_2020_V1
from .encoding import multibase_decode, multibase_encode
from .errors import InvalidInput, KeyFormatError, ProofError, SigningError
from .keys import PublicKey, SigningKey
from .timeutil import format_datetime

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-rdfc-2022"
LEGACY_PROOF_TYPE = "Ed25519Signature2020"
ASSERTION_METHOD = "assertionMethod"


def _canonical_hash(document: dict[str, Any]) -> bytes:
    return hashlib.sha256(canonize(document).encode("utf-8")).digest()


@lru_cache(maxsize=256)
def _proof_config_hash(serialised: str) -> bytes:
    # The proof configuration repeats for every credential signed by one key in the
    # same second with the same contexts, so its canonical hash is cached.
    return _canonical_hash(json.loads(serialised))


def proof_configuration(document: dict[str, Any], proof: dict[str, Any]) -> dict[str, Any]:
    """Return the proof configuration: the proof without ``proofValue``, with the document's @context."""
    config = {key: value for key, value in proof.items() if key not in ("proofValue", "@context")}
    config["@context"] = document["@context"]
    return config


def hash_data(document: dict[str, Any], proof: dict[str, Any]) -> bytes:
    """Return SHA-256(canonical proof config) || SHA-256(canonical document without proof)."""
    if "@context" not in document:
        raise InvalidInput("a Data Integrity document needs an @context")
    unsecured = {key: value for key, value in document.items() if key != "proof"}
    config = proof_configuration(unsecured, proof)
    proof_hash = _proof_config_hash(json.dumps(config, sort_keys=True, ensure_ascii=False))
    return proof_hash + _canonical_hash(unsecured)


def sign_data_integrity(
    document: dict[str, Any], key: SigningKey, verification_method: str, *, created: datetime | str
) -> dict[str, Any]:
    """Return a copy of ``document`` with an ``eddsa-rdfc-2022`` proof appended to ``proof``.

    Refuses (UndefinedTermError) a document with a term its contexts do not define.
    """
    if key.kind != "Ed25519":
        raise KeyFormatError("eddsa-rdfc-2022 needs an Ed25519 key")
    if not verification_method:
        raise SigningError("a verification method is required")
    proof: dict[str, Any] = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": created if isinstance(created, str) else format_datetime(created),
        "verificationMethod": verification_method,
        "proofPurpose": ASSERTION_METHOD,
    }
    signature = key.sign(hash_data(document, proof))
    proof["proofValue"] = multibase_encode(signature)
    secured = _copy_json(document)
    existing = secured.get("proof")
    proofs = existing if isinstance(existing, list) else ([existing] if existing else [])
    secured["proof"] = [*proofs, proof]
    return secured


def _copy_json(value: Any) -> Any:
    """Deep copy of JSON data (dicts, lists, scalars), several times faster than copy.deepcopy."""
    if isinstance(value, dict):
        return {key: _copy_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy_json(item) for item in value]
    if value is None or isinstance(value, str | int | float):
        return value
    return copy.deepcopy(value)


def embedded_proofs(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the embedded proofs of a document as a list."""
    proof = document.get("proof")
    if proof is None:
        return []
    proofs = proof if isinstance(proof, list) else [proof]
    if not all(isinstance(item, dict) for item in proofs):
        raise ProofError("malformed proof")
    return proofs


def verify_data_integrity(document: dict[str, Any], proof: dict[str, Any], public_key: PublicKey) -> None:
    """Verify one ``eddsa-rdfc-2022`` proof of ``document``; raise ProofError if it fails."""
    if proof.get("type") != PROOF_TYPE:
        raise ProofError(f"unsupported proof type: {proof.get('type')!r}")
    if proof.get("cryptosuite") != CRYPTOSUITE:
        raise ProofError(f"unsupported cryptosuite: {proof.get('cryptosuite')!r}")
    _verify_ed25519_rdfc(document, proof, public_key, CRYPTOSUITE)


def verify_ed25519_signature_2020(document: dict[str, Any], proof: dict[str, Any], public_key: PublicKey) -> None:
    """Verify one legacy ``Ed25519Signature2020`` proof (VC 1.1 issuers); raise ProofError if it fails.

    The suite hashes and signs as eddsa-rdfc-2022 does (URDNA2015, proof configuration with the
    document's @context, proof hash first), and its terms come from the suite's own context,
    which the document must therefore name.
    """
    if proof.get("type") != LEGACY_PROOF_TYPE:
        raise ProofError(f"unsupported proof type: {proof.get('type')!r}")
    if "cryptosuite" in proof:
        raise ProofError("an Ed25519Signature2020 proof has no cryptosuite")
    contexts = document.get("@context")
    if ED25519_2020_V1 not in (contexts if isinstance(contexts, list) else [contexts]):
        raise ProofError(f"the document's @context lacks {ED25519_2020_V1}")
    _verify_ed25519_rdfc(document, proof, public_key, LEGACY_PROOF_TYPE)


def verify_proof(document: dict[str, Any], proof: dict[str, Any], public_key: PublicKey) -> str:
    """Verify one embedded proof of a supported kind; return the suite's name."""
    if proof.get("type") == LEGACY_PROOF_TYPE:
        verify_ed25519_signature_2020(document, proof, public_key)
        return LEGACY_PROOF_TYPE
    verify_data_integrity(document, proof, public_key)
    return CRYPTOSUITE


def _verify_ed25519_rdfc(document: dict[str, Any], proof: dict[str, Any], public_key: PublicKey, suite: str) -> None:
    if proof.get("proofPurpose") != ASSERTION_METHOD:
        raise ProofError("proofPurpose must be assertionMethod")
    if public_key.kind != "Ed25519":
        raise ProofError(f"{suite} needs an Ed25519 key")
    value = proof.get("proofValue")
    if not isinstance(value, str) or not value.startswith("z"):
        raise ProofError("proofValue must be multibase base58btc")
    try:
        signature = multibase_decode(value)
    except InvalidInput as exc:
        raise ProofError("proofValue is not valid base58btc") from exc
    if len(signature) != 64:
        raise ProofError("an Ed25519 signature has 64 bytes")
    if not public_key.verify(signature, hash_data(document, proof), "EdDSA"):
        raise ProofError("signature does not verify")
