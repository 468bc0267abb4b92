"""Compact JWS: OB 3.0 VC-JWT (ES256 / RS256 / EdDSA) and OB 2.0 signed assertions (RS256)."""

from __future__ import annotations

import binascii
import copy
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import jwt
import orjson
from jwt.exceptions import InvalidTokenError

from .encoding import b64url_decode, b64url_encode
from .errors import InvalidInput, KeyFormatError, ProofError, SigningError
from .keys import DEFAULT_ALGORITHM, PublicKey, SigningKey
from .timeutil import format_datetime, numeric_date

VC_JWT_ALGORITHMS = ("ES256", "RS256", "EdDSA")
OB2_ALGORITHMS = ("RS256",)
_KIND_FOR_ALG = {"ES256": "P-256", "RS256": "RSA", "EdDSA": "Ed25519"}
_ALLOWED_HEADERS = frozenset({"alg", "kid", "typ", "jwk"})
# The registered media types a VC-JWT's ``typ`` may name (RFC 7515 §4.1.9: case-insensitive, the
# "application/" prefix may be left out): OB 3.0's JWT, and the W3C's vc+jwt and vc+ld+jwt.
_VC_JWT_TYPES = frozenset({"jwt", "vc+jwt", "vc+ld+jwt"})
_jws = jwt.PyJWS()


@dataclass(frozen=True)
class DecodedJws:
    """The parts of a compact JWS before signature verification."""

    header: dict[str, Any]
    payload: dict[str, Any]
    token: str


_URLSAFE = bytes.maketrans(b"+/", b"-_")


