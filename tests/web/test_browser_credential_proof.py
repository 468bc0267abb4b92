"""The verification page with its proof, in a real headless Chromium at phone width: the tutors who
validated each competency, a photo shown as a preview, a PDF with its type, size and name; axe-core in
French and English, phone and desktop, light and dark (tests/browser_fixtures.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from app.platform.storage import LocalStorage
from tests.browser_fixtures import LiveServer, assert_accessible
from tests.public_fixtures import seed_validated_award

pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed (pip install -e '.[test]')")
from playwright.sync_api import Page, expect


def test_a_verifier_sees_who_validated_what_on_which_evidence(
    live_server: LiveServer, page: Page, screenshot: Callable[[Page, str], Path], audit: Callable[..., list[Path]]
) -> None:
    with live_server.session() as session:
        award = seed_validated_award(
            session, settings=live_server.settings, storage=LocalStorage(live_server.storage), show_name=True
        )
        credential_id, photo_id = award.credential.id, award.photo.id
    url = live_server.url(f"/credentials/{credential_id}")

    response = page.goto(url)
    assert response is not None and response.status == 200
    expect(page.get_by_role("heading", level=1)).to_contain_text("Badge authentique")
    expect(page.locator("dd", has_text="Léa Apprenante")).to_be_visible()
    competencies = page.locator("ul.competencies > li")
    expect(competencies).to_have_count(2)
    lavoir = competencies.filter(has_text="Restaurer un lavoir")
    expect(lavoir).to_contain_text("au niveau « acquis »")
    expect(lavoir).to_contain_text("par Théo Tuteur, tuteur ou tutrice du projet « Le lavoir du bourg »")
    reunion = competencies.filter(has_text="Animer une réunion publique")
    expect(reunion).to_contain_text("d'abord par Tina Tutrice")
    expect(reunion).to_contain_text("puis confirmée par Théo Tuteur")

    # The photo is a preview the browser really loaded, no wider than the phone's screen.
    photo = page.get_by_role("img", name="Photo : Le lavoir remis en eau")
    expect(photo).to_be_visible()
    assert photo.get_attribute("src") == live_server.url(f"/evidence/{photo_id}?preview=1")
    photo.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=photo.element_handle())
    box = photo.bounding_box()
    assert box is not None and 0 < box["width"] <= 390 and box["height"] > 0
    pdf = page.locator("li.evidence-file", has_text="Compte rendu")
    expect(pdf).to_contain_text("document PDF, 1,2 Mo")
    expect(pdf.get_by_role("link", name="Télécharger compte-rendu.pdf")).to_have_attribute(
        "download", "compte-rendu.pdf"
    )
    with page.expect_download() as downloading:
        pdf.get_by_role("link", name="Télécharger compte-rendu.pdf").click()
    assert downloading.value.suggested_filename == "compte-rendu.pdf"
    assert "Liste des voisins" not in page.content()
    assert page.locator("script").count() == 0  # nothing on this page needs JavaScript
    # No side scrolling at phone width.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    assert_accessible(page)
    shot = screenshot(page, "credential-proof-phone-fr")
    assert shot.read_bytes().startswith(b"\x89PNG")

    audit(url, "credential-proof")
