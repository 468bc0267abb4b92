"""A background job's page: its progress (refreshed by a small script, or a refresh link without one)
and, at the end, its outcome in words and where to go next.

URLs ``/taches`` (the person's jobs, newest first), ``/taches/<id>`` (one job) and
``/taches/<id>/etat`` (its state as JSON, read by ``/static/jobs.js`` every 1.5 s). A job is seen
by its starter and by platform administrators only (the same service as ``GET /api/v1/jobs/<id>``);
anyone else meets the 404 page. The outcome links by kind: an import shows its counts and the
frameworks it wrote, a bulk award links to its report on the issuer's pages, a dossier to its page.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel.dates import format_time
from babel.numbers import format_decimal
from flask import Blueprint, Response, current_app, jsonify, request

from app.db import db
from app.runtime import runtime
from app.services import jobs
from app.web import signed_in as who
from app.web.i18n import LANGS, Words, current_lang
from app.web.pages import render_page
from app.web.request_args import pages_count, read_uuid
from app.web.security_headers import page_policy
from app.web.signed_in import signed_in
from app.worker import queue_of

bp = Blueprint("pages_jobs", __name__)

PER_PAGE = 20
ZONE = ZoneInfo("Europe/Paris")  # the people of the platform read French time
FINISHED = ("succeeded", "failed")
FW_COUNTS = ("fiches", "blocs", "competences", "skillGroups", "skills", "items", "associations", "warnings")
BULK_COUNTS = ("total", "valid", "invalid", "alreadyAwarded", "duplicates", "issued")


def _words() -> Words:
    return Words(current_lang())


def _q() -> str:
    """The query keeping a language asked for in the address, for this page's own links."""
    return "?lang=" + str(request.args["lang"]) if request.args.get("lang") in LANGS else ""


def _number(n: int | None) -> str:
    return "" if n is None else str(format_decimal(n, locale=current_lang()))


def when(value: datetime | None) -> str:
    """A moment as people write it, in French time: « 2 juin 2026 à 14 h 30 », "2 June 2026 at 14:30"."""
    if value is None:
        return ""
    lang = current_lang()
    local = value.astimezone(ZONE)
    clock = f"{local.hour} h {local.minute:02d}" if lang == "fr" else format_time(local, "HH:mm", locale=lang)
    return _words()("job_page_at", day=_words().date(local), time=clock)


def _shown(job_id: uuid.UUID) -> dict[str, Any]:
    """The job as its reader may see it (404 for anyone but its starter and platform administrators)."""
    rt = runtime()
    job = jobs.get_job(db.session, who.grants(), job_id)
    shown = jobs.view(job, queue_of(current_app), now=rt.clock(), timeout=rt.settings.job_heartbeat_timeout)
    shown["params"] = dict(job.params or {})
    return shown


def _progress(shown: dict[str, Any]) -> dict[str, Any]:
    """Progress in words and numbers for the page and its script."""
    t, lang = _words(), current_lang()
    done, total = shown["progress"]["done"] or 0, shown["progress"]["total"]
    percent = min(100, round(100 * done / total)) if total else None
    if total:
        words = t("job_page_progress_of", done=_number(done), total=_number(total), percent=percent)
    elif done:
        words = t("job_page_progress_done", done=_number(done))
    else:
        words = ""
    step = shown["progress"]["step_" + lang] if shown["state"] not in FINISHED else ""
    return {
        "state": shown["state"],
        "stateWords": t("job_page_state_" + shown["state"]),
        "step": step or "",
        "done": done,
        "total": total,
        "percent": percent,
        "progressWords": words,
        "finished": shown["state"] in FINISHED,
    }


def _framework_href(item: dict[str, Any], admin: bool) -> str | None:
    """Where a framework of an import's report is seen: its version written, or (unchanged, the report
    names no version) the administrator's list searched for its key."""
    framework_id, lang = read_uuid(item.get("id")), request.args.get("lang")
    kept = [("lang", lang)] if lang in LANGS else []
    if framework_id:
        path = f"/administration/referentiels/{framework_id}" if admin else f"/frameworks/{framework_id}"
        return path + ("?" + urlencode(kept) if kept else "")
    if admin and item.get("sourceKey"):
        return "/administration/referentiels?" + urlencode([("q", item["sourceKey"]), *kept])
    return None


