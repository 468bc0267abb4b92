"""The tutor queue and the learner portfolio: contents, filters, visibility, constant query counts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.db import utcnow
from app.models import ContributionStatus, Evidence, EvidenceKind, Visibility
from app.platform.errors import NotFound, PermissionDenied
from app.services.recognition import claims, reviews, standing


def claim_at(
    session,
    world,
    grants_of,
    competency,
    *,
    learner=None,
    contribution=None,  # type: ignore[no-untyped-def]
    minutes=0,
):
    learner = learner or world.learner
    at = utcnow() - timedelta(minutes=minutes)
    return claims.create_claim(
        session,
        grants_of(learner),
        {
            "contribution_id": (contribution or world.contribution).id,
            "competency_id": competency.id,
            "justification": "Voir le compte rendu.",
        },
        clock=lambda: at,
    ).value


def evidence(session, world, visibility, title):  # type: ignore[no-untyped-def]
    item = Evidence(
        contribution_id=world.contribution.id,
        kind=EvidenceKind.TEXT,
        title=title,
        text="…",
        visibility=visibility,
        created_by_id=world.learner.id,
    )
    session.add(item)
    session.flush()
    return item


def test_the_queue_is_oldest_first_with_what_is_needed_to_decide(
    session, world, grants_of, make_competency, make_framework
):
    other = make_competency(world.framework, world.bloc)
    newer = claim_at(session, world, grants_of, world.competency, minutes=5)
    older = claim_at(session, world, grants_of, other, minutes=50)
    evidence(session, world, Visibility.TUTORS, "Photo de la réunion")
    evidence(session, world, Visibility.PRIVATE, "Brouillon")
    page = reviews.review_queue(session, grants_of(world.tutor))
    assert [i.claim.id for i in page.items] == [older.id, newer.id] and page.total == 2
    item = page.items[0]
    assert item.can_decide and item.stage == "review" and item.learner.id == world.learner.id
    assert [e.title for e in item.evidence] == ["Photo de la réunion"]
    assert [lv.code for lv in item.rules.scale.levels] == ["non_acquis", "en_cours", "acquis", "maitrise"]


def test_the_queue_shows_the_learners_earlier_reviews_of_the_competency(session, world, grants_of, make_contribution):
    earlier = claim_at(session, world, grants_of, world.competency, minutes=30)
    reviews.review_claim(
        session,
        grants_of(world.tutor2),
        earlier.id,
        {"decision": "validated", "level": "en_cours", "comment": "Premier essai."},
        expected_version=1,
    )
    again = make_contribution(world.learner, world.project, status=ContributionStatus.SUBMITTED)
    claim_at(session, world, grants_of, world.competency, contribution=again)
    [item] = reviews.review_queue(session, grants_of(world.tutor)).items
    assert [(r.reviewer_name, r.comment) for r in item.reviews] == [("Tina Tutrice", "Premier essai.")]


def test_queue_filters(
    session, world, grants_of, make_person, grant, make_contribution, make_framework, make_competency
):
    bob = make_person()
    grant(bob, "learner", world.project)
    bobs = make_contribution(bob, world.project, status=ContributionStatus.SUBMITTED)
    elsewhere = make_competency(make_framework())
    mine = claim_at(session, world, grants_of, world.competency)
    theirs = claim_at(session, world, grants_of, elsewhere, learner=bob, contribution=bobs)
    tutor = grants_of(world.tutor)
    assert [i.claim.id for i in reviews.review_queue(session, tutor, learner_id=bob.id).items] == [theirs.id]
    assert [i.claim.id for i in reviews.review_queue(session, tutor, framework_id=world.framework.id).items] == [
        mine.id
    ]
    assert reviews.review_queue(session, tutor, project_id=world.project.id).total == 2
    reviews.review_claim(session, tutor, mine.id, {"decision": "rejected", "comment": "Non."}, expected_version=1)
    assert [i.claim.id for i in reviews.review_queue(session, tutor, state="rejected").items] == [mine.id]
    assert [i.claim.id for i in reviews.review_queue(session, tutor).items] == [theirs.id]


def test_the_queue_holds_only_ones_projects_and_not_what_one_validated_first(
    session, world, grants_of, make_person, make_project, grant, make_contribution
):
    world.framework.requires_second_review = True
    elsewhere = make_project()
    stranger = make_person()
    grant(stranger, "learner", elsewhere)
    foreign = make_contribution(stranger, elsewhere, status=ContributionStatus.SUBMITTED)
    claim_at(session, world, grants_of, world.competency, learner=stranger, contribution=foreign)
    claim = claim_at(session, world, grants_of, world.competency)
    reviews.review_claim(
        session,
        grants_of(world.tutor),
        claim.id,
        {"decision": "validated", "level": "acquis", "comment": "Oui."},
        expected_version=1,
    )
    assert reviews.review_queue(session, grants_of(world.tutor)).total == 0
    [item] = reviews.review_queue(session, grants_of(world.tutor2)).items
    assert item.stage == "second_review" and item.can_decide and len(item.reviews) == 1
    with pytest.raises(NotFound):
        reviews.review_queue(session, grants_of(world.tutor), project_id=elsewhere.id)
    with pytest.raises(PermissionDenied):  # a learner sees the project but does not tutor it
        reviews.review_queue(session, grants_of(world.learner), project_id=world.project.id)


def test_the_portfolio_is_a_framework_tree_with_reviews_and_visible_evidence(session, world, grants_of):
    claim = claim_at(session, world, grants_of, world.competency)
    evidence(session, world, Visibility.TUTORS, "Compte rendu")
    evidence(session, world, Visibility.PRIVATE, "Notes")
    reviews.review_claim(
        session,
        grants_of(world.tutor),
        claim.id,
        {"decision": "validated", "level": "acquis", "comment": "Convaincant."},
        expected_version=1,
    )
    mine = standing.portfolio(session, grants_of(world.learner), world.learner.id)
    [tree] = mine["frameworks"]
    [bloc] = tree["nodes"]
    assert bloc["id"] == str(world.bloc.id) and bloc["standing"] is None  # an ancestor, for the tree's sake
    [node] = bloc["children"]
    assert node["standing"]["level"] == "acquis" and [r["comment"] for r in node["reviews"]] == ["Convaincant."]
    assert sorted(e["title"] for e in node["evidence"]) == ["Compte rendu", "Notes"]
    seen_by_tutor = standing.portfolio(session, grants_of(world.tutor), world.learner.id)
    assert [e["title"] for e in seen_by_tutor["frameworks"][0]["nodes"][0]["children"][0]["evidence"]] == [
        "Compte rendu"
    ]


def test_a_portfolio_is_hidden_from_people_with_no_tie_to_the_learner(
    session, world, grants_of, make_person, make_project, grant
):
    outsider = make_person()
    grant(outsider, "tutor", make_project())
    claim_at(session, world, grants_of, world.competency)
    with pytest.raises(NotFound):
        standing.portfolio(session, grants_of(outsider), world.learner.id)
    with pytest.raises(NotFound):
        standing.list_standings(session, grants_of(outsider), world.learner.id)


def test_standings_list(session, world, grants_of):
    claim = claim_at(session, world, grants_of, world.competency)
    reviews.review_claim(
        session,
        grants_of(world.tutor),
        claim.id,
        {"decision": "validated", "level": "maitrise", "comment": "Oui."},
        expected_version=1,
    )
    page = standing.list_standings(session, grants_of(world.tutor), world.learner.id, proficient=True)
    assert [(s.code, s.level) for s in page.items] == [("C1.1", "maitrise")]
    assert standing.list_standings(session, grants_of(world.learner), world.learner.id, proficient=False).total == 0


def test_queue_and_portfolio_queries_do_not_grow_with_the_data(
    session, world, grants_of, make_competency, make_person, grant, make_contribution, count_queries
):
    tutor = grants_of(world.tutor)

    def grow(n: int) -> None:
        for _ in range(n):
            learner = make_person()
            grant(learner, "learner", world.project)
            contribution = make_contribution(learner, world.project, status=ContributionStatus.SUBMITTED)
            competency = make_competency(world.framework, world.bloc)
            done = claim_at(session, world, grants_of, competency, learner=learner, contribution=contribution)
            claim_at(session, world, grants_of, world.competency, learner=learner, contribution=contribution)
            reviews.review_claim(
                session,
                tutor,
                done.id,
                {"decision": "validated", "level": "acquis", "comment": "Oui."},
                expected_version=1,
            )
            session.add(
                Evidence(
                    contribution_id=contribution.id,
                    kind=EvidenceKind.TEXT,
                    title="t",
                    text="t",
                    created_by_id=learner.id,
                )
            )
            mine = claim_at(session, world, grants_of, competency)
            reviews.review_claim(
                session,
                tutor,
                mine.id,
                {"decision": "validated", "level": "acquis", "comment": "Oui."},
                expected_version=1,
            )
        session.flush()

    grow(2)
    small_queue = count_queries(lambda: reviews.review_queue(session, tutor))
    small_portfolio = count_queries(lambda: standing.portfolio(session, tutor, world.learner.id))
    grow(12)
    assert count_queries(lambda: reviews.review_queue(session, tutor)) == small_queue
    assert count_queries(lambda: standing.portfolio(session, tutor, world.learner.id)) == small_portfolio
