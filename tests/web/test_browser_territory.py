"""The coordinator's pages in a real headless Chromium (tests/browser_fixtures.py): Hélène, coordinator of
the Val de Brenne, follows the menu to her territory, opens its projects, creates one with two social
functions, finds Karim among the people of the territory and names him tutor, at phone size and on a
desktop; axe-core on every page met; the territory, rules and closing pages pass in both languages."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from app.models import Membership, Person, Project, Role, ScopeType, Territory
from tests.browser_fixtures import DESKTOP, PHONE, LiveServer, Screen, assert_accessible, open_session, signed_in_at

pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed (pip install -e '.[test]')")
from playwright.sync_api import Page, expect


@dataclass
class Brenne:
    territory: Territory
    project: Project
    helene: Person
    karim: Person


def val_de_brenne(site: LiveServer) -> Brenne:
    """A territory with one project, where Karim tutors and Lucie learns; Hélène coordinates it."""
    n = uuid.uuid4().hex[:6]
    with site.session() as session:
        territory = Territory(name=f"Val de Brenne {n}", insee_code="36018")
        helene = Person(display_name="Hélène Martin", email=f"helene.{n}@demo.blason.fr")
        karim = Person(display_name="Karim Benali", email=f"karim.{n}@demo.blason.fr", password_hash="x")
        lucie = Person(display_name="Lucie Perrin", email=f"lucie.{n}@demo.blason.fr", password_hash="x")
        session.add_all([territory, helene, karim, lucie])
        session.flush()
        project = Project(territory_id=territory.id, title="Repair café itinérant", social_functions=["produire"])
        session.add(project)
        session.flush()
        session.add_all(
            [
                Membership(
                    person_id=helene.id, role=Role.COORDINATOR, scope_type=ScopeType.TERRITORY, scope_id=territory.id
                ),
                Membership(person_id=karim.id, role=Role.TUTOR, scope_type=ScopeType.PROJECT, scope_id=project.id),
                Membership(person_id=lucie.id, role=Role.LEARNER, scope_type=ScopeType.PROJECT, scope_id=project.id),
            ]
        )
        session.commit()
        return Brenne(territory, project, helene, karim)


def fits(page: Page, screen: Screen) -> None:
    """Nothing wider than the screen (no sideways scrolling)."""
    assert page.evaluate("() => document.documentElement.scrollWidth") <= screen.width


@pytest.mark.parametrize("screen", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_helene_creates_a_project_with_two_functions_and_a_tutor(
    live_server: LiveServer, new_page: Callable[..., Page], screenshot: Callable[[Page, str], Path], screen: Screen
) -> None:
    place = val_de_brenne(live_server)
    page = new_page(screen, "fr")
    open_session(live_server, page, place.helene)
    page.goto(live_server.url("/"))
    page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Territoire").click()

    expect(page.get_by_role("heading", level=1, name=place.territory.name)).to_be_visible()
    expect(page.get_by_label("Code INSEE de la commune")).to_have_value("36018")
    assert_accessible(page)
    fits(page, screen)
    screenshot(page, f"territory-journey-1-territory-{screen.name}")

    page.get_by_role("navigation", name="Pages du territoire").get_by_role("link", name="Les projets").click()
    expect(page.get_by_role("heading", level=1, name="Projets du territoire")).to_be_visible()
    expect(page.get_by_role("link", name="Repair café itinérant")).to_be_visible()
    assert_accessible(page)
    screenshot(page, f"territory-journey-2-projects-{screen.name}")

    page.get_by_role("link", name="Créer un projet").click()
    expect(page.get_by_role("heading", level=1, name="Nouveau projet")).to_be_visible()
    functions = page.get_by_role("group", name="Fonctions sociales")
    expect(functions.get_by_role("checkbox")).to_have_count(6)
    assert_accessible(page)
    # Sent without a social function: the French error next to the group, the title kept.
    page.get_by_label("Nom du projet").fill("Jardin partagé de la place de l'Église")
    page.get_by_role("button", name="Créer le projet").click()
    expect(page.get_by_role("alert").get_by_role("link", name="Cochez au moins une fonction sociale.")).to_be_visible()
    expect(functions.get_by_text("Cochez au moins une fonction sociale.")).to_be_visible()
    expect(page.get_by_label("Nom du projet")).to_have_value("Jardin partagé de la place de l'Église")
    assert_accessible(page)
    screenshot(page, f"territory-journey-3-error-{screen.name}")

    page.get_by_label("Description").fill("Un jardin nourricier ouvert à tous les habitants.")
    functions.get_by_role("checkbox", name="Produire").check()
    functions.get_by_role("checkbox", name="Se nourrir").check()
    page.get_by_label("Début").fill("2026-03-01")
    page.get_by_role("button", name="Créer le projet").click()

    expect(page.get_by_role("heading", level=1, name="Jardin partagé de la place de l'Église")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Le projet est créé.")
    expect(page.get_by_role("checkbox", name="Se nourrir")).to_be_checked()
    assert_accessible(page)
    page.get_by_role("searchbox", name="Chercher une personne du territoire").fill("karim")
    page.get_by_role("button", name="Chercher", exact=True).click()
    expect(page.get_by_text("1 personne trouvée pour « karim ».")).to_be_visible()
    page.get_by_role("radio", name=f"Karim Benali · {place.karim.email}").check()
    assert_accessible(page)
    page.get_by_role("button", name="Nommer tuteur ou tutrice").click()

    expect(page.get_by_role("status")).to_contain_text("La personne est maintenant tuteur ou tutrice du projet.")
    expect(page.get_by_role("button", name="Retirer Karim Benali des tuteurs")).to_be_visible()
    assert_accessible(page)
    fits(page, screen)
    screenshot(page, f"territory-journey-4-tutor-{screen.name}")

    with live_server.session() as session:
        created = session.scalar(
            select(Project).where(Project.territory_id == place.territory.id, Project.title.like("Jardin%"))
        )
        assert created is not None and created.social_functions == ["produire", "se_nourrir"]
        tutors = session.scalars(
            select(Membership.person_id).where(Membership.role == Role.TUTOR, Membership.scope_id == created.id)
        )
        assert list(tutors) == [place.karim.id]


def test_the_coordinator_pages_are_accessible(live_server: LiveServer, audit: Callable[..., list[Path]]) -> None:
    place = val_de_brenne(live_server)
    project = f"/territoire/projets/{place.project.id}"
    for path, name in (
        ("/territoire", "territory-show"),
        ("/territoire/regles", "territory-rules"),
        ("/territoire/projets/nouveau", "territory-project-new"),
        (f"{project}?chercher=lucie", "territory-project-edit"),
        (f"{project}/cloture", "territory-project-close"),
    ):
        audit(signed_in_at(live_server, place.helene, path), name)
