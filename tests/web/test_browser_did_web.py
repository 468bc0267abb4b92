"""An issuer administrator chooses did:web on the issuer's profile page, in a real headless Chromium
at phone size; the choice holds, the published addresses answer, and the next badge carries it."""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from app.models import Membership, Person, Role, ScopeType
from app.services.issuing import issuers
from tests.browser_fixtures import PHONE, LiveServer, assert_accessible, open_session

pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed (pip install -e '.[test]')")
from playwright.sync_api import Page, expect


def _admin_and_issuer(site: LiveServer) -> tuple[Person, uuid.UUID]:
    n = uuid.uuid4().hex[:6]
    with site.session() as session:
        nadia = Person(display_name="Nadia Roux", email=f"nadia.{n}@demo.blason.fr")
        session.add(nadia)
        session.flush()
        issuer = issuers.create_issuer(
            session,
            site.system,
            {"name": f"Tiers-lieu des Combrailles {n}", "url": "https://combrailles.example.fr"},
            settings=site.settings,
        )
        session.add(
            Membership(person_id=nadia.id, role=Role.ISSUER_ADMIN, scope_type=ScopeType.ISSUER, scope_id=issuer.id)
        )
        session.commit()
        return nadia, issuer.id


def test_the_issuer_chooses_did_web_on_its_profile_page(
    live_server: LiveServer, new_page: Callable[..., Page], screenshot: Callable[[Page, str], Path]
) -> None:
    nadia, issuer_id = _admin_and_issuer(live_server)
    page = new_page(PHONE, "fr")
    open_session(live_server, page, nadia)
    page.goto(live_server.url(f"/emetteur/{issuer_id}"))
    group = page.get_by_role("group", name="Identifiant de l'émetteur dans les nouveaux badges")
    expect(group).to_be_visible()
    https = group.get_by_role("radio", name="Adresse web (par défaut)", exact=False)
    did = group.get_by_role("radio", name="Identifiant décentralisé did:web", exact=False)
    expect(https).to_be_checked()
    host = live_server.base.removeprefix("http://").replace(":", "%3A")
    expect(group).to_contain_text(f"did:web:{host}:issuers:{issuer_id}")
    expect(page.get_by_role("link", name="Toutes les clés publiques (JWK Set)")).to_have_attribute(
        "href", live_server.url(f"/issuers/{issuer_id}/jwks.json")
    )
    assert_accessible(page)

    did.check()
    page.get_by_role("button", name="Enregistrer le profil").click()
    expect(page.locator("p.notice[role=status]")).to_be_visible()
    expect(page.get_by_role("radio", name="Identifiant décentralisé did:web", exact=False)).to_be_checked()
    screenshot(page, "issuer-did-web-phone-fr")
    assert_accessible(page)

    with urllib.request.urlopen(live_server.url(f"/issuers/{issuer_id}/did.json")) as answer:  # noqa: S310 (loopback)
        document = json.load(answer)
    assert document["id"] == f"did:web:{host}:issuers:{issuer_id}"
    assert document["alsoKnownAs"] == [live_server.url(f"/issuers/{issuer_id}")]
    with urllib.request.urlopen(live_server.url(f"/issuers/{issuer_id}/jwks.json")) as answer:  # noqa: S310
        assert len(json.load(answer)["keys"]) == 3
