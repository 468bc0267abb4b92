"""The tutor queue's filter options: only what has claims waiting for this tutor (not decided claims,
not those they validated first, not their own), and the totals and items the API's queue gives,
under every filter (a framework filter counted on its own), in as many statements or one more."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from app.models import ClaimStatus, ContributionStatus
from app.services.recognition import claims, reviews, tutoring


def claim(session: Any, grants_of: Any, learner: Any, contribution: Any, competency: Any) -> Any:
    made = claims.create_claim(
        session,
        grants_of(learner),
        {"contribution_id": contribution.id, "competency_id": competency.id, "justification": "Voir la photo."},
    ).value
    session.commit()
    return made


@contextmanager
def counted(session: Any) -> Iterator[list[str]]:
    seen: list[str] = []

    def listener(*args: Any) -> None:
        seen.append(args[2])

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def test_options_list_only_what_waits_for_this_tutor_and_totals_match_the_api(
    session, world, grants_of, make_person, grant, make_contribution, make_framework, make_competency
):
    reuse = make_framework(title="Atelier réemploi")
    repair = make_competency(reuse, label="Réparer un objet")
    closed = make_framework(title="Cuisine")
    cook = make_competency(closed, label="Cuisiner")
    bob = make_person(display_name="Bob Bénévole")
    grant(bob, "learner", world.project)
    bobs = make_contribution(bob, world.project, status=ContributionStatus.SUBMITTED)

    claim(session, grants_of, world.learner, world.contribution, world.competency)
    claim(session, grants_of, world.learner, world.contribution, repair)
    decided = claim(session, grants_of, world.learner, world.contribution, cook)
    decided.status = ClaimStatus.REJECTED  # decided: neither counted nor offered
    seconded = claim(session, grants_of, bob, bobs, world.competency)
    seconded.first_reviewer_id = world.tutor.id  # Théo validated first: it waits for another tutor
    session.commit()

    theo, tina = grants_of(world.tutor), grants_of(world.tutor2)
    choices = tutoring.tutor_queue(session, theo).choices
    assert [c.label for c in choices.frameworks] == ["Atelier réemploi", "Référentiel de test"]
    assert [c.id for c in choices.learners] == [world.learner.id]
    assert [c.id for c in choices.projects] == [world.project.id]
    assert [c.label for c in tutoring.tutor_queue(session, tina).choices.learners] == ["Bob Bénévole", "Léa Apprenante"]

    for grants in (theo, tina):
        for filters in (
            {},
            {"learner_id": world.learner.id},
            {"learner_id": bob.id},
            {"framework_id": reuse.id},
            {"framework_id": closed.id},
            {"framework_id": world.framework.id, "learner_id": bob.id},
            {"project_id": world.project.id, "framework_id": world.framework.id},
        ):
            for page in (1, 2, 9):
                mine = tutoring.tutor_queue(session, grants, **filters, page=page, per_page=1).page
                api = reviews.review_queue(session, grants, **filters, page=mine.page, per_page=1)
                assert (mine.total, [i.claim.id for i in mine.items]) == (api.total, [i.claim.id for i in api.items])


def test_the_page_costs_the_apis_statements_or_one_more(session, world, grants_of, make_competency):
    for _ in range(3):
        claim(session, grants_of, world.learner, world.contribution, make_competency(world.framework))
    theo = grants_of(world.tutor)
    for filters, extra in (({}, 1), ({"framework_id": world.framework.id}, 2)):
        with counted(session) as page:
            tutoring.tutor_queue(session, theo, **filters)
        with counted(session) as api:
            reviews.review_queue(session, theo, **filters)
        # At most: the options in two statements where the API counts in one; a framework filter's count.
        assert len(page) <= len(api) + extra, (page, api)
