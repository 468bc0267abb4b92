"""Platform administrator pages: framework imports (a job), frameworks and their versions, the review
rules and scale of a framework.

URLs under ``/administration``: the hub; ``/administration/import`` (a file sent becomes a
``framework_import`` job, then its page ``/taches/<id>``, as ``POST /api/v1/jobs/framework-imports``);
``/administration/referentiels`` (current frameworks, their versions counted) and
``/administration/referentiels/<id>`` (versions with dates and sizes, the public page, the review
rules as ``PUT /api/v1/frameworks/<id>/review-rules`` sets them). Others meet the 403 page.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any, BinaryIO, cast
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, redirect, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response as BaseResponse

from app.db import db
from app.platform.errors import InvalidInput, PayloadTooLarge
from app.runtime import runtime
from app.services import jobs
from app.services.frameworks import administration
from app.services.recognition import scales
from app.services.recognition.framework_rules import get_framework_rules
from app.web import csrf, signed_in as who
from app.web.i18n import LANGS, Words, current_lang
from app.web.jobs import when
from app.web.pages import render_page
from app.web.request_args import page_number, pages_count
from app.web.signed_in import signed_in
from app.worker import submit

bp = Blueprint("pages_admin", __name__)

PER_PAGE = 20
FORMATS = ("rncp-xml", "rncp-csv", "esco-csv", "case-json", "custom-csv", "custom-json")
LEVEL_CODE = re.compile(r"^[a-z0-9_]{1,64}$")
MAX_LEVELS = 10


def _t() -> Words:
    return Words(current_lang())


def _q(sep: str = "?") -> str:
    """The query (or its continuation) keeping a language asked for in the address."""
    return f"{sep}lang={request.args['lang']}" if request.args.get("lang") in LANGS else ""


def _admin() -> Any:
    grants = who.grants()
    administration.require_platform_admin(grants)
    return grants


@bp.get("/administration")
@signed_in
def hub() -> Response:
    """What the platform administrator can do here."""
    _admin()
    return render_page("web/admin/hub.html", lang_query=_q())


# -- import ------------------------------------------------------------------------------------------


def _import_page(*, status: int = 200, values: dict[str, str] | None = None, errors: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return render_page(
        "web/admin/import.html",
        status=status,
        formats=FORMATS,
        values=values or {"format": ""},
        errors=errors or {},
        max_mb=_max_mb(),
        lang_query=_q(),
    )


def _max_mb() -> str:
    return f"{runtime().settings.max_upload_bytes / (1024 * 1024):.0f}"


@bp.get("/administration/import")
@signed_in
def import_form() -> Response:
    """The form to send a framework file, explained in plain words."""
    _admin()
    return _import_page()


def _import_errors(values: dict[str, str], files: list[Any]) -> dict[str, str]:
    t, errors = _t(), {}
    if not files:
        errors["fichier"] = t("adm_import_error_no_file")
    if values["format"] and values["format"] not in FORMATS:
        errors["format"] = t("adm_import_error_format")
    if values["langue"] and not 2 <= len(values["langue"]) <= 8:
        errors["langue"] = t("adm_import_error_language")
    if len(values["version"]) > 40:
        errors["version"] = t("adm_import_error_version")
    if len(values["titre"]) > 300:
        errors["titre"] = t("adm_import_error_title")
    return errors


def _discard(storage: Any, key: str) -> Callable[[], None]:
    """Remove a stored upload if the request ends without its job (a refusal, an error)."""
    return lambda: storage.delete_keyed(key)


@bp.post("/administration/import")
@signed_in
def import_send() -> BaseResponse:
    """Store the file(s) and start the import as a job; then its page shows the progress."""
    grants = _admin()
    values = {k: request.form.get(k, "").strip() for k in ("format", "langue", "version", "titre")}
    try:
        csrf.raise_if_form_too_large()
        files = [f for f in request.files.getlist("fichier") if f and f.filename]
    except RequestEntityTooLarge:
        return _import_page(
            status=413, values=values, errors={"fichier": _t()("adm_import_error_large", size=_max_mb())}
        )
    errors = _import_errors(values, files)
    if errors:
        return _import_page(status=422, values=values, errors=errors)
    rt = runtime()
    stored = []
    try:
        for upload in files:
            name = upload.filename or "upload"
            key = jobs.store_input(rt.storage, cast(BinaryIO, upload.stream), rt.settings.max_upload_bytes, name=name)
            db.on_abandon(_discard(rt.storage, key))
            stored.append({"key": key, "name": name})
    except PayloadTooLarge:
        db.session.rollback()  # the files stored so far go with it
        return _import_page(
            status=413, values=values, errors={"fichier": _t()("adm_import_error_large", size=_max_mb())}
        )
    options = {"language": values["langue"], "version": values["version"], "title": values["titre"]}
    params = {"files": stored, "format": values["format"] or None, "options": {k: v for k, v in options.items() if v}}
    job_id = submit(db.session, current_app, grants, "framework_import", params)
    db.session.commit()
    return redirect(f"/taches/{job_id}{_q()}", 303)


# -- frameworks ----------------------------------------------------------------------------------------


@bp.get("/administration/referentiels")
@signed_in
def frameworks() -> Response:
    """Current frameworks (searchable), each with how many versions it has."""
    q = request.args.get("q", "").strip()[:200]
    result = administration.admin_frameworks(
        db.session, who.grants(), q=q or None, page=page_number(top=100_000), per_page=PER_PAGE
    )
    return render_page(
        "web/admin/frameworks.html",
        result=result,
        q=q,
        pages_count=pages_count(result.total, PER_PAGE),
        imported={item.framework.id: when(item.framework.imported_at) for item in result.items},
        lang_query=_q(),
        more=lambda page: _list_query(q, page),
    )


def _list_query(q: str, page: int) -> str:
    pairs: list[tuple[str, Any]] = [("q", q)] if q else []
    pairs.append(("page", page))
    if request.args.get("lang") in LANGS:
        pairs.append(("lang", request.args["lang"]))
    return "?" + urlencode(pairs)


def _levels_form(rules: scales.ReviewRules, own: bool) -> dict[str, str]:
    values = {"deuxieme_avis": "oui" if rules.requires_second_review else "", "echelle": "propre" if own else "defaut"}
    values["nom"] = rules.scale.name if own else ""
    for i, level in enumerate(rules.scale.levels if own else ()):
        values |= {f"code-{i}": level.code, f"fr-{i}": level.label_fr, f"en-{i}": level.label_en}
        values[f"acquis-{i}"] = "oui" if level.proficient else ""
    return values


def _framework_page(
    framework_id: uuid.UUID,
    *,
    status: int = 200,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    grants = who.grants()
    view = administration.admin_framework(db.session, grants, framework_id, base_url=runtime().settings.public_base_url)
    rules, own = get_framework_rules(db.session, grants, framework_id)
    counts = administration.competency_counts(db.session, grants, [v.id for v in view.versions])
    values = values or _levels_form(rules, own)
    filled = max(
        (int(k.split("-")[1]) + 1 for k, v in values.items() if k.startswith(("code-", "fr-")) and v), default=0
    )
    response = render_page(
        "web/admin/framework.html",
        status=status,
        view=view,
        framework=view.framework,
        versions=[{"v": v, "imported": when(v.imported_at), "count": counts.get(v.id, 0)} for v in view.versions],
        rules=rules,
        own=own,
        values=values,
        errors=errors or {},
        rows=min(MAX_LEVELS, max(4, filled + 2)),
        saved=request.args.get("regles") == "ok",
        lang_query=_q(),
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/administration/referentiels/<uuid:framework_id>")
@signed_in
def framework(framework_id: uuid.UUID) -> Response:
    """A framework version: its versions with their dates and sizes, its public page, its review rules."""
    _admin()
    return _framework_page(framework_id)


def _read_levels(values: dict[str, str], errors: dict[str, str]) -> list[dict[str, Any]]:
    t, levels = _t(), []
    for i in range(MAX_LEVELS):
        code, fr, en = values.get(f"code-{i}", ""), values.get(f"fr-{i}", ""), values.get(f"en-{i}", "")
        if not (code or fr or en):
            continue
        if not LEVEL_CODE.match(code):
            errors[f"code-{i}"] = t("adm_rules_error_code")
        if not fr or len(fr) > 200:
            errors[f"fr-{i}"] = t("adm_rules_error_label")
        if len(en) > 200:
            errors[f"en-{i}"] = t("adm_rules_error_label")
        levels.append(
            {"code": code, "label_fr": fr, "label_en": en or None, "proficient": bool(values.get(f"acquis-{i}"))}
        )
    return levels


def _rules_errors(values: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The rules to set (as the API's body reads) and the French errors of the form."""
    t, errors = _t(), {}
    data: dict[str, Any] = {"requires_second_review": values["deuxieme_avis"] == "oui"}
    if values["echelle"] not in ("defaut", "propre"):
        errors["echelle"] = t("adm_rules_error_choice")
    elif values["echelle"] == "defaut":
        data["scale"] = None
    else:
        if not values["nom"] or len(values["nom"]) > 200:
            errors["nom"] = t("adm_rules_error_name")
        levels = _read_levels(values, errors)
        codes = [lv["code"] for lv in levels]
        flags = [lv["proficient"] for lv in levels]
        if not 2 <= len(levels) <= MAX_LEVELS:
            errors["niveaux"] = t("adm_rules_error_count")
        elif len(set(codes)) != len(codes):
            errors["niveaux"] = t("adm_rules_error_distinct")
        elif True not in flags or False in flags[flags.index(True) :]:
            errors["niveaux"] = t("adm_rules_error_order")
        data["scale"] = {"name": values["nom"], "levels": levels}
    return data, errors


