"""Jobs through the API: 202 + Location, the job resource, the work done by the queue's task.

The queue here is the test app's own (SQLite under its instance folder); ``drain`` runs the waiting
messages in this process through Huey, as a worker would.
"""

from __future__ import annotations

import io
import uuid

import pytest
from sqlalchemy import func, select

from app.models import Competency, Credential, Framework, Job, JobState
from app.runtime import runtime
from app.worker import queue_of
from tests.api.support import assert_problem

API = "/api/v1"
CSV = (
    "# title: Compétences du jardin partagé\n# version: 1\n# language: fr\n"
    "key;parent_key;kind;code;label;description;alt_labels\n"
    "J1;;domain;J1;Jardiner ensemble;Cultiver à plusieurs.;\n"
    "J1.1;J1;competence;J1.1;Semer;Semer au bon moment.;\n"
    "J1.2;J1;competence;J1.2;Récolter;Récolter et partager.;\n"
)


def _import(client, h, data: bytes = CSV.encode(), name: str = "jardin.csv"):  # type: ignore[no-untyped-def]
    return client.post(
        f"{API}/jobs/framework-imports",
        headers=h,
        data={"file": (io.BytesIO(data), name), "format": "custom-csv"},
        content_type="multipart/form-data",
    )


def test_framework_import_job(app, client, session, make_person, grant, headers, drain) -> None:  # type: ignore[no-untyped-def]
    admin = make_person()
    grant(admin, "platform_admin")
    h = headers(admin)
    r = _import(client, h)
    assert r.status_code == 202, r.get_json()
    job = r.get_json()
    assert r.headers["Location"] == f"{API}/jobs/{job['id']}"
    assert job["state"] == "queued" and job["kind"] == "framework_import" and job["startedBy"] == str(admin.id)
    assert job["progress"]["stepFr"] == "En attente de traitement" and job["kindEn"] == "Framework import"
    assert session.scalar(select(func.count()).select_from(Framework)) == 0  # nothing until a worker runs it
    assert drain() >= 1
    done = client.get(r.headers["Location"], headers=h).get_json()
    assert done["state"] == "succeeded", done
    assert done["result"]["created"] == 1 and done["result"]["format"] == "custom-csv"
    assert done["progress"]["stepEn"] == "Done" and done["finishedAt"] and done["error"] is None
    assert session.scalar(select(func.count()).select_from(Competency)) == 3
    # The input file is gone from storage once the job ended.
    row = session.get(Job, uuid.UUID(job["id"]))
    assert row is not None
    session.refresh(row)
    assert not runtime(app).storage.keyed_exists(row.params["files"][0]["key"])
    listed = client.get(f"{API}/jobs", headers=h).get_json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == job["id"]


def test_job_is_seen_by_its_starter_and_platform_admins_only(  # type: ignore[no-untyped-def]
    client, make_person, grant, headers, drain
) -> None:
    admin, other_admin, stranger = make_person(), make_person(), make_person()
    grant(admin, "platform_admin")
    grant(other_admin, "platform_admin")
    location = _import(client, headers(admin)).headers["Location"]
    assert client.get(location, headers=headers(other_admin)).status_code == 200
    assert_problem(client.get(location, headers=headers(stranger)), 404)
    assert_problem(client.get(f"{API}/jobs/{uuid.UUID(int=7)}", headers=headers(admin)), 404)
    assert_problem(client.get(location), 401)
    assert client.get(f"{API}/jobs", headers=headers(stranger)).get_json()["total"] == 0


def test_a_refused_caller_gets_no_job(client, session, make_person, headers) -> None:  # type: ignore[no-untyped-def]
    assert_problem(_import(client, headers(make_person())), 403)
    assert session.scalar(select(func.count()).select_from(Job)) == 0


def test_a_bad_file_fails_the_job_in_words(client, session, make_person, grant, headers, drain) -> None:  # type: ignore[no-untyped-def]
    admin = make_person()
    grant(admin, "platform_admin")
    h = headers(admin)
    location = _import(client, h, b"key;label\n\xff\xfe", "broken.csv").headers["Location"]
    drain()
    job = client.get(location, headers=h).get_json()
    assert job["state"] == "failed" and job["result"] is None
    assert job["error"]["key"] == "job_error_invalid"
    assert job["error"]["fr"].startswith("Les données envoyées ne conviennent pas")
    assert job["error"]["en"].startswith("The data sent is not acceptable") and job["error"]["detail"]
    assert session.scalar(select(func.count()).select_from(Framework)) == 0


