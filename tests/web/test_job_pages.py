"""A job's pages, server side: /taches (my jobs, newest first, paged), /taches/<id> (state in words,
progress bar, step, times, outcome by kind, error and what to do), /taches/<id>/etat (its JSON for the
page's script), and who sees a job (its starter and platform administrators; the 404 page for others)."""

from __future__ import annotations

import io
import re
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from app.models import Framework, Job, JobState
from app.services import jobs
from app.services.identity.access import load_grants
from tests.web.csrf_support import csrf_token
from tests.web.page_support import page_text, sign_in_as

CSV = (
    "# title: Compétences du jardin partagé\n# version: 1\n# language: fr\n"
    "key;parent_key;kind;code;label;description;alt_labels\n"
    "J1;;domain;J1;Jardiner ensemble;Cultiver à plusieurs.;\n"
    "J1.1;J1;competence;J1.1;Semer;Semer au bon moment.;\n"
)


@pytest.fixture()
def admin(make_person, grant):  # type: ignore[no-untyped-def]
    person = make_person(display_name="Camille Admin")
    grant(person, "platform_admin")
    return person


def _job(session: Any, person: Any, kind: str, params: dict[str, Any], **row: Any) -> Job:
    """A job of ``person`` as a worker would leave it (``row``: state, result, error, progress...)."""
    job = jobs.submit(session, load_grants(session, person.id), kind, params)
    for name, value in row.items():
        setattr(job, name, JobState(value) if name == "state" else value)
    session.commit()
    return job


def _import(client: Any, data: bytes = CSV.encode(), name: str = "jardin.csv", **form: str) -> Any:
    return client.post(
        "/administration/import",
        data={
            "fichier": (io.BytesIO(data), name),
            "format": "custom-csv",
            "csrf_token": csrf_token(client, "/"),
            **form,
        },
        content_type="multipart/form-data",
    )


def test_an_import_shows_its_progress_then_its_counts_and_frameworks(client, app, session, admin, drain) -> None:  # type: ignore[no-untyped-def]
    sign_in_as(client, app, admin)
    sent = _import(client)
    assert sent.status_code == 303, sent.get_data(as_text=True)[:500]
    location = sent.headers["Location"]
    assert re.fullmatch(r"/taches/[0-9a-f-]{36}", location)
    page = client.get(location)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    text, html = page_text(page), page.get_data(as_text=True)
    assert "Import de référentiel" in text and "En attente : le traitement va commencer" in text
    assert "Étape : En attente de traitement" in text
    assert 'role="status" aria-live="polite"' in html and "<progress" in html
    assert f'<a href="{location}">Actualiser</a>' in html  # without JavaScript
    assert '<script src="/static/jobs.js" defer></script>' in html
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert "connect-src 'self'" in page.headers["Content-Security-Policy"]
    assert "Demandé le" in text and " à " in text and " h " in text  # « 2 juin 2026 à 14 h 30 »

    assert drain() >= 1
    done = client.get(location)
    text, html = page_text(done), done.get_data(as_text=True)
    assert "Terminé" in text and "Résultat" in text
    assert "Référentiels créés ou mis à jour : 1." in text and "Fini le" in text
    assert "Actualiser" not in text and "jobs.js" not in html  # nothing more to follow
    framework = session.scalar(select(Framework).where(Framework.title == "Compétences du jardin partagé"))
    assert framework is not None
    assert f'href="/administration/referentiels/{framework.id}"' in html
    assert "Compétences du jardin partagé" in text
    # The same file again: the framework is unchanged (no version written), found by its key.
    again = _import(client).headers["Location"]
    drain()
    html = client.get(again).get_data(as_text=True)
    assert "Déjà à jour, inchangés : 1." in page_text(client.get(again))
    assert re.search(r'<a href="/administration/referentiels\?q=[^"]+">Compétences du jardin partagé</a>', html)


def test_the_state_endpoint_answers_json_in_the_pages_language(client, app, session, admin) -> None:  # type: ignore[no-untyped-def]
    job = _job(session, admin, "framework_import", {"files": []})
    sign_in_as(client, app, admin)
    state = client.get(f"/taches/{job.id}/etat")
    assert state.status_code == 200 and state.mimetype == "application/json"
    assert state.headers["Cache-Control"] == "no-store"
    assert state.get_json() == {
        "state": "queued",
        "stateWords": "En attente : le traitement va commencer",
        "step": "En attente de traitement",
        "done": 0,
        "total": None,
        "percent": None,
        "progressWords": "",
        "finished": False,
    }
    english = client.get(f"/taches/{job.id}/etat?lang=en").get_json()
    assert (
        english["stateWords"] == "Waiting: the processing will start soon"
        and english["step"] == "Waiting to be processed"
    )


def test_a_running_job_shows_its_bar_with_numbers_in_words(client, app, session, admin) -> None:  # type: ignore[no-untyped-def]
    job = _job(session, admin, "bulk_award", {"issuer_id": str(uuid.uuid4())})
    jobs.claim(session, job.id)
    session.commit()
    row = session.get(Job, job.id)
    row.progress_done, row.progress_total = 1250, 5000
    row.step_key, row.step_values = "job_step_issuing", {"issued": 1250, "count": 5000}
    session.commit()
    sign_in_as(client, app, admin)
    page = client.get(f"/taches/{job.id}")
    text, html = page_text(page), page.get_data(as_text=True)
    assert "Traitement en cours" in text
    assert 'max="5000" value="1250"' in html
    assert "1\u202f250 sur 5\u202f000 (25 %)" in html  # French numbers (page_text reads the space as one)
    assert "Étape : Badges délivrés : 1 250 sur 5 000" in text
    state = client.get(f"/taches/{job.id}/etat").get_json()
    assert (state["state"], state["done"], state["total"], state["percent"]) == ("running", 1250, 5000, 25)


