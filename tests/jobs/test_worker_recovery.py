"""Real worker processes: a bulk award killed midway, a dossier through the API, lost queue messages.

* A worker killed with SIGKILL in the middle of a bulk award leaves no credential, no status-list
  slot and no audit event of it; readers are told at once it stopped, the next worker marks it
  failed in French and English, and the same file then issues every badge once.
* A dossier generation started through the API is run by a worker and can then be downloaded;
  one whose learner withdrew consent meanwhile fails with words saying so.
* A queued job whose message was lost (the SQLite queue file deleted, Redis flushed) is enqueued
  again by the next worker and runs once.

The database is a SQLite file, or a PostgreSQL database created beside BLASON_TEST_DATABASE_URL's.
"""

from __future__ import annotations

import io
import signal
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select

from app.models import AuditEvent, Credential, Dossier, Job, JobState, Person, ProfileType, Role, StatusList
from app.runtime import runtime
from app.services import jobs
from app.services.identity.access import load_grants
from app.services.issuing import achievements, issuers
from app.worker import queue_of
from tests.dossier_fixtures import make_fiche
from tests.jobs.process_support import (
    REDIS_URL,
    TIMEOUT,
    Deployment,
    framework_csv,
    own_database,
    redis_reachable,
    settings_for,
)

API = "/api/v1"


@pytest.fixture()
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    """The embedded default: a SQLite queue file beside the instance; the database under test."""
    with own_database(tmp_path, "recovery") as url:
        d = Deployment(settings_for(url, tmp_path / "instance", f"sqlite:///{tmp_path / 'queue.db'}", "jobs"), tmp_path)
        try:
            yield d
        finally:
            d.close()


# A bulk award killed midway ------------------------------------------------------------------------


def _bulk_world(d: Deployment, rows: int) -> dict[str, Any]:
    admin = d.person("Ada Admin", "ada@example.org", Role.PLATFORM_ADMIN)
    rt = runtime(d.app)
    with d.app.app_context(), d.session() as session:
        grants = load_grants(session, admin.id)
        issuer = issuers.create_issuer(
            session,
            grants,
            {"name": "Cnam Bretagne", "url": "https://cnam.example.fr", "email": "badges@cnam.example.fr"},
            settings=rt.issuing,
        )
        achievement = achievements.create_achievement(
            session,
            grants,
            issuer.id,
            {
                "name": "Tenir un stand",
                "description": "Accueillir le public.",
                "criteria": "Avoir tenu un stand au marché.",
                "achievement_type": "Badge",
            },
            storage=rt.storage,
            urls=rt.issuing.urls,
        )
        emails = [f"apprenant{i}@example.org" for i in range(rows)]
        session.execute(
            insert(Person),
            [
                {"id": uuid.uuid4(), "display_name": f"Apprenant {i}", "email": e, "profile_type": ProfileType.AUTRE}
                for i, e in enumerate(emails)
            ],
        )
        session.commit()
        issuer_id, achievement_id = issuer.id, achievement.id
    csv = ("email,achievement_id\n" + "".join(f"{e},{achievement_id}\n" for e in emails)).encode()
    return {"admin": admin, "issuer_id": issuer_id, "csv": csv}


def _status_lists(d: Deployment) -> list[tuple[Any, ...]]:
    with d.engine.connect() as conn:
        rows = conn.execute(
            select(StatusList.id, StatusList.next_index, StatusList.allocated, StatusList.bits).order_by(StatusList.id)
        )
        return [tuple(row) for row in rows]


