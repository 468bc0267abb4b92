"""Two tutors deciding the same claim on two real connections: one wins, the other gets 409."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from app.models import (
    Claim,
    ClaimStatus,
    Competency,
    Contribution,
    ContributionStatus,
    DomainEvent,
    Framework,
    Membership,
    Person,
    Project,
    Review,
    Role,
    ScopeType,
    SourceType,
    Standing,
    Territory,
)
from app.platform.errors import Conflict
from app.services.identity import access
from app.services.identity.audit import verify_chain
from app.services.recognition import reviews
from tests.audit_support import audit_mark, restore_audit


@pytest.fixture()
def committed(engine) -> Iterator[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """A claim and two tutors committed for real, all removed afterwards (audit chain included)."""
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    with factory() as s:
        before = audit_mark(s)
        n = uuid.uuid4().hex[:8]
        learner, tutor_a, tutor_b = (
            Person(display_name=name, email=f"{name}{n}@example.org") for name in ("learner", "tutor-a", "tutor-b")
        )
        territory = Territory(name="Concurrence")
        framework = Framework(source_type=SourceType.CUSTOM, source_key=f"race-{n}", title="Course")
        s.add_all([learner, tutor_a, tutor_b, territory, framework])
        s.flush()
        project = Project(territory_id=territory.id, title="Course", social_functions=["produire"])
        competency = Competency(framework_id=framework.id, source_key="c", kind="competence", label="Courir")
        s.add_all([project, competency])
        s.flush()
        s.add_all(
            [
                Membership(person_id=p.id, role=Role.TUTOR, scope_type=ScopeType.PROJECT, scope_id=project.id)
                for p in (tutor_a, tutor_b)
            ]
        )
        contribution = Contribution(
            project_id=project.id,
            learner_id=learner.id,
            created_by_id=learner.id,
            title="Course",
            status=ContributionStatus.SUBMITTED,
        )
        s.add(contribution)
        s.flush()
        claim = Claim(
            contribution_id=contribution.id,
            project_id=project.id,
            competency_id=competency.id,
            learner_id=learner.id,
            justification="J'ai couru.",
            created_by_id=learner.id,
        )
        s.add(claim)
        s.commit()
        ids = {"claim": claim.id, "tutors": (tutor_a.id, tutor_b.id), "learner": learner.id}
        people = [learner.id, tutor_a.id, tutor_b.id]
    try:
        yield ids
    finally:
        with factory() as s:
            s.execute(delete(Standing).where(Standing.learner_id == learner.id))
            s.execute(delete(Review).where(Review.claim_id == claim.id))
            for event in s.scalars(select(DomainEvent).where(DomainEvent.kind == "standing.changed")):
                if event.payload.get("learner") == str(learner.id):
                    s.delete(event)
            s.execute(delete(Claim).where(Claim.id == claim.id))
            s.execute(delete(Contribution).where(Contribution.id == contribution.id))
            s.execute(delete(Membership).where(Membership.scope_id == project.id))
            s.execute(delete(Competency).where(Competency.id == competency.id))
            s.execute(delete(Framework).where(Framework.id == framework.id))
            s.execute(delete(Project).where(Project.id == project.id))
            s.execute(delete(Territory).where(Territory.id == territory.id))
            restore_audit(s, before)
            s.execute(delete(Person).where(Person.id.in_(people)))
            s.commit()


def decide(session: Session, tutor_id: uuid.UUID, claim_id: uuid.UUID, decision: str) -> None:
    grants = access.load_grants(session, tutor_id)
    data = {"decision": decision, "comment": f"Avis {decision}."}
    if decision == "validated":
        data["level"] = "acquis"
    reviews.review_claim(session, grants, claim_id, data, expected_version=1)
    session.commit()


def outcome_is_one_winner(engine, ids) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as check:
        claim = check.get(Claim, ids["claim"])
        decided = check.scalars(select(Review).where(Review.claim_id == ids["claim"])).all()
        assert len(decided) == 1 and claim.version == 2
        assert claim.status.value == decided[0].decision.value
        assert verify_chain(check).ok


def test_a_tutor_deciding_on_what_they_read_before_the_other_decided_gets_409(engine, committed):
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    tutor_a, tutor_b = committed["tutors"]
    with factory() as first, factory() as second:
        assert first.get(Claim, committed["claim"]).status is ClaimStatus.PENDING
        assert second.get(Claim, committed["claim"]).status is ClaimStatus.PENDING
        second.commit()  # the second tutor keeps the page they read open
        decide(first, tutor_a, committed["claim"], "validated")
        with pytest.raises(Conflict):
            decide(second, tutor_b, committed["claim"], "rejected")
        second.rollback()
    outcome_is_one_winner(engine, committed)


def test_two_tutors_deciding_at_the_same_moment(engine, committed):
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: the second would wait for the lock, not race")
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    barrier = threading.Barrier(2)
    results: dict[str, object] = {}

    def run(name: str, tutor_id: uuid.UUID, decision: str) -> None:
        with factory() as s:
            s.get(Claim, committed["claim"])
            barrier.wait()
            try:
                decide(s, tutor_id, committed["claim"], decision)
                results[name] = "won"
            except Conflict as exc:
                s.rollback()
                results[name] = exc

    threads = [
        threading.Thread(target=run, args=("a", committed["tutors"][0], "validated")),
        threading.Thread(target=run, args=("b", committed["tutors"][1], "needs_evidence")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(str(type(v).__name__) if v != "won" else "won" for v in results.values()) == ["Conflict", "won"]
    outcome_is_one_winner(engine, committed)
