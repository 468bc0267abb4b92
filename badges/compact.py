"""The compact signed form of a badge ("BL1"), verifiable with no network.

``BL1:`` + Base45(zlib(COSE_Sign1)): a CBOR Web Token (RFC 8392) signed with COSE (RFC 9052)
by the issuer's Ed25519 (EdDSA) or P-256 (ES256) key, small enough for an alphanumeric QR code
(version 13 at error correction M for a typical badge). A verifier with no network checks it
against a **trust list** (the platform's issuers and their keys, with their states) and a
**status bundle** (the current status lists, keyed by list id), both compact JWS signed by the
platform key and saved beforehand.

Claims (integer keys): 1 iss, 4 exp, 5 nbf, 6 iat (absent when equal to nbf), 7 cti (the
credential's UUID, 16 bytes) and -70000, Blason's map: 1 the badge's short address
(``<base>/c/<code>``), 2 achievement name, 3 its language, 4 issuer name (optional: verifiers
show the trust list's name for the key's issuer), 5 holder name (only when the learner shows it),
6 competency codes (at most 8, 24 characters each), 7 their total when 6 was cut, 8 revocation
entry [16-byte list id, index], 9 suspension entry, 10 achievement type. A list id is the UUID its
URL ends with (else the first 16 bytes of the SHA-256 of the URL): :func:`status_list_id`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import sys
import uuid
import zlib
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlsplit

import base45
import cbor2

from .encoding import b64url_decode, b64url_encode
from .errors import InvalidInput, KeyFormatError, ProofError, ResolutionError, StatusListError
from .keys import PublicKey, SigningKey, public_key_from_jwk
from .report import Resolvers, VerificationReport
from .status import StatusList
from .timeutil import numeric_date

PREFIX = "BL1:"
ALPHANUMERIC_TEXT = re.compile(r"[0-9A-Z $%*+\-./:]+")  # the QR alphanumeric alphabet: all a BL1 text uses
FORMAT = "bl1-cose"
BLASON_CLAIMS = -70000
MAX_COMPETENCIES = 8
MAX_CODE_CHARS = 24  # a longer code is left out (cut, it would name another competency)
MAX_TEXT_CHARS = 4096  # the longest BL1 string read (a version-40 QR code holds 4296 alphanumerics)
MAX_COSE_BYTES = 8192  # inflated COSE_Sign1, a guard against decompression bombs
TRUST_LIST_TYPE = "blason-trust-list+jwt"
STATUS_BUNDLE_TYPE = "blason-status-bundle+jwt"
TRUST_LIST_PATH = "/trust/issuers.jws"
STATUS_BUNDLE_PATH = "/trust/status.jws"
PLATFORM_PATH = "/api/v1/platform"
KeyState = Literal["active", "retired", "compromised"]

_ALGORITHMS: dict[int, tuple[str, str]] = {-8: ("EdDSA", "Ed25519"), -7: ("ES256", "P-256")}
_COSE_ALG_ID = {"EdDSA": -8, "ES256": -7}
_MONTHS_FR = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


# ---------------------------------------------------------------------------------------------
# Keys


def compact_kid(public: PublicKey) -> bytes:
    """The 8-byte COSE kid: SHA-256 of the key's RFC 7638 thumbprint text, cut to 8 bytes."""
    return hashlib.sha256(public.thumbprint().encode("utf-8")).digest()[:8]


# ---------------------------------------------------------------------------------------------
# Claims


StatusEntry = tuple[uuid.UUID, int]  # (the status list's id, the credential's index in it)


@functools.lru_cache(maxsize=1024)
def status_list_id(url: str) -> uuid.UUID:
    """The 16-byte id of a status list in a compact form and the status bundle.

    The UUID its URL ends with (every Blason list: ``<base>/status/<uuid>``), else the first 16
    bytes of the SHA-256 of the URL. Verifiers never compute it: they look the id up in the bundle.
    """
    tail = url.rstrip("/").rsplit("/", 1)[-1]
    if len(tail) == 36:
        try:
            return uuid.UUID(tail)
        except ValueError:
            pass
    return uuid.UUID(bytes=hashlib.sha256(url.encode("utf-8")).digest()[:16])


def credential_address(base: str, credential_id: uuid.UUID) -> str:
    """The credential id (and page) a Blason platform at ``base`` gives a credential."""
    return f"{base}/credentials/{credential_id}"


