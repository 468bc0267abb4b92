"""Claims: who may claim what, editing with history, withdrawal, resubmission."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from app.models import AuditEvent, ClaimStatus, ContributionStatus, Evidence, EvidenceKind, Facilitation
from app.models.claims import ClaimRevision
from app.platform.errors import Conflict, InvalidInput, NotFound, PermissionDenied, PreconditionRequired
from app.services.identity.audit import verify_chain
from app.services.recognition import claims, reviews


def claim_data(world, **overrides):  # type: ignore[no-untyped-def]
    return {
        "contribution_id": world.contribution.id,
        "competency_id": world.competency.id,
        "justification": "J'ai animé la réunion du conseil de quartier.",
        "self_assessment": "acquis",
        **overrides,
    }


def test_a_learner_claims_a_competency_and_the_tutors_are_told(session, world, grants_of):
    outcome = claims.create_claim(session, grants_of(world.learner), claim_data(world))
    claim = outcome.value
    assert claim.status is ClaimStatus.PENDING and claim.project_id == world.project.id
    assert claims.stage(claim) == "review"
    revisions = session.scalars(select(ClaimRevision).where(ClaimRevision.claim_id == claim.id)).all()
    assert [(r.number, r.kind) for r in revisions] == [(1, "created")]
    assert {m.to for m in outcome.messages} == {world.tutor.email, world.tutor2.email}
    assert all("Animer une réunion publique" in m.subject for m in outcome.messages)
    assert session.scalar(select(AuditEvent.action).where(AuditEvent.subject_id == str(claim.id))) == "claim.created"


def test_claiming_an_unknown_competency_is_422(session, world, grants_of):
    with pytest.raises(InvalidInput) as err:
        claims.create_claim(session, grants_of(world.learner), claim_data(world, competency_id=uuid.uuid4()))
    assert err.value.errors[0].pointer == "#/competencyId"


def test_a_self_assessment_off_the_scale_is_422(session, world, grants_of):
    with pytest.raises(InvalidInput) as err:
        claims.create_claim(session, grants_of(world.learner), claim_data(world, self_assessment="expert"))
    assert err.value.errors[0].pointer == "#/selfAssessment"


def test_someone_elses_contribution_is_hidden_from_a_learner(session, world, grants_of, make_person, grant):
    other = make_person()
    grant(other, "learner", world.project)
    with pytest.raises(NotFound):
        claims.create_claim(session, grants_of(other), claim_data(world))


def test_a_tutor_cannot_claim_for_the_learner(session, world, grants_of):
    with pytest.raises(PermissionDenied):
        claims.create_claim(session, grants_of(world.tutor), claim_data(world))


def test_a_draft_contribution_cannot_be_claimed(session, world, grants_of, make_contribution):
    draft = make_contribution(world.learner, world.project)
    assert draft.status is ContributionStatus.DRAFT
    with pytest.raises(Conflict):
        claims.create_claim(session, grants_of(world.learner), claim_data(world, contribution_id=draft.id))


def test_the_same_competency_twice_on_one_contribution_is_a_conflict(session, world, grants_of):
    claims.create_claim(session, grants_of(world.learner), claim_data(world))
    with pytest.raises(Conflict):
        claims.create_claim(session, grants_of(world.learner), claim_data(world))


def test_a_facilitator_claims_for_an_assisted_learner(session, world, grants_of, make_person, grant):
    world.learner.is_assisted, world.learner.password_hash = True, None
    facilitator = make_person()
    grant(facilitator, "coordinator", world.territory)
    session.add(Facilitation(facilitator_id=facilitator.id, learner_id=world.learner.id))
    session.flush()
    claim = claims.create_claim(session, grants_of(facilitator, world.learner), claim_data(world)).value
    assert claim.learner_id == world.learner.id and claim.created_by_id == facilitator.id
    event = session.scalar(select(AuditEvent).where(AuditEvent.subject_id == str(claim.id)))
    assert event.actor_id == facilitator.id and event.on_behalf_of_id == world.learner.id


def test_edits_keep_every_revision_and_need_the_current_version(session, world, grants_of):
    learner = grants_of(world.learner)
    claim = claims.create_claim(session, learner, claim_data(world)).value
    with pytest.raises(PreconditionRequired):
        claims.update_claim(session, learner, claim.id, {"justification": "x"}, expected_version=None)
    claims.update_claim(session, learner, claim.id, {"justification": "Version deux"}, expected_version=1)
    with pytest.raises(Conflict):
        claims.update_claim(session, learner, claim.id, {"justification": "Trois"}, expected_version=1)
    revisions = session.scalars(
        select(ClaimRevision).where(ClaimRevision.claim_id == claim.id).order_by(ClaimRevision.number)
    ).all()
    assert [r.justification for r in revisions] == [claim_data(world)["justification"], "Version deux"]
    assert claim.version == 2


def test_a_reviewed_claim_can_no_longer_be_edited(session, world, grants_of):
    claim = claims.create_claim(session, grants_of(world.learner), claim_data(world)).value
    reviews.review_claim(
        session,
        grants_of(world.tutor),
        claim.id,
        {"decision": "needs_evidence", "comment": "Une photo ?"},
        expected_version=1,
    )
    with pytest.raises(Conflict):
        claims.update_claim(
            session, grants_of(world.learner), claim.id, {"justification": "x"}, expected_version=claim.version
        )


def test_withdrawal_keeps_the_claim_and_only_undecided_ones(session, world, grants_of, make_competency):
    learner = grants_of(world.learner)
    claim = claims.create_claim(session, learner, claim_data(world)).value
    claims.withdraw_claim(session, learner, claim.id, expected_version=1)
    assert claim.status is ClaimStatus.WITHDRAWN
    with pytest.raises(Conflict):
        claims.withdraw_claim(session, learner, claim.id, expected_version=claim.version)
    second = make_competency(world.framework)
    other = claims.create_claim(session, learner, claim_data(world, competency_id=second.id)).value
    reviews.review_claim(
        session,
        grants_of(world.tutor),
        other.id,
        {"decision": "validated", "level": "acquis", "comment": "Bien."},
        expected_version=1,
    )
    with pytest.raises(Conflict):
        claims.withdraw_claim(session, learner, other.id, expected_version=other.version)
    # withdrawn, it may be claimed again
    claims.create_claim(session, learner, claim_data(world))


def test_after_needs_evidence_the_learner_adds_evidence_or_explains(session, world, grants_of):
    learner, tutor = grants_of(world.learner), grants_of(world.tutor)
    claim = claims.create_claim(session, learner, claim_data(world)).value
    reviews.review_claim(
        session, tutor, claim.id, {"decision": "needs_evidence", "comment": "Une trace ?"}, expected_version=1
    )
    assert claim.status is ClaimStatus.NEEDS_EVIDENCE
    with pytest.raises(InvalidInput):
        claims.resubmit_claim(session, learner, claim.id, {}, expected_version=claim.version)
    outcome = claims.resubmit_claim(
        session, learner, claim.id, {"explanation": "Le compte rendu est en ligne."}, expected_version=claim.version
    )
    assert claim.status is ClaimStatus.PENDING and claim.round == 2
    assert {m.to for m in outcome.messages} == {world.tutor.email, world.tutor2.email}
    assert "complétée" in outcome.messages[0].subject
    kinds = session.scalars(
        select(ClaimRevision.kind).where(ClaimRevision.claim_id == claim.id).order_by(ClaimRevision.number)
    ).all()
    assert kinds == ["created", "resubmitted"]
    review = reviews.review_claim(
        session,
        tutor,
        claim.id,
        {"decision": "validated", "level": "maitrise", "comment": "Très clair."},
        expected_version=claim.version,
    ).value
    assert review.round == 2 and claim.status is ClaimStatus.VALIDATED


def test_new_evidence_is_enough_to_send_it_back(session, world, grants_of):
    learner = grants_of(world.learner)
    claim = claims.create_claim(session, learner, claim_data(world)).value
    reviews.review_claim(
        session,
        grants_of(world.tutor),
        claim.id,
        {"decision": "needs_evidence", "comment": "Une trace ?"},
        expected_version=1,
    )
    session.add(
        Evidence(
            contribution_id=world.contribution.id,
            kind=EvidenceKind.TEXT,
            title="Compte rendu",
            text="…",
            created_by_id=world.learner.id,
        )
    )
    session.flush()
    claims.resubmit_claim(session, learner, claim.id, {}, expected_version=claim.version)
    assert claim.status is ClaimStatus.PENDING
    assert verify_chain(session).ok
