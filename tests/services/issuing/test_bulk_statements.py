"""Bulk awards write in batches: the audit chain, the status list and the award data cost no statement per row.

Counted in SQL statements sent, not timed: what the benchmark's ratio depends on, asserted exactly.
"""

from __future__ import annotations

import io
import uuid

from sqlalchemy import event, select

from app.models import (
    AuditEvent,
    AuditHead,
    Claim,
    ClaimStatus,
    Contribution,
    Credential,
    Decision,
    Evidence,
    EvidenceKind,
    Person,
    Review,
    StatusList,
    StatusPurpose,
    Visibility,
)
from app.services.identity import audit
from app.services.issuing import award_scope, awarding, bulk
from tests.issuing_fixtures import Setup


def _people(session, n: int) -> list[Person]:  # type: ignore[no-untyped-def]
    tag = uuid.uuid4().hex[:6]
    people = [Person(display_name=f"Apprenant {i}", email=f"lot{i}-{tag}@example.fr") for i in range(n)]
    session.add_all(people)
    session.commit()
    return people


def _award(session, issuing: Setup, settings, people: list[Person]) -> bulk.BulkReport:  # type: ignore[no-untyped-def]
    lines = "email,achievement_id\n" + "".join(f"{p.email},{issuing.achievement.id}\n" for p in people)
    report = bulk.bulk_award(
        session,
        issuing.grants(session),
        issuing.issuer.id,
        io.BytesIO(lines.encode()),
        mode="all_or_nothing",
        settings=settings,
        max_bytes=10**6,
    )
    session.commit()
    return report


def _validated_claim(session, issuing: Setup, learner: Person, make_project, tutor: Person) -> None:  # type: ignore[no-untyped-def]
    """A contribution with public evidence and a claim on the achievement's first competency, validated."""
    project = make_project()
    contribution = Contribution(
        project_id=project.id, learner_id=learner.id, created_by_id=learner.id, title="Tenir le stand"
    )
    session.add(contribution)
    session.flush()
    session.add(
        Evidence(
            contribution_id=contribution.id,
            kind=EvidenceKind.LINK,
            title="Photos du stand",
            url="https://example.fr/stand",
            visibility=Visibility.PUBLIC,
            created_by_id=learner.id,
        )
    )
    claim = Claim(
        contribution_id=contribution.id,
        project_id=project.id,
        competency_id=issuing.competencies[0].id,
        learner_id=learner.id,
        justification="J'ai tenu le stand.",
        status=ClaimStatus.VALIDATED,
        created_by_id=learner.id,
    )
    session.add(claim)
    session.flush()
    session.add(Review(claim_id=claim.id, reviewer_id=tutor.id, decision=Decision.VALIDATED, comment="Bien."))
    session.commit()


def test_statements_do_not_grow_with_the_rows(session, issuing: Setup, settings, count_queries) -> None:
    small, large = _people(session, 10), _people(session, 60)
    counts = [
        count_queries(lambda people=people: _award(session, issuing, settings, people)) for people in (small, large)
    ]
    # 50 more credentials, not one more statement: events, credentials and the list are written in batches.
    assert counts[1] - counts[0] <= 1, counts
    assert max(counts) <= 25, counts  # reads, key loading, a few batched writes: 19 today
    assert audit.verify_chain(session).ok


def test_bulk_award_data_is_the_same_as_one_by_one(
    session, issuing: Setup, settings, make_project, make_person
) -> None:
    with_claim, without = _people(session, 2)
    _validated_claim(session, issuing, with_claim, make_project, make_person(display_name="Tina Tutrice"))
    report = _award(session, issuing, settings, [with_claim, without])
    assert report.issued == 2
    territories = award_scope.award_territories(session, issuing.issuer, issuing.grants(session))
    competencies = [c.id for c in issuing.competencies[:2]]
    for learner in (with_claim, without):
        credential = session.scalar(select(Credential).where(Credential.learner_id == learner.id))
        expected = awarding.gather_award_data(session, learner.id, competencies, settings.urls, territories=territories)
        assert credential.award_data == expected
    data = session.scalar(select(Credential.award_data).where(Credential.learner_id == with_claim.id))
    assert {e.get("id") for e in data["evidence"]} >= {"https://example.fr/stand"}
    assert len(data["validations"]) == 1


def test_a_bulk_award_appends_one_valid_chain_and_moves_the_head_once(session, issuing: Setup, settings) -> None:
    people = _people(session, 25)
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    start = session.get(AuditHead, 1).last_seq
    event.listen(session.get_bind(), "before_cursor_execute", seen)
    try:
        report = _award(session, issuing, settings, people)
    finally:
        event.remove(session.get_bind(), "before_cursor_execute", seen)
    assert report.issued == 25
    head = session.get(AuditHead, 1)
    events = list(session.scalars(select(AuditEvent).where(AuditEvent.seq > start).order_by(AuditEvent.seq)))
    assert [e.seq for e in events] == list(range(start + 1, start + 27))
    assert [e.action for e in events] == ["credential.issued"] * 25 + ["credential.bulk_awarded"]
    assert (head.last_seq, head.last_hash) == (events[-1].seq, events[-1].hash)
    assert audit.verify_chain(session).ok
    # The head is locked and read once, written once; the list written once.
    assert sum(s.startswith("SELECT audit_head") for s in statements) == 1
    assert sum(s.startswith("UPDATE audit_head") for s in statements) == 1
    assert sum(s.startswith("UPDATE status_lists") for s in statements) == 1
    revocation = session.scalar(
        select(StatusList).where(
            StatusList.issuer_id == issuing.issuer.id, StatusList.purpose == StatusPurpose.REVOCATION
        )
    )
    assert revocation.next_index == 25
