"""What an issuer administrator's pages read: the issuers one administers and their figures, and
the issuer or achievement a page is about, answered as unknown when it is another issuer's.

The API lets anyone signed in read an issuer's public profile and answers 403 to a change; the
administration pages are private: a person administering no issuer gets 403 (the pages are not
for them), an issuer administrator asking for another issuer's page (or one of its achievements
or keys) gets 404, as for an unknown id.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import String, cast, func, select
from sqlalchemy.orm import Session

from app.models import Achievement, AchievementVersion, Credential, CredentialState, Issuer, SigningKey
from app.platform.errors import NotFound, PermissionDenied
from app.platform.pagination import LIKE_ESCAPE, Page, contains_pattern, paginate
from app.platform.urls import Urls
from app.services.identity.access import Grants
from app.services.issuing import issuers
from app.services.issuing.keys import require_caller
from app.services.issuing.signing import issuer_identifier


def require_issuer_administrator(grants: Grants) -> None:
    """Only issuer administrators (of any issuer) and platform administrators use these pages."""
    require_caller(grants)
    if not (grants.platform_admin or grants.issuer_admin_of):
        raise PermissionDenied("These pages are for issuer administrators.")


def managed_issuer(session: Session, grants: Grants, issuer_id: uuid.UUID) -> Issuer:
    """The issuer, if the caller administers it; another issuer is answered as an unknown one."""
    require_issuer_administrator(grants)
    issuer = session.get(Issuer, issuer_id)
    if issuer is None or not (grants.platform_admin or issuer.id in grants.issuer_admin_of):
        raise NotFound("Issuer not found.")
    return issuer


def managed_achievement(session: Session, grants: Grants, achievement_id: uuid.UUID) -> Achievement:
    """The achievement, if the caller administers its issuer (else 404, as for an unknown id)."""
    require_issuer_administrator(grants)
    achievement = session.get(Achievement, achievement_id)
    if achievement is None or not (grants.platform_admin or achievement.issuer_id in grants.issuer_admin_of):
        raise NotFound("Achievement not found.")
    return achievement


def managed_key(session: Session, grants: Grants, issuer_id: uuid.UUID, key_id: uuid.UUID) -> SigningKey:
    """One of the keys of an issuer the caller administers (its public parts only are ever shown)."""
    issuer = managed_issuer(session, grants, issuer_id)
    key = session.get(SigningKey, key_id)
    if key is None or key.issuer_id != issuer.id:
        raise NotFound("Key not found.")
    return key


@dataclass(frozen=True)
class PublishedIds:
    """The addresses an issuer's keys and identifiers are published at (shown on its profile page)."""

    https: str  # the issuer id: controller document (Multikeys) and OB 3.0 profile
    did: str  # its did:web, derived from the public base URL
    did_document: str  # where did:web resolution fetches the DID document
    jwks: str  # every public key as a JWK Set
    chosen: str  # what new OB 3.0 credentials carry: the https id or the did:web


def published_ids(issuer: Issuer, urls: Urls) -> PublishedIds:
    return PublishedIds(
        https=urls.issuer(issuer.id),
        did=urls.issuer_did(issuer.id),
        did_document=urls.did_document(issuer.id),
        jwks=urls.jwks(issuer.id),
        chosen=issuer_identifier(issuer, urls),
    )


@dataclass(frozen=True)
class IssuerFigures:
    issuer: Issuer
    achievements: int
    waiting: int  # proposed awards waiting for approval
    issued: int  # badges issued and still held (issued or suspended)


def administered_issuers(session: Session, grants: Grants, *, page: int = 1, per_page: int = 20) -> Page[IssuerFigures]:
    """The issuers one administers (every issuer for a platform administrator), with their figures."""
    require_issuer_administrator(grants)
    found = issuers.list_issuers(session, grants, mine=True, page=page, per_page=per_page)
    ids = [i.id for i in found.items]
    achievements: dict[uuid.UUID, int] = {
        issuer_id: count
        for issuer_id, count in session.execute(
            select(Achievement.issuer_id, func.count())
            .where(Achievement.issuer_id.in_(ids), Achievement.is_archived.is_(False))
            .group_by(Achievement.issuer_id)
        )
    }
    states: dict[tuple[uuid.UUID, CredentialState], int] = {
        (issuer_id, state): count
        for issuer_id, state, count in session.execute(
            select(Credential.issuer_id, Credential.state, func.count())
            .where(
                Credential.issuer_id.in_(ids),
                Credential.state.in_([CredentialState.PROPOSED, CredentialState.ISSUED, CredentialState.SUSPENDED]),
            )
            .group_by(Credential.issuer_id, Credential.state)
        )
    }
    items = [
        IssuerFigures(
            issuer,
            achievements.get(issuer.id, 0),
            states.get((issuer.id, CredentialState.PROPOSED), 0),
            states.get((issuer.id, CredentialState.ISSUED), 0) + states.get((issuer.id, CredentialState.SUSPENDED), 0),
        )
        for issuer in found.items
    ]
    return Page(items, found.total, found.page, found.per_page)


def credentials_signed_with(session: Session, key: SigningKey) -> int:
    """How many of the issuer's credentials (in any state) this key signed."""
    return (
        session.scalar(
            select(func.count())
            .select_from(Credential)
            .where(
                Credential.issuer_id == key.issuer_id,
                cast(Credential.signing_key_ids, String).like(contains_pattern(str(key.id)), escape=LIKE_ESCAPE),
            )
        )
        or 0
    )


def achievement_versions(
    session: Session, grants: Grants, achievement_id: uuid.UUID, *, page: int = 1, per_page: int = 20
) -> Page[AchievementVersion]:
    """The versions of a managed achievement, newest first, with their dates (created, first awarded)."""
    achievement = managed_achievement(session, grants, achievement_id)
    return paginate(
        session,
        select(AchievementVersion)
        .where(AchievementVersion.achievement_id == achievement.id)
        .order_by(AchievementVersion.version.desc()),
        page,
        per_page,
    )
