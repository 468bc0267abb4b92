"""The jury officer's journey in a real headless Chromium (tests/browser_fixtures.py), with a job worker
running beside the live server: Sophie, jury officer of an RNCP fiche, finds Lucie by name and asks
for her dossier; the e-mail lands in the outbox; Lucie, on her phone, sees the request on her home
page and consents on Mes données; Sophie generates the dossier (a job the worker runs), downloads the
ZIP, and /jury/verifier says it is intact. axe-core on every page, screenshots of each step; then
every jury page in French and English, phone and desktop (and the phone in dark mode).
"""

from __future__ import annotations

import re
import subprocess
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from app.models import Evidence, EvidenceKind, Job, Membership, Person, Project, Role, ScopeType, Territory, Visibility
from app.services.dossiers import lifecycle as dossiers
from app.services.identity import access
from app.services.identity.auth import Passwords
from app.services.recognition import claims, reviews
from tests.browser_fixtures import (
    DESKTOP,
    PHONE,
    LiveServer,
    assert_accessible,
    in_project,
    signed_in_at,
    submitted_contribution,
)
from tests.dossier_fixtures import make_fiche

pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed (pip install -e '.[test]')")
from playwright.sync_api import Page, expect

PASSWORD = "sophie-mot-de-passe"


class World:
    def __init__(self, lucie: Person, sophie: Person, fiche_id: uuid.UUID, code: str) -> None:
        self.lucie, self.sophie, self.fiche_id, self.code = lucie, sophie, fiche_id, code


def jury_world(site: LiveServer) -> World:
    """Lucie, learner of the village's project, two competencies of an RNCP fiche validated by Karim,
    a text evidence the jury may see; Sophie, jury officer of that fiche (a number of its own)."""
    n = uuid.uuid4().hex[:6]
    code = f"RNCP8{uuid.uuid4().int % 10000:04d}"
    hashed = Passwords(1, 8).hash(PASSWORD)
    with site.session() as session:
        _framework, fiche, _blocs, competences = make_fiche(session, key=code)
        territory = Territory(name=f"Val de Brenne {n}")
        session.add(territory)
        session.flush()
        project = Project(territory_id=territory.id, title="Jardin partagé de la place", social_functions=["produire"])
        lucie = Person(display_name="Lucie Perrin", email=f"lucie.{n}@demo.blason.fr", password_hash=hashed)
        karim = Person(display_name="Karim Benali", email=f"karim.{n}@demo.blason.fr", password_hash=hashed)
        sophie = Person(display_name="Sophie Laurent", email=f"sophie.{n}@demo.blason.fr", password_hash=hashed)
        session.add_all([project, lucie, karim, sophie])
        session.flush()
        session.add_all(
            [
                *in_project(project, learners=[lucie], tutors=[karim]),
                Membership(
                    person_id=sophie.id, role=Role.JURY_OFFICER, scope_type=ScopeType.CERTIFICATION, scope_id=fiche.id
                ),
            ]
        )
        contribution = submitted_contribution(
            session,
            project,
            lucie,
            "Organiser la première plantation",
            "J'ai réuni douze voisins et préparé le plan des parcelles avec l'école.",
            submitted_at=datetime.now(UTC),
        )
        session.add(
            Evidence(
                contribution_id=contribution.id,
                kind=EvidenceKind.TEXT,
                title="Compte rendu de la plantation",
                visibility=Visibility.JURY,
                text="14 participants, 6 parcelles, 3 variétés anciennes de tomates.",
                created_by_id=lucie.id,
            )
        )
        session.commit()
        for competency, level in ((competences[0], "acquis"), (competences[1], "maitrise")):
            claim = claims.create_claim(
                session,
                access.load_grants(session, lucie.id),
                {
                    "contribution_id": contribution.id,
                    "competency_id": competency.id,
                    "justification": "J'ai animé les samedis de plantation avec les voisins.",
                    "self_assessment": level,
                },
            ).value
            session.commit()
            reviews.review_claim(
                session,
                access.load_grants(session, karim.id),
                claim.id,
                {"decision": "validated", "level": level, "comment": "Bien mené, de bout en bout."},
                expected_version=claim.version,
            )
            session.commit()
        return World(lucie, sophie, fiche.id, code)


