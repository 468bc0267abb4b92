"""A learner's claim pages: finding a competency by French words, claiming it, following the claim
(and completing it after "à compléter"), the portfolio, and downloading one's data."""

from __future__ import annotations

import io
import json
import re
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.models import AuditEvent, Claim, ClaimStatus, Competency, ContributionStatus, Framework
from app.services.contributions import evidence
from app.services.frameworks.imports import import_framework_file
from app.services.identity.access import Grants
from app.services.identity.audit import Actor
from app.services.recognition import claims, reviews
from tests.web.csrf_support import csrf_token
from tests.web.page_support import page_text, sign_in_as

SYSTEM = Grants(Actor(None), platform_admin=True)
FRAMEWORK = """# title: Compétences des chantiers de la Brenne
# version: 2026
# language: fr
# identifier: https://tests.blason.example/referentiel-claims
key;parent_key;kind;code;label;description;alt_labels
B1;;bloc;B1;Agir avec les habitants;Mobiliser les habitants autour d'un projet local.;
B1.1;B1;competence;B1.1;Organiser un chantier collectif;Préparer un chantier ouvert à tous.;préparer une journée de travail
B1.2;B1;competence;B1.2;Animer un groupe d'habitants;Réunir des voisins et faire vivre un collectif.;animer une réunion
B2;;bloc;B2;Transmettre un savoir-faire;Apprendre aux autres.;
B2.1;B2;competence;B2.1;Cultiver un potager nourricier;Semer, entretenir et récolter.;planter des légumes | jardiner
"""


@pytest.fixture()
def brenne(session, tmp_path: Path) -> dict[str, Competency]:
    """An imported framework (so the search index has it), its competencies by code."""
    path = tmp_path / "referentiel-claims.csv"
    path.write_text(FRAMEWORK, encoding="utf-8")
    import_framework_file(session, SYSTEM, path, path.name)
    session.commit()
    framework = session.scalar(select(Framework).where(Framework.title == "Compétences des chantiers de la Brenne"))
    return {c.code: c for c in session.scalars(select(Competency).where(Competency.framework_id == framework.id))}


def claim_url(world: Any) -> str:
    return f"/mes-contributions/{world.contribution.id}/revendiquer"


def post_claim(client: Any, world: Any, competency: Competency, **fields: str) -> Any:
    page = f"{claim_url(world)}?competence={competency.id}"
    data = {"competence": str(competency.id), "justification": "", "self_assessment": "", **fields}
    return client.post(claim_url(world), data={**data, "csrf_token": csrf_token(client, page)})


def make_claim(session: Any, grants_of: Any, world: Any, competency: Competency) -> Claim:
    data = {"contribution_id": world.contribution.id, "competency_id": competency.id, "justification": "J'ai animé."}
    claim = claims.create_claim(session, grants_of(world.learner), data).value
    session.commit()
    return claim


def decide(session: Any, grants_of: Any, world: Any, claim: Claim, decision: str, level: str | None = None) -> None:
    claim = session.get(Claim, claim.id)
    data = {"decision": decision, "level": level, "comment": f"Avis de Théo : {decision}."}
    reviews.review_claim(session, grants_of(world.tutor), claim.id, data, expected_version=claim.version)
    session.commit()


def test_a_visitor_is_sent_to_sign_in(client, world):  # type: ignore[no-untyped-def]
    for path in (claim_url(world), "/mes-competences", "/mes-donnees", "/mes-donnees/export"):
        response = client.get(path)
        assert response.status_code == 303 and response.headers["Location"].startswith("/connexion?next=")


def test_french_words_with_accents_and_plurals_find_a_competency_with_its_framework_and_bloc(  # type: ignore[no-untyped-def]
    client, app, world, brenne
):
    sign_in_as(client, app, world.learner)
    empty = client.get(claim_url(world))
    assert empty.status_code == 200 and "Quelle compétence avez-vous utilisée" in page_text(empty)
    # Plural words find the singular label; the bloc and the framework are named with each hit.
    page = client.get(claim_url(world), query_string={"q": "chantiers collectifs"})
    text = page_text(page)
    # First the competency holding both words, then those holding one of them (issue 16).
    first = text.index("B1.1 — Organiser un chantier collectif")
    assert first < text.index("Choisir cette compétence") and re.search(r"\d+ compétences? trouvées?", text)
    # Those holding only one of the words come under their own heading, after every full match.
    some = text.index("Ces compétences contiennent une partie de vos mots seulement")
    assert first < some and text.count("Ces compétences contiennent une partie") == 1
    assert "Référentiel : Compétences des chantiers de la Brenne" in text
    assert "Bloc de compétences : B1 — Agir avec les habitants" in text
    # Accents, capitals and an alternative label: "LÉGUMES" finds the kitchen garden.
    legumes = page_text(client.get(claim_url(world), query_string={"q": "LÉGUMES"}))
    assert "Cultiver un potager nourricier" in legumes and "Transmettre un savoir-faire" in legumes
    assert "Cultiver un potager nourricier" in page_text(client.get(claim_url(world), query_string={"q": "legume"}))
    none = page_text(client.get(claim_url(world), query_string={"q": "astrophysique"}))
    assert "Aucune compétence trouvée pour « astrophysique »" in none


