"""The learner's side: my badges, whether my name shows on their public pages, my share links."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Achievement, AchievementVersion, Credential, CredentialState, Issuer, Person
from app.platform.errors import Conflict, NotFound, check_version, flush_versioned
from app.platform.pagination import Page
from app.platform.urls import Urls
from app.services.identity import access, audit
from app.services.identity.access import Grants

VISIBLE_STATES = (CredentialState.ISSUED, CredentialState.SUSPENDED, CredentialState.REVOKED)


@dataclass
class Badge:
    """One of my credentials, with what a wallet page shows."""

    credential: Credential
    achievement_id: uuid.UUID
    version: int
    name: str
    issuer_id: uuid.UUID
    issuer_name: str
    show_name: bool
    verification_url: str
    short_url: str


def _badge(
    credential: Credential,
    version: AchievementVersion,
    achievement: Achievement,
    issuer: Issuer,
    learner: Person,
    urls: Urls,
) -> Badge:
    show = credential.show_name if credential.show_name is not None else bool(learner.show_name_publicly)
    return Badge(
        credential,
        achievement.id,
        version.version,
        version.name,
        issuer.id,
        issuer.name,
        show,
        urls.credential(credential.id),
        urls.short(credential.short_code),
    )


def my_badges(session: Session, grants: Grants, *, urls: Urls, page: int = 1, per_page: int = 20) -> Page[Badge]:
    """The caller's issued, suspended and revoked credentials, newest first (proposals are not theirs yet)."""
    learner = session.get(Person, grants.person_id)
    assert learner is not None
    mine = [Credential.learner_id == learner.id, Credential.state.in_(VISIBLE_STATES)]
    lent = access.lent_issuer_filter(session, grants)
    if lent is not None:
        mine.append(lent)
    base = (
        select(Credential, AchievementVersion, Achievement, Issuer)
        .join(AchievementVersion, AchievementVersion.id == Credential.achievement_version_id)
        .join(Achievement, Achievement.id == AchievementVersion.achievement_id)
        .join(Issuer, Issuer.id == Credential.issuer_id)
        .where(*mine)
    )
    total = (
        session.scalar(
            select(func.count()).select_from(Credential).join(Issuer, Issuer.id == Credential.issuer_id).where(*mine)
        )
        or 0
    )
    rows = session.execute(
        base.order_by(Credential.awarded_at.desc(), Credential.id).limit(per_page).offset((page - 1) * per_page)
    )
    return Page([_badge(c, v, a, i, learner, urls) for c, v, a, i in rows], total, page, per_page)


def _mine(session: Session, grants: Grants, credential_id: uuid.UUID) -> tuple[Credential, Person]:
    credential = session.get(Credential, credential_id)
    if credential is None or credential.learner_id != grants.person_id or credential.state not in VISIBLE_STATES:
        raise NotFound("Badge not found.")
    lent = access.lent_issuer_filter(session, grants)
    if lent is not None and session.scalar(select(Issuer.id).where(Issuer.id == credential.issuer_id, lent)) is None:
        raise NotFound("Badge not found.")  # a facilitator handles the badges of the territories lent to them
    learner = session.get(Person, credential.learner_id)
    assert learner is not None
    return credential, learner


def my_credential(session: Session, grants: Grants, credential_id: uuid.UUID) -> Credential:
    """One of my credentials (issued, suspended or revoked); anyone else's does not exist."""
    return _mine(session, grants, credential_id)[0]


def get_badge(session: Session, grants: Grants, credential_id: uuid.UUID, *, urls: Urls) -> Badge:
    credential, learner = _mine(session, grants, credential_id)
    version = session.get(AchievementVersion, credential.achievement_version_id)
    assert version is not None
    achievement = session.get(Achievement, version.achievement_id)
    issuer = session.get(Issuer, credential.issuer_id)
    assert achievement is not None and issuer is not None
    return _badge(credential, version, achievement, issuer, learner, urls)


def set_show_name(
    session: Session,
    grants: Grants,
    credential_id: uuid.UUID,
    show: bool | None,
    *,
    expected_version: int | None,
    urls: Urls,
) -> Badge:
    """Choose whether my name appears on this badge's public page (None: as my profile says)."""
    credential, _learner = _mine(session, grants, credential_id)
    check_version(credential.version, expected_version, "badge")
    credential.show_name = show
    flush_versioned(session, "badge")
    audit.record(session, grants.actor, "credential.name_visibility", "credential", credential.id, {"show": show})
    return get_badge(session, grants, credential_id, urls=urls)


def share_links(session: Session, grants: Grants, credential_id: uuid.UUID, *, urls: Urls) -> dict[str, Any]:
    """Links to share a badge: page, QR target, downloads, and LinkedIn's add-to-profile form."""
    badge = get_badge(session, grants, credential_id, urls=urls)
    credential = badge.credential
    if credential.state is CredentialState.REVOKED:
        raise Conflict("A revoked badge cannot be shared.")
    issued = credential.awarded_at
    linkedin = {
        "startTask": "CERTIFICATION_NAME",
        "name": badge.name,
        "organizationName": badge.issuer_name,
        "issueYear": issued.year,
        "issueMonth": issued.month,
        "certUrl": badge.verification_url,
        "certId": credential.short_code,
    }
    if credential.valid_until is not None:
        linkedin.update(expirationYear=credential.valid_until.year, expirationMonth=credential.valid_until.month)
    return {
        "verification_url": badge.verification_url,
        "short_url": badge.short_url,
        "qr_svg_url": urls.qr(credential.id, "svg"),
        "qr_png_url": urls.qr(credential.id, "png"),
        "ob3_json_url": badge.verification_url,
        "vc_jwt_url": urls.jwt(credential.id),
        "ob2_assertion_url": urls.ob2_assertion(credential.id),
        "baked_png_url": urls.baked(credential.id, "png"),
        "baked_svg_url": urls.baked(credential.id, "svg"),
        "baked_svg_ob2_url": urls.baked_ob2_svg(credential.id) if credential.ob2_jws else None,
        "linkedin_url": "https://www.linkedin.com/profile/add?" + urlencode(linkedin),
    }


@dataclass(frozen=True)
class NameChoice:
    """Whether my name shows on my badges' public pages, and whether I ever answered the question."""

    show: bool
    chosen: bool


def name_choice(session: Session, grants: Grants) -> NameChoice:
    """The caller's answer to "show my name on my badges' public pages?" (not chosen: never asked yet)."""
    learner = session.get(Person, grants.person_id)
    assert learner is not None
    return NameChoice(bool(learner.show_name_publicly), learner.show_name_chosen_at is not None)


def choose_name_display(session: Session, grants: Grants, show: bool, *, now: datetime) -> NameChoice:
    """Record whether my name shows on the public pages of my badges (a badge's own choice still wins)."""
    learner = session.get(Person, grants.person_id)
    assert learner is not None
    learner.show_name_publicly = show
    learner.show_name_chosen_at = now
    flush_versioned(session, "person")
    audit.record(session, grants.actor, "person.name_visibility", "person", learner.id, {"show": show})
    return NameChoice(show, True)


def badge_state(credential: Credential, now: datetime) -> str:
    """What a learner reads about a badge: ``valid``, ``expired``, ``suspended`` or ``revoked``."""
    if credential.state is CredentialState.REVOKED:
        return "revoked"
    if credential.state is CredentialState.SUSPENDED:
        return "suspended"
    if credential.valid_until is not None and now > credential.valid_until:
        return "expired"
    return "valid"
