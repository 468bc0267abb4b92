"""À valider in a real headless Chromium at phone size (tests/browser_fixtures.py): Karim opens his queue,
opens the oldest claim, asks for more evidence with a comment (after being told the comment is
required), and the next claim opens. The queue and the claim's page pass axe-core in French and English."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path

import pytest

from app.models import Competency, Framework, Person, Project, SourceType, Territory
from app.platform.storage import LocalStorage
from app.services.contributions import evidence
from app.services.identity import access
from app.services.identity.auth import Passwords
from app.services.recognition import claims
from tests.api.support import png_bytes
from tests.browser_fixtures import LiveServer, assert_accessible, in_project, signed_in_at, submitted_contribution

pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed (pip install -e '.[test]')")
from playwright.sync_api import Page, expect

PASSWORD = "karim-mot-de-passe"
T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def karims_queue(site: LiveServer) -> tuple[Person, list[uuid.UUID]]:
    """Karim, tutor of the shared garden, with two claims of Lucie waiting (a photo among the evidence)."""
    n = uuid.uuid4().hex[:6]
    with site.session() as session:
        territory = Territory(name=f"Territoire {n}")
        framework = Framework(source_type=SourceType.CUSTOM, source_key=f"jardin-{n}", title="Animer un tiers-lieu")
        session.add_all([territory, framework])
        session.flush()
        project = Project(territory_id=territory.id, title="Jardin partagé des Glycines", social_functions=["produire"])
        karim = Person(
            display_name="Karim Benali", email=f"karim.{n}@demo.blason.fr", password_hash=Passwords(1, 8).hash(PASSWORD)
        )
        lucie = Person(display_name="Lucie Perrin", email=f"lucie.{n}@demo.blason.fr")
        bloc = Competency(
            framework_id=framework.id, source_key="B1", kind="bloc", code="B1", label="Animer un collectif"
        )
        session.add_all([project, karim, lucie, bloc])
        session.flush()
        leaves = [
            Competency(
                framework_id=framework.id, parent_id=bloc.id, source_key=k, kind="competence", code=k, label=label
            )
            for k, label in (("C1", "Animer une réunion d'habitants"), ("C2", "Organiser un chantier collectif"))
        ]
        session.add_all(leaves)
        session.add_all(in_project(project, learners=[lucie], tutors=[karim]))
        contribution = submitted_contribution(
            session,
            project,
            lucie,
            "Atelier de plantation avec les voisins",
            "J'ai préparé les plants, accueilli douze voisins et expliqué comment planter les tomates.",
            role="animatrice",
            start_date=date(2026, 10, 4),
            end_date=date(2026, 10, 4),
            hours=Decimal("3.5"),
            submitted_at=T0,
        )
        grants = access.load_grants(session, lucie.id)
        evidence.upload_evidence(
            session,
            grants,
            contribution.id,
            io.BytesIO(png_bytes(480, 320, seed=7)),
            "atelier.png",
            {"title": "Les voisins autour des bacs"},
            storage=LocalStorage(site.storage),
            max_bytes=5_000_000,
        )
        evidence.add_evidence(
            session,
            grants,
            contribution.id,
            {"kind": "text", "title": "Ce que m'a dit la présidente", "text": "Lucie a tout organisé elle-même."},
        )
        made = []
        for i, (leaf, why) in enumerate(
            zip(leaves, ("J'ai mené la réunion de bout en bout.", "J'ai organisé le chantier du samedi."), strict=True)
        ):
            at = T0 + timedelta(hours=i)
            made.append(
                claims.create_claim(
                    session,
                    grants,
                    {"contribution_id": contribution.id, "competency_id": leaf.id, "justification": why},
                    clock=partial(_at, at),
                ).value.id
            )
        session.commit()
        return karim, made


def _at(when: datetime) -> datetime:
    return when


def test_karim_asks_for_more_evidence_then_the_next_claim_opens(
    live_server: LiveServer, page: Page, screenshot: Callable[[Page, str], Path]
) -> None:
    karim, (first, second) = karims_queue(live_server)
    page.goto(live_server.url("/a-valider"))
    page.get_by_label("Adresse e-mail").fill(karim.email or "")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("À valider")
    expect(page.get_by_text("2 demandes attendent votre avis.")).to_be_visible()
    expect(page.get_by_role("link", name="À valider")).to_have_attribute("aria-current", "page")
    screenshot(page, "tutor-journey-queue-phone-fr")

    page.get_by_role("link", name="Animer une réunion d'habitants").click()
    assert page.url == live_server.url(f"/a-valider/{first}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Animer une réunion d'habitants")
    photo = page.get_by_role("img", name="Photo : Les voisins autour des bacs")
    expect(photo).to_be_visible()
    # Visible once laid out; loaded (and not broken) may come later on a busy machine: wait for it.
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=photo.element_handle())
    expect(page.get_by_text("J'ai mené la réunion de bout en bout.")).to_be_visible()
    expect(page.get_by_text("Lucie a tout organisé elle-même.")).to_be_visible()
    screenshot(page, "tutor-journey-claim-phone-fr")

    page.get_by_label("À compléter : il manque des preuves ou des explications").check()
    page.get_by_role("button", name="Envoyer mon avis").click()  # no comment yet
    comment = page.get_by_label("Votre commentaire (obligatoire)")
    expect(page.locator("#comment-error")).to_have_text("Écrivez un commentaire : la personne saura ainsi pourquoi.")
    expect(comment).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("À compléter : il manque des preuves ou des explications")).to_be_checked()
    assert_accessible(page)
    screenshot(page, "tutor-journey-comment-required-phone-fr")

    comment.fill("Merci Lucie ! Ajoutez une photo de la réunion ou le compte rendu, s'il vous plaît.")
    page.get_by_role("button", name="Envoyer mon avis").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Organiser un chantier collectif")
    assert page.url.startswith(live_server.url(f"/a-valider/{second}"))
    expect(page.get_by_role("status")).to_have_text(
        "Votre avis est enregistré : la personne va compléter sa demande. Voici la demande suivante."
    )
    # The earlier review of the other competency is not this one's history; this claim has none yet.
    expect(page.get_by_text("Aucun avis pour l'instant sur cette compétence pour cette personne.")).to_be_visible()
    screenshot(page, "tutor-journey-next-claim-phone-fr")

    page.get_by_role("link", name="Retour à la liste À valider").first.click()
    expect(page.get_by_text("1 demande attend votre avis.")).to_be_visible()


def test_the_tutor_pages_are_accessible(live_server: LiveServer, audit: Callable[..., list[Path]]) -> None:
    karim, (first, _second) = karims_queue(live_server)
    audit(signed_in_at(live_server, karim, "/a-valider"), "tutor-queue")
    audit(signed_in_at(live_server, karim, f"/a-valider/{first}"), "tutor-claim")
