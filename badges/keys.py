"""Signing keys: generation, PEM, JWK (with RFC 7638 kid), Multikey and did:key forms."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from .encoding import b64url_decode, b64url_encode, multibase_decode, multibase_encode
from .errors import InvalidInput, KeyFormatError

KeyKind = Literal["Ed25519", "P-256", "RSA"]
PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
PublicKeyObject = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey

DEFAULT_ALGORITHM: dict[str, str] = {"Ed25519": "EdDSA", "P-256": "ES256", "RSA": "RS256"}
_ED25519_MULTICODEC = b"\xed\x01"
_P256_MULTICODEC = b"\x80\x24"
_MIN_RSA_BITS = 2048


def _kind_of(key: PrivateKey | PublicKeyObject) -> KeyKind:
    if isinstance(key, (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey)):
        return "Ed25519"
    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        if not isinstance(key.curve, ec.SECP256R1):
            raise KeyFormatError("only the P-256 elliptic curve is supported")
        return "P-256"
    if isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        if key.key_size < _MIN_RSA_BITS:
            raise KeyFormatError("RSA keys must have at least 2048 bits")
        return "RSA"
    raise KeyFormatError("unsupported key type")


def _int_b64(value: int, length: int | None = None) -> str:
    size = length if length is not None else max(1, (value.bit_length() + 7) // 8)
    return b64url_encode(value.to_bytes(size, "big"))


@dataclass(frozen=True, eq=False)
class PublicKey:
    """A public verification key (Ed25519, P-256 or RSA)."""

    key: PublicKeyObject

    @property
    def kind(self) -> KeyKind:
        """Return ``Ed25519``, ``P-256`` or ``RSA``."""
        return _kind_of(self.key)

    @property
    def algorithm(self) -> str:
        """Return the default JWS algorithm for this key."""
        return DEFAULT_ALGORITHM[self.kind]

    def jwk(self, kid: str | None = None, *, alg: str | None = None) -> dict[str, str]:
        """Return the public JWK; ``kid`` defaults to the RFC 7638 thumbprint."""
        jwk = self._jwk_members()
        jwk["kid"] = kid if kid is not None else self.thumbprint()
        jwk["alg"] = alg or self.algorithm
        jwk["use"] = "sig"
        return jwk

    def _jwk_members(self) -> dict[str, str]:
        key = self.key
        if isinstance(key, ed25519.Ed25519PublicKey):
            raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            return {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(raw)}
        if isinstance(key, ec.EllipticCurvePublicKey):
            numbers = key.public_numbers()
            return {"kty": "EC", "crv": "P-256", "x": _int_b64(numbers.x, 32), "y": _int_b64(numbers.y, 32)}
        numbers_rsa = key.public_numbers()
        return {"kty": "RSA", "n": _int_b64(numbers_rsa.n), "e": _int_b64(numbers_rsa.e)}

    def thumbprint(self) -> str:
        """Return the RFC 7638 SHA-256 JWK thumbprint (a stable key id)."""
        canonical = json.dumps(self._jwk_members(), sort_keys=True, separators=(",", ":"))
        return b64url_encode(hashlib.sha256(canonical.encode("utf-8")).digest())

    def multibase(self) -> str:
        """Return the Multikey ``publicKeyMultibase`` (Ed25519 or compressed P-256)."""
        if isinstance(self.key, ed25519.Ed25519PublicKey):
            raw = self.key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            return multibase_encode(_ED25519_MULTICODEC + raw)
        if isinstance(self.key, ec.EllipticCurvePublicKey):
            point = self.key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)
            return multibase_encode(_P256_MULTICODEC + point)
        raise KeyFormatError("RSA keys have no Multikey form here")

    def did_key(self) -> str:
        """Return the ``did:key`` identifier of an Ed25519 key."""
        if not isinstance(self.key, ed25519.Ed25519PublicKey):
            raise KeyFormatError("did:key is produced for Ed25519 keys only")
        return "did:key:" + self.multibase()

    def did_key_verification_method(self) -> str:
        """Return the ``did:key`` verification method URL (did#fragment)."""
        multibase = self.multibase()
        return f"did:key:{multibase}#{multibase}"

    def multikey_document(self, controller: str, key_id: str | None = None) -> dict[str, str]:
        """Return a W3C Multikey document for publishing at the verification method URL."""
        multibase = self.multibase()
        return {
            "@context": "https://w3id.org/security/multikey/v1",
            "id": key_id or f"{controller}#{multibase}",
            "type": "Multikey",
            "controller": controller,
            "publicKeyMultibase": multibase,
        }

    def pem(self) -> str:
        """Return the SubjectPublicKeyInfo PEM."""
        return self.key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode("ascii")

    def verify(self, signature: bytes, data: bytes, algorithm: str | None = None) -> bool:
        """Return True if ``signature`` over ``data`` verifies (JWS encoding for EC)."""
        alg = algorithm or self.algorithm
        key = self.key
        try:
            if isinstance(key, ed25519.Ed25519PublicKey) and alg in ("EdDSA", "Ed25519"):
                key.verify(signature, data)
            elif isinstance(key, ec.EllipticCurvePublicKey) and alg == "ES256":
                if len(signature) != 64:
                    return False
                der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
                key.verify(der, data, ec.ECDSA(hashes.SHA256()))
            elif isinstance(key, rsa.RSAPublicKey) and alg == "RS256":
                key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
            else:
                return False
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True, eq=False)
class SigningKey:
    """A private signing key (Ed25519, P-256 or RSA); never log or serialise it unencrypted."""

    key: PrivateKey

    def __repr__(self) -> str:
        return f"SigningKey({self.kind}, kid={self.public.thumbprint()})"

    @cached_property
    def kind(self) -> KeyKind:
        """Return ``Ed25519``, ``P-256`` or ``RSA`` (looked up once: a chain of isinstance checks)."""
        return _kind_of(self.key)

    @property
    def algorithm(self) -> str:
        """Return the default JWS algorithm for this key."""
        return DEFAULT_ALGORITHM[self.kind]

    @property
    def public(self) -> PublicKey:
        """Return the public half."""
        return PublicKey(self.key.public_key())

    def private_pem(self, password: bytes | None = None) -> bytes:
        """Serialise the private key as PKCS#8 PEM (encrypted if a password is given)."""
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
        )
        return self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)

    def sign(self, data: bytes, algorithm: str | None = None) -> bytes:
        """Sign ``data``; EC signatures use the JWS ``r || s`` encoding."""
        alg = algorithm or self.algorithm
        key = self.key
        kind = self.kind
        if kind == "Ed25519" and alg in ("EdDSA", "Ed25519"):
            return key.sign(data)  # type: ignore[call-arg]
        if kind == "P-256" and alg == "ES256":
            return _der_to_raw(key.sign(data, _ECDSA_SHA256))  # type: ignore[call-arg,arg-type]
        if isinstance(key, rsa.RSAPrivateKey) and alg == "RS256":
            return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        raise KeyFormatError(f"algorithm {alg} does not match a {self.kind} key")


