"""The coordinator's people journey in a real headless Chromium (tests/browser_fixtures.py), at phone size
(390×844) and desktop: Hélène, coordinator of her territory, finds Lucie by name ("lucie", "perrin",
with and without accents or capitals), opens her page, creates an assisted account for Josette (a refused
empty form first, its message next to the field), becomes her facilitator and acts for her: the
contributions page with the acting banner. axe-core on every page; the other people pages (invitation,
withdrawing a role, an assisted person's page) in French and English, light and dark."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from app.models import Facilitation, Membership, Person, Project, Role, ScopeType, Territory
from tests.browser_fixtures import DESKTOP, PHONE, LiveServer, Screen, assert_accessible, open_session

pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed (pip install -e '.[test]')")
from playwright.sync_api import Page, expect


@dataclass
class Brenne:
    territory: Territory
    repair: Project
    helene: Person
    lucie: Person
    marcel: Person
    karim_membership: Membership


def add_brenne(live_server: LiveServer) -> Brenne:
    """The demo's territory, in small: Hélène coordinates; Karim tutors; Lucie learns; Marcel is assisted."""
    tag = uuid.uuid4().hex[:6]
    with live_server.session() as session:
        territory = Territory(name=f"Val de Brenne {tag}")
        session.add(territory)
        session.flush()
        garden = Project(territory_id=territory.id, title="Jardin partagé", social_functions=["se_nourrir"])
        repair = Project(territory_id=territory.id, title="Repair café", social_functions=["produire"])
        helene = Person(display_name="Hélène Martin", email=f"helene.{tag}@demo.blason.fr")
        karim = Person(display_name="Karim Benali", email=f"karim.{tag}@demo.blason.fr")
        lucie = Person(display_name="Lucie Perrin", email=f"lucie.perrin.{tag}@demo.blason.fr")
        marcel = Person(display_name="Marcel Dubreuil", is_assisted=True)
        session.add_all([garden, repair, helene, karim, lucie, marcel])
        session.flush()
        session.add(
            Membership(
                person_id=helene.id, role=Role.COORDINATOR, scope_type=ScopeType.TERRITORY, scope_id=territory.id
            )
        )
        karim_membership = Membership(
            person_id=karim.id, role=Role.TUTOR, scope_type=ScopeType.PROJECT, scope_id=repair.id
        )
        session.add(karim_membership)
        for person, project in ((lucie, garden), (lucie, repair), (marcel, repair)):
            session.add(
                Membership(person_id=person.id, role=Role.LEARNER, scope_type=ScopeType.PROJECT, scope_id=project.id)
            )
        session.add(Facilitation(facilitator_id=helene.id, learner_id=marcel.id))
        session.commit()
        return Brenne(territory, repair, helene, lucie, marcel, karim_membership)


def h1(page: Page) -> str:
    return page.get_by_role("heading", level=1).inner_text()


def search(page: Page, words: str) -> None:
    page.get_by_role("searchbox", name="Nom ou adresse e-mail").fill(words)
    page.get_by_role("button", name="Chercher").click()
    page.wait_for_load_state()


def found(page: Page) -> list[str]:
    return page.locator("ul.found h2").all_inner_texts()


