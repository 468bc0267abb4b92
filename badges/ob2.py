"""Build Open Badges 2.0 documents: Assertion, BadgeClass, Profile, CryptographicKey, RevocationList."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .contexts import OB_V2
from .credentials import Alignment, hash_identity, normalise_email
from .errors import InvalidInput
from .keys import PublicKey
from .timeutil import format_datetime


@dataclass(frozen=True)
class OB2Assertion:
    """The input of an OB 2.0 Assertion (hosted or signed)."""

    id: str
    badge: str
    recipient_email: str
    salt: str
    issued_on: datetime
    signed_by: str | None = None  # CryptographicKey URL: signed, else hosted
    expires: datetime | None = None
    evidence: tuple[str, ...] = ()
    narrative: str | None = None
    image: str | None = None


def build_ob2_assertion(data: OB2Assertion) -> dict[str, Any]:
    """Return an OB 2.0 ``Assertion`` (SignedBadge when ``signed_by`` is set, else hosted)."""
    if not data.salt:
        raise InvalidInput("a hashed recipient needs a salt")
    out: dict[str, Any] = {
        "@context": OB_V2,
        "type": "Assertion",
        "id": data.id,
        "recipient": {
            "type": "email",
            "hashed": True,
            "salt": data.salt,
            "identity": hash_identity(normalise_email(data.recipient_email), data.salt),
        },
        "badge": data.badge,
        "issuedOn": format_datetime(data.issued_on),
        "verification": (
            {"type": "SignedBadge", "creator": data.signed_by} if data.signed_by else {"type": "HostedBadge"}
        ),
    }
    if data.expires is not None:
        out["expires"] = format_datetime(data.expires)
    if data.evidence:
        out["evidence"] = list(data.evidence)
    if data.narrative:
        out["narrative"] = data.narrative
    if data.image:
        out["image"] = data.image
    return out


def build_ob2_badgeclass(
    *,
    id: str,
    name: str,
    description: str,
    image: str,
    criteria_narrative: str | None = None,
    criteria_url: str | None = None,
    issuer: str,
    alignments: tuple[Alignment, ...] = (),
    tags: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Return an OB 2.0 ``BadgeClass``."""
    criteria: dict[str, Any] = {}
    if criteria_url:
        criteria["id"] = criteria_url
    if criteria_narrative:
        criteria["narrative"] = criteria_narrative
    if not criteria:
        raise InvalidInput("criteria need a narrative or a URL")
    out: dict[str, Any] = {
        "@context": OB_V2,
        "type": "BadgeClass",
        "id": id,
        "name": name,
        "description": description,
        "image": image,
        "criteria": criteria,
        "issuer": issuer,
    }
    if alignments:
        out["alignment"] = [
            {
                key: value
                for key, value in {
                    "targetName": a.target_name,
                    "targetUrl": a.target_url,
                    "targetDescription": a.target_description,
                    "targetFramework": a.target_framework,
                    "targetCode": a.target_code,
                }.items()
                if value is not None
            }
            for a in alignments
        ]
    if tags:
        out["tags"] = list(tags)
    return out


def build_ob2_profile(
    *,
    id: str,
    name: str,
    url: str,
    email: str,
    public_keys: tuple[str, ...] = (),
    revocation_list: str | None = None,
    description: str | None = None,
    image: str | None = None,
) -> dict[str, Any]:
    """Return an OB 2.0 issuer ``Profile`` (linking its keys and revocation list)."""
    out: dict[str, Any] = {"@context": OB_V2, "type": "Profile", "id": id, "name": name, "url": url, "email": email}
    if description:
        out["description"] = description
    if image:
        out["image"] = image
    if public_keys:
        out["publicKey"] = public_keys[0] if len(public_keys) == 1 else list(public_keys)
    if revocation_list:
        out["revocationList"] = revocation_list
    return out


def build_ob2_cryptographic_key(*, id: str, owner: str, public_key: PublicKey) -> dict[str, Any]:
    """Return an OB 2.0 ``CryptographicKey`` (SPKI PEM) owned by the issuer profile."""
    return {"@context": OB_V2, "type": "CryptographicKey", "id": id, "owner": owner, "publicKeyPem": public_key.pem()}


def build_ob2_revocation_list(*, id: str, issuer: str, revoked: dict[str, str | None]) -> dict[str, Any]:
    """Return an OB 2.0 ``RevocationList``; ``revoked`` maps assertion ids to reasons."""
    entries: list[dict[str, str]] = []
    for assertion_id, reason in sorted(revoked.items()):
        entry = {"id": assertion_id}
        if reason:
            entry["revocationReason"] = reason
        entries.append(entry)
    return {"@context": OB_V2, "type": "RevocationList", "id": id, "issuer": issuer, "revokedAssertions": entries}