def test_choosing_a_competency_shows_the_why_and_the_scale(client, app, world, brenne):  # type: ignore[no-untyped-def]
    sign_in_as(client, app, world.learner)
    page = client.get(claim_url(world), query_string={"q": "chantier", "competence": str(brenne["B1.1"].id)})
    html = page.get_data(as_text=True)
    assert "Expliquez ce que vous avez fait qui montre cette compétence." in html
    assert re.search(r'id="level-none" name="self_assessment" value="" checked', html)
    for label in ("non acquis", "en cours d&#39;acquisition", "acquis", "maîtrisé", "Je ne sais pas"):
        assert label in html, label
    assert f'name="competence" value="{brenne["B1.1"].id}"' in html


def test_claiming_creates_the_claim_and_opens_its_page(client, app, session, world, brenne, outbox):  # type: ignore[no-untyped-def]
    sign_in_as(client, app, world.learner)
    response = post_claim(
        client, world, brenne["B1.1"], justification="J'ai organisé le chantier du lavoir.", self_assessment="acquis"
    )
    assert response.status_code == 303
    claim = session.scalars(select(Claim).where(Claim.contribution_id == world.contribution.id)).one()
    assert response.headers["Location"] == f"/mes-demandes/{claim.id}"
    assert claim.competency_id == brenne["B1.1"].id and claim.self_assessment == "acquis"
    # The project's tutors are told, with a link to the page where they decide.
    sent = outbox()
    assert {m["To"] for m in sent} == {world.tutor.email, world.tutor2.email}
    assert all(f"https://blason.test/a-valider/{claim.id}" in m.get_body().get_content() for m in sent)
    text = page_text(client.get(response.headers["Location"]))
    assert "En attente" in text and "J'ai organisé le chantier du lavoir." in text.replace("&#39;", "'")
    assert "Organiser un chantier collectif" in text and "Niveau, à mon avis" in text
    # The contribution's claim page lists it, and the same competency is not asked twice.
    again = client.get(claim_url(world), query_string={"competence": str(brenne["B1.1"].id)})
    assert "déjà demandé" in page_text(again) and f'href="/mes-demandes/{claim.id}"' in again.get_data(as_text=True)
    twice = post_claim(client, world, brenne["B1.1"], justification="Encore.")
    assert twice.status_code == 409 and "déjà demandé" in page_text(twice)
    assert session.scalars(select(Claim).where(Claim.contribution_id == world.contribution.id)).all() == [claim]


def test_errors_are_shown_beside_their_field(client, app, session, world, brenne):  # type: ignore[no-untyped-def]
    sign_in_as(client, app, world.learner)
    missing = post_claim(client, world, brenne["B1.2"], justification="  ")
    html = missing.get_data(as_text=True)
    assert missing.status_code == 422 and 'id="justification-error"' in html and 'aria-invalid="true"' in html
    assert "Il y a un problème" in page_text(missing) and 'href="#justification"' in html
    level = post_claim(client, world, brenne["B1.2"], justification="J'ai animé.", self_assessment="expert")
    assert level.status_code == 422 and 'id="self_assessment-error"' in level.get_data(as_text=True)
    assert "J&#39;ai animé." in level.get_data(as_text=True)  # what was typed is kept
    unknown = post_claim(client, world, brenne["B1.2"], competence=str(uuid.uuid4()), justification="Oui.")
    assert unknown.status_code == 422 and "Choisissez d'abord une compétence" in page_text(unknown).replace(
        "&#39;", "'"
    )
    assert session.scalar(select(Claim).where(Claim.contribution_id == world.contribution.id)) is None


def test_a_draft_contribution_is_sent_first(client, app, world, brenne, make_contribution):  # type: ignore[no-untyped-def]
    draft = make_contribution(world.learner, world.project, status=ContributionStatus.DRAFT)
    sign_in_as(client, app, world.learner)
    page = client.get(f"/mes-contributions/{draft.id}/revendiquer", query_string={"q": "chantier"})
    assert "encore un brouillon" in page_text(page) and "Organiser un chantier collectif" not in page_text(page)


