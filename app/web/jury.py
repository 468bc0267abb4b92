"""CNAM jury officer pages: find a learner, request a jury dossier, consent, generate (a job),
download, regenerate, check a ZIP sent back, the cohort of a certification and its CSV.

URLs under ``/jury``. Every page calls the dossier services with the officer's grants, as the API
does (``app/api/dossiers.py``, ``app/api/jobs.py``): who serves no certification meets the 403
page, a learner or a dossier outside the officer's certifications the 404 page. Generating runs as
a ``dossier_generation`` job; the page then goes to the job's page (``/taches/<id>``), which links
back here when it is done.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, BinaryIO, cast
from zoneinfo import ZoneInfo

from babel.dates import format_time
from babel.numbers import format_decimal
from flask import Blueprint, Response, current_app, redirect, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response as BaseResponse

from app.db import db, reads_only, writes
from app.mailing import send_after_commit
from app.platform.pagination import page_of_list
from app.platform.storage import iter_file
from app.runtime import runtime
from app.services import jobs
from app.services.dossiers import consent_mail, jury, lifecycle as dossiers
from app.services.dossiers.cohort import cohort as cohort_of
from app.web import csrf, signed_in as who
from app.web.i18n import Words, current_lang
from app.web.pages import render_page
from app.web.request_args import lang_query, page_number, pages_count
from app.web.signed_in import signed_in
from app.worker import submit

bp = Blueprint("pages_jury", __name__)

PER_PAGE = 20
ZIP = "application/zip"
PARIS = ZoneInfo("Europe/Paris")
DONE = ("demande", "generation")  # what the dossier's page confirms after a redirect


@bp.url_value_preprocessor
def _verify_limit(endpoint: str | None, _values: dict[str, Any] | None) -> None:
    # A dossier is far larger than an evidence upload. The CSRF check reads the form (and so the
    # file) before any view or blueprint hook runs; URL value preprocessors run before it.
    if endpoint == "pages_jury.verify" and request.method == "POST":
        request.max_content_length = runtime().settings.max_dossier_verify_bytes


def words() -> Words:
    return Words(current_lang())


def _number(n: int) -> str:
    return str(format_decimal(n, locale=current_lang()))


def _when(value: datetime | str | None) -> str:
    """A moment as people say it: the day and the time in France (« 2 décembre 2026 à 14 h 30 »)."""
    if isinstance(value, str):
        text = value
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            return text
    if value is None:
        return ""
    lang = current_lang()
    local = (value if value.tzinfo else value.replace(tzinfo=ZoneInfo("UTC"))).astimezone(PARIS)
    time = f"{local.hour} h {local.minute:02d}" if lang == "fr" else format_time(local, "HH:mm", locale=lang)
    return words().get("jury_at", day=words().date(local), time=time)


def _render(template: str, *, status: int = 200, **context: Any) -> Response:
    response = render_page(template, status=status, lq=lang_query(), number=_number, when=_when, **context)
    response.headers["Cache-Control"] = "no-store"
    return response


# --- /jury: find a learner, the dossiers ---------------------------------------------------------


@bp.get("/jury")
@signed_in
def index() -> Response:
    """Search the learners in scope; the dossiers of the officer's certifications, newest first."""
    grants = who.grants()
    q = request.args.get("q", "").strip()[:200]
    found = jury.find_learners(db.session, grants, q, page=page_number("personnes"), per_page=PER_PAGE) if q else None
    rows = jury.officer_dossiers(db.session, grants, page=page_number(), per_page=PER_PAGE)
    return _render(
        "web/jury/index.html",
        q=q,
        found=found,
        rows=rows,
        pages_count=pages_count(rows.total, PER_PAGE),
        found_pages=pages_count(found.total, PER_PAGE) if found else 1,
        certifications=jury.certifications(db.session, grants),
        query=lambda **more: lang_query(**more),
    )


# --- a learner: their dossiers, and asking for one ---------------------------------------------------


def _learner_page(learner_id: uuid.UUID, *, status: int = 200, **context: Any) -> Response:
    grants = who.grants()
    learner = jury.learner_in_scope(db.session, grants, learner_id)
    rows = jury.officer_dossiers(db.session, grants, learner_id=learner.id, page=page_number(), per_page=PER_PAGE)
    return _render(
        "web/jury/learner.html",
        status=status,
        learner=learner,
        rows=rows,
        pages_count=pages_count(rows.total, PER_PAGE),
        certifications=jury.certifications(db.session, grants),
        **context,
    )


@bp.get("/jury/personnes/<uuid:learner_id>")
@signed_in
def learner(learner_id: uuid.UUID) -> Response:
    """A learner in scope, their dossiers, and the form to ask for one."""
    return _learner_page(learner_id)


def _chosen_certification(value: str, choices: list[jury.Certification]) -> uuid.UUID | None:
    return next((c.id for c in choices if str(c.id) == value), None)


@bp.post("/jury/personnes/<uuid:learner_id>/dossiers")
@signed_in
def request_dossier(learner_id: uuid.UUID) -> BaseResponse:
    """Ask the learner's dossier for a certification; they are told by e-mail and on their home page."""
    grants = who.grants()
    jury.learner_in_scope(db.session, grants, learner_id)  # 404 before saying anything of the form
    chosen = _chosen_certification(request.form.get("certification", ""), jury.certifications(db.session, grants))
    if chosen is None:
        errors = {"certification": words().jury_request_certification_missing}
        return _learner_page(learner_id, status=422, errors=errors)
    dossier = jury.request_for_learner(db.session, grants, learner_id, chosen, clock=runtime().clock)
    send_after_commit(consent_mail.consent_requested(db.session, dossier, settings=runtime().dossiers))
    db.session.commit()
    return redirect(f"/jury/dossiers/{dossier.id}" + lang_query(fait="demande"), 303)