def test_a_worker_killed_mid_bulk_award_leaves_nothing_and_the_job_ends_failed(deployment: Deployment) -> None:
    d = deployment
    world = _bulk_world(d, 600)
    params = {"issuer_id": str(world["issuer_id"]), "mode": "all_or_nothing", "achievement_id": None}
    lists, events = _status_lists(d), d.count(AuditEvent)
    job_id = d.submit(world["admin"], "bulk_award", params, upload=world["csv"])
    queue = queue_of(d.app)
    victim = d.start_worker(step_delay=0.03)

    def far_enough() -> bool:  # past the writer's first flushed batches (200 rows each), not committed
        live = queue.read(job_id)
        return live is not None and live.done >= 450

    d.wait(far_enough, "the bulk award to be past its flushed batches", timeout=120)
    assert d.job(job_id).state is JobState.RUNNING
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=10)

    # Nothing of the job's work: no credential, no status-list slot taken, no audit event.
    assert d.count(Credential) == 0 and _status_lists(d) == lists and d.count(AuditEvent) == events
    time.sleep(TIMEOUT + 0.5)
    shown = jobs.view(d.job(job_id), queue, timeout=TIMEOUT)  # readers are told at once
    assert shown["state"] == "failed" and shown["error"]["key"] == "job_error_interrupted"

    d.start_worker()  # marks it failed for good when it starts
    d.wait(lambda: d.job(job_id).state is JobState.FAILED, "the next worker to reap the job", timeout=120)
    job = d.job(job_id)
    assert job.error is not None and job.error["key"] == "job_error_interrupted" and job.finished_at is not None
    shown = jobs.view(job, queue, timeout=TIMEOUT)
    assert shown["error"]["fr"].startswith("Le traitement s'est arrêté en cours de route")
    assert "rien n'a été enregistré" in shown["error"]["fr"] and "2 secondes" in shown["error"]["fr"]
    assert shown["error"]["en"] and shown["result"] is None
    assert d.count(Credential) == 0 and _status_lists(d) == lists and d.count(AuditEvent) == events
    assert not runtime(d.app).storage.keyed_exists(job.params["key"])  # the CSV of e-mails is gone too

    # The same file, submitted again, issues every badge once.
    again = d.submit(world["admin"], "bulk_award", params, upload=world["csv"])
    d.wait(lambda: d.job(again).state is JobState.SUCCEEDED, "the bulk award to run again", timeout=180)
    assert d.count(Credential) == 600 and d.job(again).result["issued"] == 600  # type: ignore[index]


# A dossier through the API ---------------------------------------------------------------------------


def test_a_dossier_job_started_through_the_api_is_downloadable_or_fails_in_words(deployment: Deployment) -> None:
    d = deployment
    with d.session() as session:
        _framework, fiche, _blocs, _competences = make_fiche(session)
        session.commit()
        fiche_id = fiche.id
    learner = d.person("Lucie Martin", "lucie@example.org")
    officer = d.person("Agnès Jury (Cnam)", "agnes@example.org", Role.JURY_OFFICER, fiche_id)
    client = d.app.test_client()
    as_officer, as_learner = d.headers(officer), d.headers(learner)
    r = client.post(
        f"{API}/dossiers", json={"certificationId": str(fiche_id), "learnerId": str(learner.id)}, headers=as_officer
    )
    assert r.status_code == 201, r.get_json()
    dossier_id = r.get_json()["id"]
    assert client.post(f"{API}/dossiers/{dossier_id}/consent", headers=as_learner).status_code == 200

    # Asked for while consented; the learner withdraws consent before a worker runs it.
    r = client.post(f"{API}/jobs/dossier-generations", json={"dossierId": dossier_id}, headers=as_officer)
    assert r.status_code == 202, r.get_json()
    refused = r.headers["Location"]
    assert client.post(f"{API}/dossiers/{dossier_id}/refuse", headers=as_learner).status_code == 200
    d.start_worker()

    def ended(location: str) -> bool:
        return client.get(location, headers=as_officer).get_json()["state"] in ("succeeded", "failed")

    d.wait(lambda: ended(refused), "the refused dossier's job to end")
    job = client.get(refused, headers=as_officer).get_json()
    assert job["state"] == "failed" and job["error"]["key"] == "job_error_no_consent", job
    assert job["error"]["fr"] == (
        "La personne n'a pas donné son accord pour ce dossier, ou l'a retiré : le dossier n'a pas été préparé."
    )
    assert job["error"]["en"].startswith("The person has not consented to this dossier")
    with d.session() as session:
        dossier = session.get(Dossier, uuid.UUID(dossier_id))
        assert dossier is not None and dossier.archive_key is None
        generated = select(AuditEvent).where(AuditEvent.action == "dossier.generated")
        assert session.scalars(generated).first() is None

    # Consent given again: the job runs, and the dossier can be downloaded.
    assert client.post(f"{API}/dossiers/{dossier_id}/consent", headers=as_learner).status_code == 200
    r = client.post(f"{API}/jobs/dossier-generations", json={"dossierId": dossier_id}, headers=as_officer)
    assert r.status_code == 202
    location = r.headers["Location"]
    d.wait(lambda: ended(location), "the dossier's job to end", timeout=120)
    job = client.get(location, headers=as_officer).get_json()
    assert job["state"] == "succeeded", job
    assert job["result"]["dossierId"] == dossier_id and job["result"]["size"] > 0
    assert job["progress"]["stepFr"] == "Terminé"
    link = client.post(f"{API}/dossiers/{dossier_id}/link", headers=as_officer)
    assert link.status_code == 201, link.get_json()
    url = link.get_json()["url"].removeprefix("https://blason.test")
    download = client.get(url)
    assert download.status_code == 200 and download.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(download.data)) as archive:
        assert archive.testzip() is None and archive.namelist()
    verified = client.post(
        f"{API}/dossiers/verify",
        data={"file": (io.BytesIO(download.data), "dossier.zip")},
        content_type="multipart/form-data",
        headers=as_officer,
    )
    assert verified.status_code == 200 and verified.get_json()["valid"] is True, verified.get_json()