def test_another_learners_claim_and_contribution_do_not_exist_for_me(  # type: ignore[no-untyped-def]
    client, app, session, world, brenne, grants_of, make_person, grant
):
    claim = make_claim(session, grants_of, world, brenne["B1.1"])
    other = make_person(display_name="Paul Autre")
    grant(other, "learner", world.project)  # even in the same project
    sign_in_as(client, app, other)
    assert client.get(f"/mes-demandes/{claim.id}").status_code == 404
    assert client.get(claim_url(world)).status_code == 404
    token = csrf_token(client, "/mes-competences")
    form = {"explanation": "Voilà.", "version": "1", "csrf_token": token}
    assert client.post(f"/mes-demandes/{claim.id}/renvoyer", data=form).status_code == 404
    refused = client.post(
        claim_url(world), data={"competence": str(brenne["B1.2"].id), "justification": "x", "csrf_token": token}
    )
    assert refused.status_code == 404
    # The project's tutor reads the claim, but has no steps to take on it.
    decide(session, grants_of, world, claim, "needs_evidence")
    sign_in_as(client, app, world.tutor)
    tutor_view = client.get(f"/mes-demandes/{claim.id}")
    assert tutor_view.status_code == 200 and "renvoyer" not in tutor_view.get_data(as_text=True)


def test_after_needs_evidence_two_steps_send_the_claim_back(  # type: ignore[no-untyped-def]
    client, app, session, world, brenne, grants_of
):
    claim = make_claim(session, grants_of, world, brenne["B1.1"])
    decide(session, grants_of, world, claim, "needs_evidence")
    sign_in_as(client, app, world.learner)
    page = client.get(f"/mes-demandes/{claim.id}")
    html, text = page.get_data(as_text=True), page_text(page)
    assert "À compléter" in text and "Avis de Théo" in text and "Théo Tuteur" in text
    assert "Étape 1" in text and "Étape 2" in text
    step1 = re.search(r'<form[^>]*action="/mes-contributions/([^"]+)/preuves"[^>]*enctype="multipart/form-data"', html)
    assert step1 and step1.group(1) == str(world.contribution.id)
    assert f'name="retour" value="/mes-demandes/{claim.id}"' in html
    for name in ("fichier", "lien", "texte", "titre", "visibilite"):
        assert f'name="{name}"' in html, name
    # Step 1 done (as the contribution page's form does it), the page counts it.
    evidence.add_evidence(
        session,
        grants_of(world.learner),
        world.contribution.id,
        {"kind": "text", "title": "Compte rendu", "text": "Le compte rendu du chantier.", "visibility": "tutors"},
    )
    session.commit()
    assert "1 preuve ajoutée" in page_text(client.get(f"/mes-demandes/{claim.id}"))
    # Step 2: an explanation is required.
    token = csrf_token(client, f"/mes-demandes/{claim.id}")
    empty = client.post(
        f"/mes-demandes/{claim.id}/renvoyer",
        data={"explanation": " ", "version": str(claim.version), "csrf_token": token},
    )
    assert empty.status_code == 422 and 'id="explanation-error"' in empty.get_data(as_text=True)
    claim = session.get(Claim, claim.id)
    sent = client.post(
        f"/mes-demandes/{claim.id}/renvoyer",
        data={"explanation": "J'ai ajouté le compte rendu.", "version": str(claim.version), "csrf_token": token},
    )
    assert sent.status_code == 303 and sent.headers["Location"] == f"/mes-demandes/{claim.id}"
    session.expire_all()
    claim = session.get(Claim, claim.id)
    assert claim.status is ClaimStatus.PENDING and claim.round == 2
    after = page_text(client.get(f"/mes-demandes/{claim.id}"))
    assert (
        "En attente" in after
        and "Étape 1" not in after
        and "J'ai ajouté le compte rendu." in after.replace("&#39;", "'")
    )
    # The same form sent again (an old page) is refused, not applied twice.
    stale = client.post(
        f"/mes-demandes/{claim.id}/renvoyer",
        data={"explanation": "Encore.", "version": str(claim.version - 1), "csrf_token": token},
    )
    assert stale.status_code == 409


