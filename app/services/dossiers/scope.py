"""Who sees which dossier: jury officers are scoped to certifications, learners to their own.

A ``jury_officer`` membership on a fiche serves every imported version of that fiche (same RNCP
number). What an officer does not serve is answered 404, like everything a caller may not see.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Competency, Dossier, DossierStatus, Framework, SourceType
from app.platform.errors import NotFound, PermissionDenied
from app.services.identity.access import Grants


def get_fiche(session: Session, fiche_id: uuid.UUID) -> tuple[Competency, Framework]:
    """An imported RNCP fiche version, or NotFound."""
    fiche = session.get(Competency, fiche_id)
    framework = session.get(Framework, fiche.framework_id) if fiche is not None else None
    if fiche is None or framework is None or fiche.kind != "fiche" or framework.source_type is not SourceType.RNCP:
        raise NotFound("Certification not found: no imported RNCP fiche version has this id.")
    return fiche, framework


def serves(session: Session, grants: Grants, framework: Framework) -> bool:
    """Whether the caller is a jury officer of this fiche (any of its versions), or a platform admin."""
    if grants.platform_admin:
        return True
    if not grants.jury_officer_for:
        return False
    keys = session.execute(
        select(Framework.source_type, Framework.source_key)
        .join(Competency, Competency.framework_id == Framework.id)
        .where(Competency.id.in_(grants.jury_officer_for))
    )
    return (framework.source_type, framework.source_key) in {(t, k) for t, k in keys}


def fiche_for_officer(session: Session, grants: Grants, fiche_id: uuid.UUID) -> tuple[Competency, Framework]:
    """A fiche version the caller serves as jury officer, or NotFound."""
    fiche, framework = get_fiche(session, fiche_id)
    if not serves(session, grants, framework):
        raise NotFound("Certification not found: no imported RNCP fiche version has this id.")
    return fiche, framework


def get_dossier(session: Session, grants: Grants, dossier_id: uuid.UUID) -> Dossier:
    """A dossier for its learner (or their facilitator) and the officers of its certification."""
    if not grants.platform_admin:  # the system (CLI) acts as platform administrator
        grants.person_id  # noqa: B018
    dossier = session.get(Dossier, dossier_id)
    if dossier is None:
        raise NotFound("Dossier not found.")
    if dossier.learner_id == grants.actor.id:
        return dossier
    _fiche, framework = get_fiche(session, dossier.certification_id)
    if not serves(session, grants, framework):
        raise NotFound("Dossier not found.")
    return dossier


def served_fiche_ids(session: Session, grants: Grants) -> list[uuid.UUID]:
    """Every version of every fiche the caller serves as jury officer."""
    if not grants.jury_officer_for:
        return []
    keys = (
        select(Framework.source_type, Framework.source_key)
        .join(Competency, Competency.framework_id == Framework.id)
        .where(Competency.id.in_(grants.jury_officer_for))
    )
    pairs = {(t, k) for t, k in session.execute(keys)}
    rows = session.execute(
        select(Competency.id, Framework.source_type, Framework.source_key)
        .join(Framework, Framework.id == Competency.framework_id)
        .where(Competency.kind == "fiche", Framework.source_key.in_({k for _t, k in pairs}))
    )
    return [cid for cid, t, k in rows if (t, k) in pairs]


def require_consent(dossier: Dossier) -> None:
    """Refuse to generate or hand out a dossier its learner has not (or no longer) consented to."""
    if dossier.status is DossierStatus.AWAITING_CONSENT:
        raise PermissionDenied(
            "The learner has not consented to this dossier yet: they must accept the "
            "request (POST /dossiers/{id}/consent) before it can be generated or downloaded."
        )
    if dossier.status is DossierStatus.REFUSED:
        raise PermissionDenied(
            "The learner refused (or withdrew) consent to this dossier: it cannot be generated or downloaded."
        )
