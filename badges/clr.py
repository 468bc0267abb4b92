"""Build CLR 2.0 ``ClrCredential`` documents bundling signed OB 3.0 credentials."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .credentials import CLR_CONTEXT, CLR_SCHEMA, SCHEMA_VALIDATOR, Achievement, Profile, Recipient, _dates, _put
from .errors import InvalidInput

ASSOCIATION_TYPES = frozenset(
    "exactMatchOf isChildOf isParentOf isPartOf isPeerOf isRelatedTo precedes replacedBy".split()
)


@dataclass(frozen=True)
class Association:
    """A relation between two achievements of a CLR (e.g. bloc isParentOf compétence)."""

    association_type: str
    source_id: str
    target_id: str


@dataclass(frozen=True)
class ClrRecord:
    """The input of a CLR 2.0 ``ClrCredential`` bundling signed OB 3.0 credentials."""

    id: str
    issuer: Profile
    recipient: Recipient
    name: str
    valid_from: datetime
    credentials: tuple[dict[str, Any], ...]
    achievements: tuple[Achievement, ...] = ()
    associations: tuple[Association, ...] = ()
    description: str | None = None
    partial: bool | None = None
    valid_until: datetime | None = None
    include_schema: bool = True


def build_clr_credential(record: ClrRecord) -> dict[str, Any]:
    """Return an unsigned CLR 2.0 ``ClrCredential``."""
    if not record.credentials:
        raise InvalidInput("a CLR bundles at least one credential")
    if not record.recipient.did and not record.recipient.email:
        raise InvalidInput("the recipient needs a DID or an e-mail address")
    subject: dict[str, Any] = {}
    _put(subject, "id", record.recipient.did)
    subject["type"] = ["ClrSubject"]
    _put(subject, "identifier", record.recipient.identity_objects())
    subject["verifiableCredential"] = list(record.credentials)
    _put(subject, "achievement", [a.to_json() for a in record.achievements])
    associations = []
    for association in record.associations:
        if association.association_type not in ASSOCIATION_TYPES:
            raise InvalidInput(f"unknown associationType: {association.association_type!r}")
        associations.append(
            {
                "type": "Association",
                "associationType": association.association_type,
                "sourceId": association.source_id,
                "targetId": association.target_id,
            }
        )
    _put(subject, "association", associations)
    out: dict[str, Any] = {
        "@context": list(CLR_CONTEXT),
        "id": record.id,
        "type": ["VerifiableCredential", "ClrCredential"],
        "issuer": record.issuer.to_json(),
        "name": record.name,
    }
    _put(out, "description", record.description)
    if record.partial is not None:
        out["partial"] = record.partial
    _dates(out, record.valid_from, record.valid_until)
    out["credentialSubject"] = subject
    if record.include_schema:
        out["credentialSchema"] = [{"id": CLR_SCHEMA, "type": SCHEMA_VALIDATOR}]
    return out