@pytest.mark.parametrize("screen", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_helene_finds_lucie_creates_an_assisted_account_and_acts_for_it(
    live_server: LiveServer, new_page: Callable[..., Page], screenshot: Callable[[Page, str], Path], screen: Screen
) -> None:
    place = add_brenne(live_server)
    page = new_page(screen, "fr")
    open_session(live_server, page, place.helene)
    page.goto(live_server.url("/"))
    page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Personnes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Personnes du territoire")
    assert found(page) == ["Hélène Martin", "Karim Benali", "Lucie Perrin", "Marcel Dubreuil"]
    assert_accessible(page)
    screenshot(page, f"people-list-{screen.name}-fr")

    for words in ("lucie", "perrin", "LUCIE PERRIN", "Lùcie", "pérrin"):
        search(page, words)
        assert found(page) == ["Lucie Perrin"], words
        expect(page.get_by_text("1 personne correspond à")).to_be_visible()
    assert_accessible(page)
    screenshot(page, f"people-found-{screen.name}-fr")
    search(page, "helene")
    assert found(page) == ["Hélène Martin"]

    search(page, "perrin")
    page.get_by_role("link", name="Lucie Perrin").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lucie Perrin")
    roles = page.get_by_role("list", name="Rôles sur votre territoire")
    expect(roles).to_contain_text("Apprenant ou apprenante du projet « Jardin partagé »")
    assert_accessible(page)
    screenshot(page, f"people-lucie-{screen.name}-fr")

    page.get_by_role("link", name="Retour aux personnes").click()
    page.get_by_role("link", name="Créer un compte pour une personne accompagnée").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Créer un compte pour une personne accompagnée")
    assert_accessible(page)
    page.get_by_role("button", name="Créer le compte").click()  # nothing filled in
    name = page.get_by_role("textbox", name="Prénom et nom")
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("alert")).to_contain_text("Indiquez le prénom et le nom.")
    assert_accessible(page)
    screenshot(page, f"people-assisted-refused-{screen.name}-fr")

    josette = f"Josette Blanc {screen.name}"
    name.fill(josette)
    page.get_by_role("combobox", name="Projet").select_option(label="Repair café")
    expect(page.get_by_role("combobox", name="Qui agit pour elle ?")).to_have_value("moi")
    screenshot(page, f"people-assisted-form-{screen.name}-fr")
    page.get_by_role("button", name="Créer le compte").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(josette)
    expect(page.get_by_role("status")).to_have_text(f"Le compte de {josette} est créé.")
    expect(page.get_by_text("Vous (Hélène Martin)")).to_be_visible()
    assert_accessible(page)
    screenshot(page, f"people-assisted-created-{screen.name}-fr")
    with live_server.session() as session:
        created = session.scalars(select(Person).where(Person.display_name == josette)).all()
        assert [(p.email, p.password_hash, p.is_assisted) for p in created] == [(None, None, True)]

    page.get_by_role("button", name=f"Agir pour {josette}").click()
    expect(page).to_have_url(live_server.url("/mes-contributions"))
    banner = page.get_by_role("region", name=re.compile(f"Vous agissez pour {josette}"))
    expect(banner).to_be_visible()
    assert_accessible(page)
    screenshot(page, f"people-acting-{screen.name}-fr")


def test_the_other_people_pages_are_accessible(live_server: LiveServer, audit: Callable[..., list[Path]]) -> None:
    place = add_brenne(live_server)

    def q(page: Page) -> str:
        """A signed-in person's pages are in their account's language (French): English is asked by ?lang=en."""
        return "?lang=en" if str(page.evaluate("() => navigator.language")).startswith("en") else ""

    def opening(path: str) -> Callable[[Page], None]:
        def go(page: Page) -> None:
            open_session(live_server, page, place.helene)
            page.goto(live_server.url(path + q(page)))
            assert page.evaluate("() => document.documentElement.lang") == ("en" if q(page) else "fr")

        return go

    def refused_invitation(page: Page) -> None:
        opening("/personnes/inviter")(page)
        page.locator("#email").fill("pas-une-adresse")
        page.locator("button[type=submit]").last.click()
        expect(page.locator("#email")).to_have_attribute("aria-invalid", "true")

    audit(opening("/personnes/inviter"), "people-invite")
    audit(refused_invitation, "people-invite-refused")
    audit(opening(f"/personnes/{place.marcel.id}"), "people-assisted-person")
    audit(
        opening(f"/personnes/{place.karim_membership.person_id}/roles/{place.karim_membership.id}/retirer"),
        "people-remove-role",
    )