def _outcome(shown: dict[str, Any]) -> dict[str, Any]:
    """What the page says at the end, by kind: figures, and the links onward (ids from params/result)."""
    kind, params, result = shown["kind"], shown["params"], shown["result"] or {}
    q, admin = _q(), who.grants().platform_admin
    out: dict[str, Any] = {"link": None, "link_key": None, "retry": None}
    if kind == "framework_import":
        counts = result.get("counts") or {}
        out["counts"] = [(key, _number(counts[key])) for key in FW_COUNTS if counts.get(key)]
        out["created"], out["unchanged"] = _number(result.get("created") or 0), _number(result.get("unchanged") or 0)
        out["frameworks"] = [
            {**item, "href": _framework_href(item, admin), "competencies": _number(item.get("competencies") or 0)}
            for item in result.get("frameworks") or []
        ]
        out["warnings"] = result.get("warnings") or []
        out["warnings_total"] = _number(result.get("warningsTotal") or 0)
        out["more_frameworks"] = (result.get("created") or 0) + (result.get("unchanged") or 0) > len(out["frameworks"])
        out["retry"] = "/administration/import" + q if admin else None
    elif kind == "bulk_award":
        issuer_id = read_uuid(params.get("issuer_id"))
        out["counts"] = [(key, _number(result[key])) for key in BULK_COUNTS if result.get(key) is not None]
        if issuer_id:
            out["link"] = f"/emetteur/{issuer_id}/envois/{shown['id']}{q}"
            out["link_key"] = "job_page_link_bulk_report"
            out["retry"] = f"/emetteur/{issuer_id}{q}"
    elif kind == "dossier_generation":
        dossier_id = read_uuid(result.get("dossierId") or params.get("dossier_id"))
        if dossier_id:
            out["link"] = out["retry"] = f"/jury/dossiers/{dossier_id}{q}"
            out["link_key"] = "job_page_link_dossier"
    return out


def _error(shown: dict[str, Any]) -> dict[str, Any] | None:
    error = shown["error"]
    if not error:
        return None
    lang = current_lang()
    key = str(error.get("key") or "")
    todo = "job_page_todo_" + key.removeprefix("job_error_")
    if _words()(todo) == todo:  # an error without advice of its own
        todo = "job_page_todo_other"
    return {"text": error.get(lang) or error.get("fr"), "todo": todo, "details": error.get("errors") or []}


@bp.get("/taches")
@signed_in
def index() -> Response:
    """The jobs the person started, newest first, paged."""
    try:
        page = max(1, min(int(request.args.get("page", 1)), 100_000))
    except ValueError:
        page = 1
    rows, total = jobs.list_jobs(db.session, who.grants(), page=page, per_page=PER_PAGE)
    rt = runtime()
    live, now = queue_of(current_app), rt.clock()
    items = [jobs.view(job, live, now=now, timeout=rt.settings.job_heartbeat_timeout) for job in rows]
    return render_page(
        "web/jobs/index.html",
        items=[{**item, "created": when(item["created_at"]), "shown": _progress(item)} for item in items],
        total=total,
        page=page,
        pages_count=pages_count(total, PER_PAGE),
        lang_query=_q(),
        lang_amp="&lang=" + str(request.args["lang"]) if request.args.get("lang") in LANGS else "",
    )


@bp.get("/taches/<uuid:job_id>")
@signed_in
def detail(job_id: uuid.UUID) -> Response:
    """One job: its state, progress and step; at the end its outcome or its error, and what to do."""
    shown = _shown(job_id)
    response = render_page(
        "web/jobs/detail.html",
        job=shown,
        progress=_progress(shown),
        outcome=_outcome(shown),
        error=_error(shown),
        times={k: when(shown[k]) for k in ("created_at", "started_at", "finished_at")},
        lang_query=_q(),
        state_url=f"/taches/{job_id}/etat?lang={current_lang()}",
    )
    response.headers["Cache-Control"] = "no-store"
    # This page alone (with the badge page) runs a script: ours, from this origin, polling this origin.
    response.headers["Content-Security-Policy"] = page_policy().replace(
        "default-src 'none';", "default-src 'none'; script-src 'self'; connect-src 'self';", 1
    )
    return response


@bp.get("/taches/<uuid:job_id>/etat")
@signed_in
def state(job_id: uuid.UUID) -> Response:
    """The job's state, progress and step in the reader's language, as JSON (for the page's script)."""
    response = jsonify(_progress(_shown(job_id)))
    response.headers["Cache-Control"] = "no-store"
    return response
