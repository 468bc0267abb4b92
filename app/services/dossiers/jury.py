"""What a jury officer's pages need: the learners in their scope, the dossiers of the certifications
they serve (with names, certification and what the learner answered), and the request of a dossier.

A jury officer's scope is their certifications (every version of each fiche they serve, see
``scope``). The learners in it are those who claimed a competency of one of those fiches, or for
whom a dossier of one of them was already asked: a jury officer finds no one else, and a learner
outside the scope is answered 404 like anything a caller may not see. Someone who serves no
certification is refused (403): these pages are not theirs.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.models import AuditEvent, Claim, Competency, Dossier, DossierStatus, Framework, Person
from app.platform.errors import NotFound, PermissionDenied
from app.platform.pagination import LIKE_ESCAPE, Page, contains_pattern, paginate
from app.services.dossiers.lifecycle import request_dossier
from app.services.dossiers.scope import get_fiche, served_fiche_ids, serves
from app.services.identity.access import Grants

__all__ = [
    "Certification",
    "DossierRow",
    "Refusal",
    "certifications",
    "dossier_for_officer",
    "dossier_rows",
    "awaiting_consent",
    "find_learners",
    "known_dossier",
    "learner_in_scope",
    "officer_dossiers",
    "request_for_learner",
    "require_officer",
]


@dataclass(frozen=True)
class Certification:
    """A certification the officer serves, in its latest imported version."""

    id: uuid.UUID
    code: str | None
    label: str
    version: int
    version_label: str | None


@dataclass(frozen=True)
class Refusal:
    at: datetime
    reason: str | None


@dataclass(frozen=True)
class DossierRow:
    """A dossier with the words a page shows about it."""

    dossier: Dossier
    learner_name: str
    requester_name: str
    certification_code: str | None
    certification_label: str
    refusal: Refusal | None


def require_officer(grants: Grants) -> None:
    """These pages are for jury officers: anyone serving no certification is refused."""
    grants.person_id  # noqa: B018  (signed in, or Unauthenticated)
    if not grants.jury_officer_for or grants.actor.acting_for:
        raise PermissionDenied("Only jury officers (of at least one certification) use these pages.")


def certifications(session: Session, grants: Grants) -> list[Certification]:
    """The certifications the officer serves, each in its latest version, by code."""
    require_officer(grants)
    ids = served_fiche_ids(session, grants)
    latest: dict[str, Certification] = {}
    if ids:
        rows = session.execute(
            select(Competency, Framework)
            .join(Framework, Framework.id == Competency.framework_id)
            .where(Competency.id.in_(ids))
        )
        for fiche, framework in rows:
            known = latest.get(framework.source_key)
            if known is None or framework.version > known.version:
                latest[framework.source_key] = Certification(
                    fiche.id, fiche.code, fiche.label, framework.version, framework.version_label
                )
    return sorted(latest.values(), key=lambda c: (c.code or "", c.label))


def _in_scope(fiche_ids: list[uuid.UUID]) -> ColumnElement[bool]:
    """People who claimed a competency of these fiches, or for whom a dossier of them was asked."""
    frameworks = select(Competency.framework_id).where(Competency.id.in_(fiche_ids))
    claimed = (
        select(Claim.learner_id)
        .join(Competency, Competency.id == Claim.competency_id)
        .where(Competency.framework_id.in_(frameworks))
    )
    asked = select(Dossier.learner_id).where(Dossier.certification_id.in_(fiche_ids))
    return or_(Person.id.in_(claimed), Person.id.in_(asked))


def find_learners(
    session: Session, grants: Grants, q: str | None = None, *, page: int = 1, per_page: int = 20
) -> Page[Person]:
    """The learners in the officer's scope whose name or e-mail contains ``q``, by name."""
    require_officer(grants)
    fiche_ids = served_fiche_ids(session, grants)
    if not fiche_ids:
        return Page([], 0, page, per_page)
    stmt = select(Person).where(Person.is_active.is_(True), _in_scope(fiche_ids))
    if q and q.strip():
        pattern = contains_pattern(q.strip().lower())
        stmt = stmt.where(
            or_(Person.display_name.ilike(pattern, escape=LIKE_ESCAPE), Person.email.ilike(pattern, escape=LIKE_ESCAPE))
        )
    return paginate(session, stmt.order_by(Person.display_name, Person.id), page, per_page)


def learner_in_scope(session: Session, grants: Grants, learner_id: uuid.UUID) -> Person:
    """A learner the officer may ask a dossier for, or NotFound."""
    require_officer(grants)
    fiche_ids = served_fiche_ids(session, grants)
    person = (
        session.scalar(select(Person).where(Person.id == learner_id, Person.is_active.is_(True), _in_scope(fiche_ids)))
        if fiche_ids
        else None
    )
    if person is None:
        raise NotFound("Learner not found.")
    return person


