"""The tutor's pages, server side: À valider (order, filters, paging, plurals), a claim's page, deciding
(each outcome, comment required, a decision taken meanwhile explained with the typed comment kept,
the next claim opening) and who may open them."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from app.models import Claim, ClaimStatus, ContributionStatus, Evidence, EvidenceKind, Review, Visibility
from app.services.recognition import claims, reviews
from tests.web.csrf_support import csrf_token
from tests.web.page_support import page_text, sign_in_as

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def make_claim(session: Any, grants_of: Any, world: Any, competency: Any, *, minutes: int, **over: Any) -> Claim:
    """A claim made through the service at T0 + ``minutes`` (the queue's order)."""
    learner = over.pop("learner", world.learner)
    data = {
        "contribution_id": over.pop("contribution", world.contribution).id,
        "competency_id": competency.id,
        "justification": over.pop("justification", "J'ai animé la réunion du quartier."),
        **over,
    }
    at = T0 + timedelta(minutes=minutes)
    claim = claims.create_claim(session, grants_of(learner), data, clock=lambda: at).value
    session.commit()
    return claim


def claim_ids_in(page: Any) -> list[str]:
    return re.findall(r'href="/a-valider/([0-9a-f-]{36})', page.get_data(as_text=True))


def decide(client: Any, claim: Claim, version: int | None = None, **form: str) -> Any:
    data = {"csrf_token": csrf_token(client, f"/a-valider/{claim.id}"), "version": str(version or claim.version)}
    return client.post(f"/a-valider/{claim.id}", data={**data, **form})


@pytest.fixture()
def three(session, world, grants_of, make_competency):  # type: ignore[no-untyped-def]
    """Three claims of Léa, made out of order: the queue shows them oldest first."""
    c2 = make_competency(world.framework, world.bloc, label="Tenir un budget")
    c3 = make_competency(world.framework, world.bloc, label="Accueillir du public")
    middle = make_claim(session, grants_of, world, c2, minutes=10)
    newest = make_claim(session, grants_of, world, c3, minutes=20)
    oldest = make_claim(session, grants_of, world, world.competency, minutes=0)
    return [oldest, middle, newest]


def test_the_queue_lists_claims_oldest_first_with_a_count(client, app, world, three):
    sign_in_as(client, app, world.tutor)
    page = client.get("/a-valider")
    assert page.status_code == 200
    assert claim_ids_in(page) == [str(c.id) for c in three]
    text = page_text(page)
    assert "3 demandes attendent votre avis." in text
    assert "Léa Apprenante" in text and "Demandée le 2 mars 2026" in text
    assert "Page 1 sur" not in text  # one page: no paging
    english = page_text(client.get("/a-valider?lang=en"))
    assert "3 requests are waiting for your review." in english and "Requested on 2 March 2026" in english


def test_one_claim_reads_singular_and_none_reads_aucune(client, app, session, world, grants_of):
    sign_in_as(client, app, world.tutor)
    empty = page_text(client.get("/a-valider"))
    assert "Aucune demande n'attend votre avis." in empty and "Rien à valider pour l'instant" in empty
    make_claim(session, grants_of, world, world.competency, minutes=0)
    assert "1 demande attend votre avis." in page_text(client.get("/a-valider"))


def test_filters_by_project_learner_and_framework(
    client, app, session, world, grants_of, make_person, make_project, grant, make_contribution, make_framework, three
):
    other_project = make_project(title="Repair café")
    bob = make_person(display_name="Bob Bénévole")
    grant(bob, "learner", other_project)
    grant(world.tutor, "tutor", other_project)
    framework = make_framework(title="Référentiel du réemploi")
    from app.models import Competency

    repair = Competency(framework_id=framework.id, source_key="r1", kind="competence", code="R1", label="Réparer")
    session.add(repair)
    session.commit()
    bobs = make_contribution(bob, other_project, status=ContributionStatus.SUBMITTED)
    theirs = make_claim(session, grants_of, world, repair, minutes=5, learner=bob, contribution=bobs)

    sign_in_as(client, app, world.tutor)
    everything = client.get("/a-valider")
    assert len(claim_ids_in(everything)) == 4
    body = everything.get_data(as_text=True)
    for label in ("Repair café", "Bob Bénévole", "Référentiel du réemploi", "Référentiel de test", "Léa Apprenante"):
        assert f">{label}</option>" in body
    by_project = client.get(f"/a-valider?projet={other_project.id}")
    assert claim_ids_in(by_project) == [str(theirs.id)]
    assert f'<option value="{other_project.id}" selected>' in by_project.get_data(as_text=True)
    assert "1 demande correspond à ces filtres." in page_text(by_project)
    assert claim_ids_in(client.get(f"/a-valider?apprenant={world.learner.id}")) == [str(c.id) for c in three]
    assert claim_ids_in(client.get(f"/a-valider?referentiel={framework.id}")) == [str(theirs.id)]
    none = client.get(f"/a-valider?apprenant={bob.id}&referentiel={world.framework.id}")
    assert claim_ids_in(none) == [] and "Aucune demande ne correspond à ces filtres." in page_text(none)
    assert claim_ids_in(client.get("/a-valider?projet=pas-un-uuid")) != []  # unreadable filter: ignored
    # A claim's link keeps the filters, so that deciding leads to the next claim of the same list.
    assert f'href="/a-valider/{theirs.id}?projet={other_project.id}"' in by_project.get_data(as_text=True)


def test_the_queue_is_paged_20_per_page(client, app, session, world, make_competency):
    competencies = [make_competency(world.framework, world.bloc) for _ in range(45)]
    session.add_all(
        Claim(
            contribution_id=world.contribution.id,
            project_id=world.project.id,
            competency_id=c.id,
            learner_id=world.learner.id,
            justification="Voir la photo.",
            created_by_id=world.learner.id,
            created_at=T0 + timedelta(minutes=i),
        )
        for i, c in enumerate(competencies)
    )
    session.commit()
    order = [str(i) for i in session.scalars(select(Claim.id).order_by(Claim.created_at))]
    sign_in_as(client, app, world.tutor)
    first = client.get("/a-valider")
    assert claim_ids_in(first) == order[:20]
    text = page_text(first)
    assert "45 demandes attendent votre avis." in text and "Page 1 sur 3" in text
    assert "Page précédente" not in text and 'href="/a-valider?page=2"' in first.get_data(as_text=True)
    second = client.get("/a-valider?page=2")
    assert claim_ids_in(second) == order[20:40] and "Page 2 sur 3" in page_text(second)
    assert 'href="/a-valider?page=1"' in second.get_data(as_text=True)
    last = client.get("/a-valider?page=3")
    assert claim_ids_in(last) == order[40:] and "Page suivante" not in page_text(last)
    assert claim_ids_in(client.get("/a-valider?page=99")) == order[40:]  # past the end: the last page
    assert "Page 1 sur 3" in page_text(client.get("/a-valider?page=zéro"))


def test_a_claim_page_shows_what_is_needed_to_decide(
    client, app, session, world, grants_of, make_competency, make_contribution
):
    contribution = world.contribution
    contribution.title, contribution.role, contribution.hours = "Réunion de quartier", "animatrice", Decimal("3.5")
    contribution.narrative = "J'ai préparé l'ordre du jour et animé la réunion."
    contribution.start_date, contribution.end_date = date(2026, 2, 10), date(2026, 2, 12)
    photo = Evidence(
        contribution_id=contribution.id,
        kind=EvidenceKind.FILE,
        title="La salle pleine",
        filename="salle.jpg",
        media_type="image/jpeg",
        visibility=Visibility.TUTORS,
        created_by_id=world.learner.id,
    )
    document = Evidence(
        contribution_id=contribution.id,
        kind=EvidenceKind.FILE,
        title="Compte rendu",
        filename="compte-rendu.pdf",
        media_type="application/pdf",
        visibility=Visibility.TUTORS,
        created_by_id=world.learner.id,
    )
    secret = Evidence(
        contribution_id=contribution.id,
        kind=EvidenceKind.TEXT,
        title="Brouillon privé",
        text="…",
        visibility=Visibility.PRIVATE,
        created_by_id=world.learner.id,
    )
    session.add_all([photo, document, secret])
    session.commit()
    # An earlier claim on the same competency, for another contribution, asked for more evidence by Tina.
    before = make_contribution(world.learner, world.project, status=ContributionStatus.SUBMITTED)
    earlier = make_claim(session, grants_of, world, world.competency, minutes=0, contribution=before)
    reviews.review_claim(
        session,
        grants_of(world.tutor2),
        earlier.id,
        {"decision": "needs_evidence", "comment": "Il manque une photo."},
        expected_version=earlier.version,
        clock=lambda: T0 + timedelta(days=1),
    )
    session.commit()
    other = make_competency(world.framework, world.bloc)  # a different competency: not in the history
    claims.create_claim(
        session,
        grants_of(world.learner),
        {"contribution_id": contribution.id, "competency_id": other.id, "justification": "Autre."},
    )
    claim = make_claim(session, grants_of, world, world.competency, minutes=60, self_assessment="en_cours")

    sign_in_as(client, app, world.tutor)
    page = client.get(f"/a-valider/{claim.id}")
    assert page.status_code == 200
    body, text = page.get_data(as_text=True), page_text(page)
    for words in (
        "Réunion de quartier",
        "J'ai préparé l'ordre du jour",
        "animatrice",
        "du 10 février 2026 au 12 février 2026",
        "3,5 h",
        "Référentiel de test",
        "Bloc de compétences B1 · Bloc 1 : animer",
        "Animer une réunion publique",
        "J'ai animé la réunion du quartier.",
        "Son auto-évaluation : en cours d'acquisition.",
        "Tina Tutrice, le 3 mars 2026 : à compléter",
        "Il manque une photo.",
    ):
        assert words in text, words
    assert f'<img src="/preuves/{photo.id}/apercu" alt="Photo : La salle pleine"' in body
    assert f'href="/preuves/{photo.id}/fichier" target="_blank" rel="noopener"' in body
    assert f'href="/preuves/{document.id}/fichier" target="_blank"' in body and "Ouvrir compte-rendu.pdf" in text
    assert "Brouillon privé" not in text  # private evidence is the learner's alone
    assert "Autre." not in text
    levels = re.findall(r'name="level" value="(\w+)"', body)
    assert levels == ["non_acquis", "en_cours", "acquis", "maitrise"]
    assert f'name="version" value="{claim.version}"' in body
    assert page.headers["Cache-Control"] == "no-store"
    english = page_text(client.get(f"/a-valider/{claim.id}?lang=en"))
    assert "Tina Tutrice, 3 March 2026: needs more evidence" in english and "3.5 h" in english


@pytest.mark.parametrize(
    ("form", "status"),
    [
        ({"decision": "validated", "level": "acquis"}, ClaimStatus.VALIDATED),
        ({"decision": "needs_evidence", "level": "acquis"}, ClaimStatus.NEEDS_EVIDENCE),  # a level is dropped
        ({"decision": "rejected"}, ClaimStatus.REJECTED),
    ],
    ids=["validated", "needs_evidence", "rejected"],
)
def test_each_decision_is_recorded_then_the_queue_confirms(client, app, session, world, grants_of, form, status):
    claim = make_claim(session, grants_of, world, world.competency, minutes=0)
    sign_in_as(client, app, world.tutor)
    response = decide(client, claim, comment="Vu sur place, bravo.", **form)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/a-valider?avis={form['decision']}"
    session.expire_all()
    assert session.get(Claim, claim.id).status is status
    review = session.scalars(select(Review).where(Review.claim_id == claim.id)).one()
    assert review.comment == "Vu sur place, bravo." and review.reviewer_id == world.tutor.id
    assert review.level == ("acquis" if status is ClaimStatus.VALIDATED else None)
    text = page_text(client.get(response.headers["Location"]))
    assert "Votre avis est enregistré" in text and "Il n'y a plus de demande à valider ici." in text


def test_a_comment_is_required_and_the_error_sits_by_the_field(client, app, session, world, grants_of):
    claim = make_claim(session, grants_of, world, world.competency, minutes=0)
    sign_in_as(client, app, world.tutor)
    response = decide(client, claim, decision="validated", level="maitrise", comment="   ")
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert 'id="comment-error">Écrivez un commentaire : la personne saura ainsi pourquoi.</p>' in body
    assert re.search(r'<textarea id="comment"[^>]*aria-describedby="comment-error comment-hint"', body)
    assert re.search(r'<textarea id="comment"[^>]*aria-invalid="true"', body)
    assert 'value="validated" checked' in body and 'value="maitrise" checked' in body  # choices kept
    no_level = decide(client, claim, decision="validated", comment="Bien.")
    assert no_level.status_code == 422 and "Choisissez le niveau atteint pour valider." in page_text(no_level)
    no_decision = decide(client, claim, comment="Bien.")
    assert no_decision.status_code == 422 and "Choisissez une décision" in page_text(no_decision)
    assert ">Bien.</textarea>" in no_decision.get_data(as_text=True)
    session.expire_all()
    assert session.get(Claim, claim.id).status is ClaimStatus.PENDING
    assert session.scalar(select(func.count()).select_from(Review)) == 0


def test_a_decision_taken_meanwhile_is_explained_and_the_comment_kept(client, app, session, world, grants_of):
    claim = make_claim(session, grants_of, world, world.competency, minutes=0)
    sign_in_as(client, app, world.tutor)
    seen = claim.version  # Théo opens the page ...
    reviews.review_claim(  # ... Tina decides first ...
        session,
        grants_of(world.tutor2),
        claim.id,
        {"decision": "needs_evidence", "comment": "Ajoutez une photo."},
        expected_version=claim.version,
        clock=lambda: T0 + timedelta(days=2),
    )
    session.commit()
    response = decide(client, claim, seen, decision="validated", level="acquis", comment="Très bien mené, acquis.")
    assert response.status_code == 409
    text = page_text(response)
    assert "Entre-temps, Tina Tutrice a donné son avis le 4 mars 2026 : à compléter." in text
    assert "Votre avis n'a donc pas été enregistré." in text
    assert "Très bien mené, acquis." in text  # nothing typed is lost
    assert 'name="decision"' not in response.get_data(as_text=True)  # no form: the claim is decided
    session.expire_all()
    assert session.scalar(select(func.count()).where(Review.claim_id == claim.id)) == 1


def test_second_review_shown_and_a_first_validation_meanwhile_keeps_the_form(client, app, session, world, grants_of):
    world.framework.requires_second_review = True
    session.commit()
    claim = make_claim(session, grants_of, world, world.competency, minutes=0)
    seen = claim.version
    sign_in_as(client, app, world.tutor2)
    assert "Second avis attendu" not in page_text(client.get(f"/a-valider/{claim.id}"))
    reviews.review_claim(  # Théo validates first, while Tina reads the page
        session,
        grants_of(world.tutor),
        claim.id,
        {"decision": "validated", "level": "acquis", "comment": "Acquis pour moi."},
        expected_version=claim.version,
    )
    session.commit()
    late = decide(client, claim, seen, decision="validated", level="maitrise", comment="Je confirme, maîtrisé.")
    assert late.status_code == 409
    text, body = page_text(late), late.get_data(as_text=True)
    assert "Entre-temps, Théo Tuteur a validé cette demande au niveau « acquis »." in text
    assert "Second avis attendu" in text and "Votre avis est le second" in text
    assert ">Je confirme, maîtrisé.</textarea>" in body  # the form again, the comment kept
    session.expire_all()
    fresh = session.get(Claim, claim.id)
    assert f'name="version" value="{fresh.version}"' in body
    queue = client.get("/a-valider")
    assert "Second avis attendu" in page_text(queue)
    again = decide(client, fresh, decision="validated", level="maitrise", comment="Je confirme, maîtrisé.")
    assert again.status_code == 303 and again.headers["Location"] == "/a-valider?avis=validated"
    session.expire_all()
    assert session.get(Claim, claim.id).status is ClaimStatus.VALIDATED


def test_the_first_validation_under_the_rule_waits_for_a_second_tutor(client, app, session, world, grants_of):
    world.framework.requires_second_review = True
    session.commit()
    claim = make_claim(session, grants_of, world, world.competency, minutes=0)
    sign_in_as(client, app, world.tutor)
    response = decide(client, claim, decision="validated", level="acquis", comment="Acquis.")
    assert response.headers["Location"] == "/a-valider?avis=first_of_two"
    assert "un second tuteur ou une seconde tutrice doit la confirmer" in page_text(
        client.get(response.headers["Location"])
    )
    mine = page_text(client.get(f"/a-valider/{claim.id}"))
    assert "Vous avez déjà validé cette demande" in mine


def test_after_deciding_the_next_claim_opens_with_the_same_filters(client, app, session, world, grants_of, three):
    sign_in_as(client, app, world.tutor)
    oldest, middle, newest = three
    response = decide(client, middle, decision="rejected", comment="Ce n'est pas cette compétence.")
    assert response.headers["Location"] == f"/a-valider/{newest.id}?avis=rejected"
    page = client.get(response.headers["Location"])
    assert "Votre avis est enregistré : demande refusée. Voici la demande suivante." in page_text(page)
    # After the last claim of the list, the queue starts again from its oldest.
    response = decide(client, newest, decision="needs_evidence", comment="Une photo ?")
    assert response.headers["Location"] == f"/a-valider/{oldest.id}?avis=needs_evidence"
    filtered = f"projet={world.project.id}"
    form = client.get(f"/a-valider/{oldest.id}?{filtered}").get_data(as_text=True)
    assert f'<input type="hidden" name="projet" value="{world.project.id}">' in form
    data = {
        "csrf_token": csrf_token(client, f"/a-valider/{oldest.id}"),
        "version": str(oldest.version),
        "decision": "validated",
        "level": "acquis",
        "comment": "Bien.",
        "projet": str(world.project.id),
    }
    last = client.post(f"/a-valider/{oldest.id}", data=data)
    assert last.headers["Location"] == f"/a-valider?{filtered}&avis=validated"


def test_a_claim_of_another_project_does_not_exist_for_the_tutor(
    client, app, session, world, grants_of, make_person, make_project, grant
):
    claim = make_claim(session, grants_of, world, world.competency, minutes=0)
    stranger = make_person(display_name="Autre Tuteur")
    elsewhere = make_project()
    grant(stranger, "tutor", elsewhere)
    sign_in_as(client, app, stranger)
    page = client.get(f"/a-valider/{claim.id}")
    assert page.status_code == 404 and page.mimetype == "text/html" and "Page introuvable" in page_text(page)
    post = client.post(
        f"/a-valider/{claim.id}",
        data={"csrf_token": csrf_token(client, "/a-valider"), "version": "1", "decision": "rejected", "comment": "x"},
    )
    assert post.status_code == 404
    assert client.get(f"/a-valider?projet={world.project.id}").status_code == 404
    assert claim_ids_in(client.get("/a-valider")) == []


def test_a_learner_has_no_queue_nor_claim_page(client, app, session, world, grants_of):
    claim = make_claim(session, grants_of, world, world.competency, minutes=0)
    assert client.get("/a-valider").status_code == 303  # a visitor: to the sign-in page
    assert client.get("/a-valider").headers["Location"] == "/connexion?next=%2Fa-valider"
    sign_in_as(client, app, world.learner)
    assert client.get("/a-valider").status_code == 403
    assert client.get(f"/a-valider/{claim.id}").status_code == 403  # their own claim: not theirs to decide
    post = client.post(
        f"/a-valider/{claim.id}",
        data={
            "csrf_token": csrf_token(client, "/"),
            "version": "1",
            "decision": "validated",
            "level": "acquis",
            "comment": "x",
        },
    )
    assert post.status_code == 403
    session.expire_all()
    assert session.get(Claim, claim.id).status is ClaimStatus.PENDING


def test_the_pages_queue_is_the_apis_queue(session, world, grants_of, make_competency, make_person, grant, three):
    """The page's one grouped pass gives the same claims and totals as the API's review queue."""
    from app.services.recognition import tutoring

    bob = make_person(display_name="Bob")
    grant(bob, "learner", world.project)
    grant(world.tutor2, "learner", world.project)
    tutor = grants_of(world.tutor)
    for filters in (
        {},
        {"project_id": world.project.id},
        {"learner_id": world.learner.id},
        {"learner_id": bob.id},
        {"framework_id": world.framework.id, "learner_id": world.learner.id},
    ):
        for page in (1, 2):
            mine = tutoring.tutor_queue(session, tutor, **filters, page=page, per_page=2).page
            api = reviews.review_queue(session, tutor, **filters, page=page, per_page=2)
            assert [i.claim.id for i in mine.items] == [i.claim.id for i in api.items], filters
            assert mine.total == api.total
    choices = tutoring.tutor_queue(session, tutor).choices
    assert [c.label for c in choices.learners] == ["Léa Apprenante"]  # only those with claims waiting
    assert [c.id for c in choices.frameworks] == [world.framework.id]
    assert [c.id for c in choices.projects] == [world.project.id]