def _dumps(value: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON in the members' own order, as ``json.dumps(separators=(",", ":"),
    ensure_ascii=False)`` writes it; orjson does it about fifteen times faster (issue 18)."""
    try:
        return orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError: integers beyond 64 bits, keys that are not strings
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _b64url_bytes(data: bytes) -> bytes:
    # base64.urlsafe_b64encode without its two wrapper layers, unpadded.
    return binascii.b2a_base64(data, newline=False).translate(_URLSAFE).rstrip(b"=")


@lru_cache(maxsize=256)
def _header_segment(algorithm: str, kid: str | None, typ: str | None) -> str:
    header: dict[str, str] = {"alg": algorithm}
    if kid is not None:
        header["kid"] = kid
    if typ is not None:
        header["typ"] = typ
    return b64url_encode(json.dumps(header, separators=(",", ":")).encode("utf-8"))


def _sign(
    payload: dict[str, Any],
    key: SigningKey,
    algorithm: str,
    *,
    kid: str | None = None,
    typ: str | None = None,
    kind: str | None = None,
) -> str:
    """Return a compact JWS; the signature itself comes from ``cryptography``."""
    key_kind = kind or key.kind
    if _KIND_FOR_ALG.get(algorithm) != key_kind:
        raise KeyFormatError(f"algorithm {algorithm} does not match a {key_kind} key")
    # Kept as bytes from the JSON to the token: one decode at the end instead of two copies.
    signing_input = b"".join(
        (_header_segment(algorithm, kid, typ).encode("ascii"), b".", _b64url_bytes(_dumps(payload)))
    )
    signature = key.sign(signing_input, algorithm)
    return b"".join((signing_input, b".", _b64url_bytes(signature))).decode("ascii")


@lru_cache(maxsize=1024)
def _numeric_date_of_text(text: str) -> int:
    # validFrom repeats across a bulk award; errors are raised again, never cached.
    return numeric_date(text)


def _numeric_date(value: Any) -> int:
    return _numeric_date_of_text(value) if type(value) is str else numeric_date(value)


def vc_jwt_claims(credential: dict[str, Any]) -> dict[str, Any]:
    """Return the JWT claims OB 3.0 adds to the credential: iss, jti, sub, nbf (and exp)."""
    issuer = credential.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    subject = credential.get("credentialSubject")
    subject_id = subject.get("id") if isinstance(subject, dict) else None
    if not isinstance(issuer_id, str) or not isinstance(credential.get("id"), str):
        raise SigningError("a VC-JWT needs issuer.id and id")
    if not isinstance(subject_id, str):
        raise SigningError(
            "a VC-JWT needs credentialSubject.id for the sub claim; "
            "use a Data Integrity proof for identifier-only recipients"
        )
    try:
        claims: dict[str, Any] = {
            "iss": issuer_id,
            "jti": credential["id"],
            "sub": subject_id,
            "nbf": _numeric_date(credential["validFrom"]),
        }
        if "validUntil" in credential:
            claims["exp"] = _numeric_date(credential["validUntil"])
    except (KeyError, InvalidInput) as exc:
        raise SigningError("validFrom/validUntil are missing or invalid") from exc
    return claims


def sign_vc_jwt(
    credential: dict[str, Any], key: SigningKey, kid: str, *, algorithm: str | None = None, typ: bool = True
) -> str:
    """Return the OB 3.0 VC-JWT: header alg+kid(+typ JWT), payload = credential + claims."""
    kind = key.kind  # the key's type is looked up once: it is a chain of isinstance checks
    alg = algorithm or DEFAULT_ALGORITHM[kind]
    if alg not in VC_JWT_ALGORITHMS:
        raise SigningError(f"unsupported VC-JWT algorithm: {alg}")
    payload = {**credential, **vc_jwt_claims(credential)}
    return _sign(payload, key, alg, kid=kid, typ="JWT" if typ else None, kind=kind)


def sign_ob2_assertion(assertion: dict[str, Any], key: SigningKey) -> str:
    """Return an OB 2.0 signed assertion: an RS256 compact JWS whose payload is the assertion."""
    if key.kind != "RSA":
        raise KeyFormatError("OB 2.0 signed assertions use RS256 (an RSA key)")
    return _sign(assertion, key, "RS256")


def decode_jws(token: str) -> DecodedJws:
    """Split and parse a compact JWS without verifying it (for dispatch and key lookup)."""
    if not isinstance(token, str):
        raise ProofError("a compact JWS is a string")
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise ProofError("a compact JWS has three parts")
    try:
        header = json.loads(b64url_decode(parts[0]))
        payload = json.loads(b64url_decode(parts[1]))
    except (ValueError, InvalidInput) as exc:
        raise ProofError("malformed JWS header or payload") from exc
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise ProofError("JWS header and payload must be JSON objects")
    return DecodedJws(header=header, payload=payload, token=token.strip())


def check_header(header: dict[str, Any], allowed: tuple[str, ...], *, strict_ob3: bool) -> str:
    """Return the header's alg after checking it is allowed (never ``none`` or HMAC)."""
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in allowed:
        raise ProofError(f"JWS algorithm not allowed: {alg!r}")
    if strict_ob3:
        extra = set(header) - _ALLOWED_HEADERS
        if extra:
            raise ProofError("JOSE headers not allowed by OB 3.0: " + ", ".join(sorted(extra)))
        if "typ" in header and not _vc_jwt_type(header["typ"]):
            raise ProofError("the typ header must be JWT, vc+jwt or vc+ld+jwt")
        if "kid" not in header and "jwk" not in header:
            raise ProofError("the JOSE header needs kid or jwk")
    if "crit" in header:
        raise ProofError("critical JOSE extensions are not supported")
    return alg


def _vc_jwt_type(typ: object) -> bool:
    if not isinstance(typ, str):
        return False
    media = typ.strip().lower()
    return media.removeprefix("application/") in _VC_JWT_TYPES


def verify_jws(token: str, public_key: PublicKey, allowed: tuple[str, ...], *, strict_ob3: bool) -> DecodedJws:
    """Verify a compact JWS with ``public_key``; raise ProofError on any failure."""
    decoded = decode_jws(token)
    alg = check_header(decoded.header, allowed, strict_ob3=strict_ob3)
    if _KIND_FOR_ALG[alg] != public_key.kind:
        raise ProofError(f"the {public_key.kind} key cannot verify {alg}")
    try:
        _jws.decode_complete(decoded.token, key=public_key.key, algorithms=[alg])
    except InvalidTokenError as exc:
        raise ProofError("signature does not verify") from exc
    return decoded


def check_lenient_header(header: dict[str, Any]) -> str:
    """Return the alg of a VC-JWT 1.1 or VC-JOSE-COSE header (other headers such as ``cty`` allowed)."""
    alg = check_header(header, VC_JWT_ALGORITHMS, strict_ob3=False)
    if "typ" in header and not _vc_jwt_type(header["typ"]):
        raise ProofError("the typ header must be JWT, vc+jwt or vc+ld+jwt")
    return alg


