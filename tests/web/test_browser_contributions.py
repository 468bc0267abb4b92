"""Journey 1, first half, in a real headless Chromium at phone size (tests/browser_fixtures.py): Lucie signs
in, records a contribution, adds a photo seen by the tutors, submits it. Every page of it passes axe-core in
French and English at both widths; a file of a forbidden type is refused with the French message beside
its field."""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from app.models import Membership, Person, Project, Role, ScopeType, Territory
from app.services.identity.auth import Passwords
from tests.browser_fixtures import LiveServer, signed_in_at

pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed (pip install -e '.[test]')")
from playwright.sync_api import Page, expect

PASSWORD = "lucie-mot-de-passe"


def add_lucie(site: LiveServer) -> tuple[Person, Project]:
    """Lucie, learner in a shared garden project, on the live server's database."""
    with site.session() as session:
        territory = Territory(name=f"Territoire {uuid.uuid4().hex[:6]}")
        session.add(territory)
        session.flush()
        project = Project(territory_id=territory.id, title="Jardin partagé", social_functions=["se nourrir"])
        lucie = Person(
            display_name="Lucie Perrin",
            email=f"lucie.{uuid.uuid4().hex[:6]}@demo.blason.fr",
            password_hash=Passwords(1, 8).hash(PASSWORD),
        )
        session.add_all([project, lucie])
        session.flush()
        session.add(
            Membership(person_id=lucie.id, role=Role.LEARNER, scope_type=ScopeType.PROJECT, scope_id=project.id)
        )
        session.commit()
        return lucie, project


def photo() -> bytes:
    """A phone photo: 1600×1200 JPEG."""
    size = (1600, 1200)
    across, down = Image.linear_gradient("L").rotate(90).resize(size), Image.linear_gradient("L").resize(size)
    image = Image.merge("RGB", (across, down, Image.new("L", size, 60)))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80)
    return out.getvalue()


def submitted_empty(site: LiveServer, person: Person, path: str) -> Callable[[Page], Any]:
    """The contribution form sent without a title: the errors beside their fields (422)."""

    def go(page: Page) -> None:
        signed_in_at(site, person, path)(page)
        with page.expect_response(lambda r: r.request.method == "POST") as answer:
            page.locator("form.cf button[type=submit]").click()
        assert answer.value.status == 422

    return go


