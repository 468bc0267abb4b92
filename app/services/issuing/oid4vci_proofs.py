"""OpenID4VCI: the protocol's shared pieces — its error responses, the ``c_nonce`` rows, and the JWT
key proof that binds a wallet copy to the holder's DID.

A key proof is a JWT of type ``openid4vci-proof+jwt`` signed by the holder's key, named by
``did:key``, ``did:jwk`` or a bare public JWK, with the credential issuer as audience, a recent
``iat`` and a nonce from the nonce endpoint, spent by the check. Secrets are stored only as SHA-256.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import badges
from app.models import WalletNonce
from app.services.issuing.signing import IssuingSettings
from badges.encoding import b64url_decode, b64url_encode
from badges.jws import decode_jws, verify_jws

PROOF_TYPE = "openid4vci-proof+jwt"
PROOF_ALGORITHMS = ("EdDSA", "ES256")
NONCE_TTL = timedelta(minutes=5)
CLOCK_SKEW = timedelta(seconds=60)


class ProtocolError(Exception):
    """An OpenID4VCI / OAuth error response: ``{"error": code, "error_description": ...}``."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


def secret_hash(secret: str) -> str:
    """How a code, token or nonce is stored and looked up: its SHA-256, in hex."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def issue_nonce(session: Session, now: datetime) -> str:
    """A fresh ``c_nonce``, stored (hashed) until it is spent or expires."""
    nonce = secrets.token_urlsafe(24)
    session.add(WalletNonce(id=uuid.uuid4(), nonce_hash=secret_hash(nonce), created_at=now, expires_at=now + NONCE_TTL))
    return nonce


@dataclass(frozen=True)
class Holder:
    """The holder's DID (``credentialSubject.id`` of the copy) and the key the proof was checked with."""

    did: str
    key: badges.PublicKey


def _did_jwk(jwk: dict[str, Any]) -> str:
    members = {k: jwk[k] for k in ("kty", "crv", "x", "y") if k in jwk}
    return "did:jwk:" + b64url_encode(json.dumps(members, separators=(",", ":")).encode("utf-8"))


def resolve_holder(header: dict[str, Any]) -> Holder:
    """The holder key a proof names: ``kid`` a ``did:key`` / ``did:jwk`` URL, or a bare public ``jwk``."""
    kid, jwk = header.get("kid"), header.get("jwk")
    if (kid is None) == (jwk is None) or "x5c" in header or "trust_chain" in header:
        raise ProtocolError("invalid_proof", "The proof must name its key by kid (did:key, did:jwk) or jwk, once.")
    try:
        if isinstance(jwk, dict):
            key = badges.public_key_from_jwk(jwk)
            return Holder(_did_jwk(jwk), key)
        if isinstance(kid, str) and kid.startswith("did:key:"):
            did = kid.partition("#")[0]
            return Holder(did, badges.public_key_from_did_key(kid))
        if isinstance(kid, str) and kid.startswith("did:jwk:"):
            did, _, fragment = kid.partition("#")
            if fragment not in ("", "0"):
                raise ProtocolError("invalid_proof", "A did:jwk has one key, #0.")
            decoded = json.loads(b64url_decode(did.removeprefix("did:jwk:")))
            if not isinstance(decoded, dict):
                raise ProtocolError("invalid_proof", "The did:jwk does not hold a JWK.")
            return Holder(did, badges.public_key_from_jwk(decoded))
    except (badges.KeyFormatError, badges.InvalidInput, ValueError) as exc:
        raise ProtocolError("invalid_proof", f"The proof's key cannot be read: {exc}.") from None
    raise ProtocolError("invalid_proof", "Only did:key and did:jwk holders (or a jwk header) are supported.")


def proof_jwt(body: Mapping[str, Any]) -> str:
    """The one JWT key proof of a credential request (``proof`` of the drafts or ``proofs`` of 1.0)."""
    proof, proofs = body.get("proof"), body.get("proofs")
    if proof is not None and proofs is not None:
        raise ProtocolError("invalid_credential_request", "Send proof or proofs, not both.")
    if isinstance(proofs, dict):
        jwts = proofs.get("jwt")
        if set(proofs) != {"jwt"} or not isinstance(jwts, list) or len(jwts) != 1 or not isinstance(jwts[0], str):
            raise ProtocolError("invalid_proof", "proofs must hold one JWT proof (proofs.jwt, one item).")
        return jwts[0]
    if isinstance(proof, dict):
        if proof.get("proof_type") != "jwt" or not isinstance(proof.get("jwt"), str):
            raise ProtocolError("invalid_proof", "Only the jwt proof type is supported.")
        return proof["jwt"]
    raise ProtocolError("invalid_proof", "A key proof (proof or proofs) is required.")


def check_proof(session: Session, token: str, *, settings: IssuingSettings) -> Holder:
    """Verify a JWT key proof: type, algorithm, key, signature, audience, time, then spend its nonce."""
    try:
        header = decode_jws(token).header
    except badges.ProofError as exc:
        raise ProtocolError("invalid_proof", f"The proof is not a JWT: {exc}.") from None
    if header.get("typ") != PROOF_TYPE:
        raise ProtocolError("invalid_proof", f"The proof's typ must be {PROOF_TYPE}.")
    holder = resolve_holder(header)
    try:
        claims = verify_jws(token, holder.key, PROOF_ALGORITHMS, strict_ob3=False).payload
    except badges.ProofError as exc:
        raise ProtocolError("invalid_proof", f"The proof does not verify: {exc}.") from None
    audience = claims.get("aud")
    issuer = settings.urls.base
    if audience != issuer and not (isinstance(audience, list) and issuer in audience):
        raise ProtocolError("invalid_proof", f"The proof's aud must be the credential issuer {issuer}.")
    now = settings.clock()
    iat = claims.get("iat")
    if not isinstance(iat, (int, float)) or isinstance(iat, bool):
        raise ProtocolError("invalid_proof", "The proof has no iat.")
    issued = datetime.fromtimestamp(iat, tz=now.tzinfo)
    if issued > now + CLOCK_SKEW or issued < now - NONCE_TTL - CLOCK_SKEW:
        raise ProtocolError("invalid_proof", "The proof's iat is too far from now.")
    nonce = claims.get("nonce")
    row = (
        session.scalar(select(WalletNonce).where(WalletNonce.nonce_hash == secret_hash(nonce)).with_for_update())
        if isinstance(nonce, str)
        else None
    )
    if row is None or row.used_at is not None or now >= row.expires_at:
        raise ProtocolError("invalid_nonce", "The proof's nonce is missing, used or expired: ask the nonce endpoint.")
    row.used_at = now
    return holder