def test_the_claim_page_says_each_state_in_plain_french(client, app, session, world, brenne, grants_of):  # type: ignore[no-untyped-def]
    validated = make_claim(session, grants_of, world, brenne["B1.1"])
    decide(session, grants_of, world, validated, "validated", "maitrise")
    rejected = make_claim(session, grants_of, world, brenne["B1.2"])
    decide(session, grants_of, world, rejected, "rejected")
    sign_in_as(client, app, world.learner)
    text = page_text(client.get(f"/mes-demandes/{validated.id}"))
    assert "Validée (maîtrisé)" in text and "Validée au niveau « maîtrisé »" in text.replace("\u00a0", " ")
    assert "Refusée" in page_text(client.get(f"/mes-demandes/{rejected.id}"))
    english = page_text(client.get(f"/mes-demandes/{validated.id}?lang=en"))
    assert "Validated (mastered)" in english and "My validation request" in english


def test_the_portfolio_shows_level_tutor_date_and_comment(client, app, session, world, brenne, grants_of):  # type: ignore[no-untyped-def]
    sign_in_as(client, app, world.learner)
    empty = client.get("/mes-competences")
    assert "Aucune compétence" in page_text(empty) and "encore validée" in page_text(empty)
    assert 'href="/mes-contributions"' in empty.get_data(as_text=True)
    claim = make_claim(session, grants_of, world, brenne["B2.1"])
    decide(session, grants_of, world, claim, "validated", "acquis")
    pending = make_claim(session, grants_of, world, brenne["B1.1"])
    assert pending.status is ClaimStatus.PENDING
    page = client.get("/mes-competences")
    text = page_text(page)
    assert "1 compétence validée" in text and "Compétences des chantiers de la Brenne" in text
    assert "B2.1 — Cultiver un potager nourricier" in text and "Validée (acquis)" in text
    assert "Validée par Théo Tuteur le" in text and "Avis de Théo : validated." in text.replace("\u00a0", " ")
    assert "Organiser un chantier collectif" not in text  # still waiting: not in the portfolio
    assert "Validated by Théo Tuteur on" in page_text(client.get("/mes-competences?lang=en"))


def test_the_portfolio_is_paged_and_filtered_by_framework(  # type: ignore[no-untyped-def]
    client, app, session, world, brenne, grants_of, make_competency
):
    for code in ("B1.1", "B1.2", "B2.1"):
        decide(session, grants_of, world, make_claim(session, grants_of, world, brenne[code]), "validated", "acquis")
    other = make_competency(world.framework, world.bloc, code="Z9", label="Tenir un budget")
    decide(session, grants_of, world, make_claim(session, grants_of, world, other), "validated", "en_cours")
    sign_in_as(client, app, world.learner)
    from app.web import claims as claim_pages

    previous, claim_pages.SKILLS_PER_PAGE = claim_pages.SKILLS_PER_PAGE, 2
    try:
        first = page_text(client.get("/mes-competences"))
        assert "Page 1 sur 2" in first
        assert "4 compétences validées" in first and "Page 1 sur 2" in first and "Toutes (4)" in first
        second = page_text(client.get("/mes-competences?page=2"))
        assert "Page 2 sur 2" in second
        only = page_text(client.get(f"/mes-competences?referentiel={world.framework.id}"))
        assert "Tenir un budget" in only and "en cours d'acquisition" in only.replace("&#39;", "'")
        assert "Cultiver un potager" not in only
    finally:
        claim_pages.SKILLS_PER_PAGE = previous


def test_my_data_explains_and_downloads_the_record(client, app, session, world, brenne, grants_of):  # type: ignore[no-untyped-def]
    claim = make_claim(session, grants_of, world, brenne["B1.2"])
    sign_in_as(client, app, world.learner)
    page = client.get("/mes-donnees")
    assert page.status_code == 200 and "index.json" in page_text(page)
    assert 'href="/mes-donnees/export"' in page.get_data(as_text=True)
    download = client.get("/mes-donnees/export")
    assert download.status_code == 200 and download.mimetype == "application/zip"
    assert download.headers["Content-Disposition"].startswith('attachment; filename="mes-donnees-')
    archive = zipfile.ZipFile(io.BytesIO(download.get_data()))
    index = json.loads(archive.read("index.json"))
    assert index["type"] == "BlasonLearnerRecord" and index["profile"]["id"] == str(world.learner.id)
    assert str(claim.id) in json.dumps(index)
    assert session.scalar(
        select(AuditEvent).where(AuditEvent.actor_id == world.learner.id, AuditEvent.action.like("%record%"))
    )


def dossier_asked_by_nadia(session, make_person, grant, learner):  # type: ignore[no-untyped-def]
    """A jury dossier of ``learner`` for an RNCP fiche, asked by Nadia, its jury officer (committed)."""
    from app.services.dossiers import lifecycle as dossiers
    from app.services.identity import access
    from tests.dossier_fixtures import make_fiche

    _framework, fiche, _blocs, _competences = make_fiche(session)
    officer = make_person(display_name="Nadia Jury")
    grant(officer, "jury_officer", fiche)
    asked = dossiers.request_dossier(
        session, access.load_grants(session, officer.id), {"certification_id": fiche.id, "learner_id": learner.id}
    )
    session.commit()
    return asked


