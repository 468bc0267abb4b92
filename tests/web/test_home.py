"""The signed-in home page: what waits for each person, by role, with a link to where they act."""

from __future__ import annotations

from app.services import recognition
from tests.web.page_support import page_text, sign_in_as


def _claim(session, world, grants_of):  # type: ignore[no-untyped-def]
    data = {
        "contribution_id": world.contribution.id,
        "competency_id": world.competency.id,
        "justification": "J'ai animé.",
    }
    claim = recognition.create_claim(session, grants_of(world.learner), data).value
    session.commit()
    return claim


def test_a_tutor_sees_how_many_claims_wait_and_where(app, client, session, world, grants_of):  # type: ignore[no-untyped-def]
    sign_in_as(client, app, world.tutor)
    assert "Aucune demande n'attend votre avis" in page_text(client.get("/"))
    _claim(session, world, grants_of)
    page = client.get("/")
    assert "1 demande attend votre avis" in page_text(page)
    assert 'href="/a-valider"' in page.get_data(as_text=True)
    assert "1 claim is waiting for your review" in page_text(client.get("/?lang=en"))


def test_a_learner_is_told_of_claims_to_complete(app, client, session, world, grants_of):  # type: ignore[no-untyped-def]
    claim = _claim(session, world, grants_of)
    sign_in_as(client, app, world.learner)
    assert "à compléter" not in page_text(client.get("/"))
    decision = {"decision": "needs_evidence", "comment": "Une photo de l'atelier ?"}
    recognition.review_claim(session, grants_of(world.tutor), claim.id, decision, expected_version=claim.version)
    session.commit()
    text = page_text(client.get("/"))
    assert "1 demande à compléter" in text and "Raconter ce que j'ai fait" in text
    assert "demandes attendent votre avis" not in text  # a learner is not a tutor
