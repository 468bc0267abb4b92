"""Journey 4, in a real headless Chromium at phone size (tests/browser_fixtures.py): a coordinator creates
Marie's account through the API; the invitation e-mail in the outbox folder holds the link; Marie follows it,
chooses a password and lands signed in; she signs out, asks for a reset, follows that e-mail's link, sets a
new password and signs in with it. Every page met passes axe-core in French and English at both widths."""

from __future__ import annotations

import email
import email.policy
import re
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from app.models import Membership, Person, Project, Role, ScopeType, Territory
from app.services.identity.auth import Passwords
from tests.browser_fixtures import LiveServer

pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed (pip install -e '.[test]')")
from playwright.sync_api import Page, expect

COORDINATOR_PASSWORD = "karim-mot-de-passe"
FIRST = "mon jardin en automne"
SECOND = "les tomates du mois d'août"
NEUTRAL = "Si un compte existe pour cette adresse, un e-mail vient de lui être envoyé."


def add_coordinator(live_server: LiveServer) -> tuple[Person, Project]:
    """Karim, coordinator of a territory with one project, on the live server's database."""
    with live_server.session() as session:
        territory = Territory(name=f"Territoire {uuid.uuid4().hex[:6]}")
        session.add(territory)
        session.flush()
        project = Project(territory_id=territory.id, title="Jardin partagé", social_functions=["produire"])
        karim = Person(
            display_name="Karim Benali",
            email=f"karim.{uuid.uuid4().hex[:6]}@demo.blason.fr",
            password_hash=Passwords(1, 8).hash(COORDINATOR_PASSWORD),
        )
        session.add_all([project, karim])
        session.flush()
        session.add(
            Membership(person_id=karim.id, role=Role.COORDINATOR, scope_type=ScopeType.TERRITORY, scope_id=territory.id)
        )
        session.commit()
        return karim, project


def link_mailed_to(live_server: LiveServer, to: str, subject: str) -> str:
    """The link of the one e-mail with ``subject`` written to the outbox folder for ``to``."""
    found = []
    for path in (live_server.folder / "outbox").glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["To"] == to and message["Subject"] == subject:
            found.append(message.get_content())  # type: ignore[attr-defined]
    assert len(found) == 1, f"{len(found)} e-mail(s) to {to} titled {subject!r}"
    link = re.search(r"(http://127\.0\.0\.1:\d+/\S+)", found[0])
    assert link, found[0]
    return link.group(1)


def choose_password(page: Page, password: str, repeated: str | None = None) -> None:
    page.get_by_label("Mot de passe", exact=True).fill(password)
    page.get_by_label("Le même mot de passe, une seconde fois").fill(password if repeated is None else repeated)
    page.get_by_role("button", name="Enregistrer le mot de passe").click()


def test_an_invitation_then_a_reset_each_followed_through_its_e_mail(
    live_server: LiveServer, page: Page, audit: Callable[..., list[Path]], screenshot: Callable[[Page, str], Path]
) -> None:
    karim, project = add_coordinator(live_server)
    marie = f"marie.{uuid.uuid4().hex[:6]}@demo.blason.fr"
    login = page.request.post(
        live_server.url("/api/v1/auth/login"), data={"email": karim.email, "password": COORDINATOR_PASSWORD}
    )
    assert login.ok, login.text()
    created = page.request.post(
        live_server.url("/api/v1/people"),
        data={"displayName": "Marie Lambert", "email": marie, "projectId": str(project.id)},
        headers={"Authorization": f"Bearer {login.json()['accessToken']}"},
    )
    assert created.status == 201, created.text()

    # The invitation: its e-mail's link, the page it opens (checked before it is used), a password.
    invitation = link_mailed_to(live_server, marie, "Votre compte Blason vous attend")
    assert "/invitation/" in invitation
    audit(invitation, "invitation")
    page.goto(invitation)
    expect(page.get_by_role("heading", level=1)).to_have_text("Bienvenue sur Blason")
    expect(page.get_by_text(marie)).to_be_visible()
    choose_password(page, "court")
    expect(page.get_by_role("link", name="Le mot de passe doit compter au moins 12 caractères.")).to_be_visible()
    expect(page.get_by_label("Mot de passe", exact=True)).to_have_attribute("aria-invalid", "true")
    screenshot(page, "invitation-error-phone-fr")
    choose_password(page, FIRST)
    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Marie Lambert")
    assert page.url == live_server.url("/")
    screenshot(page, "invitation-signed-in-phone-fr")
    page.goto(invitation)
    expect(page.get_by_role("heading", level=1)).to_have_text("Ce lien n'est plus valable")
    audit(invitation, "link-no-longer-valid", status=404)
    page.goto(live_server.url("/"))
    page.get_by_role("button", name="Se déconnecter").click()

    # The reset: from the sign-in page, the same answer as for anyone, the e-mail's link, a new password.
    page.get_by_role("link", name="Se connecter").click()
    page.get_by_role("link", name="Mot de passe oublié\u00a0?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mot de passe oublié")
    audit(page.url, "forgot")
    page.get_by_label("Adresse e-mail").fill(marie)
    page.get_by_role("button", name="Recevoir le lien").click()
    expect(page.get_by_role("status")).to_have_text(NEUTRAL)
    audit(page.url, "forgot-sent")
    reset = link_mailed_to(live_server, marie, "Choisir un nouveau mot de passe Blason")
    assert "/mot-de-passe/" in reset
    audit(reset, "reset")
    page.goto(reset)
    expect(page.get_by_role("heading", level=1)).to_have_text("Choisir un nouveau mot de passe")
    choose_password(page, SECOND, SECOND + " !")
    expect(page.get_by_role("link", name=re.compile("ne sont pas identiques"))).to_be_visible()
    screenshot(page, "reset-error-phone-fr")
    choose_password(page, SECOND)
    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Marie Lambert")
    page.get_by_role("button", name="Se déconnecter").click()

    # The new password opens the account; the first one no longer does.
    page.goto(live_server.url("/connexion"))
    page.get_by_label("Adresse e-mail").fill(marie)
    page.get_by_label("Mot de passe").fill(FIRST)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_text("E-mail ou mot de passe incorrect.")).to_be_visible()
    page.get_by_label("Mot de passe").fill(SECOND)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Marie Lambert")
    screenshot(page, "reset-signed-in-again-phone-fr")