def test_a_facilitator_acting_for_a_learner_sees_the_learners_pages(  # type: ignore[no-untyped-def]
    client, app, session, world, brenne, grants_of, make_person, grant
):
    from app.models import Facilitation, Person

    facilitator = make_person(display_name="Hélène Facilitatrice")
    grant(facilitator, "tutor", world.project)
    learner = session.get(Person, world.learner.id)
    learner.is_assisted, learner.password_hash, learner.email = True, None, None
    session.add(Facilitation(facilitator_id=facilitator.id, learner_id=world.learner.id))
    session.commit()
    claim = make_claim(session, grants_of, world, brenne["B2.1"])
    decide(session, grants_of, world, claim, "validated", "acquis")
    sign_in_as(client, app, facilitator, act_for=world.learner)
    assert "Cultiver un potager nourricier" in page_text(client.get("/mes-competences"))
    assert "Cultiver un potager nourricier" in page_text(client.get(f"/mes-demandes/{claim.id}"))


def test_my_data_asks_for_consent_to_a_jury_dossier(client, app, session, world, make_person, grant):  # type: ignore[no-untyped-def]
    from app.models import Dossier, DossierStatus

    asked = dossier_asked_by_nadia(session, make_person, grant, world.learner)
    sign_in_as(client, app, world.learner)
    page = client.get("/mes-donnees")
    text = page_text(page)
    assert "Dossiers pour le jury (VAE)" in text and "Demandé par Nadia Jury le" in text
    assert "Votre accord est attendu." in text and "Donner mon accord" in text and "Refuser" in text
    assert text.index("Dossiers pour le jury") < text.index("Ce que contient le fichier")  # asked: first
    token = csrf_token(client, "/mes-donnees")
    agreed = client.post(f"/mes-donnees/dossiers/{asked.id}/accord", data={"csrf_token": token})
    assert agreed.status_code == 303 and agreed.headers["Location"] == "/mes-donnees#dossiers"
    assert session.get(Dossier, asked.id).status is DossierStatus.CONSENTED
    answered = page_text(client.get("/mes-donnees"))
    assert "Retirer mon accord" in answered
    assert answered.index("Dossiers pour le jury") > answered.index("Ce que contient le fichier")  # answered: last
    taken_back = client.post(f"/mes-donnees/dossiers/{asked.id}/refus", data={"csrf_token": token})
    assert taken_back.status_code == 303
    session.expire_all()
    assert session.get(Dossier, asked.id).status is DossierStatus.REFUSED
    # Someone else's dossier does not exist for me.
    other = make_person()
    sign_in_as(client, app, other)
    token = csrf_token(client, "/mes-donnees")
    assert "Personne n&#39;a demandé" in client.get("/mes-donnees").get_data(as_text=True)
    assert client.post(f"/mes-donnees/dossiers/{asked.id}/accord", data={"csrf_token": token}).status_code == 404


def test_refusing_a_jury_dossier_can_say_why_and_a_too_long_reason_changes_nothing(  # type: ignore[no-untyped-def]
    client, app, session, world, make_person, grant
):
    from sqlalchemy import select

    from app.models import AuditEvent, Dossier, DossierStatus

    asked = dossier_asked_by_nadia(session, make_person, grant, world.learner)
    sign_in_as(client, app, world.learner)
    assert "Si vous refusez : votre raison (facultatif)" in page_text(client.get("/mes-donnees"))
    token = csrf_token(client, "/mes-donnees")
    too_long = client.post(f"/mes-donnees/dossiers/{asked.id}/refus", data={"csrf_token": token, "raison": "x" * 1001})
    assert too_long.status_code == 422
    assert "Votre raison est trop longue : 1000 caractères au plus." in page_text(too_long)
    session.expire_all()
    assert session.get(Dossier, asked.id).status is DossierStatus.AWAITING_CONSENT
    refused = client.post(
        f"/mes-donnees/dossiers/{asked.id}/refus", data={"csrf_token": token, "raison": "  Pas cette année.  "}
    )
    assert refused.status_code == 303
    session.expire_all()
    assert session.get(Dossier, asked.id).status is DossierStatus.REFUSED
    said = session.scalars(
        select(AuditEvent.data).where(AuditEvent.action == "dossier.refused", AuditEvent.subject_id == str(asked.id))
    ).one()
    assert said["reason"] == "Pas cette année."