@pytest.fixture()
def bulk_world(client, make_person, grant, headers):  # type: ignore[no-untyped-def]
    admin = make_person(display_name="Ada Admin")
    grant(admin, "platform_admin")
    h = headers(admin)
    issuer = client.post(
        f"{API}/issuers",
        json={"name": "Cnam Bretagne", "url": "https://cnam.example.fr", "email": "badges@cnam.example.fr"},
        headers=h,
    ).get_json()
    achievement = client.post(
        f"{API}/achievements",
        json={
            "issuerId": issuer["id"],
            "name": "Tenir un stand",
            "description": "Accueillir le public.",
            "criteria": "Avoir tenu un stand au marché.",
            "achievementType": "Badge",
        },
        headers=h,
    ).get_json()
    learners = [make_person() for _ in range(3)]
    return {"h": h, "issuer": issuer, "achievement": achievement, "learners": learners}


def _bulk(client, world, csv: str, mode: str):  # type: ignore[no-untyped-def]
    return client.post(
        f"{API}/jobs/bulk-awards",
        headers=world["h"],
        data={"file": (io.BytesIO(csv.encode()), "awards.csv"), "issuerId": world["issuer"]["id"], "mode": mode},
        content_type="multipart/form-data",
    )


def _credentials(session) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(func.count()).select_from(Credential)) or 0


def test_bulk_award_job(client, session, bulk_world, drain) -> None:  # type: ignore[no-untyped-def]
    achievement_id = bulk_world["achievement"]["id"]
    csv = "email,achievement_id\n" + "".join(f"{p.email},{achievement_id}\n" for p in bulk_world["learners"])
    bad = csv + f"nobody@example.org,{achievement_id}\n"
    r = _bulk(client, bulk_world, bad, "all_or_nothing")
    assert r.status_code == 202
    drain()
    job = client.get(r.headers["Location"], headers=bulk_world["h"]).get_json()
    assert job["state"] == "failed" and job["error"]["key"] == "job_error_invalid"
    assert job["error"]["errors"][0]["pointer"] == "#/rows/5/email" and _credentials(session) == 0
    r = _bulk(client, bulk_world, csv, "all_or_nothing")
    drain()
    job = client.get(r.headers["Location"], headers=bulk_world["h"]).get_json()
    assert job["state"] == "succeeded" and job["result"]["issued"] == 3 and _credentials(session) == 3
    assert (job["progress"]["done"], job["progress"]["total"]) == (3, 3)
    r = _bulk(client, bulk_world, csv, "skip_invalid")  # the same file again issues nothing
    drain()
    job = client.get(r.headers["Location"], headers=bulk_world["h"]).get_json()
    assert job["result"]["issued"] == 0 and job["result"]["alreadyAwarded"] == 3 and _credentials(session) == 3


def test_bulk_award_job_needs_the_issuers_admin(client, bulk_world, make_person, headers) -> None:  # type: ignore[no-untyped-def]
    r = client.post(
        f"{API}/jobs/bulk-awards",
        headers=headers(make_person()),
        data={"file": (io.BytesIO(b"email\n"), "a.csv"), "issuerId": bulk_world["issuer"]["id"]},
        content_type="multipart/form-data",
    )
    assert r.status_code in (403, 404)


def test_a_job_taken_once(app, client, session, make_person, grant, headers, drain) -> None:  # type: ignore[no-untyped-def]
    """A message delivered twice runs the work once: the second claim finds the job no longer queued."""
    from app.worker import run_job

    admin = make_person()
    grant(admin, "platform_admin")
    job_id = uuid.UUID(_import(client, headers(admin)).get_json()["id"])
    assert run_job(app, job_id) == "succeeded"
    assert run_job(app, job_id) == "skipped"
    assert session.scalar(select(func.count()).select_from(Framework)) == 1
    row = session.get(Job, job_id)
    assert row is not None
    session.refresh(row)
    assert row.state is JobState.SUCCEEDED and row.attempts == 1


def test_the_job_list_is_a_page_like_every_list(client, headers, make_person):  # type: ignore[no-untyped-def]
    body = client.get("/api/v1/jobs", headers=headers(make_person())).json
    assert body == {"items": [], "total": 0, "page": 1, "perPage": 20}


def test_a_queue_first_built_during_a_request_runs_its_jobs_outside_it(app) -> None:  # type: ignore[no-untyped-def]
    fresh = app.extensions.pop("blason.queue", None)
    try:
        with app.test_request_context():
            from flask import current_app

            queue = queue_of(current_app)  # as the API's views ask for it
        assert queue.app is app  # the app, not the request's proxy (gone when a worker runs the job)
    finally:
        if fresh is not None:
            app.extensions["blason.queue"] = fresh