# Lost queue messages -------------------------------------------------------------------------------


def _submit_import(d: Deployment, admin: Person) -> uuid.UUID:
    return d.submit_import(admin, framework_csv("Référentiel perdu", 30), "perdu.csv")


def _runs_once_after_requeue(d: Deployment, job_id: uuid.UUID) -> None:
    time.sleep(TIMEOUT + 0.5)  # older than the timeout, and its message is gone
    assert d.job(job_id).state is JobState.QUEUED
    d.start_worker()  # the worker's first look at the jobs enqueues it again
    d.wait(lambda: d.job(job_id).state is JobState.SUCCEEDED, "the lost job to be enqueued again and run")
    job = d.job(job_id)
    assert job.attempts == 1 and job.result is not None and job.result["created"] == 1
    d.stop()
    logs = "".join(log.read_text() for _p, log in d.workers)
    assert f"job {job_id}: queued but its message was lost; enqueued again" in logs


def test_a_job_whose_sqlite_queue_file_was_deleted_is_enqueued_again(deployment: Deployment) -> None:
    d = deployment
    admin = d.person("Ada Admin", "ada@example.org", Role.PLATFORM_ADMIN)
    job_id = _submit_import(d, admin)
    queue = queue_of(d.app)
    assert job_id in queue.waiting()
    queue.huey.storage.close()
    filename = Path(d.settings["QUEUE_URL"].removeprefix("sqlite:///"))
    for path in (filename, filename.with_name(filename.name + "-wal"), filename.with_name(filename.name + "-shm")):
        path.unlink(missing_ok=True)
    d.app.extensions.pop("blason.queue")  # as after a restart: a new, empty queue file
    assert job_id not in queue_of(d.app).waiting()
    _runs_once_after_requeue(d, job_id)


@pytest.fixture()
def on_redis(tmp_path: Path) -> Iterator[Deployment]:
    if not redis_reachable():
        pytest.skip(f"Redis is not reachable at {REDIS_URL} (set BLASON_TEST_REDIS_URL)")
    with own_database(tmp_path, "lost") as url:
        name = f"blason-test-{uuid.uuid4().hex}"  # a queue of this test's own
        d = Deployment(settings_for(url, tmp_path / "instance", REDIS_URL, name), tmp_path)
        try:
            yield d
        finally:
            d.close()
            queue_of(d.app).huey.storage.flush_all()


def test_a_job_whose_redis_message_was_flushed_is_enqueued_again(on_redis: Deployment) -> None:
    d = on_redis
    admin = d.person("Ada Admin", "ada@example.org", Role.PLATFORM_ADMIN)
    job_id = _submit_import(d, admin)
    queue = queue_of(d.app)
    assert job_id in queue.waiting()
    queue.huey.storage.flush_queue()  # as a Redis restarted without persistence would
    assert job_id not in queue.waiting()
    _runs_once_after_requeue(d, job_id)


def test_jobs_of_other_queues_are_not_seen_as_waiting(on_redis: Deployment) -> None:
    """One queue per deployment: the reaper only trusts its own queue's messages."""
    d = on_redis
    admin = d.person("Ada Admin", "ada@example.org", Role.PLATFORM_ADMIN)
    job_id = _submit_import(d, admin)
    other = Deployment({**d.settings, "QUEUE_NAME": d.settings["QUEUE_NAME"] + "-other"}, d.logs)
    try:
        assert job_id in queue_of(d.app).waiting() and job_id not in queue_of(other.app).waiting()
    finally:
        other.engine.dispose()
    assert d.job(job_id).state is JobState.QUEUED


def test_a_job_failed_as_lost_never_runs_when_its_message_turns_up(deployment: Deployment) -> None:
    """A job marked failed as lost is never run afterwards, even if its message turns up again."""
    d = deployment
    admin = d.person("Ada Admin", "ada@example.org", Role.PLATFORM_ADMIN)
    job_id = _submit_import(d, admin)
    with d.session() as session:
        assert jobs.fail(session, job_id, jobs.job_error("job_error_lost", seconds=2))
        session.commit()
    d.start_worker()
    d.wait(lambda: queue_of(d.app).huey.pending_count() == 0, "the worker to take the message")
    time.sleep(0.5)
    job = d.job(job_id)
    assert job.state is JobState.FAILED and job.attempts == 0 and job.result is None
    assert job.error is not None and job.error["key"] == "job_error_lost"
    assert d.count(Job) == 1
