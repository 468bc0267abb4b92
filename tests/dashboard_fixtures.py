"""The small world of the dashboard tests, counted by hand (a pytest plugin: the ``small`` fixture)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from app.models import (
    Achievement,
    AchievementVersion,
    Claim,
    ClaimStatus,
    ContributionStatus,
    Credential,
    CredentialState,
    Issuer,
    Project,
    Territory,
)

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def at(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 9, 30, tzinfo=UTC)


@dataclass
class Small:
    territory: Territory
    other: Territory
    p1: Project  # produire: 2 contributions (6.50 h), 2 validated
    p2: Project  # se nourrir + s'éduquer: 2 contributions (4.25 h), 1 validated
    p3: Project  # produire: nothing yet
    coordinator: Any
    other_coordinator: Any
    admin: Any
    tutor: Any


def make_claim(session: Any, world: Any, contribution: Any, competency: Any, status: ClaimStatus, **over: Any) -> Claim:
    claim = Claim(
        contribution_id=contribution.id,
        project_id=contribution.project_id,
        competency_id=competency.id,
        learner_id=world.learner.id,
        created_by_id=world.learner.id,
        justification="J'ai animé l'atelier.",
        status=status,
        **over,
    )
    session.add(claim)
    return claim


def make_badges(
    session: Any, world: Any, territory: Territory | None, *awards: tuple[CredentialState, datetime]
) -> None:
    issuer = Issuer(
        name="Émetteur", url="https://emetteur.example.fr", territory_id=territory.id if territory else None
    )
    session.add(issuer)
    session.flush()
    achievement = Achievement(issuer_id=issuer.id)
    session.add(achievement)
    session.flush()
    version = AchievementVersion(achievement_id=achievement.id, name="Badge", description="Un badge.")
    session.add(version)
    session.flush()
    for state, when in awards:
        session.add(
            Credential(
                issuer_id=issuer.id,
                achievement_version_id=version.id,
                learner_id=world.learner.id,
                state=state,
                short_code=uuid.uuid4().hex[:12],
                awarded_at=when,
            )
        )


@pytest.fixture()
def small(
    session, world, make_person, make_territory, make_project, make_contribution, make_framework, make_competency, grant
):  # type: ignore[no-untyped-def]
    t = world.territory
    p1 = world.project
    p2 = make_project(t, title="Jardin partagé", social_functions=["se_nourrir", "s_eduquer"])
    p3 = make_project(t, title="Atelier vélo", social_functions=["produire"])
    other = make_territory(name="Autre territoire")
    p4 = make_project(other, title="Ailleurs", social_functions=["produire", "se_loger"])

    submitted = ContributionStatus.SUBMITTED
    c1 = world.contribution
    c1.hours, c1.submitted_at = Decimal("2.5"), at(2026, 5, 10)
    make_contribution(world.learner, p1, status=submitted, hours=Decimal("4"), submitted_at=at(2026, 6, 1))
    c3 = make_contribution(world.learner, p2, status=submitted, hours=Decimal("3.25"), submitted_at=at(2026, 3, 20))
    make_contribution(world.learner, p2, hours=Decimal("10"))  # a draft: the learner's own, not counted
    make_contribution(world.learner, p2, status=submitted, hours=Decimal("1"), submitted_at=at(2024, 1, 5))
    c6 = make_contribution(world.learner, p4, status=submitted, hours=Decimal("100"), submitted_at=at(2026, 6, 2))

    comp2 = make_competency(world.framework, world.bloc, code="C1.2", label="Tenir un budget")
    other_fw = make_framework(title="Référentiel du jardin", version_label="v2")
    comp3 = make_competency(other_fw, None, code="J1", label="Cultiver")
    ok, wait = ClaimStatus.VALIDATED, ClaimStatus.PENDING
    make_claim(session, world, c1, world.competency, ok, decided_at=at(2026, 5, 12), created_at=at(2026, 5, 11))
    make_claim(session, world, c1, comp2, ok, decided_at=at(2026, 6, 2), created_at=at(2026, 6, 1))
    make_claim(session, world, c3, comp3, ok, decided_at=at(2026, 6, 3), created_at=at(2026, 6, 1))
    make_claim(session, world, c1, comp2, wait, created_at=NOW - timedelta(days=2))
    make_claim(session, world, c3, comp3, wait, created_at=NOW - timedelta(days=10))
    make_claim(session, world, c3, world.competency, wait, created_at=NOW - timedelta(days=45))
    make_claim(session, world, c1, comp3, ClaimStatus.REJECTED, decided_at=at(2026, 6, 4), created_at=at(2026, 6, 1))
    make_claim(session, world, c6, world.competency, ok, decided_at=at(2026, 6, 5), created_at=at(2026, 6, 1))
    make_claim(session, world, c6, comp2, wait, created_at=NOW - timedelta(days=1))

    make_badges(
        session,
        world,
        t,
        (CredentialState.ISSUED, at(2026, 6, 5)),
        (CredentialState.REVOKED, at(2026, 4, 1)),  # issued, then revoked: it was issued
        (CredentialState.PROPOSED, at(2026, 6, 6)),  # waiting for approval: not yet
        (CredentialState.ISSUED, at(2025, 1, 1)),  # before the window: in the total only
    )
    make_badges(session, world, other, (CredentialState.ISSUED, at(2026, 6, 7)))
    session.commit()

    coordinator = make_person(display_name="Hélène Coordinatrice")
    grant(coordinator, "coordinator", t)
    other_coordinator = make_person()
    grant(other_coordinator, "coordinator", other)
    admin = make_person()
    grant(admin, "platform_admin")
    return Small(t, other, p1, p2, p3, coordinator, other_coordinator, admin, world.tutor)