def _unchanged_scale(data: dict[str, Any], rules: scales.ReviewRules, own: bool) -> bool:
    """The form sent back the scale in force: no new scale row (decisions keep naming theirs)."""
    wanted = data["scale"]
    if wanted is None:
        return not own
    if not own or wanted["name"] != rules.scale.name:
        return False
    sent = [(lv["code"], lv["label_fr"], lv["label_en"] or lv["label_fr"], lv["proficient"]) for lv in wanted["levels"]]
    return sent == [(lv.code, lv.label_fr, lv.label_en, lv.proficient) for lv in rules.scale.levels]


@bp.post("/administration/referentiels/<uuid:framework_id>/regles")
@signed_in
def save_rules(framework_id: uuid.UUID) -> BaseResponse:
    """Set the framework's second-review rule and scale; back to its page."""
    grants = _admin()
    fields = ["deuxieme_avis", "echelle", "nom"]
    for i in range(MAX_LEVELS):
        fields += [f"code-{i}", f"fr-{i}", f"en-{i}", f"acquis-{i}"]
    values = {k: request.form.get(k, "").strip() for k in fields}
    data, errors = _rules_errors(values)
    if errors:
        return _framework_page(framework_id, status=422, values=values, errors=errors)
    rules, own = get_framework_rules(db.session, grants, framework_id)
    if _unchanged_scale(data, rules, own):
        del data["scale"]
    try:
        scales.set_framework_rules(db.session, grants, framework_id, data)
    except InvalidInput:
        db.session.rollback()
        return _framework_page(
            framework_id, status=422, values=values, errors={"niveaux": _t()("adm_rules_error_order")}
        )
    db.session.commit()
    return redirect(f"/administration/referentiels/{framework_id}?regles=ok{_q('&')}", 303)