def sign_in(page: Page, site: LiveServer, person: Person, target: str = "/") -> None:
    page.goto(site.url("/connexion?next=" + target))
    page.get_by_label("Adresse e-mail").fill(person.email or "")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()


def consent_mail_link(site: LiveServer, to: str, page: Page) -> str:
    """The link of the one consent e-mail to ``to`` in the live server's outbox (written after the commit)."""
    import email
    import email.policy

    subject = "Votre accord est demandé : dossier pour le jury (VAE)"
    found: list[str] = []
    for _ in range(150):
        for path in sorted((site.folder / "outbox").glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if message["To"] == to and message["Subject"] == subject:
                found.append(message.get_content())  # type: ignore[attr-defined]
        if found:
            break
        page.wait_for_timeout(100)
    assert len(found) == 1, f"{len(found)} consent e-mail(s) to {to}"
    links = re.findall(r"(http://127\.0\.0\.1:\d+/\S+)", found[0])
    assert links, found[0]
    return links[-1]


def job_finished(site: LiveServer, job_id: uuid.UUID, worker: subprocess.Popen[bytes], timeout: float = 60) -> str:
    """Wait for the worker to end the job; its final state."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert worker.poll() is None, "the job worker stopped"
        with site.session() as session:
            job = session.scalar(select(Job).where(Job.id == job_id))
            if job is not None and job.state.value in ("succeeded", "failed"):
                return str(job.state.value) + (f": {job.error}" if job.error else "")
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not end within {timeout} s")


def test_a_jury_officer_asks_lucie_consents_the_dossier_is_generated_downloaded_and_verified(
    live_server: LiveServer,
    new_page: Callable[..., Page],
    screenshot: Callable[[Page, str], Path],
    live_worker: Callable[..., subprocess.Popen[bytes]],
    tmp_path: Path,
) -> None:
    worker = live_worker()
    world = jury_world(live_server)
    sophie, lucie = new_page(PHONE, "fr"), new_page(DESKTOP, "fr")  # Sophie on her phone, Lucie at a computer
    # Sophie finds Lucie by name and asks for her dossier.
    sign_in(sophie, live_server, world.sophie)
    sophie.get_by_role("link", name="Dossiers pour le jury").first.click()
    expect(sophie.get_by_role("heading", level=1)).to_have_text("Dossiers pour le jury (VAE)")
    assert_accessible(sophie)
    sophie.get_by_label("Nom ou adresse e-mail").fill("lucie")
    sophie.get_by_role("button", name="Chercher").click()
    expect(sophie.get_by_text("1 personne correspond à « lucie ».")).to_be_visible()
    screenshot(sophie, "jury-1-search-phone")
    assert_accessible(sophie)
    sophie.get_by_role("link", name="Lucie Perrin").click()
    expect(sophie.get_by_role("heading", level=1)).to_have_text("Lucie Perrin")
    expect(sophie.get_by_label(re.compile(world.code))).to_be_checked()  # her only certification
    assert_accessible(sophie)
    screenshot(sophie, "jury-2-learner-phone")
    sophie.get_by_role("button", name="Demander le dossier").click()
    expect(sophie.get_by_role("status")).to_contain_text("Demande envoyée")
    expect(sophie.get_by_text("En attente de son accord")).to_be_visible()
    assert_accessible(sophie)
    screenshot(sophie, "jury-3-requested-phone")
    dossier_url = sophie.url.split("?")[0]

    # Lucie is told by e-mail; on her home page the request waits; she consents on Mes données.
    link = consent_mail_link(live_server, world.lucie.email or "", sophie)
    assert link.startswith(live_server.url("/mes-donnees"))
    sign_in(lucie, live_server, world.lucie)
    todo = lucie.get_by_role("link", name="1 dossier pour le jury attend votre accord")
    expect(todo).to_be_visible()
    assert_accessible(lucie)
    screenshot(lucie, "jury-4-lucie-home-desktop")
    todo.click()
    assert_accessible(lucie)
    screenshot(lucie, "jury-5-lucie-data-desktop")
    lucie.get_by_role("button", name="Donner mon accord").click()
    expect(lucie.get_by_role("button", name="Donner mon accord")).to_have_count(0)
    lucie.goto(live_server.url("/"))
    expect(lucie.get_by_text("attend votre accord")).to_have_count(0)

    # Sophie generates the dossier: a job the worker runs; then she downloads and checks it.
    sophie.goto(dossier_url)
    expect(sophie.get_by_text("Accord donné", exact=True)).to_be_visible()
    assert_accessible(sophie)
    screenshot(sophie, "jury-6-consented-phone")
    sophie.get_by_role("button", name="Générer le dossier").click()
    sophie.wait_for_url(re.compile(r"/taches/[0-9a-f-]+"))
    job_id = uuid.UUID(sophie.url.split("/taches/")[1].split("?")[0])
    assert job_finished(live_server, job_id, worker) == "succeeded"
    sophie.goto(dossier_url)
    expect(sophie.get_by_text("Dossier prêt", exact=True)).to_be_visible()
    assert_accessible(sophie)
    screenshot(sophie, "jury-7-ready-phone")
    with sophie.expect_download() as got:
        sophie.get_by_role("link", name="Télécharger le dossier (ZIP)").click()
    archive = tmp_path / "dossier.zip"
    got.value.save_as(archive)
    assert archive.read_bytes()[:2] == b"PK"

    sophie.get_by_role("link", name="Vérifier un dossier reçu").click()
    assert_accessible(sophie)
    sophie.get_by_label("Le dossier (fichier ZIP)").set_input_files(str(archive))
    sophie.get_by_role("button", name="Vérifier").click()
    expect(sophie.get_by_role("heading", name="Dossier intact")).to_be_visible()
    expect(sophie.get_by_text("C'est le dossier de Lucie Perrin")).to_be_visible()
    assert_accessible(sophie)
    screenshot(sophie, "jury-8-verified-phone")


def test_every_jury_page_is_accessible_in_both_languages(
    live_server: LiveServer, audit: Callable[..., list[Path]]
) -> None:
    world = jury_world(live_server)
    with live_server.session() as session:
        grants = access.load_grants(session, world.sophie.id)
        asked = dossiers.request_dossier(
            session, grants, {"certification_id": world.fiche_id, "learner_id": world.lucie.id}
        )
        refused = dossiers.request_dossier(
            session, grants, {"certification_id": world.fiche_id, "learner_id": world.lucie.id}
        )
        session.commit()
        dossiers.refuse(
            session, access.load_grants(session, world.lucie.id), refused.id, reason="Pas avant la fin de mon contrat."
        )
        dossiers.consent(session, access.load_grants(session, world.lucie.id), asked.id)
        session.commit()
        asked_id, refused_id = asked.id, refused.id
    sophie = world.sophie
    audit(signed_in_at(live_server, sophie, "/jury?q=lucie"), "jury-index")
    audit(signed_in_at(live_server, sophie, f"/jury/personnes/{world.lucie.id}"), "jury-learner")
    audit(signed_in_at(live_server, sophie, f"/jury/dossiers/{asked_id}"), "jury-dossier-consented")
    audit(signed_in_at(live_server, sophie, f"/jury/dossiers/{refused_id}"), "jury-dossier-refused")
    audit(signed_in_at(live_server, sophie, "/jury/verifier"), "jury-verify")
    audit(signed_in_at(live_server, sophie, f"/jury/cohortes/{world.fiche_id}"), "jury-cohort")

    def missing_certification(page: Page) -> None:
        signed_in_at(live_server, sophie, f"/jury/personnes/{world.lucie.id}")(page)
        page.evaluate("() => document.querySelectorAll('input[name=certification]').forEach(i => i.checked = false)")
        page.locator("form.stack button[type=submit]").click()
        page.wait_for_load_state()
        expect(page.locator("#certification-error")).to_be_visible()

    audit(missing_certification, "jury-request-422")
