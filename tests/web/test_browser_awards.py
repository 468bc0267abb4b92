"""The issuer administrator's bulk award in a real headless Chromium (tests/browser_fixtures.py), with a
job worker (`blason worker`) beside the live server: Iris sends a CSV of 200 rows of which 3 are
wrong; the preview names those 3 rows with their reason in French; she confirms, the file runs as a
job whose progress moves, and the report counts 197 badges issued and 3 rows refused. Sending the
same file again issues nothing: every row reads « déjà émis ». Each page passes axe-core at phone
and desktop size; the approval queue, the manual award and the badges issued are checked too."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.models import Credential, CredentialState, Job, Membership, Person, Project, Role, ScopeType, Territory
from app.platform.storage import LocalStorage
from app.services.identity import access
from app.services.identity.auth import Passwords
from app.services.issuing import achievements, awarding, issuers
from app.services.issuing.signing import new_credential
from tests.browser_fixtures import DESKTOP, PHONE, LiveServer, assert_accessible

pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed (pip install -e '.[test]')")
from playwright.sync_api import Page, expect

PASSWORD = "iris-mot-de-passe"
ROWS = 200
BAD = {57: "personne.inconnue@exemple.fr", 121: "url", 188: "level"}  # file line → what is wrong


@dataclass
class Desk:
    iris: Person
    issuer_id: uuid.UUID
    achievement_id: uuid.UUID
    achievement_name: str
    csv: bytes
    learners: int


def issuer_desk(site: LiveServer) -> Desk:
    """Iris, administrator of a territory's issuer, its badge, 197 learners of the territory, one
    proposal waiting for approval and one badge already issued; the CSV of 200 rows (3 wrong)."""
    n = uuid.uuid4().hex[:6]
    with site.session() as session:
        territory = Territory(name=f"Territoire des Glycines {n}")
        session.add(territory)
        session.flush()
        project = Project(territory_id=territory.id, title="Jardin partagé des Glycines", social_functions=["produire"])
        iris = Person(
            display_name="Iris Émettrice",
            email=f"iris.{n}@demo.blason.fr",
            password_hash=Passwords(1, 8).hash(PASSWORD),
        )
        session.add_all([project, iris])
        session.flush()
        issuer = issuers.create_issuer(
            session,
            site.system,
            {"name": "Tiers-lieu des Glycines", "url": "https://glycines.example.fr", "territory_id": territory.id},
            settings=site.settings,
        )
        session.add(
            Membership(person_id=iris.id, role=Role.ISSUER_ADMIN, scope_type=ScopeType.ISSUER, scope_id=issuer.id)
        )
        name = "Participer à un chantier collectif"
        achievement = achievements.create_achievement(
            session,
            site.system,
            issuer.id,
            {"name": name, "description": "Reconnaît la participation.", "criteria": "Avoir participé à un chantier."},
            storage=LocalStorage(site.storage),
            urls=site.settings.urls,
        )
        people = [
            Person(display_name=f"Habitant {i:03d} Glycines", email=f"habitant{i:03d}.{n}@exemple.fr")
            for i in range(ROWS + 1)  # 197 good rows, 2 wrong rows naming someone, 1 awarded, 1 proposed
        ]
        session.add_all(people)
        session.flush()
        session.add_all(
            Membership(person_id=p.id, role=Role.LEARNER, scope_type=ScopeType.PROJECT, scope_id=project.id)
            for p in people
        )
        session.flush()
        version = achievements.current_version(session, achievement)
        proposal = new_credential(
            issuer_id=issuer.id,
            version=version,
            learner=people[ROWS],
            origin="auto",
            award_data={
                "evidence": [
                    {
                        "name": "Chantier du samedi",
                        "description": "Projet : Jardin partagé, 6 h",
                        "genre": "Contribution",
                    }
                ],
                "result": "Acquis",
                "level": "acquis",
            },
            created_by_id=None,
        )
        session.add(proposal)
        grants = access.load_grants(session, iris.id)
        awarding.award(session, grants, achievement.id, {"learner_id": people[ROWS - 1].id}, settings=site.settings)
        session.commit()
        lines = ["email,evidence_url,result_level"]
        good, wrong = iter(people[: ROWS - len(BAD)]), iter(people[ROWS - len(BAD) : ROWS - 1])
        for line in range(2, ROWS + 2):  # the header is line 1
            if BAD.get(line) == "url":
                lines.append(f"{next(wrong).email},pas-une-adresse,")
            elif BAD.get(line) == "level":
                lines.append(f"{next(wrong).email},,excellent")
            elif line in BAD:
                lines.append(f"{BAD[line]},,")
            else:
                lines.append(f"{next(good).email},,acquis")
        return Desk(iris, issuer.id, achievement.id, name, ("\n".join(lines) + "\n").encode(), len(people))


def live_progress(site: LiveServer, job_id: uuid.UUID) -> tuple[int, int | None] | None:
    """What the running job's worker last published (done, total), read from the queue's storage."""
    from huey import SqliteHuey

    huey = SqliteHuey("blason", filename=str(site.folder / "queue.db"), results=False, utc=True)
    data = huey.get(f"blason.job.{job_id}", peek=True)
    return (int(data.get("done") or 0), data.get("total")) if isinstance(data, dict) else None


def follow(site: LiveServer, job_id: uuid.UUID, worker: subprocess.Popen[bytes], timeout: float = 90) -> list[int]:
    """Wait for the job to end (succeeded); return the progress seen on the way (issued so far)."""
    seen: list[int] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert worker.poll() is None, "the job worker stopped"
        with site.session() as session:
            job = session.scalar(select(Job).where(Job.id == job_id))
            assert job is not None
            if job.state.value in ("succeeded", "failed"):
                assert job.state.value == "succeeded", job.error
                return seen
            if job.state.value == "running":
                live = live_progress(site, job_id)
                if live is not None and live[1] and (not seen or live[0] != seen[-1]):
                    seen.append(live[0])
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not end within {timeout} s")


def sign_in(page: Page, site: LiveServer, person: Person, target: str) -> None:
    page.goto(site.url("/connexion?next=" + target))
    page.get_by_label("Adresse e-mail").fill(person.email or "")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()


def issued(site: LiveServer, issuer_id: uuid.UUID) -> int:
    with site.session() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(Credential)
                .where(Credential.issuer_id == issuer_id, Credential.state == CredentialState.ISSUED)
            )
            or 0
        )


def send_file(page: Page, desk: Desk, path: Path) -> None:
    page.get_by_label("Badge à attribuer").select_option(label=desk.achievement_name)
    page.get_by_label("Fichier CSV").set_input_files(str(path))
    page.get_by_role("button", name="Vérifier le fichier").click()


def test_a_bulk_award_of_200_rows_with_3_wrong_previews_runs_as_a_job_and_never_issues_twice(
    live_server: LiveServer,
    new_page: Callable[..., Page],
    live_worker: Callable[..., subprocess.Popen[bytes]],
    screenshot: Callable[[Page, str], Path],
    tmp_path: Path,
) -> None:
    worker = live_worker("0.01")
    desk = issuer_desk(live_server)
    base = f"/emetteur/{desk.issuer_id}"
    csv_path = tmp_path / "envoi-glycines.csv"
    csv_path.write_bytes(desk.csv)
    before = issued(live_server, desk.issuer_id)
    page = new_page(PHONE, "fr")
    sign_in(page, live_server, desk.iris, f"{base}/envois")
    expect(page.get_by_role("heading", level=1)).to_have_text("Envoi groupé de badges")
    expect(page.get_by_role("link", name="Télécharger un exemple de fichier CSV")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "awards-bulk-upload-phone-fr")

    send_file(page, desk, csv_path)
    expect(page.get_by_role("heading", level=1)).to_have_text("Vérifier l'envoi avant de l'émettre")
    expect(page.get_by_text("3 lignes ne conviennent pas")).to_be_visible()
    table = page.get_by_role("table", name="Les lignes qui ne conviennent pas")
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(3)
    assert [rows.nth(i).get_by_role("rowheader").inner_text() for i in range(3)] == [str(line) for line in BAD]
    expect(rows.nth(0)).to_contain_text("personne.inconnue@exemple.fr")
    expect(rows.nth(0)).to_contain_text("Aucune personne que cet émetteur peut récompenser n'a cette adresse e-mail.")
    expect(rows.nth(1)).to_contain_text("Le lien de preuve doit être une adresse web")
    expect(rows.nth(2)).to_contain_text("Niveau inconnu : utilisez l'un de non_acquis, en_cours, acquis, maitrise.")
    assert issued(live_server, desk.issuer_id) == before  # a dry run
    assert_accessible(page)
    screenshot(page, "awards-bulk-preview-phone-fr")
    desktop = new_page(DESKTOP, "fr")
    desktop.context.add_cookies(page.context.cookies())
    desktop.goto(page.url)
    expect(desktop.get_by_role("button", name="Émettre 197 badges")).to_be_visible()
    assert_accessible(desktop)
    screenshot(desktop, "awards-bulk-preview-desktop-fr")

    page.get_by_role("button", name="Émettre 197 badges").click()
    page.wait_for_url("**/taches/*")
    job_id = uuid.UUID(page.url.rsplit("/", 1)[1].split("?")[0])
    seen = follow(live_server, job_id, worker)
    assert any(0 < done < 197 for done in seen), f"no progress seen on the way: {seen}"
    assert issued(live_server, desk.issuer_id) == before + 197

    page.goto(live_server.url(f"{base}/envois/{job_id}"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Compte rendu de l'envoi groupé")
    counts = page.locator("dl.counts")
    expect(counts).to_contain_text("Badges émis197")
    expect(counts).to_contain_text("Lignes refusées3")
    expect(page.get_by_role("table", name="Les lignes qui ne conviennent pas").locator("tbody tr")).to_have_count(3)
    expect(page.get_by_role("link", name="Télécharger le compte rendu (CSV)")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "awards-bulk-report-phone-fr")
    desktop.goto(live_server.url(f"{base}/envois/{job_id}?voir=tout"))
    expect(desktop.get_by_role("cell", name="Habitant 000 Glycines")).to_be_visible()
    assert_accessible(desktop)
    screenshot(desktop, "awards-bulk-report-desktop-fr")

    # The same file again: nothing to issue, every row already has its badge.
    page.goto(live_server.url(f"{base}/envois"))
    send_file(page, desk, csv_path)
    expect(page.get_by_text("Ce fichier n'émettrait aucun badge.")).to_be_visible()
    expect(page.get_by_role("button", name="Émettre")).to_have_count(0)
    page.get_by_role("link", name="Voir toutes les lignes").click()
    expect(
        page.get_by_role("table", name="Toutes les lignes du fichier").get_by_text("déjà émis").first
    ).to_be_visible()
    assert_accessible(page)
    screenshot(page, "awards-bulk-again-phone-fr")
    assert issued(live_server, desk.issuer_id) == before + 197


def test_the_other_award_pages_are_accessible_at_phone_and_desktop_size(
    live_server: LiveServer, new_page: Callable[..., Page], screenshot: Callable[[Page, str], Path]
) -> None:
    desk = issuer_desk(live_server)
    base = f"/emetteur/{desk.issuer_id}"
    for screen in (PHONE, DESKTOP):
        page = new_page(screen, "fr")
        sign_in(page, live_server, desk.iris, f"{base}/a-approuver")
        expect(page.get_by_text("1 badge attend votre approbation.")).to_be_visible()
        expect(page.get_by_text("Chantier du samedi — Projet : Jardin partagé, 6 h")).to_be_visible()
        page.get_by_text("Refuser…").click()
        page.get_by_role("button", name="Refuser la proposition").click()  # no reason: refused, said next to it
        expect(page.get_by_text("Indiquez le motif.").first).to_be_visible()
        assert_accessible(page)
        screenshot(page, f"awards-queue-{screen.name}-fr")

        page.goto(live_server.url(f"{base}/attribuer"))
        page.get_by_label("Modèle de badge").select_option(label=desk.achievement_name)
        page.get_by_label("Nom ou adresse e-mail de la personne").fill("habitant 00")
        page.get_by_role("button", name="Chercher").click()
        page.get_by_role("link", name="Choisir Habitant 001 Glycines").click()
        expect(page.get_by_role("heading", name="2. Vérifier et émettre")).to_be_visible()
        assert_accessible(page)
        screenshot(page, f"awards-manual-{screen.name}-fr")

        page.goto(live_server.url(f"{base}/badges-emis"))
        expect(page.get_by_text("1 badge émis.")).to_be_visible()
        page.get_by_text("Suspendre ou révoquer…").click()
        page.get_by_role("button", name="Suspendre").click()  # no reason
        expect(page.get_by_text("Indiquez le motif.").first).to_be_visible()
        assert_accessible(page)
        screenshot(page, f"awards-issued-{screen.name}-fr")
        english = new_page(screen, "en")
        english.context.add_cookies(page.context.cookies())
        english.goto(live_server.url(f"{base}/badges-emis?lang=en"))
        expect(english.get_by_role("heading", level=1)).to_have_text("Badges issued")
        assert_accessible(english)
