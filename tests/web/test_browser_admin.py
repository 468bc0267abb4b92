"""The platform administrator's journey in a real headless Chromium (tests/browser_fixtures.py), with
a real job worker (``blason worker``) beside the live server: Camille Admin opens Administration,
imports the shared RNCP extract (../shared/frameworks/rncp, two fiches), follows the job's progress,
then reads the counts and opens a framework with its versions and rules.

With JavaScript (phone): the progress updates in place (no reload) until the end, when the page
reloads once to show the outcome. Without JavaScript (desktop): the page says to use « Actualiser »,
and that link alone leads to the outcome. Every page passes axe-core; screenshots are kept.
"""

from __future__ import annotations

import re
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from app.models import Membership, Person, Role, ScopeType
from tests.browser_fixtures import DESKTOP, PHONE, LiveServer, assert_accessible, open_session, screenshot_dir
from tests.conftest import shared_path

pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed (pip install -e '.[test]')")
from playwright.sync_api import Browser, Page, expect

RNCP = ("frameworks", "rncp", "export-fiches-rncp-v4-1_extract_RNCP35340_RNCP40792.xml")
STEP_DELAY = "0.25"  # seconds the worker waits at each progress step, so the progress can be seen


def camille(site: LiveServer) -> Person:
    """Camille Admin, platform administrator (the demo's), with an address of this test's own."""
    with site.session() as session:
        person = Person(display_name="Camille Admin", email=f"camille.{uuid.uuid4().hex[:6]}@demo.blason.fr")
        session.add(person)
        session.flush()
        session.add(Membership(person_id=person.id, role=Role.PLATFORM_ADMIN, scope_type=ScopeType.PLATFORM))
        session.commit()
        return person


def send_the_rncp_file(page: Page, site: LiveServer, rncp: Path) -> None:
    page.goto(site.url("/"))
    page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Administration").click()
    expect(page.get_by_role("heading", level=1, name="Administration de la plateforme")).to_be_visible()
    page.get_by_role("link", name="Importer un référentiel").click()
    expect(page.get_by_role("heading", level=1, name="Importer un référentiel")).to_be_visible()
    page.get_by_label("Fichier du référentiel").set_input_files(str(rncp))
    page.get_by_label("Type de fichier").select_option("rncp-xml")
    page.get_by_role("button", name="Importer").click()
    expect(page).to_have_url(re.compile(r"/taches/[0-9a-f-]{36}$"))
    expect(page.get_by_role("heading", level=1, name="Import de référentiel")).to_be_visible()


