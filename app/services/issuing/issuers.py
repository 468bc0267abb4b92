"""Issuers: profiles, their signing keys (created with the issuer) and their status lists."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Issuer, IssuerIdentifier, KeyPurpose, Membership, Role, ScopeType, SigningKey, Territory
from app.platform import images
from app.platform.errors import FieldError, InvalidInput, NotFound, PermissionDenied, check_version, flush_versioned
from app.platform.pagination import Page, paginate
from app.platform.storage import Storage
from app.services.identity import access, audit
from app.services.identity.access import Grants
from app.services.issuing import keys
from app.services.issuing.keys import require_caller
from app.services.issuing.signing import IssuingSettings, create_status_lists, resign_status_lists


def create_issuer(session: Session, grants: Grants, data: dict[str, Any], *, settings: IssuingSettings) -> Issuer:
    """Create an issuer with its keys (Ed25519, P-256, RSA-2048) and signed status lists.

    Platform admins create issuers; a territory's coordinators create their territory's. The
    creator becomes an administrator of the new issuer.
    """
    require_caller(grants)
    territory_id = data.get("territory_id")
    if territory_id is not None:
        visible = access.visible_territory_ids(session, grants)
        if session.get(Territory, territory_id) is None or (visible is not None and territory_id not in visible):
            raise NotFound("Territory not found.")  # a territory one cannot see is answered as an unknown one
    if not (grants.platform_admin or (territory_id is not None and territory_id in grants.coordinator_of)):
        raise PermissionDenied("Only platform administrators, or a territory's coordinators for it, create issuers.")
    issuer = Issuer(
        name=data["name"],
        url=data["url"],
        email=data.get("email"),
        description=data.get("description") or "",
        territory_id=territory_id,
        created_at=settings.clock(),
    )
    session.add(issuer)
    session.flush()
    keys.create_issuer_keys(session, issuer, settings.keks, clock=settings.clock)
    ring = keys.load_keyring(session, issuer.id, settings.keks)
    create_status_lists(session, issuer.id, ring, settings)
    if grants.actor.id is not None:
        session.add(
            Membership(
                person_id=grants.actor.id,
                role=Role.ISSUER_ADMIN,
                scope_type=ScopeType.ISSUER,
                scope_id=issuer.id,
                created_by_id=grants.actor.author_id,
            )
        )
    session.flush()
    audit.record(
        session,
        grants.actor,
        "issuer.created",
        "issuer",
        issuer.id,
        {"name": issuer.name, "territory": str(territory_id) if territory_id else None},
        clock=settings.clock,
    )
    return issuer


def get_issuer(session: Session, grants: Grants, issuer_id: uuid.UUID) -> Issuer:
    require_caller(grants)
    issuer = session.get(Issuer, issuer_id)
    if issuer is None:
        raise NotFound("Issuer not found.")
    return issuer


def list_issuers(
    session: Session, grants: Grants, *, mine: bool = False, page: int = 1, per_page: int = 20
) -> Page[Issuer]:
    require_caller(grants)
    stmt = select(Issuer).order_by(Issuer.name, Issuer.id)
    if mine and not grants.platform_admin:
        stmt = stmt.where(Issuer.id.in_(grants.issuer_admin_of))
    return paginate(session, stmt, page, per_page)


def update_issuer(
    session: Session,
    grants: Grants,
    issuer_id: uuid.UUID,
    data: dict[str, Any],
    *,
    expected_version: int | None,
    settings: IssuingSettings,
) -> Issuer:
    """Edit the profile; credentials already issued keep the profile they were signed with."""
    issuer = get_issuer(session, grants, issuer_id)
    keys.check_issuer_admin(grants, issuer.id)
    check_version(issuer.version, expected_version, "issuer")
    for name in ("name", "url", "email", "description"):
        if name in data:
            setattr(issuer, name, data[name] if data[name] is not None or name == "email" else "")
    if "identifier" in data:  # from now on: credentials already issued keep their id
        try:
            issuer.identifier = IssuerIdentifier(data["identifier"])
        except ValueError:
            raise InvalidInput(
                "The identifier is 'https' or 'did:web'.",
                errors=[FieldError("#/identifier", "Choose 'https' or 'did:web'.")],
            ) from None
    flush_versioned(session, "issuer")
    audit.record(
        session, grants.actor, "issuer.updated", "issuer", issuer.id, {"fields": sorted(data)}, clock=settings.clock
    )
    return issuer


def set_issuer_image(
    session: Session,
    grants: Grants,
    issuer_id: uuid.UUID,
    stream: BinaryIO,
    *,
    storage: Storage,
    max_bytes: int,
    settings: IssuingSettings,
) -> Issuer:
    issuer = get_issuer(session, grants, issuer_id)
    keys.check_issuer_admin(grants, issuer.id)
    checked = images.check_image(stream, max_bytes)
    issuer.image_sha256 = images.store_image(session, storage, checked)
    session.flush()
    audit.record(
        session,
        grants.actor,
        "issuer.image_set",
        "issuer",
        issuer.id,
        {"sha256": issuer.image_sha256},
        clock=settings.clock,
    )
    return issuer


def list_keys(
    session: Session, grants: Grants, issuer_id: uuid.UUID, *, page: int = 1, per_page: int = 20
) -> Page[SigningKey]:
    issuer = get_issuer(session, grants, issuer_id)
    keys.check_issuer_admin(grants, issuer.id)
    return paginate(session, keys.issuer_keys_query(issuer.id), page, per_page)


def rotate_keys(
    session: Session, grants: Grants, issuer_id: uuid.UUID, purposes: Sequence[str] | None, *, settings: IssuingSettings
) -> list[SigningKey]:
    """New credentials use new keys; the old ones are retired, still published, still verifying."""
    get_issuer(session, grants, issuer_id)
    chosen = [KeyPurpose(p) for p in purposes] if purposes else None
    created = keys.rotate_keys(session, grants, issuer_id, chosen, settings.keks, clock=settings.clock)
    if any(row.purpose is KeyPurpose.DATA_INTEGRITY for row in created):
        # Status lists are re-signed on each change anyway; re-signing now keeps one key in use.
        resign_status_lists(session, issuer_id, settings)
    return created


def compromise_key(
    session: Session, grants: Grants, issuer_id: uuid.UUID, key_id: uuid.UUID, reason: str, *, settings: IssuingSettings
) -> SigningKey:
    """Flag a key compromised; status lists it may have signed are re-signed with a sound key."""
    get_issuer(session, grants, issuer_id)
    row = keys.mark_compromised(session, grants, issuer_id, key_id, reason, settings.keks, clock=settings.clock)
    if row.purpose is KeyPurpose.DATA_INTEGRITY:
        resign_status_lists(session, issuer_id, settings)
    return row
