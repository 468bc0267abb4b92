"""Getting in, in a real headless Chromium at phone size (tests/browser_fixtures.py): Lucie signs in, lands
on her home, signs out; the home and sign-in pages pass axe-core in French and English at both widths."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.models import Membership, Person, Project, Role, ScopeType, Territory
from app.services.identity.auth import Passwords
from tests.browser_fixtures import LiveServer, screenshot_dir

pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed (pip install -e '.[test]')")
from playwright.sync_api import Page, expect

PASSWORD = "lucie-mot-de-passe"


def add_learner(live_server: LiveServer) -> Person:
    """Lucie, learner in a project, on the live server's database."""
    with live_server.session() as session:
        territory = Territory(name=f"Territoire {uuid.uuid4().hex[:6]}")
        session.add(territory)
        session.flush()
        project = Project(territory_id=territory.id, title="Jardin partagé", social_functions=["produire"])
        person = Person(
            display_name="Lucie Perrin",
            email=f"lucie.{uuid.uuid4().hex[:6]}@demo.blason.fr",
            password_hash=Passwords(1, 8).hash(PASSWORD),
        )
        session.add_all([project, person])
        session.flush()
        session.add(
            Membership(person_id=person.id, role=Role.LEARNER, scope_type=ScopeType.PROJECT, scope_id=project.id)
        )
        session.commit()
        return person


def test_lucie_signs_in_on_her_phone_and_out_again(
    live_server: LiveServer, page: Page, screenshot: Callable[[Page, str], Path]
) -> None:
    lucie = add_learner(live_server)
    page.goto(live_server.url("/"))
    page.get_by_role("link", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Se connecter")
    page.get_by_label("Adresse e-mail").fill(lucie.email or "")
    page.get_by_label("Mot de passe").fill("pas le bon")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_text("E-mail ou mot de passe incorrect.")).to_be_visible()
    screenshot(page, "signin-wrong-phone-fr")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Lucie Perrin")
    expect(page.get_by_text("apprenant ou apprenante dans un projet")).to_be_visible()
    assert page.url == live_server.url("/")
    cookie = next(c for c in page.context.cookies() if c["name"] == "blason_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    screenshot(page, "home-signed-in-phone-fr")
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_role("link", name="Se connecter")).to_be_visible()
    assert not [c for c in page.context.cookies() if c["name"] == "blason_session"]


def test_the_pages_of_getting_in_are_accessible(
    live_server: LiveServer, audit: Callable[..., list[Path]], tmp_path: Path
) -> None:
    shots: list[Any] = []
    shots += audit(live_server.url("/"), "home")
    shots += audit(live_server.url("/connexion"), "signin")
    assert all(path.parent == screenshot_dir(tmp_path) for path in shots)
