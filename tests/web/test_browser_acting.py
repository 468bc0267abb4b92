"""Journey 3, in a real headless Chromium at phone size (tests/browser_fixtures.py): Hélène, facilitator of
Marcel (an assisted person: no e-mail, no password), signs in, chooses *Agir pour Marcel Dubreuil*,
records a contribution for him with the banner on every page, and comes back to her account; the audit
names her as the author and Marcel as the one she acted for. The pages met pass axe-core in French and
English, at phone and desktop width."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.models import AuditEvent, Contribution, Facilitation, Membership, Person, Project, Role, ScopeType, Territory
from app.services.identity import web_sessions
from app.services.identity.auth import Passwords
from app.web.session_cookie import COOKIE
from tests.browser_fixtures import LiveServer

pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed (pip install -e '.[test]')")
from playwright.sync_api import Locator, Page, expect

PASSWORD = "helene-mot-de-passe"
SESSIONS = web_sessions.SessionSettings(idle=timedelta(hours=2), lifetime=timedelta(hours=12))


@dataclass
class Place:
    project: Project
    helene: Person
    marcel: Person


def add_place(live_server: LiveServer) -> Place:
    """Hélène, tutor of the Jardin partagé and Marcel's facilitator; Marcel, learner there, assisted."""
    with live_server.session() as session:
        territory = Territory(name=f"Territoire {uuid.uuid4().hex[:6]}")
        session.add(territory)
        session.flush()
        project = Project(territory_id=territory.id, title="Jardin partagé", social_functions=["se nourrir"])
        helene = Person(
            display_name="Hélène Garnier",
            email=f"helene.{uuid.uuid4().hex[:6]}@demo.blason.fr",
            password_hash=Passwords(1, 8).hash(PASSWORD),
        )
        marcel = Person(display_name="Marcel Dubreuil", email=None, password_hash=None, is_assisted=True)
        session.add_all([project, helene, marcel])
        session.flush()
        for person, role in ((helene, Role.TUTOR), (marcel, Role.LEARNER)):
            session.add(Membership(person_id=person.id, role=role, scope_type=ScopeType.PROJECT, scope_id=project.id))
        session.add(Facilitation(facilitator_id=helene.id, learner_id=marcel.id))
        session.commit()
        return Place(project, helene, marcel)


def banner(page: Page) -> Locator:
    return page.get_by_role("region", name=re.compile("Vous agissez pour Marcel Dubreuil"))


def test_helene_acts_for_marcel_and_records_a_contribution_for_him(
    live_server: LiveServer, page: Page, screenshot: Callable[[Page, str], Path]
) -> None:
    place = add_place(live_server)
    page.goto(live_server.url("/connexion"))
    page.get_by_label("Adresse e-mail").fill(place.helene.email or "")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Hélène Garnier")

    page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Agir pour une personne").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Agir pour une personne accompagnée")
    expect(page.get_by_role("heading", level=2, name="Marcel Dubreuil")).to_be_visible()
    screenshot(page, "acting-list-phone-fr")
    page.get_by_role("button", name="Agir pour Marcel Dubreuil").click()

    expect(page).to_have_url(live_server.url("/mes-contributions"))
    expect(banner(page)).to_be_visible()
    expect(banner(page).get_by_role("button", name="Revenir à mon compte")).to_be_visible()
    expect(page.get_by_text("Vous : Hélène Garnier")).to_be_visible()
    screenshot(page, "acting-contributions-phone-fr")

    # Marcel's contribution, recorded by Hélène through the learner's own pages.
    page.get_by_role("link", name=re.compile("^Nouvelle contribution")).first.click()
    expect(banner(page)).to_be_visible()
    page.get_by_label("Titre").fill("Réparer la clôture du jardin")
    page.get_by_label("Ce que j'ai fait").fill("J'ai remplacé trois piquets et retendu le grillage avec Paul.")
    screenshot(page, "acting-new-contribution-phone-fr")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Réparer la clôture du jardin")
    expect(banner(page)).to_be_visible()
    screenshot(page, "acting-contribution-saved-phone-fr")

    with live_server.session() as session:
        contribution = session.scalars(select(Contribution).where(Contribution.learner_id == place.marcel.id)).one()
        assert contribution.created_by_id == place.helene.id
        acts = {
            e.action: (e.actor_id, e.on_behalf_of_id)
            for e in session.scalars(
                select(AuditEvent).where(AuditEvent.on_behalf_of_id == place.marcel.id).order_by(AuditEvent.seq)
            )
        }
    assert acts["web.acting_started"] == (place.helene.id, place.marcel.id)
    assert acts["contribution.created_for"] == (place.helene.id, place.marcel.id)

    banner(page).get_by_role("button", name="Revenir à mon compte").click()
    expect(page).to_have_url(live_server.url("/agir-pour?fin=ok"))
    expect(page.get_by_role("status")).to_have_text("Vous agissez de nouveau en votre nom.")
    expect(banner(page)).to_have_count(0)
    screenshot(page, "acting-stopped-phone-fr")
    with live_server.session() as session:
        stopped = session.scalars(select(AuditEvent).where(AuditEvent.action == "web.acting_stopped")).all()
        assert [(e.actor_id, e.on_behalf_of_id) for e in stopped][-1] == (place.helene.id, place.marcel.id)


def test_the_pages_of_acting_are_accessible(live_server: LiveServer, audit: Callable[..., list[Path]]) -> None:
    place = add_place(live_server)
    acts = {"fr": "Agir pour Marcel Dubreuil", "en": "Act for Marcel Dubreuil"}
    stops = {"fr": "Revenir à mon compte", "en": "Back to my account"}

    def signed_in(page: Page) -> None:
        """Hélène's session in this browser (the sign-in form is journey 1's, and throttled per address)."""
        if any(c["name"] == COOKIE for c in page.context.cookies()):
            return
        with live_server.session() as session:
            token = web_sessions.start(session, place.helene.id, replacing=None, settings=SESSIONS)
            session.commit()
        page.context.add_cookies([{"name": COOKIE, "value": token, "url": live_server.base}])

    def q(page: Page) -> str:
        """A signed-in person's pages are in their account's language (French): English is asked by ?lang=en."""
        return "?lang=en" if str(page.evaluate("() => navigator.language")).startswith("en") else ""

    def lang(page: Page) -> str:
        return "en" if q(page) else "fr"

    def choose(page: Page) -> None:
        signed_in(page)
        page.goto(live_server.url("/agir-pour" + q(page)))

    def acting(page: Page) -> None:
        choose(page)
        page.get_by_role("button", name=acts[lang(page)]).click()
        page.wait_for_url(re.compile("/mes-contributions"))
        assert page.evaluate("() => document.documentElement.lang") == lang(page)

    def acting_list(page: Page) -> None:
        page.goto(live_server.url("/agir-pour" + q(page)))

    def stopped(page: Page) -> None:
        page.get_by_role("button", name=stops[lang(page)]).click()
        page.wait_for_url(re.compile(r"/agir-pour\?fin=ok"))
        assert page.evaluate("() => document.documentElement.lang") == lang(page)

    audit(choose, "acting-list")
    audit(acting, "acting-contributions")
    audit(acting_list, "acting-list-while-acting")
    audit(stopped, "acting-stopped")
