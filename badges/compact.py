"""The compact signed form of a badge ("BL1"), verifiable with no network.

``BL1:`` + Base45(zlib(COSE_Sign1)): a CBOR Web Token (RFC 8392) signed with COSE (RFC 9052)
by the issuer's Ed25519 (EdDSA) or P-256 (ES256) key, small enough for an alphanumeric QR code.
A verifier with no network checks it against a **trust list** (the platform's issuers and their
keys, with their states) and a **status bundle** (the current status lists), both compact JWS
signed by the platform key and saved beforehand.

Claims (integer keys): 1 iss, 4 exp, 5 nbf, 6 iat, 7 cti (the credential's UUID, 16 bytes) and
-70000, Blason's map: 1 public URL, 2 achievement name, 3 its language, 4 issuer name, 5 holder
name (only when the learner shows it), 6 competency codes (at most 8, 40 characters each), 7 their
total when 6 was cut, 8 revocation entry [list URL, index], 9 suspension entry, 10 achievement type.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import uuid
import zlib
from array import array
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Literal
from urllib.parse import urlsplit

import base45
import cbor2

from .encoding import b64url_decode, b64url_encode
from .errors import InvalidInput, KeyFormatError, ProofError, ResolutionError, StatusListError
from .keys import PublicKey, SigningKey, public_key_from_jwk
from .report import Resolvers, VerificationReport
from .status import StatusList
from .timeutil import numeric_date, parse_datetime

PREFIX = "BL1:"
ALPHANUMERIC_TEXT = re.compile(r"[0-9A-Z $%*+\-./:]+")  # the QR alphanumeric alphabet: all a BL1 text uses
FORMAT = "bl1-cose"
BLASON_CLAIMS = -70000
MAX_COMPETENCIES = 8
MAX_CODE_CHARS = 40
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


@dataclass(frozen=True)
class CompactBadge:
    """What the compact form says: who got what from whom, when, and where its status is."""

    issuer: str
    credential_id: uuid.UUID
    url: str
    name: str
    issuer_name: str
    valid_from: int
    issued_at: int
    language: str = "fr"
    valid_until: int | None = None
    holder_name: str | None = None
    competencies: tuple[str, ...] = ()
    competency_count: int | None = None  # set only when ``competencies`` was cut
    revocation: tuple[str, int] | None = None
    suspension: tuple[str, int] | None = None
    achievement_type: str | None = None

    def claims(self) -> dict[int, Any]:
        """The CWT claims map (integer keys)."""
        blason: dict[int, Any] = {1: self.url, 2: self.name, 3: self.language, 4: self.issuer_name}
        if self.holder_name:
            blason[5] = self.holder_name
        if self.competencies:
            blason[6] = list(self.competencies)
        if self.competency_count is not None:
            blason[7] = self.competency_count
        if self.revocation is not None:
            blason[8] = list(self.revocation)
        if self.suspension is not None:
            blason[9] = list(self.suspension)
        if self.achievement_type:
            blason[10] = self.achievement_type
        claims: dict[int, Any] = {1: self.issuer}
        if self.valid_until is not None:
            claims[4] = self.valid_until
        claims.update({5: self.valid_from, 6: self.issued_at, 7: self.credential_id.bytes, BLASON_CLAIMS: blason})
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
        return cls(
            issuer=_text(claims, 1, "iss"),
            credential_id=uuid.UUID(bytes=cti),
            url=_text(blason, 1, "url"),
            name=_text(blason, 2, "name"),
            language=_text(blason, 3, "language"),
            issuer_name=_text(blason, 4, "issuer name"),
            valid_from=_int(claims, 5, "nbf"),
            issued_at=_int(claims, 6, "iat"),
            valid_until=_int(claims, 4, "exp") if 4 in claims else None,
            holder_name=_text(blason, 5, "holder name") if 5 in blason else None,
            competencies=_codes(blason.get(6, [])),
            competency_count=_int(blason, 7, "competency count") if 7 in blason else None,
            revocation=_entry(blason[8]) if 8 in blason else None,
            suspension=_entry(blason[9]) if 9 in blason else None,
            achievement_type=_text(blason, 10, "achievement type") if 10 in blason else None,
        )

    def to_json(self) -> dict[str, Any]:
        """The content as signed, for people and the API (camelCase, ISO dates)."""
        out: dict[str, Any] = {
            "id": self.url,
            "credentialId": str(self.credential_id),
            "issuer": {"id": self.issuer, "name": self.issuer_name},
            "name": self.name,
            "language": self.language,
            "validFrom": _iso(self.valid_from),
            "issuedAt": _iso(self.issued_at),
        }
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
            out["revocation"] = {"statusListCredential": self.revocation[0], "statusListIndex": self.revocation[1]}
        if self.suspension:
            out["suspension"] = {"statusListCredential": self.suspension[0], "statusListIndex": self.suspension[1]}
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


def _entry(value: Any) -> tuple[str, int]:
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not isinstance(value[0], str)
        or not isinstance(value[1], int)
        or isinstance(value[1], bool)
        or value[1] < 0
    ):
        raise InvalidInput("a status entry is [list URL, index]")
    return value[0], value[1]


def _competency_code(alignment: dict[str, Any]) -> str | None:
    code = alignment.get("targetCode")
    if not isinstance(code, str) or not code.strip():
        url = alignment.get("targetUrl")
        code = url.rstrip("/").rsplit("/", 1)[-1] if isinstance(url, str) else None
    return code.strip()[:MAX_CODE_CHARS] if code and code.strip() else None


def badge_from_credential(
    credential: dict[str, Any],
    *,
    credential_id: uuid.UUID | None = None,
    holder_name: str | None = None,
    suspension: tuple[str, int] | None = None,
    issued_at: datetime | None = None,
    language: str | None = None,
) -> CompactBadge:
    """The compact content of an OB 3.0 credential and the facts its JSON does not hold.

    ``holder_name`` only when the learner chose to show it; ``suspension`` is the entry in the
    issuer's suspension list; ``issued_at`` defaults to ``awardedDate`` (else ``validFrom``).
    """
    issuer = credential.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    issuer_name = issuer.get("name") if isinstance(issuer, dict) else None
    subject = credential.get("credentialSubject")
    achievement = subject.get("achievement") if isinstance(subject, dict) else None
    url = credential.get("id")
    if not isinstance(issuer_id, str) or not isinstance(url, str) or not isinstance(achievement, dict):
        raise InvalidInput("a compact form needs the credential's id, issuer and achievement")
    if credential_id is None:
        try:
            credential_id = uuid.UUID(url.rstrip("/").rsplit("/", 1)[-1].removeprefix("urn:uuid:"))
        except ValueError:
            raise InvalidInput("the credential id does not end with a UUID; pass credential_id") from None
    codes = [c for c in (_competency_code(a) for a in achievement.get("alignment") or [] if isinstance(a, dict)) if c]
    codes = list(dict.fromkeys(codes))
    status = credential.get("credentialStatus")
    entries = status if isinstance(status, list) else [status] if isinstance(status, dict) else []
    revocation = None
    for entry in entries:
        if entry.get("statusPurpose") == "revocation":
            revocation = (str(entry["statusListCredential"]), int(entry["statusListIndex"]))
    awarded = credential.get("awardedDate") or credential.get("validFrom")
    if "validFrom" not in credential or not isinstance(awarded, str):
        raise InvalidInput("a compact form needs validFrom")
    kind = achievement.get("achievementType")
    return CompactBadge(
        issuer=issuer_id,
        credential_id=credential_id,
        url=url,
        name=str(achievement.get("name") or credential.get("name") or ""),
        language=language or str(achievement.get("inLanguage") or "fr"),
        issuer_name=str(issuer_name or issuer_id),
        valid_from=numeric_date(credential["validFrom"]),
        issued_at=numeric_date(issued_at) if issued_at is not None else numeric_date(parse_datetime(awarded)),
        valid_until=numeric_date(credential["validUntil"]) if credential.get("validUntil") else None,
        holder_name=holder_name or None,
        competencies=tuple(codes[:MAX_COMPETENCIES]),
        competency_count=len(codes) if len(codes) > MAX_COMPETENCIES else None,
        revocation=revocation,
        suspension=suspension,
        achievement_type=kind if isinstance(kind, str) else None,
    )


# ---------------------------------------------------------------------------------------------
# Signing and reading


def sign_compact(badge: CompactBadge, key: SigningKey, *, algorithm: str | None = None) -> str:
    """Sign the claims as a tagged COSE_Sign1; return ``BL1:`` + Base45(zlib(COSE)).

    The COSE structure is written here with cbor2 and signed with ``cryptography`` (through
    :meth:`SigningKey.sign`: Ed25519, or ECDSA P-256 as r||s); pycose and an npm COSE library
    check the result in the tests.
    """
    alg = algorithm or key.algorithm
    if alg not in _COSE_ALG_ID or (alg == "EdDSA") != (key.kind == "Ed25519") or key.kind == "RSA":
        raise KeyFormatError(f"algorithm {alg} does not match a {key.kind} key (EdDSA: Ed25519, ES256: P-256)")
    protected = _signing_header(key, alg)
    payload = cbor2.dumps(badge.claims(), canonical=True)
    signature = key.sign(_to_be_signed(protected, payload), alg)
    cose = cbor2.dumps(cbor2.CBORTag(18, [protected, {}, payload, signature]))
    return PREFIX + b45encode(zlib.compress(cose, 9))


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


@lru_cache(maxsize=64)
def _signing_header(key: SigningKey, alg: str) -> bytes:
    return cbor2.dumps({1: _COSE_ALG_ID[alg], 4: compact_kid(key.public)}, canonical=True)


def _to_be_signed(protected: bytes, payload: bytes) -> bytes:
    """The RFC 9052 Sig_structure of a COSE_Sign1, external_aad empty."""
    return cbor2.dumps(["Signature1", protected, b"", payload])


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
    purpose: str
    bits: StatusList
    updated: int


@dataclass(frozen=True)
class StatusBundle:
    """The current status lists of the platform's issuers, dated."""

    iss: str
    iat: int
    lists: dict[str, BundledList] = field(default_factory=dict)

    def payload(self) -> dict[str, Any]:
        return {
            "iss": self.iss,
            "iat": self.iat,
            "version": 1,
            "lists": {
                url: {"purpose": item.purpose, "encodedList": item.bits.encode(), "updated": item.updated}
                for url, item in self.lists.items()
            },
        }

    @classmethod
    def from_payload(cls, payload: Any) -> StatusBundle:
        """Read a status bundle's JSON payload (InvalidInput when malformed)."""
        if not isinstance(payload, dict) or payload.get("version") != 1:
            raise InvalidInput("not a version 1 status bundle")
        try:
            lists = {
                str(url): BundledList(
                    str(item["purpose"]), StatusList.decode(item["encodedList"]), int(item.get("updated") or 0)
                )
                for url, item in payload["lists"].items()
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
    for (url, index), purpose in entries:
        item = bundle.lists.get(url)
        if item is None:
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
    """The platform base URL of a credential's public URL (``<base>/credentials/<uuid>``)."""
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