@dataclass(frozen=True)
class CompactBadge:
    """What the compact form says: who got what from whom, when, and where its status is."""

    issuer: str
    credential_id: uuid.UUID
    url: str  # the badge's address: Blason's short one, <base>/c/<code>
    name: str
    valid_from: int
    issued_at: int
    language: str = "fr"
    issuer_name: str | None = None  # absent: the trust list names the key's issuer
    valid_until: int | None = None
    holder_name: str | None = None
    competencies: tuple[str, ...] = ()
    competency_count: int | None = None  # set only when ``competencies`` was cut
    revocation: StatusEntry | None = None
    suspension: StatusEntry | None = None
    achievement_type: str | None = None

    def claims(self) -> dict[int, Any]:
        """The CWT claims map (integer keys), built in deterministic order (RFC 8949, 4.2.1)."""
        blason: dict[int, Any] = {1: self.url, 2: self.name, 3: self.language}
        if self.issuer_name:
            blason[4] = self.issuer_name
        if self.holder_name:
            blason[5] = self.holder_name
        if self.competencies:
            blason[6] = list(self.competencies)
        if self.competency_count is not None:
            blason[7] = self.competency_count
        if self.revocation is not None:
            blason[8] = [self.revocation[0].bytes, self.revocation[1]]
        if self.suspension is not None:
            blason[9] = [self.suspension[0].bytes, self.suspension[1]]
        if self.achievement_type:
            blason[10] = self.achievement_type
        claims: dict[int, Any] = {1: self.issuer}
        if self.valid_until is not None:
            claims[4] = self.valid_until
        claims[5] = self.valid_from
        if self.issued_at != self.valid_from:
            claims[6] = self.issued_at
        claims[7] = self.credential_id.bytes
        claims[BLASON_CLAIMS] = blason
        return claims

    @classmethod
    def from_claims(cls, claims: Any) -> CompactBadge:
        """Read a claims map, refusing wrong types and missing claims (InvalidInput)."""
        if not isinstance(claims, dict):
            raise InvalidInput("the payload is not a CBOR map")
        blason = claims.get(BLASON_CLAIMS)
        if not isinstance(blason, dict):
            raise InvalidInput("the Blason claims (-70000) are missing")
        cti = claims.get(7)
        if not isinstance(cti, bytes) or len(cti) != 16:
            raise InvalidInput("cti (7) is not a 16-byte UUID")
        valid_from = _int(claims, 5, "nbf")
        return cls(
            issuer=_text(claims, 1, "iss"),
            credential_id=uuid.UUID(bytes=cti),
            url=_text(blason, 1, "url"),
            name=_text(blason, 2, "name"),
            language=_text(blason, 3, "language"),
            issuer_name=_text(blason, 4, "issuer name") if 4 in blason else None,
            valid_from=valid_from,
            issued_at=_int(claims, 6, "iat") if 6 in claims else valid_from,
            valid_until=_int(claims, 4, "exp") if 4 in claims else None,
            holder_name=_text(blason, 5, "holder name") if 5 in blason else None,
            competencies=_codes(blason.get(6, [])),
            competency_count=_int(blason, 7, "competency count") if 7 in blason else None,
            revocation=_entry(blason[8]) if 8 in blason else None,
            suspension=_entry(blason[9]) if 9 in blason else None,
            achievement_type=_text(blason, 10, "achievement type") if 10 in blason else None,
        )

    def to_json(self, issuer_name: str | None = None) -> dict[str, Any]:
        """The content as signed, for people and the API (camelCase, ISO dates).

        ``id`` is the credential id on the platform the short address names; ``issuer_name``
        (the trust list's) stands in when the payload does not name its issuer.
        """
        head, sep, _code = self.url.rpartition("/c/")
        out: dict[str, Any] = {
            "id": credential_address(head, self.credential_id) if sep else self.url,
            "url": self.url,
            "credentialId": str(self.credential_id),
            "issuer": {"id": self.issuer},
            "name": self.name,
            "language": self.language,
            "validFrom": _iso(self.valid_from),
            "issuedAt": _iso(self.issued_at),
        }
        if self.issuer_name or issuer_name:
            out["issuer"]["name"] = self.issuer_name or issuer_name
        if self.valid_until is not None:
            out["validUntil"] = _iso(self.valid_until)
        if self.holder_name:
            out["holderName"] = self.holder_name
        if self.achievement_type:
            out["achievementType"] = self.achievement_type
        out["competencies"] = list(self.competencies)
        if self.competency_count is not None:
            out["competencyCount"] = self.competency_count
        if self.revocation:
            out["revocation"] = {"statusList": str(self.revocation[0]), "statusListIndex": self.revocation[1]}
        if self.suspension:
            out["suspension"] = {"statusList": str(self.suspension[0]), "statusListIndex": self.suspension[1]}
        return out


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(source: dict[Any, Any], key: int, what: str) -> str:
    value = source.get(key)
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"{what} ({key}) is not a text")
    return value


def _int(source: dict[Any, Any], key: int, what: str) -> int:
    value = source.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidInput(f"{what} ({key}) is not an integer")
    return value


