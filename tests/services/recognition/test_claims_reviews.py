"""Tutor decisions, rating scales, the second-review rule, standings and their domain events."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from app.models import AuditEvent, Claim, ClaimStatus, DomainEvent, RatingScale, Review, Standing, Territory
from app.platform.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from app.services.identity.audit import verify_chain
from app.services.recognition import claims, reviews, scales

VALIDATE = {"decision": "validated", "level": "acquis", "comment": "Réunion bien menée."}


def new_claim(session, world, grants_of, competency=None, contribution=None):  # type: ignore[no-untyped-def]
    return claims.create_claim(
        session,
        grants_of(world.learner),
        {
            "contribution_id": (contribution or world.contribution).id,
            "competency_id": (competency or world.competency).id,
            "justification": "Voir le compte rendu.",
        },
    ).value


def events(session, world):  # type: ignore[no-untyped-def]
    return [
        e
        for e in session.scalars(
            select(DomainEvent).where(DomainEvent.kind == "standing.changed").order_by(DomainEvent.id)
        )
        if e.payload["learner"] == str(world.learner.id)
    ]


def test_validation_sets_the_standing_and_records_everything(session, world, grants_of):
    claim = new_claim(session, world, grants_of)
    outcome = reviews.review_claim(session, grants_of(world.tutor), claim.id, VALIDATE, expected_version=1)
    review = outcome.value
    assert claim.status is ClaimStatus.VALIDATED and claim.level == "acquis"
    assert review.proficient is True and review.level_rank == 2 and review.final
    standing = session.scalar(select(Standing).where(Standing.learner_id == world.learner.id))
    assert (standing.level, standing.state, standing.proficient) == ("acquis", "validated", True)
    assert standing.decided_by_id == world.tutor.id and standing.review_id == review.id
    [event] = events(session, world)
    assert event.payload["level"] == "acquis" and event.payload["proficient"] is True
    assert event.payload["competency"] == str(world.competency.id) and event.payload["previous"] is None
    assert event in session.scalars(select(DomainEvent).where(DomainEvent.processed_at.is_(None)))  # awarding's input
    audit = session.scalar(
        select(AuditEvent).where(AuditEvent.action == "review.validated", AuditEvent.subject_id == str(claim.id))
    )
    assert audit.data["comment"] == "Réunion bien menée." and audit.actor_id == world.tutor.id
    assert [m.to for m in outcome.messages] == [world.learner.email]
    assert "Compétence validée" in outcome.messages[0].subject and "« acquis »" in outcome.messages[0].body
    assert verify_chain(session).ok


@pytest.mark.parametrize(
    "data, pointer",
    [
        ({"decision": "validated", "level": "acquis", "comment": "   "}, "#/comment"),
        ({"decision": "validated", "level": "expert", "comment": "Bien."}, "#/level"),
        ({"decision": "validated", "comment": "Bien."}, "#/level"),
        ({"decision": "rejected", "level": "acquis", "comment": "Non."}, "#/level"),
    ],
)
def test_a_bad_decision_is_422_and_changes_nothing(session, world, grants_of, data, pointer):
    claim = new_claim(session, world, grants_of)
    with pytest.raises(InvalidInput) as err:
        reviews.review_claim(session, grants_of(world.tutor), claim.id, data, expected_version=1)
    assert err.value.errors[0].pointer == pointer
    assert claim.status is ClaimStatus.PENDING
    assert session.scalar(select(Review).where(Review.claim_id == claim.id)) is None


def test_reviewing_outside_ones_projects_is_404(session, world, grants_of, make_person, make_project, grant):
    stranger = make_person()
    grant(stranger, "tutor", make_project())
    claim = new_claim(session, world, grants_of)
    with pytest.raises(NotFound):
        reviews.review_claim(session, grants_of(stranger), claim.id, VALIDATE, expected_version=1)


def test_a_coordinator_sees_but_does_not_decide(session, world, grants_of, make_person, grant):
    coordinator = make_person()
    grant(coordinator, "coordinator", world.territory)
    claim = new_claim(session, world, grants_of)
    with pytest.raises(PermissionDenied):
        reviews.review_claim(session, grants_of(coordinator), claim.id, VALIDATE, expected_version=1)


def test_a_tutor_never_reviews_their_own_claim(session, world, grants_of, grant, make_contribution):
    from app.models import ContributionStatus

    grant(world.tutor, "learner", world.project)
    own = make_contribution(world.tutor, world.project, status=ContributionStatus.SUBMITTED)
    claim = claims.create_claim(
        session,
        grants_of(world.tutor),
        {"contribution_id": own.id, "competency_id": world.competency.id, "justification": "Moi."},
    ).value
    with pytest.raises(PermissionDenied):
        reviews.review_claim(session, grants_of(world.tutor), claim.id, VALIDATE, expected_version=1)
    reviews.review_claim(session, grants_of(world.tutor2), claim.id, VALIDATE, expected_version=1)


def test_a_decided_claim_cannot_be_decided_again(session, world, grants_of):
    claim = new_claim(session, world, grants_of)
    reviews.review_claim(session, grants_of(world.tutor), claim.id, VALIDATE, expected_version=1)
    with pytest.raises(Conflict):
        reviews.review_claim(
            session,
            grants_of(world.tutor2),
            claim.id,
            {"decision": "rejected", "comment": "Non."},
            expected_version=claim.version,
        )


def test_a_stale_version_is_a_conflict(session, world, grants_of):
    claim = new_claim(session, world, grants_of)
    claims.update_claim(session, grants_of(world.learner), claim.id, {"justification": "Nouveau"}, expected_version=1)
    with pytest.raises(Conflict):
        reviews.review_claim(session, grants_of(world.tutor), claim.id, VALIDATE, expected_version=1)


def test_a_concurrent_change_under_the_loaded_row_is_a_conflict(session, world, grants_of):
    claim = new_claim(session, world, grants_of)
    # Another transaction decided meanwhile: the row's version moved under the object we hold.
    session.execute(
        update(Claim)
        .where(Claim.id == claim.id)
        .values(version=2, status=ClaimStatus.REJECTED)
        .execution_options(synchronize_session=False)
    )
    with pytest.raises(Conflict):
        reviews.review_claim(session, grants_of(world.tutor), claim.id, VALIDATE, expected_version=1)


def test_the_second_review_rule_of_a_framework(session, world, grants_of, make_person, grant):
    world.framework.requires_second_review = True
    claim = new_claim(session, world, grants_of)
    first = reviews.review_claim(session, grants_of(world.tutor), claim.id, VALIDATE, expected_version=1)
    assert claim.status is ClaimStatus.PENDING and claims.stage(claim) == "second_review"
    assert first.value.final is False
    assert [m.to for m in first.messages] == [world.tutor2.email]  # the other tutor, not the learner
    assert session.scalar(select(Standing).where(Standing.learner_id == world.learner.id)) is None
    with pytest.raises(PermissionDenied):
        reviews.review_claim(session, grants_of(world.tutor), claim.id, VALIDATE, expected_version=claim.version)
    with pytest.raises(Conflict):  # the learner's text is frozen once reviewed
        claims.update_claim(
            session, grants_of(world.learner), claim.id, {"justification": "x"}, expected_version=claim.version
        )
    reviews.review_claim(
        session,
        grants_of(world.tutor2),
        claim.id,
        {"decision": "validated", "level": "maitrise", "comment": "Je confirme, et plus."},
        expected_version=claim.version,
    )
    assert claim.status is ClaimStatus.VALIDATED and claim.level == "maitrise"
    standing = session.scalar(select(Standing).where(Standing.learner_id == world.learner.id))
    assert standing.level == "maitrise" and standing.decided_by_id == world.tutor2.id
    assert len(session.scalars(select(Review).where(Review.claim_id == claim.id)).all()) == 2


def test_the_second_review_rule_of_a_territory(session, world, grants_of, make_person, grant):
    coordinator = make_person()
    grant(coordinator, "coordinator", world.territory)
    scales.set_territory_rules(session, grants_of(coordinator), world.territory.id, {"requires_second_review": True})
    claim = new_claim(session, world, grants_of)
    reviews.review_claim(session, grants_of(world.tutor), claim.id, VALIDATE, expected_version=1)
    assert claims.stage(claim) == "second_review"
    with pytest.raises(PermissionDenied):
        scales.set_territory_rules(
            session, grants_of(world.tutor), world.territory.id, {"requires_second_review": False}
        )


def test_a_framework_scale_replaces_the_default(session, world, grants_of, make_person, grant):
    admin = make_person()
    grant(admin, "platform_admin")
    scales.set_framework_rules(
        session,
        grants_of(admin),
        world.framework.id,
        {
            "scale": {
                "name": "Trois niveaux",
                "levels": [
                    {"code": "debutant", "label_fr": "débutant", "proficient": False},
                    {"code": "autonome", "label_fr": "autonome", "label_en": "autonomous", "proficient": True},
                    {"code": "expert", "label_fr": "expert", "proficient": True},
                ],
            }
        },
    )
    claim = new_claim(session, world, grants_of)
    with pytest.raises(InvalidInput):
        reviews.review_claim(session, grants_of(world.tutor), claim.id, VALIDATE, expected_version=1)
    review = reviews.review_claim(
        session,
        grants_of(world.tutor),
        claim.id,
        {"decision": "validated", "level": "autonome", "comment": "Oui."},
        expected_version=1,
    ).value
    assert review.proficient is True and review.level_rank == 1


def test_a_territory_scale_applies_to_frameworks_without_one(session, world, grants_of, make_person, grant):
    coordinator = make_person()
    grant(coordinator, "coordinator", world.territory)
    rules = scales.set_territory_rules(
        session,
        grants_of(coordinator),
        world.territory.id,
        {
            "scale": {
                "name": "Local",
                "levels": [{"code": "non", "label_fr": "non"}, {"code": "oui", "label_fr": "oui", "proficient": True}],
            }
        },
    )
    assert [lv.code for lv in rules.scale.levels] == ["non", "oui"]
    assert session.scalar(select(RatingScale).where(RatingScale.territory_id == world.territory.id)) is not None
    claim = new_claim(session, world, grants_of)
    review = reviews.review_claim(
        session,
        grants_of(world.tutor),
        claim.id,
        {"decision": "validated", "level": "oui", "comment": "Oui."},
        expected_version=1,
    ).value
    assert review.proficient is True


@pytest.mark.parametrize(
    "levels",
    [
        [{"code": "a", "label_fr": "a", "proficient": True}],
        [{"code": "a", "label_fr": "a"}, {"code": "a", "label_fr": "b", "proficient": True}],
        [{"code": "a", "label_fr": "a", "proficient": True}, {"code": "b", "label_fr": "b"}],
        [{"code": "a", "label_fr": "a"}, {"code": "b", "label_fr": "b"}],
    ],
)
def test_an_unusable_scale_is_refused(session, world, grants_of, make_person, grant, levels):
    coordinator = make_person()
    grant(coordinator, "coordinator", world.territory)
    with pytest.raises(InvalidInput):
        scales.set_territory_rules(
            session, grants_of(coordinator), world.territory.id, {"scale": {"name": "x", "levels": levels}}
        )


def test_the_standing_keeps_the_highest_level_and_every_change_is_an_event(
    session, world, grants_of, make_contribution
):
    from app.models import ContributionStatus

    tutor = grants_of(world.tutor)
    first = new_claim(session, world, grants_of)
    reviews.review_claim(
        session,
        tutor,
        first.id,
        {"decision": "validated", "level": "en_cours", "comment": "Début."},
        expected_version=1,
    )
    second_contribution = make_contribution(world.learner, world.project, status=ContributionStatus.SUBMITTED)
    second = new_claim(session, world, grants_of, contribution=second_contribution)
    reviews.review_claim(
        session,
        grants_of(world.tutor2),
        second.id,
        {"decision": "validated", "level": "maitrise", "comment": "Excellent."},
        expected_version=1,
    )
    third_contribution = make_contribution(world.learner, world.project, status=ContributionStatus.SUBMITTED)
    third = new_claim(session, world, grants_of, contribution=third_contribution)
    reviews.review_claim(
        session, tutor, third.id, {"decision": "rejected", "comment": "Hors sujet."}, expected_version=1
    )
    standing = session.scalar(select(Standing).where(Standing.learner_id == world.learner.id))
    assert (standing.level, standing.proficient, standing.decided_by_id) == ("maitrise", True, world.tutor2.id)
    changes = events(session, world)
    assert [(e.payload["level"], e.payload["proficient"]) for e in changes] == [("en_cours", False), ("maitrise", True)]
    assert changes[1].payload["previous"] == {"level": "en_cours", "state": "validated", "proficient": False}


def test_rejection_alone_gives_a_rejected_standing(session, world, grants_of):
    claim = new_claim(session, world, grants_of)
    reviews.review_claim(
        session, grants_of(world.tutor), claim.id, {"decision": "rejected", "comment": "Non."}, expected_version=1
    )
    standing = session.scalar(select(Standing).where(Standing.learner_id == world.learner.id))
    assert (standing.state, standing.level, standing.proficient) == ("rejected", None, False)
    assert events(session, world)[0].payload["state"] == "rejected"


def test_an_assisted_learner_without_email_is_told_through_the_facilitator(session, world, grants_of, make_person):
    from app.models import Facilitation

    world.learner.email = None
    facilitator = make_person(locale="en")
    session.add(Facilitation(facilitator_id=facilitator.id, learner_id=world.learner.id))
    session.flush()
    claim = new_claim(session, world, grants_of)
    outcome = reviews.review_claim(session, grants_of(world.tutor), claim.id, VALIDATE, expected_version=1)
    [message] = outcome.messages
    assert message.to == facilitator.email
    assert message.subject.startswith("Competency validated") and "facilitator of Léa" in message.body
    assert "“acquired”" in message.body


def test_review_rules_of_an_unknown_territory_are_404(session, grants_of, make_person):
    import uuid

    person = make_person()
    with pytest.raises(NotFound):
        scales.get_territory_rules(session, grants_of(person), uuid.uuid4())
    assert session.get(Territory, uuid.uuid4()) is None
