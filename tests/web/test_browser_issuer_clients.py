"""An issuer administrator connects another software to the VC-API, in a real headless Chromium.

Hélène opens her issuer's page, follows "Logiciels reliés (VC-API)", forgets the name (the error
sits next to the field), then connects "Plateforme de la région": the page shows the client id and
its secret once. The software gets a token with them and signs a credential; Hélène then
withdraws its access and the same secret is refused. Every page passes axe-core at phone size,
and phone screenshots are kept.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from app.models import Membership, Person, Role, ScopeType
from app.services.identity.auth import Passwords
from app.services.issuing import issuers
from tests.browser_fixtures import LiveServer, assert_accessible, open_session

pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed (pip install -e '.[test]')")
from playwright.sync_api import Page, expect

VC_V2 = "https://www.w3.org/ns/credentials/v2"


def helene_and_her_issuer(site: LiveServer) -> tuple[Person, uuid.UUID]:
    n = uuid.uuid4().hex[:6]
    with site.session() as session:
        helene = Person(
            display_name="Hélène Martin", email=f"helene.{n}@demo.blason.fr", password_hash=Passwords(1, 8).hash("x")
        )
        session.add(helene)
        session.flush()
        issuer = issuers.create_issuer(
            session,
            site.system,
            {"name": f"Val de Brenne {n}", "url": "https://vdb.example.fr"},
            settings=site.settings,
        )
        session.add(
            Membership(person_id=helene.id, role=Role.ISSUER_ADMIN, scope_type=ScopeType.ISSUER, scope_id=issuer.id)
        )
        session.commit()
        return helene, issuer.id


def test_connect_then_withdraw_a_software(
    live_server: LiveServer, page: Page, screenshot: Callable[[Page, str], Path]
) -> None:
    helene, issuer_id = helene_and_her_issuer(live_server)
    open_session(live_server, page, helene)
    page.goto(live_server.url(f"/emetteur/{issuer_id}"))
    page.get_by_role("link", name="Logiciels reliés (VC-API)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Logiciels reliés (VC-API)")
    expect(page.get_by_text("Aucun logiciel n'est encore relié")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "vcapi-clients-empty-phone-fr")

    # No name, nothing ticked: both errors, summarised at the top and beside their fields.
    page.get_by_label("Signer des badges au nom de cet émetteur").uncheck()
    page.get_by_label("Vérifier des badges").uncheck()
    page.get_by_role("button", name="Relier ce logiciel").click()
    expect(page.get_by_role("alert")).to_contain_text("Donnez un nom à ce logiciel.")
    expect(page.get_by_label("Nom du logiciel")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#droits-error")).to_have_text("Cochez au moins une chose que ce logiciel pourra faire.")
    assert_accessible(page)
    screenshot(page, "vcapi-clients-errors-phone-fr")

    page.get_by_label("Nom du logiciel").fill("Plateforme de la région")
    page.get_by_label("Signer des badges au nom de cet émetteur").check()
    page.get_by_role("button", name="Relier ce logiciel").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Logiciel relié")
    client_id = page.locator("#client-id").inner_text()
    secret = page.locator("#client-secret").inner_text()
    assert client_id.startswith("blason-") and len(secret) >= 40
    assert_accessible(page)
    screenshot(page, "vcapi-client-created-phone-fr")

    # The software, with what the page showed: a token, then a signed credential.
    api = page.context.request
    answer = api.post(
        live_server.url("/oauth/token"),
        form={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    assert answer.status == 200, answer.text()
    assert answer.json()["scope"] == "issue"
    token = answer.json()["access_token"]
    credential = {"@context": [VC_V2], "type": ["VerifiableCredential"], "credentialSubject": {"id": "did:example:lea"}}
    signed = api.post(
        live_server.url("/credentials/issue"),
        data={"credential": credential},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert signed.status == 201, signed.text()
    assert signed.json()["verifiableCredential"]["issuer"] == live_server.url(f"/issuers/{issuer_id}")

    page.get_by_role("link", name="Retour aux logiciels reliés").first.click()
    expect(page.get_by_text(client_id)).to_be_visible()
    page.get_by_role("link", name="Retirer l'accès de « Plateforme de la région »").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Retirer l'accès d'un logiciel")
    assert_accessible(page)
    page.get_by_role("button", name="Retirer l'accès").click()
    expect(page.get_by_role("status")).to_contain_text("L'accès de ce logiciel est retiré")
    expect(page.get_by_text("Accès retiré le")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "vcapi-clients-revoked-phone-fr")
    refused = api.post(
        live_server.url("/oauth/token"),
        form={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    assert refused.status == 401 and refused.json()["error"] == "invalid_client"
    again = api.post(
        live_server.url("/credentials/issue"),
        data={"credential": credential},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert again.status == 401