def _codes(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidInput("competencies (6) is not an array of texts")
    return tuple(value)


def _entry(value: Any) -> StatusEntry:
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not isinstance(value[0], bytes)
        or len(value[0]) != 16
        or not isinstance(value[1], int)
        or isinstance(value[1], bool)
        or value[1] < 0
    ):
        raise InvalidInput("a status entry is [16-byte list id, index]")
    return uuid.UUID(bytes=value[0]), value[1]


def _competency_code(alignment: dict[str, Any]) -> str | None:
    code = alignment.get("targetCode")
    if not isinstance(code, str) or not code.strip():
        url = alignment.get("targetUrl")
        code = url.rstrip("/").rsplit("/", 1)[-1] if isinstance(url, str) else None
    code = code.strip() if code else None
    return code if code and len(code) <= MAX_CODE_CHARS else None


def _achievement_facts(achievement: dict[str, Any]) -> tuple[str, str | None, tuple[str, ...], int, str | None]:
    """Name, language, codes (each at most MAX_CODE_CHARS), their total and type of an achievement."""
    codes: list[str] = []
    total = 0
    for alignment in achievement.get("alignment") or []:
        if not isinstance(alignment, dict):
            continue
        code = _competency_code(alignment)
        total += 1
        if code and code not in codes:
            codes.append(code)
    kind = achievement.get("achievementType")
    language = achievement.get("inLanguage")
    return (
        str(achievement.get("name") or ""),
        language if isinstance(language, str) else None,
        tuple(codes),
        total,
        kind if isinstance(kind, str) else None,
    )


def _entry_of(entry: Any) -> StatusEntry:
    return status_list_id(str(entry["statusListCredential"])), int(entry["statusListIndex"])


def badge_from_credential(
    credential: dict[str, Any],
    *,
    url: str | None = None,
    credential_id: uuid.UUID | None = None,
    holder_name: str | None = None,
    suspension: tuple[str, int] | None = None,
    issued_at: datetime | None = None,
    language: str | None = None,
    issuer_name: bool = False,
) -> CompactBadge:
    """The compact content of an OB 3.0 credential and the facts its JSON does not hold.

    ``url`` is the badge's short address (default: the credential id); ``holder_name`` only when
    the learner chose to show it; ``suspension`` is the (list URL, index) entry in the issuer's
    suspension list; ``issued_at`` defaults to ``awardedDate`` (else ``validFrom``);
    ``issuer_name`` puts the issuer's name in the payload (Blason leaves it to the trust list).
    """
    issuer = credential.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    subject = credential.get("credentialSubject")
    achievement = subject.get("achievement") if isinstance(subject, dict) else None
    ident = credential.get("id")
    if not isinstance(issuer_id, str) or not isinstance(ident, str) or not isinstance(achievement, dict):
        raise InvalidInput("a compact form needs the credential's id, issuer and achievement")
    if credential_id is None:
        try:
            credential_id = uuid.UUID(ident.rstrip("/").rsplit("/", 1)[-1].removeprefix("urn:uuid:"))
        except ValueError:
            raise InvalidInput("the credential id does not end with a UUID; pass credential_id") from None
    valid_from = credential.get("validFrom")
    if not isinstance(valid_from, str):
        raise InvalidInput("a compact form needs validFrom")
    awarded = credential.get("awardedDate")
    name, in_language, codes, total, kind = _achievement_facts(achievement)
    status = credential.get("credentialStatus")
    entries = status if isinstance(status, list) else [status] if isinstance(status, dict) else []
    revocation = None
    for entry in entries:
        if isinstance(entry, dict) and entry.get("statusPurpose") == "revocation":
            revocation = _entry_of(entry)
    nbf = numeric_date(valid_from)
    if issued_at is not None:
        iat = numeric_date(issued_at)
    else:
        iat = numeric_date(awarded) if isinstance(awarded, str) and awarded != valid_from else nbf
    until = credential.get("validUntil")
    return CompactBadge(
        issuer=issuer_id,
        credential_id=credential_id,
        url=url or ident,
        name=name or str(credential.get("name") or ""),
        language=language or in_language or "fr",
        issuer_name=str(issuer.get("name") or issuer_id) if issuer_name and isinstance(issuer, dict) else None,
        valid_from=nbf,
        issued_at=iat,
        valid_until=numeric_date(until) if until else None,
        holder_name=holder_name or None,
        competencies=codes[:MAX_COMPETENCIES],
        competency_count=total if len(codes) > MAX_COMPETENCIES or total > len(codes) else None,
        revocation=revocation,
        suspension=(status_list_id(suspension[0]), suspension[1]) if suspension else None,
        achievement_type=kind,
    )


# ---------------------------------------------------------------------------------------------
# Signing and reading


