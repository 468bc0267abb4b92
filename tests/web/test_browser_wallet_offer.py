"""Mes badges → Mettre dans un portefeuille, in a real headless Chromium at phone size
(tests/browser_fixtures.py): a learner signs in, opens her badge, asks for an offer for a shared
screen and gets the QR code, the link for a wallet on this phone and the 6-digit code; the badge
page and the offer page pass axe-core."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from app.models import Person
from app.platform.storage import LocalStorage
from app.services.identity.auth import Passwords
from app.services.issuing import achievements, awarding, issuers
from tests.browser_fixtures import LiveServer, assert_accessible, open_session

pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed (pip install -e '.[test]')")
from playwright.sync_api import Page, expect

PASSWORD = "nadia-mot-de-passe"
BADGE = "Accueillir au repair café"


def nadia_with_a_badge(site: LiveServer) -> Person:
    """Nadia and one badge issued to her by a tiers-lieu, on the live server's database."""
    with site.session() as session:
        nadia = Person(
            display_name="Nadia Benali",
            email=f"nadia.{uuid.uuid4().hex[:6]}@demo.blason.fr",
            password_hash=Passwords(1, 8).hash(PASSWORD),
        )
        session.add(nadia)
        session.flush()
        issuer = issuers.create_issuer(
            session,
            site.system,
            {"name": "Repair café du Moulin", "url": "https://moulin.example.fr"},
            settings=site.settings,
        )
        achievement = achievements.create_achievement(
            session,
            site.system,
            issuer.id,
            {"name": BADGE, "description": "Accueillir et orienter les visiteurs.", "criteria": "Trois permanences."},
            storage=LocalStorage(site.storage),
            urls=site.settings.urls,
        )
        awarding.award(session, site.system, achievement.id, {"learner_id": nadia.id}, settings=site.settings)
        session.commit()
        return nadia


def test_nadia_gets_a_wallet_offer_for_a_shared_screen(
    live_server: LiveServer, page: Page, screenshot: Callable[[Page, str], Path]
) -> None:
    nadia = nadia_with_a_badge(live_server)
    # Signed in as the sign-in form would (its own tests cover the form; here it is only the way in).
    open_session(live_server, page, nadia)
    page.goto(live_server.url("/mes-badges"))
    page.get_by_role("link", name=BADGE).click()

    expect(page.get_by_role("heading", level=1)).to_have_text(BADGE)
    page.get_by_role("heading", name="Mettre dans un portefeuille").scroll_into_view_if_needed()
    shared = page.get_by_role("checkbox", name=re.compile("^Écran partagé"))
    shared.check()
    assert_accessible(page)
    screenshot(page, "wallet-badge-phone-fr")
    page.get_by_role("button", name="Mettre dans un portefeuille").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Mettre le badge dans votre portefeuille")
    qr = page.locator(".wallet-qr svg")
    expect(qr).to_be_visible()
    box = qr.bounding_box()
    assert box is not None and 200 <= box["width"] <= 390 and box["x"] >= 0  # big enough to scan, on screen
    link = page.get_by_role("link", name="Ouvrir dans mon portefeuille")
    assert (link.get_attribute("href") or "").startswith("openid-credential-offer://?credential_offer=")
    code = page.locator(".tx-code strong")
    expect(code).to_have_text(re.compile(r"^\d{6}$"))
    expect(page.get_by_role("status")).to_contain_text("10 minutes")
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # nothing wider than the phone
    screenshot(page, "wallet-offer-phone-fr")
