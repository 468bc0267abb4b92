"""Data Integrity proofs: ``DataIntegrityProof`` with the ``eddsa-rdfc-2022`` cryptosuite, and
the legacy ``Ed25519Signature2020`` suite (verification only)."""

from __future__ import annotations

import copy
import hashlib
import json
import re
from datetime import datetime
from functools import lru_cache
from typing import Any

import orjson

from .canon import canonize
from .contexts import ED25519_2020_V1
from .encoding import multibase_decode
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


# A plain XML Schema date-time: nothing in it needs escaping in an N-Quads literal.
_PLAIN_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})")
_CREATED_SENTINEL = "1970-01-01T00:00:00Z"


@lru_cache(maxsize=64)
def _proof_config_template(serialised: str) -> tuple[list[str], int] | None:
    """Canonical N-Quads lines of a proof configuration whose ``created`` is a sentinel.

    Returns the lines and the index of the one holding the sentinel, or None when the
    shortcut does not apply (the sentinel is not found exactly once, or the configuration
    has more than one blank node, whose labels could then depend on ``created``).
    """
    nquads = canonize(json.loads(serialised))
    if "_:c14n1" in nquads:
        return None
    lines = nquads.splitlines(keepends=True)
    needle = f'"{_CREATED_SENTINEL}"'
    holding = [index for index, line in enumerate(lines) if needle in line]
    if len(holding) != 1 or nquads.count(needle) != 1:
        return None
    return lines, holding[0]


def _proof_config_hash_new_created(config: dict[str, Any]) -> bytes | None:
    """SHA-256 of the canonical proof configuration, from a template cached without ``created``.

    A bulk award signs with a new ``created`` every second, so the plain cache above misses;
    the canonical N-Quads of the configuration only differ in the ``created`` literal, put
    back here, the lines sorted again as RDFC-1.0 orders them (issue 18). None: not applicable.
    """
    created = config.get("created")
    if not isinstance(created, str) or _PLAIN_DATETIME.fullmatch(created) is None:
        return None
    try:
        key = orjson.dumps({**config, "created": _CREATED_SENTINEL}, option=orjson.OPT_SORT_KEYS).decode("utf-8")
    except TypeError:
        return None
    template = _proof_config_template(key)
    if template is None:
        return None
    lines, index = template
    lines = lines.copy()
    lines[index] = lines[index].replace(f'"{_CREATED_SENTINEL}"', f'"{created}"', 1)
    lines.sort()
    return hashlib.sha256("".join(lines).encode("utf-8")).digest()


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
    proof_hash = _proof_config_hash_new_created(config)
    if proof_hash is None:
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
    proof["proofValue"] = "z" + _b58encode(signature)
    secured = _copy_json(document)
    existing = secured.get("proof")
    proofs = existing if isinstance(existing, list) else ([existing] if existing else [])
    secured["proof"] = [*proofs, proof]
    return secured


_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_CHUNK = 58**10
# Base58 digit pairs: the ten digits of a chunk are written two at a time.
_B58_PAIRS = tuple(_B58_ALPHABET[high] + _B58_ALPHABET[low] for high in range(58) for low in range(58))


def _b58encode(data: bytes) -> str:
    """Base58btc, as encoding.b58encode writes it, faster for a 64-byte signature: one big
    division per ten digits (58**10) instead of one per digit, then digit pairs from a table."""
    number = int.from_bytes(data, "big")
    chunks: list[str] = []
    pairs = _B58_PAIRS
    while number:
        number, rest = divmod(number, _B58_CHUNK)
        q1 = rest // 3364
        q2 = q1 // 3364
        q3 = q2 // 3364
        q4 = q3 // 3364  # below 3364: rest < 58**10 = 3364**5
        chunks.append(
            pairs[q4] + pairs[q3 - q4 * 3364] + pairs[q2 - q3 * 3364] + pairs[q1 - q2 * 3364] + pairs[rest - q1 * 3364]
        )
    chunks.reverse()
    text = "".join(chunks).lstrip("1")
    leading = len(data) - len(data.lstrip(b"\0"))
    return "1" * leading + text


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