def sign_compact(badge: CompactBadge, key: SigningKey, *, algorithm: str | None = None) -> str:
    """Sign the claims as a tagged COSE_Sign1; return ``BL1:`` + Base45(zlib(COSE)).

    The claims are CBOR (cbor2) in deterministic order; the Sig_structure and the COSE_Sign1
    around them are written here byte for byte, and signed with ``cryptography`` (Ed25519, or
    ECDSA P-256 as r||s). pycose and an npm COSE library check the result in the tests.
    """
    protected, sign = _signer(key, algorithm or key.algorithm)
    payload = cbor2.dumps(badge.claims())  # claims() builds its maps in deterministic order
    signature = sign(_to_be_signed(protected, payload))
    cose = b"".join(
        (_COSE_SIGN1_HEAD, _bstr_head(len(protected)), protected, b"\xa0", _bstr_head(len(payload)), payload)
    )
    return PREFIX + b45encode(zlib.compress(cose + _SIGNATURE_HEAD + signature, 9))


_COSE_SIGN1_HEAD = b"\xd2\x84"  # tag 18, an array of 4
_SIG_STRUCTURE_HEAD = b"\x84\x6aSignature1"  # an array of 4, the text "Signature1"
_SIGNATURE_HEAD = b"\x58\x40"  # a 64-byte byte string


def _bstr_head(length: int) -> bytes:
    """The CBOR head of a byte string of ``length`` bytes (shortest form)."""
    if length < 24:
        return bytes((0x40 | length,))
    if length < 0x100:
        return bytes((0x58, length))
    if length < 0x10000:
        return b"\x59" + length.to_bytes(2, "big")
    return b"\x5a" + length.to_bytes(4, "big")


@functools.lru_cache(maxsize=64)
def _signer(key: SigningKey, alg: str) -> tuple[bytes, Callable[[bytes], bytes]]:
    """The protected header and the signing function of a key (checked once per key)."""
    kind = key.kind
    if alg not in _COSE_ALG_ID or _ALGORITHMS[_COSE_ALG_ID[alg]][1] != kind:
        raise KeyFormatError(f"algorithm {alg} does not match a {kind} key (EdDSA: Ed25519, ES256: P-256)")
    protected = cbor2.dumps({1: _COSE_ALG_ID[alg], 4: compact_kid(key.public)}, canonical=True)
    return protected, functools.partial(key.sign, algorithm=alg)


def _to_be_signed(protected: bytes, payload: bytes) -> bytes:
    """The RFC 9052 Sig_structure ``["Signature1", protected, h'', payload]`` (external_aad empty)."""
    return b"".join(
        (_SIG_STRUCTURE_HEAD, _bstr_head(len(protected)), protected, b"\x40", _bstr_head(len(payload)), payload)
    )