def request_for_learner(
    session: Session,
    grants: Grants,
    learner_id: uuid.UUID,
    certification_id: uuid.UUID,
    *,
    clock: Callable[[], datetime] = utcnow,
) -> Dossier:
    """Ask a learner in scope for their dossier for a certification the officer serves (consent awaited)."""
    learner = learner_in_scope(session, grants, learner_id)
    return request_dossier(
        session, grants, {"learner_id": learner.id, "certification_id": certification_id}, clock=clock
    )


def dossier_for_officer(session: Session, grants: Grants, dossier_id: uuid.UUID) -> Dossier:
    """A dossier of a certification the officer serves, or NotFound (their own included: not the jury's)."""
    require_officer(grants)
    dossier = session.get(Dossier, dossier_id)
    if dossier is None:
        raise NotFound("Dossier not found.")
    _fiche, framework = get_fiche(session, dossier.certification_id)
    if not serves(session, grants, framework):
        raise NotFound("Dossier not found.")
    return dossier


def officer_dossiers(
    session: Session,
    grants: Grants,
    *,
    learner_id: uuid.UUID | None = None,
    certification_id: uuid.UUID | None = None,
    page: int = 1,
    per_page: int = 20,
) -> Page[DossierRow]:
    """The dossiers of the certifications the officer serves, newest first, with their words."""
    require_officer(grants)
    fiche_ids = served_fiche_ids(session, grants)
    if not fiche_ids:
        return Page([], 0, page, per_page)
    stmt = select(Dossier).where(Dossier.certification_id.in_(fiche_ids))
    if learner_id is not None:
        stmt = stmt.where(Dossier.learner_id == learner_id)
    if certification_id is not None:
        stmt = stmt.where(Dossier.certification_id == certification_id)
    found = paginate(session, stmt.order_by(Dossier.created_at.desc(), Dossier.id), page, per_page)
    ordered = sorted(found.items, key=lambda d: (d.created_at, d.id.hex), reverse=True)
    return Page(dossier_rows(session, ordered), found.total, found.page, found.per_page)


def dossier_rows(session: Session, dossiers: list[Dossier]) -> list[DossierRow]:
    """Names, certification and the learner's refusal (with their reason) of each dossier, in a few queries."""
    if not dossiers:
        return []
    people = {d.learner_id for d in dossiers} | {d.requested_by_id for d in dossiers}
    names: dict[uuid.UUID, str] = {
        pid: name for pid, name in session.execute(select(Person.id, Person.display_name).where(Person.id.in_(people)))
    }
    fiches = {
        c.id: c
        for c in session.scalars(select(Competency).where(Competency.id.in_({d.certification_id for d in dossiers})))
    }
    refusals = _refusals(session, [d.id for d in dossiers if d.status is DossierStatus.REFUSED])
    return [
        DossierRow(
            d,
            names.get(d.learner_id, ""),
            names.get(d.requested_by_id, ""),
            fiches[d.certification_id].code if d.certification_id in fiches else None,
            fiches[d.certification_id].label if d.certification_id in fiches else "",
            refusals.get(d.id),
        )
        for d in dossiers
    ]


def _refusals(session: Session, dossier_ids: list[uuid.UUID]) -> dict[uuid.UUID, Refusal]:
    """The last refusal of each dossier, as the audit recorded it (when, and the learner's reason)."""
    if not dossier_ids:
        return {}
    found: dict[uuid.UUID, Refusal] = {}
    for event in session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "dossier.refused", AuditEvent.subject_id.in_([str(i) for i in dossier_ids]))
        .order_by(AuditEvent.seq)
    ):
        reason = (event.data or {}).get("reason")
        found[uuid.UUID(event.subject_id or "")] = Refusal(
            event.occurred_at, reason if isinstance(reason, str) else None
        )
    return found


def known_dossier(session: Session, grants: Grants, dossier_id: str | None) -> DossierRow | None:
    """The dossier a checked ZIP names, when it is one of the officer's certifications (else nothing)."""
    try:
        wanted = uuid.UUID(dossier_id or "")
    except ValueError:
        return None
    dossier = session.get(Dossier, wanted)
    if dossier is None:
        return None
    fiche = session.get(Competency, dossier.certification_id)
    framework = session.get(Framework, fiche.framework_id) if fiche is not None else None
    if framework is None or not serves(session, grants, framework):
        return None
    return dossier_rows(session, [dossier])[0]


def awaiting_consent(session: Session, grants: Grants) -> int:
    """The learner's side: how many dossiers a jury officer asked of them wait for their answer."""
    return (
        session.scalar(
            select(func.count())
            .select_from(Dossier)
            .where(Dossier.learner_id == grants.person_id, Dossier.status == DossierStatus.AWAITING_CONSENT)
        )
        or 0
    )