_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())


def _der_to_raw(der: bytes) -> bytes:
    """The JWS ``r || s`` form (32 bytes each) of a DER ECDSA P-256 signature (read by ``cryptography``)."""
    r, s = decode_dss_signature(der)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def generate_key(kind: KeyKind = "Ed25519") -> SigningKey:
    """Generate a new Ed25519, P-256 or RSA-2048 signing key."""
    if kind == "Ed25519":
        return SigningKey(ed25519.Ed25519PrivateKey.generate())
    if kind == "P-256":
        return SigningKey(ec.generate_private_key(ec.SECP256R1()))
    if kind == "RSA":
        return SigningKey(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    raise KeyFormatError(f"unknown key kind: {kind}")


def ed25519_key_from_seed(seed: bytes) -> SigningKey:
    """Build an Ed25519 signing key from its 32-byte seed (fixed keys in tests)."""
    if len(seed) != 32:
        raise KeyFormatError("an Ed25519 seed has 32 bytes")
    return SigningKey(ed25519.Ed25519PrivateKey.from_private_bytes(seed))


def load_private_key(pem: bytes, password: bytes | None = None) -> SigningKey:
    """Load a PEM private key produced by :meth:`SigningKey.private_pem`."""
    try:
        key = serialization.load_pem_private_key(pem, password=password)
    except (ValueError, TypeError) as exc:
        raise KeyFormatError("cannot load the private key") from exc
    if not isinstance(key, (ed25519.Ed25519PrivateKey, ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey)):
        raise KeyFormatError("unsupported private key type")
    signing_key = SigningKey(key)
    signing_key.kind  # noqa: B018 - validates the curve and the RSA size
    return signing_key


def load_public_pem(pem: str | bytes) -> PublicKey:
    """Load a SubjectPublicKeyInfo PEM public key."""
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise KeyFormatError("cannot load the public key") from exc
    if not isinstance(key, (ed25519.Ed25519PublicKey, ec.EllipticCurvePublicKey, rsa.RSAPublicKey)):
        raise KeyFormatError("unsupported public key type")
    public = PublicKey(key)
    public.kind  # noqa: B018 - validates the curve and the RSA size
    return public


def public_key_from_jwk(jwk: dict[str, Any]) -> PublicKey:
    """Load a public JWK; refuse private members and symmetric keys."""
    if not isinstance(jwk, dict):
        raise KeyFormatError("a JWK is a JSON object")
    if "d" in jwk or "p" in jwk or "k" in jwk:
        raise KeyFormatError("the JWK holds private or symmetric key material")
    try:
        kty = jwk.get("kty")
        if kty == "OKP" and jwk.get("crv") == "Ed25519":
            return PublicKey(ed25519.Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"])))
        if kty == "EC" and jwk.get("crv") == "P-256":
            x = int.from_bytes(b64url_decode(jwk["x"]), "big")
            y = int.from_bytes(b64url_decode(jwk["y"]), "big")
            return PublicKey(ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key())
        if kty == "RSA":
            n = int.from_bytes(b64url_decode(jwk["n"]), "big")
            e = int.from_bytes(b64url_decode(jwk["e"]), "big")
            public = PublicKey(rsa.RSAPublicNumbers(e, n).public_key())
            public.kind  # noqa: B018 - validates the RSA size
            return public
    except (KeyError, TypeError, ValueError, InvalidInput) as exc:
        raise KeyFormatError("malformed JWK") from exc
    raise KeyFormatError("unsupported JWK key type")


def public_key_from_multibase(value: str) -> PublicKey:
    """Load a Multikey ``publicKeyMultibase`` (Ed25519 or P-256)."""
    try:
        raw = multibase_decode(value)
    except InvalidInput as exc:
        raise KeyFormatError("malformed publicKeyMultibase") from exc
    try:
        if raw[:2] == _ED25519_MULTICODEC and len(raw) == 34:
            return PublicKey(ed25519.Ed25519PublicKey.from_public_bytes(raw[2:]))
        if raw[:2] == _P256_MULTICODEC and len(raw) == 35:
            return PublicKey(ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw[2:]))
    except ValueError as exc:
        raise KeyFormatError("invalid public key bytes") from exc
    raise KeyFormatError("unsupported Multikey type")


def public_key_from_did_key(did: str) -> PublicKey:
    """Resolve a ``did:key`` (optionally with a fragment) to its public key."""
    if not did.startswith("did:key:z"):
        raise KeyFormatError("not a did:key")
    identifier, _, fragment = did[len("did:key:") :].partition("#")
    if fragment and fragment != identifier:
        raise KeyFormatError("did:key fragment does not match the key")
    return public_key_from_multibase(identifier)


def controller_document(controller: str, keys: list[PublicKey]) -> dict[str, Any]:
    """Return a controller document listing Multikey keys for ``assertionMethod``.

    Serve it at the issuer id (the URL before ``#`` of each verification method) so that
    verifiers can link ``<issuer id>#<publicKeyMultibase>`` keys to the issuer.
    """
    methods = []
    for key in keys:
        entry = key.multikey_document(controller)
        entry.pop("@context")
        methods.append(entry)
    return {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": controller,
        "verificationMethod": methods,
        "assertionMethod": [method["id"] for method in methods],
    }