# --- a dossier: consent, generate, download ----------------------------------------------------------


def _running_job(dossier_id: uuid.UUID) -> uuid.UUID | None:
    """The caller's generation of this dossier still waiting or running, if any (among their recent jobs)."""
    recent, _total = jobs.list_jobs(db.session, who.grants(), per_page=50)
    for job in recent:
        if (
            job.kind == "dossier_generation"
            and (job.params or {}).get("dossier_id") == str(dossier_id)
            and job.state.value in ("queued", "running")
        ):
            return job.id
    return None


@bp.get("/jury/dossiers/<uuid:dossier_id>")
@signed_in
def dossier(dossier_id: uuid.UUID) -> Response:
    """A dossier: the learner's answer in words, and what the officer can do with it now."""
    dossier = jury.dossier_for_officer(db.session, who.grants(), dossier_id)
    row = jury.dossier_rows(db.session, [dossier])[0]
    done = request.args.get("fait")
    return _render(
        "web/jury/dossier.html",
        row=row,
        dossier=dossier,
        state=dossier.status.value,
        running=_running_job(dossier.id),
        size=_number(round((dossier.archive_size or 0) / 1024)) if dossier.archive_size else None,
        done=done if done in DONE else None,
    )


@bp.post("/jury/dossiers/<uuid:dossier_id>/generer")
@signed_in
def generate(dossier_id: uuid.UUID) -> BaseResponse:
    """Generate (or generate again) the dossier as a background job, then follow it on the job's page."""
    grants = who.grants()
    dossier = jury.dossier_for_officer(db.session, grants, dossier_id)
    dossiers.require_consent(dossier)
    job_id = submit(db.session, current_app, grants, "dossier_generation", {"dossier_id": str(dossier.id)})
    db.session.commit()  # the job's row; the queue gets its id after this
    return redirect(f"/taches/{job_id}" + lang_query(), 303)


@bp.get("/jury/dossiers/<uuid:dossier_id>/dossier.zip")
@signed_in
@writes  # audited
def download(dossier_id: uuid.UUID) -> BaseResponse:
    """The generated ZIP, through the same expiring link the API hands out (audited as downloaded)."""
    grants, settings = who.grants(), runtime().dossiers
    jury.dossier_for_officer(db.session, grants, dossier_id)
    link = dossiers.download_link(db.session, grants, dossier_id, settings=settings)
    found, handle, size = dossiers.open_download(db.session, dossier_id, link.token, settings=settings)
    db.session.commit()
    return Response(
        iter_file(handle),
        mimetype=ZIP,
        headers={
            "Content-Disposition": f'attachment; filename="dossier-{found.id}.zip"',
            "Content-Length": str(size),
            "Cache-Control": "private, no-store",
        },
    )


# --- checking a ZIP sent back ------------------------------------------------------------------------


@bp.get("/jury/verifier")
@signed_in
def verify_form() -> Response:
    """The form to check a dossier ZIP someone sent back."""
    jury.require_officer(who.grants())
    return _render("web/jury/verify.html")


@bp.post("/jury/verifier")
@signed_in
@reads_only  # a verification writes nothing
def verify() -> Response:
    """Check the ZIP against its signed manifest; say in words whether it is intact, and what changed."""
    grants, t = who.grants(), words()
    jury.require_officer(grants)
    try:
        csrf.raise_if_form_too_large()
        upload = request.files.get("dossier")
    except RequestEntityTooLarge:  # refused before the form could be read
        return _render("web/jury/verify.html", status=413, errors={"dossier": t.jury_verify_too_large})
    if upload is None or not upload.filename:
        return _render("web/jury/verify.html", status=422, errors={"dossier": t.jury_verify_missing})
    rt = runtime()
    assert rt.platform_key is not None
    report = dossiers.verify_upload(cast(BinaryIO, upload.stream), public=rt.platform_key.public)
    if not report.readable:
        return _render("web/jury/verify.html", status=422, errors={"dossier": t.jury_verify_unreadable})
    known = jury.known_dossier(db.session, grants, report.dossier_id)
    return _render(
        "web/jury/verify.html", report=report, name=upload.filename, known=known, signer=rt.settings.public_base_url
    )


# --- the cohort of a certification -------------------------------------------------------------------


@bp.get("/jury/cohortes/<uuid:certification_id>")
@signed_in
@writes  # audited: the officer looked at the cohort
def cohort(certification_id: uuid.UUID) -> Response:
    """The learners who consented to a dossier for this certification × its blocs: acquis, partly, not yet."""
    grants = who.grants()
    jury.require_officer(grants)
    data = cohort_of(db.session, grants, certification_id)
    db.session.commit()
    page = page_of_list(data.items, page_number(), PER_PAGE)
    return _render("web/jury/cohort.html", data=data, page=page, pages_count=pages_count(page.total, PER_PAGE))


@bp.get("/jury/cohortes/<uuid:certification_id>/cohorte.csv")
@signed_in
@writes  # audited
def cohort_csv(certification_id: uuid.UUID) -> Response:
    """The cohort as a CSV file (one row per learner and bloc; semicolons, for spreadsheets in French)."""
    grants = who.grants()
    jury.require_officer(grants)
    data = cohort_of(db.session, grants, certification_id)
    db.session.commit()
    return Response(
        dossiers.cohort_csv(data),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="cohorte-{data.code or certification_id}.csv"',
            "Cache-Control": "private, no-store",
        },
    )
