"""The e-mails about a learner's badges: issued, revoked, suspended, valid again.

Each goes to the learner, or to the facilitators of an assisted learner without e-mail, in the
reader's language, and links to the badge in *Mes badges* (``/mes-badges/<id>``); the e-mail of a
new badge also gives its public page. The view asks for them right after the issuing service and
sends them once its unit of work has committed, like every e-mail (``app.platform.mail``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from app.models import AchievementVersion, Credential, CredentialState, Issuer, Person
from app.platform.i18n import translator
from app.platform.mail import Message
from app.services.identity.recipients import PageLinks, compose, lang, learners_recipients
from app.services.issuing.signing import IssuingSettings

_CHUNK = 500
T = TypeVar("T", AchievementVersion, Issuer, Person)


def _by_id(session: Session, model: type[T], ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, T]:
    ordered = sorted(set(ids))
    found: dict[uuid.UUID, T] = {}
    for start in range(0, len(ordered), _CHUNK):
        found.update(
            (row.id, row) for row in session.scalars(select(model).where(model.id.in_(ordered[start : start + _CHUNK])))
        )
    return found


def badges_issued(
    session: Session, credential_ids: Iterable[uuid.UUID], *, settings: IssuingSettings
) -> tuple[Message, ...]:
    """Tell each holder (or their facilitators) of a new badge: its name, its issuer, its pages.

    Reads only the columns it needs, a fixed number of queries per 500 credentials, so the e-mails
    of a bulk award of thousands are composed quickly without loading the signed documents.
    Credentials not issued (a proposal waiting for approval) are not announced.
    """
    ids = sorted(set(credential_ids))
    rows: list[Row[uuid.UUID, uuid.UUID, uuid.UUID, uuid.UUID]] = []
    for start in range(0, len(ids), _CHUNK):
        rows += session.execute(
            select(Credential.id, Credential.learner_id, Credential.issuer_id, Credential.achievement_version_id)
            .where(Credential.id.in_(ids[start : start + _CHUNK]), Credential.state == CredentialState.ISSUED)
            .order_by(Credential.awarded_at, Credential.id)
        ).all()
    versions = _by_id(session, AchievementVersion, (r.achievement_version_id for r in rows))
    issuers = _by_id(session, Issuer, (r.issuer_id for r in rows))
    learners = _by_id(session, Person, (r.learner_id for r in rows))
    recipients = learners_recipients(session, learners.values())
    links = PageLinks(settings.urls.base)
    messages: list[Message] = []
    for row in rows:
        values = {
            "badge": versions[row.achievement_version_id].name,
            "issuer": issuers[row.issuer_id].name,
            "learner": learners[row.learner_id].display_name,
            "public": settings.urls.credential(row.id),
        }
        link = links.my_badge(row.id)
        messages += [compose("badge_issued", r, values, link=link) for r in recipients[row.learner_id]]
    return tuple(messages)


def badge_status_changed(session: Session, credential: Credential, *, settings: IssuingSettings) -> tuple[Message, ...]:
    """Tell the holder (or their facilitators) their badge was revoked, suspended or is valid again."""
    kind, when = _status(credential, settings.clock())
    version = session.get(AchievementVersion, credential.achievement_version_id)
    issuer = session.get(Issuer, credential.issuer_id)
    learner = session.get(Person, credential.learner_id)
    assert version is not None and issuer is not None and learner is not None
    values = {
        "badge": version.name,
        "issuer": issuer.name,
        "learner": learner.display_name,
        "reason": credential.status_reason or "",
    }
    link = PageLinks(settings.urls.base).my_badge(credential.id)
    recipients = learners_recipients(session, [learner])[learner.id]
    return tuple(compose(kind, r, {**values, "date": translator(lang(r)).date(when)}, link=link) for r in recipients)


def _status(credential: Credential, now: datetime) -> tuple[str, datetime]:
    if credential.state is CredentialState.REVOKED:
        return "badge_revoked", credential.revoked_at or now
    if credential.state is CredentialState.SUSPENDED:
        return "badge_suspended", credential.suspended_at or now
    return "badge_reinstated", now