def test_another_persons_job_is_the_404_page(client, app, session, admin, make_person) -> None:  # type: ignore[no-untyped-def]
    job = _job(session, admin, "framework_import", {"files": []})
    stranger = make_person()
    sign_in_as(client, app, stranger)
    for path in (f"/taches/{job.id}", f"/taches/{job.id}/etat", f"/taches/{uuid.UUID(int=7)}"):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert "Page introuvable" in page_text(answer)
    assert "Vous n'avez lancé aucun traitement" in page_text(client.get("/taches"))


def test_a_platform_admin_sees_a_job_someone_else_started(client, app, session, make_person, grant) -> None:  # type: ignore[no-untyped-def]
    issuer_admin, other_admin = make_person(), make_person()
    grant(other_admin, "platform_admin")
    job = _job(session, issuer_admin, "bulk_award", {"issuer_id": str(uuid.uuid4())})
    sign_in_as(client, app, other_admin)
    assert client.get(f"/taches/{job.id}").status_code == 200


def test_a_visitor_is_sent_to_sign_in(client, app, session, admin) -> None:  # type: ignore[no-untyped-def]
    job = _job(session, admin, "framework_import", {"files": []})
    for path in ("/taches", f"/taches/{job.id}", f"/taches/{job.id}/etat"):
        answer = client.get(path)
        assert answer.status_code == 303 and answer.headers["Location"].startswith("/connexion?next=")


def test_my_jobs_newest_first_and_paged(client, app, session, admin, make_person) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime, timedelta

    start = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    made = [
        _job(session, admin, "framework_import", {"files": []}, created_at=start + timedelta(minutes=i))
        for i in range(21)
    ]
    _job(session, make_person(), "framework_import", {"files": []})  # someone else's: never listed
    sign_in_as(client, app, admin)
    first = client.get("/taches")
    html = first.get_data(as_text=True)
    links = re.findall(r'<h2><a href="/taches/([0-9a-f-]{36})">', html)
    assert len(links) == 20 and links[0] == str(made[-1].id)  # newest first
    assert "Page 1 sur 2" in page_text(first) and 'href="/taches?page=2" rel="next"' in html
    assert "1 juin 2026 à 10 h 20" in page_text(first)  # Paris time (UTC+2 in June)
    second = client.get("/taches?page=2&lang=en")
    assert re.findall(r'<h2><a href="/taches/([0-9a-f-]{36})\?lang=en">', second.get_data(as_text=True)) == [
        str(made[0].id)
    ]
    assert "1 June 2026 at 10:00" in page_text(second)


def test_a_bulk_award_links_to_its_report(client, app, session, make_person) -> None:  # type: ignore[no-untyped-def]
    person = make_person()
    issuer_id = uuid.uuid4()
    result = {"mode": "all_or_nothing", "total": 200, "valid": 197, "invalid": 3, "issued": 197, "rows": []}
    job = _job(session, person, "bulk_award", {"issuer_id": str(issuer_id)}, state="succeeded", result=result)
    sign_in_as(client, app, person)
    page = client.get(f"/taches/{job.id}")
    text, html = page_text(page), page.get_data(as_text=True)
    assert "Attribution de badges en nombre" in text and "Lignes en erreur 3" in text
    assert f'href="/emetteur/{issuer_id}/envois/{job.id}">Voir le compte rendu de l&#39;envoi</a>' in html


def test_a_dossier_links_to_its_page(client, app, session, make_person) -> None:  # type: ignore[no-untyped-def]
    person = make_person()
    dossier_id = uuid.uuid4()
    job = _job(
        session,
        person,
        "dossier_generation",
        {"dossier_id": str(dossier_id)},
        state="succeeded",
        result={"dossierId": str(dossier_id), "size": 1000},
    )
    sign_in_as(client, app, person)
    html = client.get(f"/taches/{job.id}?lang=en").get_data(as_text=True)
    assert f'href="/jury/dossiers/{dossier_id}?lang=en">Open the jury file</a>' in html


def test_a_failed_job_says_why_and_what_to_do_in_the_pages_language(client, app, session, admin, drain) -> None:  # type: ignore[no-untyped-def]
    sign_in_as(client, app, admin)
    location = _import(client, b"key;label\n\xff\xfe", "broken.csv").headers["Location"]
    drain()
    page = client.get(location)
    text = page_text(page)
    assert "Le traitement n'a pas abouti" in text
    assert "Les données envoyées ne conviennent pas ; rien n'a été enregistré." in text
    assert "Que faire : corrigez le fichier" in text
    assert 'href="/administration/import">Envoyer un fichier de nouveau</a>' in page.get_data(as_text=True)
    english = page_text(client.get(location + "?lang=en"))
    assert "The processing did not succeed" in english and "What to do: correct the file" in english
    assert session.scalar(select(Framework).where(Framework.source_filename == "broken.csv")) is None


def test_an_interrupted_job_tells_to_start_it_again(client, app, session, make_person) -> None:  # type: ignore[no-untyped-def]
    person = make_person()
    error = jobs.job_error("job_error_interrupted", seconds=60)
    job = _job(session, person, "dossier_generation", {"dossier_id": str(uuid.uuid4())}, state="failed", error=error)
    sign_in_as(client, app, person)
    text = page_text(client.get(f"/taches/{job.id}"))
    assert "aucun signe de vie depuis 60 secondes" in text and "Que faire : relancez le même traitement" in text
    assert "Retour au dossier" in text
