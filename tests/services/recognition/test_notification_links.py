"""The validation workflow's e-mails link to the page where their reader acts, in their language."""

from __future__ import annotations

import pytest

from app.models import Facilitation
from app.services.identity.recipients import PageLinks, learner_recipients
from app.services.recognition import claims, reviews

BASE = "https://blason.test"
LINKS = PageLinks(BASE + "/")  # a trailing slash in the setting does not double in links


def claim_of(session, world, grants_of):  # type: ignore[no-untyped-def]
    outcome = claims.create_claim(
        session,
        grants_of(world.learner),
        {
            "contribution_id": world.contribution.id,
            "competency_id": world.competency.id,
            "justification": "Voir le compte rendu.",
        },
        links=LINKS,
    )
    return outcome


def decide(session, world, grants_of, claim, data):  # type: ignore[no-untyped-def]
    return reviews.review_claim(
        session, grants_of(world.tutor), claim.id, data, expected_version=claim.version, links=LINKS
    )


def line_with(body: str, link: str) -> str:
    [line] = [line for line in body.splitlines() if link in line]
    return line


def test_a_new_claim_links_each_tutor_to_the_claim_to_decide(session, world, grants_of):
    world.tutor2.locale = "en"
    outcome = claim_of(session, world, grants_of)
    claim = outcome.value
    by_to = {m.to: m for m in outcome.messages}
    assert set(by_to) == {world.tutor.email, world.tutor2.email}
    link = f"{BASE}/a-valider/{claim.id}"
    assert line_with(by_to[world.tutor.email].body, link) == f"Pour l'examiner et donner votre avis : {link}"
    assert line_with(by_to[world.tutor2.email].body, link) == f"To look at it and give your review: {link}"
    assert by_to[world.tutor2.email].subject.startswith("New validation request")


def test_a_resubmitted_claim_links_the_tutors_to_it_again(session, world, grants_of):
    claim = claim_of(session, world, grants_of).value
    decide(session, world, grants_of, claim, {"decision": "needs_evidence", "comment": "Une photo ?"})
    outcome = claims.resubmit_claim(
        session,
        grants_of(world.learner),
        claim.id,
        {"explanation": "J'ai ajouté la photo de la réunion."},
        expected_version=claim.version,
        links=LINKS,
    )
    assert {m.to for m in outcome.messages} == {world.tutor.email, world.tutor2.email}
    assert all(f"{BASE}/a-valider/{claim.id}" in m.body for m in outcome.messages)
    assert "complétée" in outcome.messages[0].subject


def test_a_second_review_links_the_other_tutor_to_the_claim(session, world, grants_of):
    world.framework.requires_second_review = True
    claim = claim_of(session, world, grants_of).value
    outcome = decide(
        session, world, grants_of, claim, {"decision": "validated", "level": "acquis", "comment": "Bien menée."}
    )
    [message] = outcome.messages
    assert message.to == world.tutor2.email
    link = f"{BASE}/a-valider/{claim.id}"
    assert line_with(message.body, link) == f"Pour donner votre avis : {link}"


@pytest.mark.parametrize(
    "data, subject, line",
    [
        (
            {"decision": "validated", "level": "acquis", "comment": "Bien menée."},
            "Compétence validée",
            "Voir la demande : {link}",
        ),
        ({"decision": "rejected", "comment": "Ce n'est pas cette compétence."}, "Demande non retenue", None),
        (
            {"decision": "needs_evidence", "comment": "Une photo ?"},
            "Preuves complémentaires demandées",
            "Les deux étapes se font depuis la page de la demande : {link}",
        ),
    ],
)
def test_each_decision_links_the_learner_to_their_claim(session, world, grants_of, data, subject, line):
    claim = claim_of(session, world, grants_of).value
    [message] = decide(session, world, grants_of, claim, data).messages
    link = f"{BASE}/mes-demandes/{claim.id}"
    assert message.to == world.learner.email and message.subject.startswith(subject)
    assert line_with(message.body, link) == (line or "Voir la demande : {link}").format(link=link)
    assert message.body.index(data["comment"]) < message.body.index(link)  # the comment, then where to act


def test_needs_evidence_says_the_two_steps_in_plain_words_in_both_languages(session, world, grants_of):
    claim = claim_of(session, world, grants_of).value
    [french] = decide(
        session, world, grants_of, claim, {"decision": "needs_evidence", "comment": "Une photo ?"}
    ).messages
    assert "1. ajoutez une preuve à la contribution (une photo, un fichier, un lien ou un texte) ;" in french.body
    assert "2. renvoyez la demande, avec une phrase qui dit ce que vous avez ajouté." in french.body
    world.learner.locale = "en"
    claims.resubmit_claim(
        session, grants_of(world.learner), claim.id, {"explanation": "Photo."}, expected_version=claim.version
    )
    [english] = decide(session, world, grants_of, claim, {"decision": "needs_evidence", "comment": "More?"}).messages
    assert english.subject.startswith("More evidence needed")
    assert "1. add evidence to the contribution (a photo, a file, a link or a text);" in english.body
    assert "2. send the request back, with a sentence saying what you added." in english.body
    assert f"Both steps start from the request's page: {BASE}/mes-demandes/{claim.id}" in english.body


def test_an_assisted_learners_decision_goes_to_each_facilitator_on_their_behalf(session, world, grants_of, make_person):
    world.learner.email = None
    helene, paul = make_person(display_name="Hélène"), make_person(display_name="Paul", locale="en")
    gone = make_person(display_name="Ancien")
    for facilitator in (helene, paul, gone):
        session.add(Facilitation(facilitator_id=facilitator.id, learner_id=world.learner.id))
    session.flush()
    session.get(Facilitation, _facilitation_id(session, gone, world.learner)).revoked_at = world.learner.created_at
    claim = claim_of(session, world, grants_of).value
    messages = decide(
        session, world, grants_of, claim, {"decision": "validated", "level": "acquis", "comment": "Bien."}
    ).messages
    by_to = {m.to: m for m in messages}
    assert set(by_to) == {helene.email, paul.email}  # not the one whose role ended
    link = f"{BASE}/mes-demandes/{claim.id}"
    assert link in by_to[helene.email].body and link in by_to[paul.email].body
    assert "en tant que facilitateur ou facilitatrice de Léa Apprenante" in by_to[helene.email].body
    assert "as the facilitator of Léa Apprenante" in by_to[paul.email].body


def _facilitation_id(session, facilitator, learner):  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    return session.scalar(
        select(Facilitation.id).where(
            Facilitation.facilitator_id == facilitator.id, Facilitation.learner_id == learner.id
        )
    )


def test_nobody_without_an_address_is_written_to(session, world, grants_of):
    world.learner.email = None  # no e-mail and no facilitator: nobody to tell
    world.tutor2.email = None
    outcome = claim_of(session, world, grants_of)
    assert [m.to for m in outcome.messages] == [world.tutor.email]
    [] = decide(session, world, grants_of, outcome.value, {"decision": "rejected", "comment": "Non."}).messages
    assert learner_recipients(session, world.learner) == []


def test_without_links_the_emails_are_still_written_without_a_link_line(session, world, grants_of):
    outcome = claims.create_claim(
        session,
        grants_of(world.learner),
        {"contribution_id": world.contribution.id, "competency_id": world.competency.id, "justification": "Vu."},
    )
    assert outcome.messages and all("/a-valider/" not in m.body for m in outcome.messages)
