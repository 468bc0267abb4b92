"""Bulk award from a CSV file (issuer administrator), on the awards blueprint.

``/emetteur/<issuer>/envois``: upload the file (the columns explained, an example to download);
the file is stored once and the page shows a dry run of it (``bulk_award`` mode ``dry_run``): each
row's verdict and error in words. Confirming runs that same stored file as a ``bulk_award`` job
(mode ``skip_invalid``, as ``POST /api/v1/jobs/bulk-awards``) and opens its progress page
``/taches/<job>``. ``/emetteur/<issuer>/envois/<job>``: the report (issued, already issued,
refused; each row), and ``rapport.csv``. Sending the same file again issues nothing twice: its
rows read « déjà émis ».
"""

from __future__ import annotations

import uuid
from typing import Any, BinaryIO, cast

from flask import current_app, redirect, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from app.db import db
from app.platform.errors import Conflict, InvalidInput, NotFound, PayloadTooLarge
from app.platform.filenames import disposition
from app.runtime import runtime
from app.services import jobs
from app.services.issuing import bulk, issuer_desk
from app.services.jobs import bulk_previews
from app.web import awards_rows, csrf, signed_in as who
from app.web.awards import bp, number, query, render, words
from app.web.request_args import page_number, pages_count, read_uuid
from app.web.signed_in import signed_in
from app.worker import queue_of, submit

ROWS_PER_PAGE = 50
MODE = "skip_invalid"  # confirmed: the valid rows are issued, the others reported