_B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_B45_PAIRS = [_B45[n % 45] + _B45[n // 45] for n in range(45 * 45)]  # the two low digits of a group


def b45encode(data: bytes) -> str:
    """RFC 9285 Base45 (the ``base45`` package decodes; this table-driven encoder is faster)."""
    even = len(data) & ~1
    groups = array("H", data[:even])
    if sys.byteorder == "little":
        groups.byteswap()  # Base45 reads each pair of bytes big-endian
    pairs, high = _B45_PAIRS, _B45
    out = [pairs[n % 2025] + high[n // 2025] for n in groups]
    if len(data) & 1:
        out.append(pairs[data[-1]])
    return "".join(out)


@dataclass(frozen=True)
class CompactPayload:
    """A BL1 string taken apart, before its signature is checked."""

    algorithm: str
    kid: bytes
    protected: bytes
    payload: bytes
    signature: bytes
    claims: dict[Any, Any]

    @property
    def kid_text(self) -> str:
        """The kid as the trust list writes it (base64url)."""
        return b64url_encode(self.kid)


def decode_compact(text: str) -> CompactPayload:
    """Take a BL1 string apart (InvalidInput when it is not one); the signature is not checked."""
    text = text.strip()
    if not text.startswith(PREFIX):
        raise InvalidInput(f"a compact badge starts with {PREFIX}")
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidInput("too long for a compact badge")
    try:
        compressed = base45.b45decode(text[len(PREFIX) :])
    except (ValueError, KeyError, TypeError):
        raise InvalidInput("not Base45") from None
    inflater = zlib.decompressobj()
    try:
        cose = inflater.decompress(compressed, MAX_COSE_BYTES + 1)
    except zlib.error:
        raise InvalidInput("not zlib data") from None
    if len(cose) > MAX_COSE_BYTES or inflater.unconsumed_tail or not inflater.eof:
        raise InvalidInput("the compressed data is truncated or too large")
    try:
        tagged = cbor2.loads(cose)
    except (cbor2.CBORDecodeError, ValueError, RecursionError):
        raise InvalidInput("not CBOR") from None
    if not isinstance(tagged, cbor2.CBORTag) or tagged.tag != 18:
        raise InvalidInput("not a tagged COSE_Sign1 (tag 18)")
    parts = tagged.value
    if not isinstance(parts, list) or len(parts) != 4 or not isinstance(parts[0], bytes):
        raise InvalidInput("a COSE_Sign1 is [protected, unprotected, payload, signature]")
    protected_bytes, unprotected, payload, signature = parts
    try:
        protected = cbor2.loads(protected_bytes) if protected_bytes else {}
        claims = cbor2.loads(payload) if isinstance(payload, bytes) else None
    except (cbor2.CBORDecodeError, ValueError, RecursionError):
        raise InvalidInput("the headers or the payload are not CBOR") from None
    if not isinstance(protected, dict) or not isinstance(unprotected, dict) or not isinstance(signature, bytes):
        raise InvalidInput("malformed COSE_Sign1 headers")
    algorithm = _ALGORITHMS.get(protected.get(1))  # type: ignore[arg-type]
    if algorithm is None:
        raise InvalidInput("the protected header names no supported algorithm (-8 EdDSA, -7 ES256)")
    kid = protected.get(4, unprotected.get(4))
    if not isinstance(kid, bytes):
        raise InvalidInput("no kid in the headers")
    if not isinstance(claims, dict):
        raise InvalidInput("the payload is not a CBOR map")
    assert isinstance(payload, bytes)
    return CompactPayload(algorithm[0], kid, protected_bytes, payload, signature, claims)


def check_signature(payload: CompactPayload, public: PublicKey) -> bool:
    """Whether the COSE_Sign1 signature verifies with ``public`` (external_aad empty)."""
    if _ALGORITHMS[_COSE_ALG_ID[payload.algorithm]][1] != public.kind:
        return False
    return public.verify(payload.signature, _to_be_signed(payload.protected, payload.payload), payload.algorithm)


# ---------------------------------------------------------------------------------------------
# Trust material


@dataclass(frozen=True)
class TrustedKey:
    """One issuer key in the trust list, with its state."""

    kid: bytes
    algorithm: str
    public: PublicKey
    status: KeyState = "active"
    compromised_at: int | None = None
    retired_at: int | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kid": b64url_encode(self.kid),
            "alg": self.algorithm,
            "jwk": self.public.jwk(alg=self.algorithm),
            "status": self.status,
        }
        if self.compromised_at is not None:
            out["compromisedAt"] = self.compromised_at
        if self.retired_at is not None:
            out["retiredAt"] = self.retired_at
        return out

    @classmethod
    def for_key(
        cls,
        public: PublicKey,
        status: KeyState = "active",
        *,
        compromised_at: datetime | None = None,
        retired_at: datetime | None = None,
    ) -> TrustedKey:
        """The trust-list entry of an Ed25519 or P-256 key."""
        algorithm = {"Ed25519": "EdDSA", "P-256": "ES256"}.get(public.kind)
        if algorithm is None:
            raise KeyFormatError("only Ed25519 and P-256 keys sign compact badges")
        return cls(
            compact_kid(public),
            algorithm,
            public,
            status,
            numeric_date(compromised_at) if compromised_at else None,
            numeric_date(retired_at) if retired_at else None,
        )


@dataclass(frozen=True)
class TrustedIssuer:
    id: str
    name: str
    ids: tuple[str, ...] = ()
    keys: tuple[TrustedKey, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "ids": list(self.ids or (self.id,)),
            "name": self.name,
            "keys": [k.to_json() for k in self.keys],
        }


@dataclass(frozen=True)
class TrustList:
    """The issuers a platform vouches for and their keys (active, retired, compromised)."""

    iss: str
    iat: int
    issuers: tuple[TrustedIssuer, ...] = ()

    def find(self, kid: bytes) -> list[tuple[TrustedIssuer, TrustedKey]]:
        """Every (issuer, key) with this kid (kids are hints: usually one, rarely more)."""
        return [(issuer, key) for issuer in self.issuers for key in issuer.keys if key.kid == kid]

    def payload(self) -> dict[str, Any]:
        return {"iss": self.iss, "iat": self.iat, "version": 1, "issuers": [i.to_json() for i in self.issuers]}

    @classmethod
    def from_payload(cls, payload: Any) -> TrustList:
        """Read a trust list's JSON payload (InvalidInput when malformed)."""
        if not isinstance(payload, dict) or payload.get("version") != 1:
            raise InvalidInput("not a version 1 trust list")
        issuers = []
        try:
            for item in payload["issuers"]:
                keys = []
                for key in item["keys"]:
                    status = key.get("status", "active")
                    if status not in ("active", "retired", "compromised"):
                        raise InvalidInput(f"unknown key status {status!r}")
                    if key["alg"] not in _COSE_ALG_ID:
                        continue  # an algorithm this verifier does not know: its payloads stay unknown
                    keys.append(
                        TrustedKey(
                            b64url_decode(key["kid"]),
                            key["alg"],
                            public_key_from_jwk(key["jwk"]),
                            status,
                            key.get("compromisedAt"),
                            key.get("retiredAt"),
                        )
                    )
                ids = tuple(str(i) for i in item.get("ids") or [item["id"]])
                issuers.append(TrustedIssuer(str(item["id"]), str(item.get("name") or ""), ids, tuple(keys)))
            return cls(str(payload["iss"]), int(payload["iat"]), tuple(issuers))
        except (KeyError, TypeError, ValueError, KeyFormatError) as exc:
            raise InvalidInput(f"malformed trust list: {exc}") from None


@dataclass(frozen=True)
class BundledList:
    """One status list in the bundle: where it is published, its purpose, its bits, when it changed."""

    url: str
    purpose: str
    bits: StatusList
    updated: int


@dataclass(frozen=True)
class StatusBundle:
    """The current status lists of the platform's issuers, dated, keyed by list id (UUID text)."""

    iss: str
    iat: int
    lists: dict[str, BundledList] = field(default_factory=dict)

    @classmethod
    def of(cls, iss: str, iat: int, lists: Iterable[BundledList]) -> StatusBundle:
        """A bundle of these lists, each under its :func:`status_list_id`."""
        return cls(iss, iat, {str(status_list_id(item.url)): item for item in lists})

    def find(self, list_id: uuid.UUID) -> BundledList | None:
        return self.lists.get(str(list_id))

    def payload(self) -> dict[str, Any]:
        return {
            "iss": self.iss,
            "iat": self.iat,
            "version": 1,
            "lists": {
                list_id: {
                    "url": item.url,
                    "purpose": item.purpose,
                    "encodedList": item.bits.encode(),
                    "updated": item.updated,
                }
                for list_id, item in self.lists.items()
            },
        }

    @classmethod
    def from_payload(cls, payload: Any) -> StatusBundle:
        """Read a status bundle's JSON payload (InvalidInput when malformed)."""
        if not isinstance(payload, dict) or payload.get("version") != 1:
            raise InvalidInput("not a version 1 status bundle")
        try:
            lists = {
                str(uuid.UUID(list_id)): BundledList(
                    str(item["url"]),
                    str(item["purpose"]),
                    StatusList.decode(item["encodedList"]),
                    int(item.get("updated") or 0),
                )
                for list_id, item in payload["lists"].items()
            }
            return cls(str(payload["iss"]), int(payload["iat"]), lists)
        except (KeyError, TypeError, ValueError, AttributeError, StatusListError) as exc:
            raise InvalidInput(f"malformed status bundle: {exc}") from None


def sign_trust_material(payload: dict[str, Any], platform_key: SigningKey, typ: str) -> str:
    """A compact JWS (EdDSA) of a trust list or status bundle payload, signed by the platform key."""
    if platform_key.kind != "Ed25519":
        raise KeyFormatError("the platform key is an Ed25519 key")
    header = {"alg": "EdDSA", "kid": platform_key.public.thumbprint(), "typ": typ}
    signing_input = ".".join(
        b64url_encode(json.dumps(part, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
        for part in (header, payload)
    )
    return f"{signing_input}.{b64url_encode(platform_key.sign(signing_input.encode('ascii'), 'EdDSA'))}"


def open_trust_material(token: str, platform_public: PublicKey, typ: str) -> dict[str, Any]:
    """The payload of a trust-material JWS whose signature verifies with the platform key (ProofError otherwise)."""
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise ProofError("not a compact JWS")
    try:
        header = json.loads(b64url_decode(parts[0]))
        payload = json.loads(b64url_decode(parts[1]))
        signature = b64url_decode(parts[2])
    except (ValueError, InvalidInput):
        raise ProofError("malformed JWS") from None
    if not isinstance(header, dict) or header.get("alg") != "EdDSA" or header.get("typ") != typ:
        raise ProofError(f"expected an EdDSA JWS of type {typ}")
    if not platform_public.verify(signature, f"{parts[0]}.{parts[1]}".encode("ascii"), "EdDSA"):
        raise ProofError("the signature does not verify with the platform key")
    if not isinstance(payload, dict):
        raise ProofError("the payload is not a JSON object")
    return payload


def load_trust_list(token: str, platform_public: PublicKey) -> TrustList:
    """A signed trust list, checked with the platform key."""
    return TrustList.from_payload(open_trust_material(token, platform_public, TRUST_LIST_TYPE))


def load_status_bundle(token: str, platform_public: PublicKey) -> StatusBundle:
    """A signed status bundle, checked with the platform key."""
    return StatusBundle.from_payload(open_trust_material(token, platform_public, STATUS_BUNDLE_TYPE))


# ---------------------------------------------------------------------------------------------
# Verification


def french_date(epoch: int) -> str:
    """``12 mars 2025 à 14 h 05 UTC``."""
    moment = datetime.fromtimestamp(epoch, UTC)
    return f"{moment.day} {_MONTHS_FR[moment.month - 1]} {moment.year} à {moment.hour} h {moment.minute:02d} UTC"


def english_date(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%d %B %Y, %H:%M UTC")


def verify_compact(
    text: str, *, trust_list: TrustList | None, status_bundle: StatusBundle | None = None, now: datetime | None = None
) -> VerificationReport:
    """Verify a BL1 string against a trust list and a status bundle; no network.

    Checks, in order: format, issuer_key (kid known, key not compromised, iss one of the key's
    issuer's ids), proof (the COSE signature), validity (exp, nbf), status (the bundle's bits).
    A payload signed by a compromised key is refused whatever its iat: a thief can date it.
    """
    report = VerificationReport(format=FORMAT)
    moment = numeric_date(now or datetime.now(UTC))
    try:
        payload = decode_compact(text)
        badge = CompactBadge.from_claims(payload.claims)
    except InvalidInput as exc:
        report.add("format", "fail", "Ce code n'est pas un badge compact lisible (falsifié ou abîmé).", str(exc))
        return report
    report.add("format", "pass", "Badge compact BL1 (COSE).", "BL1 compact badge (COSE).")
    report.credential = badge.to_json()
    if trust_list is None:
        report.add(
            "issuer_key",
            "fail",
            "Aucune liste de confiance n'est disponible pour reconnaître l'émetteur.",
            "Unknown issuer: no trust list is available.",
        )
        return report
    matches = [(i, k) for i, k in trust_list.find(payload.kid) if k.algorithm == payload.algorithm]
    if not matches:
        report.add(
            "issuer_key",
            "fail",
            "Émetteur inconnu : la clé qui a signé ce badge n'est pas dans la liste de confiance.",
            "Unknown issuer: the signing key is not in the trust list.",
        )
        return report
    verified = [(i, k) for i, k in matches if check_signature(payload, k.public)]
    if not verified:
        if any(k.status == "compromised" for _, k in matches):
            _compromised(report, matches[0][1])
            return report
        report.add(
            "proof",
            "fail",
            "Falsifié : la signature ne correspond pas au contenu.",
            "Tampered: the signature does not match the content.",
        )
        return report
    issuer, key = verified[0]
    report.add("proof", "pass", "Signature COSE valide.", "Valid COSE signature.")
    if key.status == "compromised":
        _compromised(report, key)
        return report
    if badge.issuer not in issuer.ids:
        report.add(
            "issuer_key",
            "fail",
            "Émetteur inconnu : la clé n'appartient pas à l'émetteur nommé dans le badge.",
            "Unknown issuer: the key does not belong to the issuer the badge names.",
        )
        return report
    report.credential = badge.to_json(issuer.name)  # the trust list names the issuer the key belongs to
    if key.status == "retired":
        report.add(
            "issuer_key",
            "pass",
            f"Clé de {issuer.name}, retirée depuis, mais toujours valable pour ce qu'elle a signé.",
            f"A key of {issuer.name}, retired since, still valid for what it signed.",
        )
    else:
        report.add("issuer_key", "pass", f"Clé de {issuer.name}.", f"A key of {issuer.name}.")
    _validity(report, badge, moment)
    _status(report, badge, status_bundle)
    return report


def _compromised(report: VerificationReport, key: TrustedKey) -> None:
    since = f" depuis le {french_date(key.compromised_at)}" if key.compromised_at else ""
    since_en = f" since {english_date(key.compromised_at)}" if key.compromised_at else ""
    report.add(
        "issuer_key",
        "fail",
        f"Clé compromise : la clé qui a signé ce badge est déclarée compromise{since} ; il ne peut pas être cru.",
        f"Compromised key: the signing key was reported compromised{since_en}; the badge cannot be trusted.",
    )


def _validity(report: VerificationReport, badge: CompactBadge, moment: int) -> None:
    if badge.valid_until is not None and badge.valid_until < moment:
        report.add(
            "validity",
            "fail",
            f"Expiré depuis le {french_date(badge.valid_until)}.",
            f"Expired on {english_date(badge.valid_until)}.",
        )
    elif badge.valid_from > moment:
        report.add(
            "validity",
            "fail",
            f"Pas encore valable : valable à partir du {french_date(badge.valid_from)}.",
            f"Not yet valid: valid from {english_date(badge.valid_from)}.",
        )
    else:
        report.add("validity", "pass", "Dans sa période de validité.", "Within its validity period.")


def _status(report: VerificationReport, badge: CompactBadge, bundle: StatusBundle | None) -> None:
    entries = [(e, p) for e, p in ((badge.revocation, "revocation"), (badge.suspension, "suspension")) if e]
    if not entries:
        report.add("status", "pass", "Ce badge n'a pas de liste de statut.", "This badge has no status list.")
        return
    if bundle is None:
        report.add(
            "status",
            "warning",
            "Aucune liste de révocation n'est disponible : la révocation n'a pas pu être vérifiée.",
            "No status lists are available: revocation could not be checked.",
        )
        return
    missing = False
    for (list_id, index), purpose in entries:
        item = bundle.find(list_id)
        if item is None or item.purpose != purpose:
            missing = True
            continue
        try:
            set_bit = item.bits.get(index)
        except StatusListError:
            set_bit = True  # an index beyond the list cannot be cleared: refuse
        if set_bit:
            word_fr, word_en = ("Révoqué", "Revoked") if purpose == "revocation" else ("Suspendu", "Suspended")
            report.add(
                "status",
                "fail",
                f"{word_fr} selon les listes du {french_date(bundle.iat)}.",
                f"{word_en} according to the status lists of {english_date(bundle.iat)}.",
            )
            return
    if missing:
        report.add(
            "status",
            "warning",
            f"La liste de statut de ce badge manque aux listes du {french_date(bundle.iat)}.",
            f"This badge's status list is missing from the lists of {english_date(bundle.iat)}.",
        )
        return
    report.add(
        "status",
        "pass",
        f"Ni révoqué ni suspendu selon les listes du {french_date(bundle.iat)}.",
        f"Neither revoked nor suspended according to the status lists of {english_date(bundle.iat)}.",
    )


# ---------------------------------------------------------------------------------------------
# Through resolvers (badges.verify)


def platform_base(url: str) -> str:
    """The platform base URL of a badge's address (``<base>/c/<code>`` or ``<base>/credentials/<uuid>``)."""
    head, sep, _tail = url.rpartition("/c/")
    if not sep:
        head, sep, _tail = url.rpartition("/credentials/")
    if not sep or not head.startswith(("https://", "http://")):
        raise ResolutionError("the badge's address is not a Blason credential address")
    return head


def _same_site(identifier: str, base: str) -> bool:
    host = urlsplit(base).netloc.lower()
    if identifier.startswith("did:web:"):
        return identifier[len("did:web:") :].split(":", 1)[0].replace("%3A", ":").replace("%3a", ":").lower() == host
    return urlsplit(identifier).netloc.lower() == host


def verify_with_resolvers(text: str, resolvers: Resolvers, now: datetime | None = None) -> VerificationReport:
    """Verify a BL1 string with the trust material its platform publishes, through ``resolvers``.

    The resolvers answer ``<base>/trust/issuers.jws`` and ``<base>/trust/status.jws`` (``<base>``:
    where the badge's address lives) with the compact JWS, checked with the key that
    ``<base>/api/v1/platform`` answers (its ``jwk``) — or with a :class:`TrustList` /
    :class:`StatusBundle` already trusted (the platform itself, from its database). A trust list
    fetched this way vouches only for issuers under its own host.
    """
    try:
        badge = CompactBadge.from_claims(decode_compact(text).claims)
        base = platform_base(badge.url)
    except (InvalidInput, ResolutionError):
        return verify_compact(text, trust_list=None, now=now)
    trust_list: TrustList | None = None
    bundle: StatusBundle | None = None
    platform: PublicKey | None = None
    try:
        found = resolvers.get_document(base + TRUST_LIST_PATH)
        if isinstance(found, TrustList):
            trust_list = found
        else:
            platform = _platform_key(resolvers, base)
            fetched = load_trust_list(str(found), platform)
            issuers = tuple(
                TrustedIssuer(i.id, i.name, tuple(x for x in i.ids if _same_site(x, base)), i.keys)
                for i in fetched.issuers
            )
            trust_list = TrustList(fetched.iss, fetched.iat, issuers)
    except (ResolutionError, ProofError, InvalidInput, KeyFormatError):
        trust_list = None
    if trust_list is not None:
        try:
            found = resolvers.get_document(base + STATUS_BUNDLE_PATH)
            if isinstance(found, StatusBundle):
                bundle = found
            else:
                bundle = load_status_bundle(str(found), platform or _platform_key(resolvers, base))
        except (ResolutionError, ProofError, InvalidInput, KeyFormatError):
            bundle = None
    return verify_compact(text, trust_list=trust_list, status_bundle=bundle, now=now)


def _platform_key(resolvers: Resolvers, base: str) -> PublicKey:
    document = resolvers.get_document(base + PLATFORM_PATH)
    if isinstance(document, PublicKey):
        return document
    jwk = document.get("jwk") if isinstance(document, dict) else None
    if not isinstance(jwk, dict):
        raise ResolutionError("the platform document has no jwk")
    public = public_key_from_jwk(jwk)
    if public.kind != "Ed25519":
        raise KeyFormatError("the platform key is an Ed25519 key")
    return public
