"""Claiming in a real headless Chromium at phone size (tests/browser_fixtures.py), the second half of
journey 1: Lucie, with a submitted contribution, finds a competency by typing French words (plural,
no accents), says why, self-assesses and sends; then, after "à compléter", adds evidence and sends
the claim back. Every claim page passes axe-core in French and English at both widths."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.models import Competency, Contribution, Framework, Membership, Person, Project, Role, ScopeType, Territory
from app.services.dossiers import lifecycle as dossiers
from app.services.frameworks.imports import import_framework_file
from app.services.identity import access
from app.services.identity.auth import Passwords
from app.services.recognition import claims, reviews
from tests.browser_fixtures import LiveServer, assert_accessible, in_project, signed_in_at, submitted_contribution
from tests.dossier_fixtures import make_fiche

pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed (pip install -e '.[test]')")
from playwright.sync_api import Page, expect

PASSWORD = "lucie-mot-de-passe"
FRAMEWORK = """# title: Patrimoine des villages {n}
# version: 2026
# language: fr
# identifier: https://tests.blason.example/patrimoine-{n}
key;parent_key;kind;code;label;description;alt_labels
P1;;bloc;P1;Prendre soin du patrimoine;Entretenir ce que le village a en commun.;
P1.1;P1;competence;P1.1;Restaurer un lavoir communal;Nettoyer, réparer et remettre en eau un lavoir.;rénover un lavoir
P1.2;P1;competence;P1.2;Raconter l'histoire d'un lieu;Recueillir des souvenirs et les transmettre.;
"""


class Lucie:
    def __init__(self, person: Person, tutor: Person, contribution: Contribution, competencies: dict[str, Any]):
        self.person, self.tutor, self.contribution, self.competencies = person, tutor, contribution, competencies


def lucie_with_a_contribution(site: LiveServer) -> Lucie:
    """Lucie, learner of the village's project, with a submitted contribution; Karim tutors it; a
    framework of her own (unique words, so other tests' frameworks never share her hits)."""
    n = uuid.uuid4().hex[:6]
    with site.session() as session:
        path = site.folder / f"patrimoine-{n}.csv"
        path.write_text(FRAMEWORK.format(n=n), encoding="utf-8")
        import_framework_file(session, site.system, path, path.name)
        framework = session.scalar(select(Framework).where(Framework.title == f"Patrimoine des villages {n}"))
        assert framework is not None
        found = {
            c.code or "": c for c in session.scalars(select(Competency).where(Competency.framework_id == framework.id))
        }
        territory = Territory(name=f"Territoire {n}")
        session.add(territory)
        session.flush()
        project = Project(territory_id=territory.id, title="Le lavoir du bourg", social_functions=["produire"])
        hashed = Passwords(1, 8).hash(PASSWORD)
        lucie = Person(display_name="Lucie Perrin", email=f"lucie.{n}@demo.blason.fr", password_hash=hashed)
        karim = Person(display_name="Karim Benali", email=f"karim.{n}@demo.blason.fr", password_hash=hashed)
        session.add_all([project, lucie, karim])
        session.flush()
        session.add_all(in_project(project, learners=[lucie], tutors=[karim]))
        contribution = submitted_contribution(
            session,
            project,
            lucie,
            "Remise en eau du lavoir",
            "Avec les voisins, nous avons nettoyé le bassin et réparé la toiture du lavoir.",
        )
        session.commit()
        return Lucie(lucie, karim, contribution, found)


def claim_for(
    site: LiveServer, lucie: Lucie, code: str, decision: str | None = None, level: str | None = None
) -> uuid.UUID:
    """A claim of Lucie's (made and decided through the services), for the pages of each state."""
    with site.session() as session:
        data = {
            "contribution_id": lucie.contribution.id,
            "competency_id": lucie.competencies[code].id,
            "justification": "J'ai organisé les trois matinées de chantier avec les voisins.",
            "self_assessment": "acquis",
        }
        claim = claims.create_claim(session, access.load_grants(session, lucie.person.id), data).value
        session.commit()
        if decision:
            comment = (
                "Merci Lucie ! Ajoutez une photo du lavoir remis en eau."
                if decision == "needs_evidence"
                else "Très bon chantier, bien mené."
            )
            reviews.review_claim(
                session,
                access.load_grants(session, lucie.tutor.id),
                claim.id,
                {"decision": decision, "level": level, "comment": comment},
                expected_version=claim.version,
            )
            session.commit()
        return claim.id


def test_lucie_claims_a_competency_found_by_typing_french_words(
    live_server: LiveServer, page: Page, screenshot: Callable[[Page, str], Path]
) -> None:
    lucie = lucie_with_a_contribution(live_server)
    start = f"/mes-contributions/{lucie.contribution.id}/revendiquer"
    page.goto(live_server.url(start))  # signed out: the sign-in page, then back here
    page.get_by_label("Adresse e-mail").fill(lucie.person.email or "")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Faire valider une compétence")
    assert page.url == live_server.url(start)
    screenshot(page, "claims-journey-search-phone-fr")

    # Plural and without accents: "lavoirs communaux" finds "Restaurer un lavoir communal".
    page.get_by_label("Quelle compétence avez-vous utilisée ?").fill("lavoirs communaux")
    page.get_by_role("button", name="Chercher").click()
    # First the competency holding both words, then those holding one of them (issue 16).
    expect(page.get_by_role("heading", name=re.compile(r"compétences? trouvées?"))).to_be_visible()
    expect(page.locator("#results + ul > li h3").first).to_contain_text("Restaurer un lavoir communal")
    hit = page.get_by_role("listitem").filter(has_text="Restaurer un lavoir communal")
    expect(hit).to_contain_text("Patrimoine des villages")
    expect(hit).to_contain_text("Bloc de compétences")
    expect(hit).to_contain_text("Prendre soin du patrimoine")
    assert_accessible(page)
    screenshot(page, "claims-journey-results-phone-fr")

    hit.get_by_role("link", name="Choisir cette compétence").click()
    expect(page.get_by_role("heading", name="La compétence choisie")).to_be_visible()
    expect(page.get_by_label("Je ne sais pas")).to_be_checked()
    page.get_by_role("button", name="Envoyer ma demande").click()  # nothing written yet
    why = page.get_by_label("Pourquoi cette compétence ?")
    expect(page.locator("#justification-error")).to_have_text(
        "Écrivez quelques mots sur ce que vous avez fait\u00a0: le tuteur ou la tutrice en a besoin pour décider."
    )
    expect(why).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)
    screenshot(page, "claims-journey-why-required-phone-fr")

    why.fill("J'ai mené le nettoyage du bassin et la réparation de la toiture, avec six voisins.")
    page.get_by_label("acquis", exact=True).check()
    page.get_by_role("button", name="Envoyer ma demande").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ma demande de validation")
    assert "/mes-demandes/" in page.url
    expect(page.get_by_text("En attente", exact=True)).to_be_visible()
    expect(page.get_by_text("J'ai mené le nettoyage du bassin")).to_be_visible()
    screenshot(page, "claims-journey-sent-phone-fr")