def _max_mb() -> str:
    return number(max(1, runtime().settings.max_upload_bytes // (1024 * 1024)))


def _secret() -> str:
    return runtime().settings.secret_key


def _upload_page(issuer_id: uuid.UUID, *, status: int = 200, **context: Any) -> Response:
    grants = who.grants()
    issuer = issuer_desk.issuer_for_pages(db.session, grants, issuer_id)
    return render(
        "web/awards/bulk.html",
        issuer,
        status=status,
        choices=issuer_desk.achievements_to_award(db.session, grants, issuer_id),
        achievement_id=context.pop("achievement_id", None),
        errors=context.pop("errors", {}),
        max_mb=_max_mb(),
        max_rows=number(bulk.MAX_ROWS),
        **context,
    )


def _dry_run(issuer_id: uuid.UUID, key: str, achievement_id: uuid.UUID | None) -> bulk.BulkReport:
    rt = runtime()
    with rt.storage.open_keyed(key) as stream:
        return bulk.bulk_award(
            db.session,
            who.grants(),
            issuer_id,
            stream,
            mode="dry_run",
            achievement_id=achievement_id,
            settings=rt.issuing,
            max_bytes=rt.settings.max_upload_bytes,
        )


def _shown(rows: list[awards_rows.Row], asked: str | None) -> tuple[str, list[awards_rows.Row], int, int]:
    """Which rows the table shows (problems first asked, or when there are any), paged."""
    problems = [r for r in rows if r.problem]
    which = asked if asked in ("problemes", "tout") else ("problemes" if problems else "tout")
    chosen = problems if which == "problemes" else rows
    last = pages_count(len(chosen), ROWS_PER_PAGE)
    page = min(page_number(values=request.values), last)
    return which, chosen[(page - 1) * ROWS_PER_PAGE : page * ROWS_PER_PAGE], page, last


@bp.get("/emetteur/<uuid:issuer_id>/envois")
@signed_in
def bulk_page(issuer_id: uuid.UUID) -> Response:
    """The upload form; with ``?envoi=`` (a file sent), the dry run of that file to confirm."""
    token = request.args.get("envoi")
    if not token:
        return _upload_page(issuer_id)
    grants = who.grants()
    issuer = issuer_desk.issuer_for_pages(db.session, grants, issuer_id)
    key = bulk_previews.staged_key(
        runtime().storage, token, issuer_id=issuer_id, person_id=who.person_id(), secret=_secret(), present=False
    )
    started = bulk_previews.job_of(db.session, grants, key)
    if started is not None:  # confirmed already: its progress, not the preview of a file now gone
        return redirect(f"/taches/{started}", 303)
    if not runtime().storage.keyed_exists(key):
        return _upload_page(issuer_id, status=422, errors={"csv": words().awd_error_file_gone})
    achievement_id = read_uuid(request.args.get("modele"))
    try:
        report = _dry_run(issuer_id, key, achievement_id)
    except NotFound:  # the badge chosen was archived meanwhile
        return _upload_page(issuer_id, status=422, errors={"modele": words().awd_error_achievement})
    except (InvalidInput, PayloadTooLarge) as error:
        return _upload_page(
            issuer_id, status=422, errors={"csv": awards_rows.file_error(words(), error, max_mb=_max_mb())}
        )
    names = issuer_desk.names_of(db.session, grants, issuer_id, {r.learner_id for r in report.rows if r.learner_id})
    rows = awards_rows.from_preview(words(), report.rows, names)
    which, shown, page, last = _shown(rows, request.args.get("voir"))
    chosen = (
        dict(issuer_desk.achievements_to_award(db.session, grants, issuer_id)).get(achievement_id)
        if achievement_id
        else None
    )
    return render(
        "web/awards/preview.html",
        issuer,
        report=report,
        token=token,
        achievement_id=achievement_id if chosen else None,
        achievement_name=chosen,
        rows=shown,
        which=which,
        problems=report.invalid + report.duplicates,
        page=page,
        last=last,
    )


@bp.post("/emetteur/<uuid:issuer_id>/envois")
@signed_in
def bulk_send(issuer_id: uuid.UUID) -> Response:
    """Send a file (then its preview), or confirm a preview (``envoi``): the file runs as a job."""
    t = words()
    try:
        csrf.raise_if_form_too_large()
        token = request.form.get("envoi", "")
        upload = request.files.get("csv")
        achievement_id = read_uuid(request.form.get("modele"))
        asked_achievement = bool(request.form.get("modele"))
    except RequestEntityTooLarge:  # refused before the form could be read: nothing stored
        errors = {"csv": t.get("awd_file_error_too_large", size=_max_mb())}
        return _upload_page(issuer_id, status=413, errors=errors)
    grants = who.grants()
    issuer_desk.issuer_for_pages(db.session, grants, issuer_id)
    choices = {a for a, _name in issuer_desk.achievements_to_award(db.session, grants, issuer_id)}
    if asked_achievement and achievement_id not in choices:
        return _upload_page(issuer_id, status=422, errors={"modele": t.awd_error_achievement})
    if token:
        return _confirm(issuer_id, token, achievement_id)
    if upload is None or not upload.filename:
        return _upload_page(
            issuer_id, status=422, errors={"csv": t.awd_error_file_missing}, achievement_id=achievement_id
        )
    rt = runtime()
    try:
        token = bulk_previews.stage(
            rt.storage,
            cast(BinaryIO, upload.stream),
            rt.settings.max_upload_bytes,
            issuer_id=issuer_id,
            person_id=who.person_id(),
            secret=_secret(),
        )
    except PayloadTooLarge:
        errors = {"csv": t.get("awd_file_error_too_large", size=_max_mb())}
        return _upload_page(issuer_id, status=413, errors=errors, achievement_id=achievement_id)
    key = bulk_previews.staged_key(rt.storage, token, issuer_id=issuer_id, person_id=who.person_id(), secret=_secret())
    try:
        _dry_run(issuer_id, key, achievement_id)
    except (InvalidInput, PayloadTooLarge) as error:  # the whole file is unusable: nothing kept
        rt.storage.delete_keyed(key)
        errors = {"csv": awards_rows.file_error(t, error, max_mb=_max_mb())}
        return _upload_page(issuer_id, status=422, errors=errors, achievement_id=achievement_id)
    return redirect(f"/emetteur/{issuer_id}/envois" + query(envoi=token, modele=achievement_id), 303)


def _confirm(issuer_id: uuid.UUID, token: str, achievement_id: uuid.UUID | None) -> Response:
    rt, grants = runtime(), who.grants()
    key = bulk_previews.staged_key(
        rt.storage, token, issuer_id=issuer_id, person_id=who.person_id(), secret=_secret(), present=False
    )
    started = bulk_previews.job_of(db.session, grants, key)
    if started is None:
        if not rt.storage.keyed_exists(key):
            return _upload_page(issuer_id, status=422, errors={"csv": words().awd_error_file_gone})
        params = {
            "key": key,
            "issuer_id": str(issuer_id),
            "mode": MODE,
            "achievement_id": str(achievement_id) if achievement_id else None,
        }
        started = submit(db.session, current_app, grants, "bulk_award", params)
        db.session.commit()  # the queue gets the job's id once it is committed
    return redirect(f"/taches/{started}", 303)


# --- the report of a job --------------------------------------------------------------------------------


def _job(issuer_id: uuid.UUID, job_id: uuid.UUID) -> tuple[Any, dict[str, Any]]:
    job = bulk_previews.bulk_job(db.session, who.grants(), issuer_id, job_id)
    settings = runtime().settings
    shown = jobs.view(job, queue_of(current_app), now=runtime().clock(), timeout=settings.job_heartbeat_timeout)
    return job, shown


def _report_rows(issuer_id: uuid.UUID, rows: list[dict[str, Any]]) -> list[awards_rows.Row]:
    names = issuer_desk.names_of(db.session, who.grants(), issuer_id, awards_rows.learner_ids(rows))
    return awards_rows.from_report(words(), rows, names)


@bp.get("/emetteur/<uuid:issuer_id>/envois/<uuid:job_id>")
@signed_in
def report(issuer_id: uuid.UUID, job_id: uuid.UUID) -> Response:
    """A bulk award's report: how many issued, already issued, refused; each row with its reason."""
    grants = who.grants()
    issuer = issuer_desk.issuer_for_pages(db.session, grants, issuer_id)
    job, shown = _job(issuer_id, job_id)
    result = job.result if shown["state"] == "succeeded" else None
    context: dict[str, Any] = {}
    if result is not None:
        raw = list(result.get("rows") or [])
        all_rows = awards_rows.from_report(words(), raw, {})
        which, page_rows, page, last = _shown(all_rows, request.args.get("voir"))
        lines = {r.line for r in page_rows}
        context = {
            "rows": _report_rows(issuer_id, [r for r in raw if int(r.get("line") or 0) in lines]),
            "which": which,
            "page": page,
            "last": last,
            "refused": int(result.get("invalid") or 0) + int(result.get("duplicates") or 0),
        }
    return render("web/awards/report.html", issuer, job=job, shown=shown, result=result, **context)


@bp.get("/emetteur/<uuid:issuer_id>/envois/<uuid:job_id>/rapport.csv")
@signed_in
def report_csv(issuer_id: uuid.UUID, job_id: uuid.UUID) -> Response:
    """The report as CSV: line, person, result, reason."""
    job, shown = _job(issuer_id, job_id)
    if shown["state"] != "succeeded" or job.result is None:
        raise Conflict("This bulk award has not finished.")
    rows = _report_rows(issuer_id, list(job.result.get("rows") or []))
    return Response(
        awards_rows.report_csv(words(), rows),
        mimetype="text/csv",
        headers={
            "Content-Disposition": disposition("attachment", f"envoi-{job_id}.csv"),
            "Cache-Control": "private, no-store",
        },
    )


@bp.get("/emetteur/<uuid:issuer_id>/envois/exemple.csv")
@signed_in
def example_csv(issuer_id: uuid.UUID) -> Response:
    """An example file: the columns the bulk award reads."""
    issuer_desk.issuer_for_pages(db.session, who.grants(), issuer_id)
    return Response(
        awards_rows.EXAMPLE_CSV.encode(),
        mimetype="text/csv",
        headers={"Content-Disposition": disposition("attachment", "exemple-envoi.csv")},
    )
