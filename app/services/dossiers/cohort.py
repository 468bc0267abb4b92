"""Jury officers' cohort view: learners × blocs coverage for a certification they serve.

Only learners who consented to a dossier for the fiche (any version) appear: a jury officer sees no
one's standings without that consent.
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Competency, Dossier, DossierStatus, Framework, Person, Standing
from app.services.dossiers.build import competences_of, fiche_tree, state_of
from app.services.dossiers.scope import fiche_for_officer
from app.services.identity import audit
from app.services.identity.access import Grants


@dataclass
class BlocCoverage:
    bloc_id: uuid.UUID
    code: str | None
    label: str
    acquis: int
    partiellement: int
    non: int

    @property
    def total(self) -> int:
        return self.acquis + self.partiellement + self.non


@dataclass
class CohortRow:
    learner_id: uuid.UUID
    learner_name: str
    dossier_id: uuid.UUID
    blocs: list[BlocCoverage]


@dataclass
class Cohort:
    certification_id: uuid.UUID
    code: str | None
    title: str
    framework_version: int
    blocs: list[dict[str, Any]]
    items: list[CohortRow]


def cohort(session: Session, grants: Grants, fiche_id: uuid.UUID) -> Cohort:
    """Learners × blocs coverage for a certification, for the officers who serve it."""
    if not grants.platform_admin:  # the system (CLI) acts as platform administrator
        grants.person_id  # noqa: B018
    fiche, framework = fiche_for_officer(session, grants, fiche_id)
    dossiers = _consented_dossiers(session, framework)
    blocs, children = fiche_tree(session, fiche)
    per_bloc = {b.id: [c.id for c, _ in competences_of(b, children)] for b in blocs}
    learners = (
        {p.id: p.display_name for p in session.scalars(select(Person).where(Person.id.in_(dossiers)))}
        if dossiers
        else {}
    )
    standings = _standings(session, set(dossiers), {i for values in per_bloc.values() for i in values})
    rows = []
    for learner_id, dossier in sorted(dossiers.items(), key=lambda kv: (learners.get(kv[0], ""), str(kv[0]))):
        coverage = []
        for bloc in blocs:
            counts = {"acquis": 0, "partiellement": 0, "non": 0}
            for competency_id in per_bloc[bloc.id]:
                counts[state_of(standings.get((learner_id, competency_id)))] += 1
            coverage.append(BlocCoverage(bloc.id, bloc.code, bloc.label, **counts))
        rows.append(CohortRow(learner_id, learners.get(learner_id, ""), dossier.id, coverage))
    audit.record(session, grants.actor, "dossier.cohort_viewed", "certification", fiche.id, {"learners": len(rows)})
    return Cohort(
        fiche.id,
        fiche.code,
        fiche.label,
        framework.version,
        [{"id": b.id, "code": b.code, "label": b.label, "competences": len(per_bloc[b.id])} for b in blocs],
        rows,
    )


def _consented_dossiers(session: Session, framework: Framework) -> dict[uuid.UUID, Dossier]:
    """The latest consented dossier of each learner, for any version of the fiche."""
    versions = (
        select(Competency.id)
        .join(Framework, Framework.id == Competency.framework_id)
        .where(
            Competency.kind == "fiche",
            Framework.source_type == framework.source_type,
            Framework.source_key == framework.source_key,
        )
    )
    dossiers: dict[uuid.UUID, Dossier] = {}
    for dossier in session.scalars(
        select(Dossier)
        .where(
            Dossier.certification_id.in_(versions), Dossier.status.in_((DossierStatus.CONSENTED, DossierStatus.READY))
        )
        .order_by(Dossier.created_at, Dossier.id)
    ):
        dossiers[dossier.learner_id] = dossier
    return dossiers


def _standings(
    session: Session, learner_ids: set[uuid.UUID], competency_ids: set[uuid.UUID]
) -> dict[tuple[uuid.UUID, uuid.UUID], Standing]:
    if not learner_ids or not competency_ids:
        return {}
    return {
        (s.learner_id, s.competency_id): s
        for s in session.scalars(
            select(Standing).where(Standing.learner_id.in_(learner_ids), Standing.competency_id.in_(competency_ids))
        )
    }


def cohort_csv(data: Cohort) -> bytes:
    """One row per learner and bloc."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(
        ["apprenant_id", "apprenant", "bloc_code", "bloc_intitule", "acquis", "partiellement", "non", "total"]
    )
    for row in data.items:
        for bloc in row.blocs:
            writer.writerow(
                [
                    row.learner_id,
                    row.learner_name,
                    bloc.code or "",
                    bloc.label,
                    bloc.acquis,
                    bloc.partiellement,
                    bloc.non,
                    bloc.total,
                ]
            )
    return ("\ufeff" + out.getvalue()).encode()
