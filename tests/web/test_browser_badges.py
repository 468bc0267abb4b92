"""Mes badges in a real headless Chromium at phone size (tests/browser_fixtures.py): a learner with an issued
badge signs in, answers the name question, opens the badge and copies its public address with the keyboard;
the public page then says she chose not to show her name. Both pages pass axe-core in French and English."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from app.models import Membership, Person, Project, Role, ScopeType, Territory
from app.platform.storage import LocalStorage
from app.services.identity import access
from app.services.identity.auth import Passwords
from app.services.issuing import achievements, awarding, issuers
from tests.browser_fixtures import LiveServer, signed_in_at

pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed (pip install -e '.[test]')")
from playwright.sync_api import Page, expect

PASSWORD = "lucie-mot-de-passe"


def lucie_with_a_badge(site: LiveServer) -> tuple[Person, uuid.UUID]:
    """Lucie, learner in a project, holding one issued badge, on the live server's database."""
    with site.session() as session:
        territory = Territory(name=f"Territoire {uuid.uuid4().hex[:6]}")
        session.add(territory)
        session.flush()
        project = Project(territory_id=territory.id, title="Jardin partagé", social_functions=["produire"])
        lucie = Person(
            display_name="Lucie Perrin",
            email=f"lucie.{uuid.uuid4().hex[:6]}@demo.blason.fr",
            password_hash=Passwords(1, 8).hash(PASSWORD),
        )
        admin = Person(display_name="Iris Émettrice", email=f"iris.{uuid.uuid4().hex[:6]}@example.fr")
        session.add_all([project, lucie, admin])
        session.flush()
        session.add_all(
            [
                Membership(person_id=lucie.id, role=Role.LEARNER, scope_type=ScopeType.PROJECT, scope_id=project.id),
                Membership(person_id=admin.id, role=Role.PLATFORM_ADMIN, scope_type=ScopeType.PLATFORM),
            ]
        )
        session.flush()
        grants = access.load_grants(session, admin.id)
        issuer = issuers.create_issuer(
            session,
            grants,
            {"name": "Tiers-lieu des Glycines", "url": "https://glycines.example.fr"},
            settings=site.settings,
        )
        achievement = achievements.create_achievement(
            session,
            grants,
            issuer.id,
            {
                "name": "Animer un atelier de jardinage",
                "description": "Préparer et animer un atelier ouvert aux habitants.",
                "criteria": "Un atelier animé, validé par un tuteur.",
                "achievement_type": "Competency",
            },
            storage=LocalStorage(site.storage),
            urls=site.settings.urls,
        )
        credential = awarding.award(session, grants, achievement.id, {"learner_id": lucie.id}, settings=site.settings)
        session.commit()
        return lucie, credential.id


def test_lucie_answers_the_name_question_and_copies_her_badge_link(
    live_server: LiveServer, page: Page, screenshot: Callable[[Page, str], Path]
) -> None:
    lucie, credential_id = lucie_with_a_badge(live_server)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.base)
    page.goto(live_server.url("/mes-badges"))
    page.get_by_label("Adresse e-mail").fill(lucie.email or "")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Mes badges")
    question = page.get_by_role("heading", name="Afficher mon nom sur les pages publiques de mes badges ?")
    expect(question).to_be_visible()
    badge_link = page.get_by_role("link", name="Animer un atelier de jardinage")
    expect(badge_link).to_be_visible()
    expect(page.get_by_text("Valide", exact=True)).to_be_visible()
    page.wait_for_function(  # loaded, not broken (it may still be loading on a busy machine)
        "img => img.complete && img.naturalWidth > 0", arg=page.locator("img[src$='/image']").element_handle()
    )
    screenshot(page, "mybadges-journey-question-phone-fr")
    page.get_by_role("button", name="Non, ne pas l'afficher").click()
    expect(page.get_by_role("status")).to_have_text("Votre choix est enregistré.")
    expect(question).to_have_count(0)
    expect(page.get_by_role("button", name="Afficher mon nom")).to_be_visible()  # changeable afterwards
    screenshot(page, "mybadges-journey-list-phone-fr")

    badge_link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Animer un atelier de jardinage")
    address = page.get_by_label("Adresse de la page publique du badge")
    public_url = live_server.url(f"/credentials/{credential_id}")
    expect(address).to_have_value(public_url)
    copy = page.get_by_role("button", name="Copier le lien")
    expect(copy).to_be_visible()  # the script showed it
    address.focus()
    page.keyboard.press("Tab")  # the copy button comes right after the address, for the keyboard too
    expect(copy).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#copy-status")).to_have_text("Lien copié.")
    assert page.evaluate("navigator.clipboard.readText()") == public_url
    linkedin = page.get_by_role("link", name="Ajouter à mon profil LinkedIn").get_attribute("href") or ""
    assert linkedin.startswith("https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME&name=Animer")
    for name in (
        "Image du badge (PNG : Open Badges 3.0 et 2.0)",
        "Image du badge (SVG : Open Badges 3.0)",
        "Image du badge (SVG : Open Badges 2.0, pour les outils plus anciens)",
        "Attestation à imprimer (PDF)",
    ):
        expect(page.get_by_role("link", name=name)).to_be_visible()
    # Two QR codes, each captioned with what it is for (issue 17): the address, and the signed badge.
    online = page.get_by_role("figure", name="Adresse de vérification (avec réseau)")
    offline = page.get_by_role("figure", name="Vérification sans réseau")
    for figure in (online, offline):
        expect(figure).to_be_visible()
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=figure.locator("img.qr").element_handle()
        )
    online_box, offline_box = online.locator("img").bounding_box(), offline.locator("img").bounding_box()
    assert online_box and offline_box and offline_box["width"] > online_box["width"]  # the denser code drawn larger
    assert offline_box["x"] + offline_box["width"] <= page.viewport_size["width"]  # type: ignore[index]
    offline.scroll_into_view_if_needed()
    screenshot(page, "mybadges-journey-detail-phone-fr")

    page.get_by_role("link", name="Ouvrir la page publique").click()
    expect(page.get_by_text("Nom non publié : le ou la titulaire a choisi de ne pas l'afficher.")).to_be_visible()


def test_the_pages_of_mes_badges_are_accessible(live_server: LiveServer, audit: Callable[..., list[Path]]) -> None:
    lucie, credential_id = lucie_with_a_badge(live_server)
    audit(signed_in_at(live_server, lucie, "/mes-badges"), "mybadges-list")  # with the name question
    audit(signed_in_at(live_server, lucie, f"/mes-badges/{credential_id}"), "mybadges-detail")
    with live_server.session() as session:
        answered = session.get(Person, lucie.id)
        assert answered is not None
        answered.show_name_publicly, answered.show_name_chosen_at = True, answered.created_at
        session.commit()
    audit(signed_in_at(live_server, lucie, "/mes-badges"), "mybadges-list-answered")  # the choice, to change
    with live_server.session() as session:
        newcomer = Person(display_name="Nadia Nouvelle", email=f"nadia.{uuid.uuid4().hex[:6]}@example.fr")
        session.add(newcomer)
        session.commit()
    audit(signed_in_at(live_server, newcomer, "/mes-badges", fresh=True), "mybadges-empty")
