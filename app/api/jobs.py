"""Background jobs: start long work (202 Accepted + Location), then follow it at /jobs/{id}.

The synchronous endpoints (``POST /frameworks/imports``, ``POST /issuers/{id}/bulk-awards``,
``POST /dossiers/{id}/generate``) stay as they are; the same work as a job is started here, under
``/jobs/…``, and answered at once with the job and its address. The caller's rights are checked
when the job is asked for (a refusal is an error now, not a failed job) and again when it runs.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app, request
from flask.views import MethodView
from flask_smorest.fields import Upload
from marshmallow import Schema

from app.api import API_PREFIX, Blueprint
from app.api.caller import current_grants
from app.db import db
from app.runtime import runtime
from app.services import jobs
from app.services.dossiers.scope import get_dossier, require_consent
from app.services.frameworks.imports import check_can_import
from app.services.issuing.keys import check_issuer_admin
from app.worker import queue_of, submit
from schemas.base import page_of
from schemas.jobs import (
    BulkAwardJobFormSchema,
    DossierJobSchema,
    FrameworkImportJobFormSchema,
    JobQuerySchema,
    JobSchema,
)

blp = Blueprint("jobs", __name__, description="Background jobs: imports, bulk awards and dossiers run by workers")

LOCATION = {"Location": {"description": "The job: GET it to follow its progress.", "schema": {"type": "string"}}}


class FilesSchema(Schema):
    file = Upload(required=True, metadata={"description": "The file; repeat for ESCO release files."})


class CsvSchema(Schema):
    file = Upload(required=True)


def _shown(job_id: uuid.UUID) -> dict[str, Any]:
    settings = runtime().settings
    job = jobs.get_job(db.session, current_grants(), job_id)
    return jobs.view(job, queue_of(current_app), now=runtime().clock(), timeout=settings.job_heartbeat_timeout)


def _accepted(job_id: uuid.UUID) -> tuple[dict[str, Any], int, dict[str, str]]:
    db.session.commit()  # the job's row and its input files' keys; the queue gets its id after this
    return _shown(job_id), 202, {"Location": f"{API_PREFIX}/jobs/{job_id}"}


@blp.route("/jobs")
class Jobs(MethodView):
    @blp.arguments(JobQuerySchema, location="query")
    @blp.response(200, page_of(JobSchema))
    def get(self, args):
        """The jobs the caller started, newest first."""
        rows, total = jobs.list_jobs(db.session, current_grants(), page=args["page"], per_page=args["per_page"])
        settings, live = runtime().settings, queue_of(current_app)
        now = runtime().clock()
        items = [jobs.view(job, live, now=now, timeout=settings.job_heartbeat_timeout) for job in rows]
        return {"items": items, "total": total, "page": args["page"], "per_page": args["per_page"]}


@blp.route("/jobs/<uuid:job_id>")
class JobResource(MethodView):
    @blp.response(200, JobSchema)
    def get(self, job_id: uuid.UUID):
        """A job: state (queued, running, succeeded, failed), progress with its step in French and
        English, the result or the error. Only its starter and platform administrators see it (404)."""
        return _shown(job_id)


@blp.route("/jobs/framework-imports")
class FrameworkImportJobs(MethodView):
    @blp.arguments(FrameworkImportJobFormSchema, location="form")
    @blp.arguments(FilesSchema, location="files")
    @blp.response(202, JobSchema, headers=LOCATION)
    def post(self, data, _files):
        """Import a framework file as a job (the form of POST /frameworks/imports); the result is its report."""
        grants = current_grants()
        check_can_import(grants)
        rt = runtime()
        files = [
            {
                "key": jobs.store_input(
                    rt.storage, f.stream, rt.settings.max_upload_bytes, name=f.filename or "upload"
                ),
                "name": f.filename or "upload",
            }
            for f in request.files.getlist("file")
        ]
        params = {"files": files, "format": data.pop("format", None), "options": data}
        job_id = submit(db.session, current_app, grants, "framework_import", params)
        for item in files:
            db.on_abandon(lambda key=item["key"]: rt.storage.delete_keyed(key))
        return _accepted(job_id)


@blp.route("/jobs/bulk-awards")
class BulkAwardJobs(MethodView):
    @blp.arguments(BulkAwardJobFormSchema, location="form")
    @blp.arguments(CsvSchema, location="files")
    @blp.response(202, JobSchema, headers=LOCATION)
    def post(self, form, files):
        """Bulk award from a CSV file as a job (the CSV of POST /issuers/{id}/bulk-awards; ``issuerId``,
        ``mode`` default all_or_nothing); the result is the same report, each row's verdict."""
        grants = current_grants()
        check_issuer_admin(grants, form["issuer_id"])
        rt = runtime()
        key = jobs.store_input(rt.storage, files["file"].stream, rt.settings.max_upload_bytes, name="file")
        params = {
            "key": key,
            "issuer_id": str(form["issuer_id"]),
            "mode": form["mode"],
            "achievement_id": str(form["achievement_id"]) if form.get("achievement_id") else None,
        }
        job_id = submit(db.session, current_app, grants, "bulk_award", params)
        db.on_abandon(lambda: rt.storage.delete_keyed(key))
        return _accepted(job_id)


@blp.route("/jobs/dossier-generations")
class DossierJobs(MethodView):
    @blp.arguments(DossierJobSchema)
    @blp.response(202, JobSchema, headers=LOCATION)
    def post(self, data):
        """Generate a jury dossier as a job (as POST /dossiers/{id}/generate); then ask for its link."""
        grants = current_grants()
        require_consent(get_dossier(db.session, grants, data["dossier_id"]))
        job_id = submit(db.session, current_app, grants, "dossier_generation", {"dossier_id": str(data["dossier_id"])})
        return _accepted(job_id)