def check_vc_jwt_claims(payload: dict[str, Any], *, required: bool = True) -> dict[str, Any]:
    """Check iss/jti/sub/nbf/exp against the credential; return the credential.

    With ``required`` (OB 3.0) the claims must all be there; without it (a VC-JOSE-COSE token,
    whose payload is the credential) only the claims present are compared.
    """
    wrapped = payload.get("vc")
    credential: dict[str, Any] = wrapped if isinstance(wrapped, dict) else payload
    if not required:
        for claim, value in _claims_present(credential).items():
            if claim in payload and payload[claim] != value:
                raise ProofError(f"the {claim} claim does not match the credential")
        return _without_claims(credential)
    try:
        expected = vc_jwt_claims(credential)
    except SigningError as exc:
        raise ProofError(str(exc)) from exc
    for claim in ("iss", "jti", "sub", "nbf"):
        if claim in payload and payload[claim] != expected[claim]:
            raise ProofError(f"the {claim} claim does not match the credential")
        if claim not in payload and credential is payload:
            raise ProofError(f"the {claim} claim is missing")
    if "exp" in payload and "exp" in expected and payload["exp"] != expected["exp"]:
        raise ProofError("the exp claim does not match validUntil")
    return _without_claims(credential)


def _without_claims(credential: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value for key, value in credential.items() if key not in ("iss", "jti", "sub", "nbf", "exp", "iat", "aud")
    }


def _claims_present(credential: dict[str, Any]) -> dict[str, Any]:
    """Return the claims the credential's own members give (for comparison with those in the token)."""
    issuer = credential.get("issuer")
    subject = credential.get("credentialSubject")
    out: dict[str, Any] = {
        "iss": issuer.get("id") if isinstance(issuer, dict) else issuer,
        "jti": credential.get("id"),
        "sub": subject.get("id") if isinstance(subject, dict) else None,
    }
    try:
        for claim, member in (("nbf", "validFrom"), ("exp", "validUntil")):
            if member in credential:
                out[claim] = numeric_date(credential[member])
    except InvalidInput as exc:
        raise ProofError("validFrom/validUntil are invalid") from exc
    return {claim: value for claim, value in out.items() if value is not None}


# VC Data Model 1.1 section 6.3.1: the registered claims a VC-JWT carries and the credential
# member each one stands for.
_VC11_CLAIMS = (("jti", "id"), ("nbf", "issuanceDate"), ("exp", "expirationDate"))


def vc11_credential_from_claims(payload: dict[str, Any]) -> dict[str, Any]:
    """Return the credential of a VC-JWT 1.1 (its ``vc`` claim) with the registered claims mapped in.

    Per VC Data Model 1.1 section 6.3.1, ``iss`` gives the issuer id, ``sub`` the subject id,
    ``jti`` the id, ``nbf`` issuanceDate and ``exp`` expirationDate; a member the ``vc`` claim
    leaves out is filled from its claim, and a claim that says otherwise than the member refuses
    the token (ProofError).
    """
    wrapped = payload.get("vc")
    if not isinstance(wrapped, dict):
        raise ProofError("the vc claim is not a JSON object")
    credential = copy.deepcopy(wrapped)
    iss = payload.get("iss")
    if iss is not None:
        if not isinstance(iss, str):
            raise ProofError("the iss claim is not a string")
        issuer = credential.get("issuer")
        if isinstance(issuer, dict):
            if issuer.setdefault("id", iss) != iss:
                raise ProofError("the iss claim does not match vc.issuer.id")
        elif issuer is None:
            credential["issuer"] = iss
        elif issuer != iss:
            raise ProofError("the iss claim does not match vc.issuer")
    sub = payload.get("sub")
    if sub is not None:
        subject = credential.get("credentialSubject")
        if not isinstance(subject, dict):
            raise ProofError("the sub claim needs a single credentialSubject")
        if subject.setdefault("id", sub) != sub:
            raise ProofError("the sub claim does not match vc.credentialSubject.id")
    for claim, member in _VC11_CLAIMS:
        value = payload.get(claim)
        if value is None:
            continue
        if claim == "jti":
            if credential.setdefault("id", value) != value:
                raise ProofError("the jti claim does not match vc.id")
            continue
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ProofError(f"the {claim} claim is not a NumericDate")
        if member not in credential:
            credential[member] = format_datetime(datetime.fromtimestamp(int(value), UTC))
            continue
        try:
            stated = numeric_date(credential[member])
        except InvalidInput as exc:
            raise ProofError(f"vc.{member} is not a date-time") from exc
        if stated != int(value):
            raise ProofError(f"the {claim} claim does not match vc.{member}")
    return credential