def test_camille_imports_the_rncp_file_and_follows_its_progress(
    live_server: LiveServer,
    new_page: Callable[..., Page],
    screenshot: Callable[[Page, str], Path],
    live_worker: Callable[..., subprocess.Popen[bytes]],
) -> None:
    live_worker(STEP_DELAY)
    rncp = shared_path(*RNCP)
    admin = camille(live_server)
    page = new_page(PHONE, "fr")
    open_session(live_server, page, admin)
    page.goto(live_server.url("/"))
    page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Administration").click()
    assert_accessible(page)
    screenshot(page, "admin-hub-phone-fr")
    page.get_by_role("link", name="Importer un référentiel").click()
    assert_accessible(page)
    screenshot(page, "admin-import-phone-fr")
    # Sent without a file: the message stands next to the field, the summary above the form.
    page.get_by_role("button", name="Importer").click()
    expect(page.get_by_text("Choisissez le fichier du référentiel.").first).to_be_visible()
    assert_accessible(page)
    screenshot(page, "admin-import-error-phone-fr")

    send_the_rncp_file(page, live_server, rncp)
    page.evaluate("() => { window.sameDocument = true; }")  # gone if the page reloads
    # With JavaScript the refresh link gives way to a note, and the words change in place.
    expect(page.get_by_text("Cette page se met à jour toute seule pendant le traitement.")).to_be_visible()
    expect(page.get_by_role("link", name="Actualiser")).to_be_hidden()
    live = page.get_by_role("status")
    expect(live).to_contain_text("Traitement en cours", timeout=30_000)
    expect(page.locator("#job-step")).to_contain_text("Éléments lus", timeout=30_000)
    assert page.evaluate("() => window.sameDocument === true"), "the progress was shown by reloading the page"
    assert_accessible(page)
    screenshot(page, "admin-job-running-phone-fr")

    # At the end the page reloads once, with the counts and the frameworks written.
    expect(page.get_by_role("heading", level=2, name="Résultat")).to_be_visible(timeout=60_000)
    assert not page.evaluate("() => window.sameDocument === true")
    expect(live).to_contain_text("Terminé")
    figures = page.get_by_role("table", name="Ce que contenait le fichier")
    expect(figures.get_by_role("row", name="Fiches RNCP 2")).to_be_visible()
    expect(figures.get_by_role("rowheader", name="Blocs de compétences")).to_be_visible()
    expect(page.get_by_text("Référentiels créés ou mis à jour : 2.")).to_be_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE.width
    assert_accessible(page)
    screenshot(page, "admin-job-done-phone-fr")

    page.get_by_role("link", name=re.compile(r"^Services informatiques aux organisations, Option A")).click()
    expect(page.get_by_role("heading", level=2, name="Versions")).to_be_visible()
    expect(page.get_by_role("link", name="Voir la page publique du référentiel")).to_be_visible()
    expect(page.get_by_role("heading", level=2, name="Règles de validation")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "admin-framework-phone-fr")


def test_without_javascript_the_refresh_link_leads_to_the_counts(
    live_server: LiveServer,
    browser: Browser,
    new_page: Callable[..., Page],
    tmp_path: Path,
    live_worker: Callable[..., subprocess.Popen[bytes]],
) -> None:
    live_worker(STEP_DELAY)
    rncp = shared_path(*RNCP)
    admin = camille(live_server)
    context = browser.new_context(
        viewport={"width": DESKTOP.width, "height": DESKTOP.height}, locale="fr-FR", java_script_enabled=False
    )
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        open_session(live_server, page, admin)
        send_the_rncp_file(page, live_server, rncp)
        refresh = page.get_by_role("link", name="Actualiser")
        expect(refresh).to_be_visible()
        expect(page.get_by_text("Cette page se met à jour toute seule")).to_be_hidden()
        page.screenshot(path=str(screenshot_dir(tmp_path) / "admin-job-nojs-desktop-fr.png"), full_page=True)
        deadline = time.monotonic() + 90
        while page.get_by_role("heading", level=2, name="Résultat").count() == 0:
            assert time.monotonic() < deadline, "the import did not end within 90 s"
            time.sleep(0.5)
            page.get_by_role("link", name="Actualiser").click()
        # Two fiches, new or (the file sent again after the other journey) unchanged.
        expect(page.get_by_text(re.compile(r"mis à jour : [02]\. Déjà à jour, inchangés : [02]\."))).to_be_visible()
        expect(page.get_by_role("row", name="Fiches RNCP 2")).to_be_visible()
        page.screenshot(path=str(screenshot_dir(tmp_path) / "admin-job-nojs-done-desktop-fr.png"), full_page=True)
    finally:
        context.close()
    # The same finished page, with JavaScript, at desktop size and in English, passes axe-core.
    checked = new_page(DESKTOP, "en")
    open_session(live_server, checked, admin)
    checked.goto(live_server.url("/taches?lang=en"))
    checked.get_by_role("link", name="Framework import").first.click()
    expect(checked.get_by_role("heading", level=2, name="Outcome")).to_be_visible()
    assert_accessible(checked)
    checked.screenshot(path=str(screenshot_dir(tmp_path) / "admin-job-done-desktop-en.png"), full_page=True)