def test_lucie_records_a_contribution_with_a_photo_and_submits_it(
    live_server: LiveServer, page: Page, screenshot: Callable[[Page, str], Path], audit: Callable[..., list[Path]]
) -> None:
    lucie, project = add_lucie(live_server)
    page.goto(live_server.url("/mes-contributions"))
    page.get_by_label("Adresse e-mail").fill(lucie.email or "")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Mes contributions")
    expect(page.get_by_text("Aucune contribution dans ce projet pour l'instant.")).to_be_visible()
    screenshot(page, "contrib-journey-empty-phone-fr")
    page.get_by_role("link", name="Nouvelle contribution dans Jardin partagé").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Nouvelle contribution")
    expect(page.get_by_text("Racontez avec « je » ce que vous avez fait")).to_be_visible()
    page.get_by_label("Titre").fill("Premières plantations")
    page.get_by_label("Ce que j'ai fait").fill(
        "J'ai préparé les buttes avec les voisins, puis j'ai montré aux enfants comment repiquer les salades."
    )
    page.get_by_label("Mon rôle (facultatif)").fill("animatrice")
    page.get_by_label("Début").fill("2026-04-11")
    page.get_by_label("Fin").fill("2026-04-12")
    page.get_by_label("Nombre d'heures (facultatif)").fill("6,5")
    page.get_by_label("Personne 1").fill("Karim Benali")
    screenshot(page, "contrib-journey-form-phone-fr")
    page.get_by_role("button", name="Enregistrer").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Premières plantations")
    expect(page.get_by_text("Brouillon", exact=True)).to_be_visible()
    expect(page.get_by_text("Du 11 avril 2026 au 12 avril 2026")).to_be_visible()
    expect(page.get_by_text("6,5 h")).to_be_visible()
    contribution_path = re.sub(r"^https?://[^/]+", "", page.url).split("?")[0]
    camera = page.get_by_label("Prendre une photo")
    assert camera.get_attribute("capture") == "environment" and camera.get_attribute("accept") == "image/*"
    camera.set_input_files({"name": "IMG_0412.jpg", "mimeType": "image/jpeg", "buffer": photo()})
    page.get_by_label("Tuteurs").check()
    expect(
        page.get_by_text("Les tuteurs et tutrices du projet la voient, pour valider vos compétences.")
    ).to_be_visible()
    page.get_by_role("button", name="Ajouter la preuve").click()

    preview = page.get_by_role("img", name="Aperçu : IMG_0412.jpg")
    expect(preview).to_be_visible()
    preview.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=preview.element_handle())
    assert preview.evaluate("img => Math.max(img.naturalWidth, img.naturalHeight)") == 480  # reduced, not the upload
    expect(page.get_by_text("visibilité : Tuteurs")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Ouvrir « IMG_0412.jpg »"))).to_have_attribute("target", "_blank")
    screenshot(page, "contrib-journey-photo-phone-fr")
    audit(signed_in_at(live_server, lucie, contribution_path), "contrib-draft")

    page.get_by_role("button", name="Soumettre").click()
    expect(page.get_by_text("Soumise", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Demander la validation d'une compétence")).to_have_attribute(
        "href", f"{contribution_path}/revendiquer"
    )
    expect(page.get_by_role("button", name="Soumettre")).to_have_count(0)
    screenshot(page, "contrib-journey-submitted-phone-fr")

    audit(signed_in_at(live_server, lucie, "/mes-contributions"), "contrib-list")
    audit(signed_in_at(live_server, lucie, f"/mes-contributions/nouvelle?projet={project.id}"), "contrib-new")
    audit(submitted_empty(live_server, lucie, f"/mes-contributions/nouvelle?projet={project.id}"), "contrib-new-errors")
    audit(signed_in_at(live_server, lucie, contribution_path), "contrib-submitted")


def test_a_forbidden_file_type_is_refused_beside_its_field(
    live_server: LiveServer, page: Page, screenshot: Callable[[Page, str], Path], audit: Callable[..., list[Path]]
) -> None:
    lucie, project = add_lucie(live_server)
    signed_in_at(live_server, lucie, f"/mes-contributions/nouvelle?projet={project.id}")(page)
    page.get_by_label("Titre").fill("Atelier réparation")
    page.get_by_role("button", name="Enregistrer").click()
    contribution_path = re.sub(r"^https?://[^/]+", "", page.url).split("?")[0]

    def send_a_program(target: Page) -> None:
        signed_in_at(live_server, lucie, contribution_path)(target)
        program = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(range(256)) * 4
        target.locator("#fichier").set_input_files(
            {"name": "facture.exe", "mimeType": "application/octet-stream", "buffer": program}
        )
        with target.expect_response(lambda r: r.request.method == "POST") as answer:
            target.locator("form.cf button[type=submit]").click()
        assert answer.value.status == 415

    send_a_program(page)
    field = page.get_by_label("Ou choisir un fichier")
    expect(field).to_have_attribute("aria-invalid", "true")
    message = page.locator("#fichier-error")
    expect(message).to_have_text(
        "Ce type de fichier n'est pas accepté. Envoyez une photo, un PDF, un texte, un son, une vidéo "
        "ou un document bureautique."
    )
    assert "fichier-error" in (field.get_attribute("aria-describedby") or "").split()
    # Beside the field: the message sits right above the file input, inside the same group.
    assert message.evaluate("m => m.nextElementSibling.id") == "fichier"
    expect(page.get_by_text("Aucune preuve pour l'instant.")).to_be_visible()  # nothing was kept
    screenshot(page, "contrib-forbidden-type-phone-fr")
    audit(send_a_program, "contrib-forbidden-type")
