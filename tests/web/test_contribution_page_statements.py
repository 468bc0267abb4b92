"""A contribution's page reads its claims' competencies in one statement, however many claims it has."""

from __future__ import annotations

from app.services.recognition import claims
from tests.web.page_support import sign_in_as


def test_the_contribution_page_costs_the_same_with_one_claim_or_five(
    app, client, session, world, grants_of, make_competency, count_queries
):  # type: ignore[no-untyped-def]
    def claim(competency):  # type: ignore[no-untyped-def]
        data = {"contribution_id": world.contribution.id, "competency_id": competency.id, "justification": "Fait."}
        claims.create_claim(session, grants_of(world.learner), data)
        session.commit()

    claim(world.competency)
    sign_in_as(client, app, world.learner)
    path = f"/mes-contributions/{world.contribution.id}"
    assert client.get(path).status_code == 200
    one = count_queries(lambda: client.get(path))
    for n in range(4):
        claim(make_competency(world.framework, world.bloc, code=f"C2.{n}", label=f"Compétence {n}"))
    five = count_queries(lambda: client.get(path))
    page = client.get(path).get_data(as_text=True)
    assert all(f"C2.{n}" in page for n in range(4))
    assert five == one