def test_after_a_request_for_more_lucie_adds_evidence_and_sends_it_back(
    live_server: LiveServer, page: Page, screenshot: Callable[[Page, str], Path]
) -> None:
    lucie = lucie_with_a_contribution(live_server)
    claim_id = claim_for(live_server, lucie, "P1.1", "needs_evidence")
    signed_in_at(live_server, lucie.person, f"/mes-demandes/{claim_id}", fresh=True)(page)
    expect(page.get_by_text("À compléter", exact=True).first).to_be_visible()
    expect(page.get_by_text("Merci Lucie ! Ajoutez une photo du lavoir remis en eau.")).to_be_visible()
    screenshot(page, "claims-complete-phone-fr")

    # Step 1: a text, saved by the contribution's evidence form, which comes back here.
    page.get_by_label("Texte", exact=True).fill("Le bassin rempli d'eau claire, le 12 novembre.")
    page.get_by_label("Titre de la preuve").fill("Le lavoir remis en eau")
    page.get_by_role("button", name="Ajouter cette preuve").click()
    assert page.url.startswith(live_server.url(f"/mes-demandes/{claim_id}"))
    expect(page.get_by_text("1 preuve ajoutée depuis la demande du tuteur ou de la tutrice.")).to_be_visible()

    # Step 2: an explanation is asked for, then the claim goes back to the tutor.
    page.get_by_role("button", name="Renvoyer ma demande").click()
    expect(page.locator("#explanation-error")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Ce que j'ai ajouté ou changé").fill("J'ai ajouté le texte sur la remise en eau.")
    page.get_by_role("button", name="Renvoyer ma demande").click()
    expect(page.get_by_text("En attente", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Étape 1 : ajouter une preuve")).to_have_count(0)
    expect(page.get_by_text("J'ai ajouté le texte sur la remise en eau.")).to_be_visible()
    screenshot(page, "claims-sent-back-phone-fr")


def test_the_claim_pages_are_accessible(live_server: LiveServer, audit: Callable[..., list[Path]]) -> None:
    lucie = lucie_with_a_contribution(live_server)
    me = lucie.person
    start = f"/mes-contributions/{lucie.contribution.id}/revendiquer"
    audit(signed_in_at(live_server, me, "/mes-competences", fresh=True), "claims-skills-empty")
    audit(signed_in_at(live_server, me, f"{start}?q=lavoirs", fresh=True), "claims-search")
    audit(signed_in_at(live_server, me, f"{start}?q=zzzz", fresh=True), "claims-search-none")
    chosen = lucie.competencies["P1.2"].id
    audit(signed_in_at(live_server, me, f"{start}?q=histoire&competence={chosen}", fresh=True), "claims-choose")
    audit(
        signed_in_at(live_server, me, f"/mes-demandes/{claim_for(live_server, lucie, 'P1.2')}", fresh=True),
        "claims-pending",
    )
    needs = claim_for(live_server, lucie, "P1.1", "needs_evidence")
    audit(signed_in_at(live_server, me, f"/mes-demandes/{needs}", fresh=True), "claims-needs-evidence")
    lucie2 = lucie_with_a_contribution(live_server)
    done = claim_for(live_server, lucie2, "P1.1", "validated", "maitrise")
    audit(signed_in_at(live_server, lucie2.person, f"/mes-demandes/{done}", fresh=True), "claims-validated")
    audit(signed_in_at(live_server, lucie2.person, "/mes-competences", fresh=True), "claims-skills")
    audit(signed_in_at(live_server, me, "/mes-donnees", fresh=True), "claims-data")
    ask_for_a_dossier(live_server, lucie2.person)
    audit(signed_in_at(live_server, lucie2.person, "/mes-donnees", fresh=True), "claims-data-dossier")


def ask_for_a_dossier(site: LiveServer, learner: Person) -> None:
    """A jury officer of an RNCP fiche of its own asks for the learner's dossier (consent awaited)."""
    key = f"RNCP9{uuid.uuid4().int % 10000:04d}"
    with site.session() as session:
        _framework, fiche, _blocs, _competences = make_fiche(session, key=key)
        officer = Person(display_name="Nadia Chargée de jury", email=f"nadia.{key}@demo.blason.fr")
        session.add(officer)
        session.flush()
        session.add(
            Membership(
                person_id=officer.id, role=Role.JURY_OFFICER, scope_type=ScopeType.CERTIFICATION, scope_id=fiche.id
            )
        )
        session.flush()
        dossiers.request_dossier(
            session, access.load_grants(session, officer.id), {"certification_id": fiche.id, "learner_id": learner.id}
        )
        session.commit()
