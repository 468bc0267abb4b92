"""Pages: a learner's projects and contributions, and the evidence attached to them.

``/mes-contributions`` lists the projects where the person (or the learner a facilitator acts for)
is a learner, and their contributions in each; a contribution is created and edited while it is a
draft (the version read goes back in a hidden field: an edit made meanwhile elsewhere is explained,
and what was typed is kept), then submitted. Evidence (a photo taken with the phone, a file, a link
or a text, with its visibility) is added by one form, ``POST /mes-contributions/<id>/preuves``,
which other pages use too (with a hidden ``retour``, the local page to go back to). Pages show a
reduced copy of a photo (``/preuves/<id>/apercu``), never the upload itself; the file is opened by
``/preuves/<id>/fichier``. Every page calls the services with the caller's grants, as the API does.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, BinaryIO, cast
from urllib.parse import urlsplit

from flask import Blueprint, Response, redirect, request
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response as BaseResponse

from app.db import db
from app.platform.errors import Conflict, NotFound, PayloadTooLarge, PermissionDenied, UnsupportedMediaType
from app.platform.filenames import disposition
from app.platform.storage import iter_file
from app.runtime import runtime
from app.services.contributions import contributions, evidence
from app.services.recognition import claims as claim_service, list_claims
from app.services.territories import get_project
from app.web import csrf, signed_in as who
from app.web.account import local_target
from app.web.i18n import Words, current_lang
from app.web.pages import render_page
from app.web.signed_in import signed_in

bp = Blueprint("pages_contributions", __name__)

VISIBILITIES = ("private", "tutors", "jury", "public")
CO_FIELDS = 3  # empty co-contributor fields offered beyond those already named
MAX_CO = 50
INLINE_TYPES = ("image/", "application/pdf")  # opened in the browser; anything else is downloaded
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "application/pdf": ".pdf", "text/plain": ".txt"}


def words() -> Words:
    return Words(current_lang())


def page_url(path: str, anchor: str = "") -> str:
    """A path of this site in the reader's language (English is asked for in the address)."""
    return path + ("?lang=en" if current_lang() == "en" else "") + anchor


def back_to(value: str | None) -> str | None:
    """The local page a form asked to go back to after saving (``retour``), if it is one."""
    return value if value and local_target(value) == value else None


# --- Mes contributions ---------------------------------------------------------------------------


@bp.get("/mes-contributions")
@signed_in
def index() -> Response:
    """The person's projects as a learner, and their contributions in each."""
    return render_page("web/contributions/index.html", record=contributions.own_record(db.session, who.grants()))


# --- a contribution: the form (new, and edit while a draft) ------------------------------------------


@dataclass
class ContributionForm:
    """What was typed (kept on the page as typed), what it means for the service, and what is wrong."""

    values: dict[str, str]
    co: list[str]
    data: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def _date(form: ContributionForm, name: str, key: str) -> None:
    text = form.values[name]
    try:
        form.data[key] = date.fromisoformat(text) if text else None
    except ValueError:
        form.errors[name] = words().contrib_error_date


def read_contribution_form(existing: list[Any] | None = None) -> ContributionForm:
    """Read and check the contribution form; ``existing`` co-contributors keep their person links."""
    t = words()
    names = ("titre", "recit", "role", "debut", "fin", "heures", "version")
    form = ContributionForm(
        {n: request.form.get(n, "").strip() for n in names},
        [c.strip() for c in request.form.getlist("co") if c.strip()],
    )
    title, narrative, role = form.values["titre"], form.values["recit"], form.values["role"]
    if not title:
        form.errors["titre"] = t.contrib_error_title
    elif len(title) > 200:
        form.errors["titre"] = t.get("contrib_error_too_long", n=200)
    if len(narrative) > 20000:
        form.errors["recit"] = t.get("contrib_error_too_long", n="20 000")
    if len(role) > 200:
        form.errors["role"] = t.get("contrib_error_too_long", n=200)
    form.data.update(title=title, narrative=request.form.get("recit", "").strip(), role=role)
    _date(form, "debut", "start_date")
    _date(form, "fin", "end_date")
    start, end = form.data.get("start_date"), form.data.get("end_date")
    if start and end and end < start:
        form.errors["fin"] = t.contrib_error_end_before_start
    form.data["hours"] = _hours(form)
    if len(form.co) > MAX_CO or any(len(c) > 200 for c in form.co):
        form.errors["co"] = t.contrib_error_co
    kept = list(existing or [])
    co = []
    for name in form.co:  # a name already there keeps the person it was linked to
        same = next((c for c in kept if c.name == name), None)
        if same is not None:
            kept.remove(same)
        co.append({"name": name, "person_id": same.person_id if same is not None else None})
    form.data["co_contributors"] = co
    return form


def _hours(form: ContributionForm) -> Decimal | None:
    text = form.values["heures"].replace(",", ".").replace("\u202f", "").replace(" ", "")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal(-1)
    if not value.is_finite() or not 0 <= value <= 10000 or value != value.quantize(Decimal("0.01")):
        form.errors["heures"] = words().contrib_error_hours
        return None
    return value


def hours_text(value: Decimal | None) -> str:
    """Hours as people write them: ``3,5`` in French, ``3.5`` in English."""
    if value is None:
        return ""
    text = format(value.normalize(), "f")
    return text.replace(".", ",") if current_lang() == "fr" else text


def form_values(contribution: Any) -> ContributionForm:
    """The form filled with a contribution as saved."""
    return ContributionForm(
        {
            "titre": contribution.title,
            "recit": contribution.narrative,
            "role": contribution.role,
            "debut": contribution.start_date.isoformat() if contribution.start_date else "",
            "fin": contribution.end_date.isoformat() if contribution.end_date else "",
            "heures": hours_text(contribution.hours),
            "version": str(contribution.version),
        },
        [c.name for c in contribution.co_contributors],
    )


def _form_page(form: ContributionForm, *, project: Any, contribution: Any = None, status: int = 200, **extra: Any):
    co = form.co + [""] * CO_FIELDS
    return render_page(
        "web/contributions/form.html",
        status=status,
        form=form,
        co=co,
        project=project,
        contribution=contribution,
        **extra,
    )


def _project_id() -> uuid.UUID | None:
    value = request.values.get("projet", "")
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        raise NotFound("No such project.") from None


@bp.route("/mes-contributions/nouvelle", methods=["GET", "POST"])
@signed_in
def new() -> BaseResponse:
    """Record a new contribution (a draft) in one of one's projects."""
    project_id = _project_id()
    if project_id is None:
        return redirect(page_url("/mes-contributions"), 303)
    project = contributions.project_to_record_in(db.session, who.grants(), project_id)
    if request.method == "GET":
        return _form_page(ContributionForm({}, []), project=project)
    form = read_contribution_form()
    if form.errors:
        return _form_page(form, project=project, status=422)
    created = contributions.create_contribution(db.session, who.grants(), {"project_id": project.id, **form.data})
    db.session.commit()
    return redirect(page_url(f"/mes-contributions/{created.id}"), 303)


def _own(contribution_id: uuid.UUID) -> Any:
    contribution = contributions.get_contribution(db.session, who.grants(), contribution_id)
    if contribution.learner_id != who.grants().actor.id:
        raise PermissionDenied("Only the learner (or their facilitator) may change a contribution.")
    return contribution


@bp.route("/mes-contributions/<uuid:contribution_id>/modifier", methods=["GET", "POST"])
@signed_in
def edit(contribution_id: uuid.UUID) -> BaseResponse:
    """Change a draft, from the version the person read."""
    contribution = _own(contribution_id)
    project = get_project(db.session, who.grants(), contribution.project_id)
    if contribution.status.value != "draft":
        return redirect(page_url(f"/mes-contributions/{contribution.id}"), 303)
    if request.method == "GET":
        return _form_page(form_values(contribution), project=project, contribution=contribution)
    form = read_contribution_form(contribution.co_contributors)
    if form.errors:
        return _form_page(form, project=project, contribution=contribution, status=422)
    version = int(form.values["version"]) if form.values["version"].isdigit() else None
    try:
        contributions.update_contribution(
            db.session, who.grants(), contribution.id, form.data, expected_version=version, clock=runtime().clock
        )
    except Conflict:
        return _changed_meanwhile(form, contribution.id)
    db.session.commit()
    return redirect(page_url(f"/mes-contributions/{contribution.id}"), 303)


def _changed_meanwhile(form: ContributionForm, contribution_id: uuid.UUID) -> BaseResponse:
    """The draft changed (or was submitted) since the form was shown: say so, keep what was typed."""
    db.session.rollback()
    current = _own(contribution_id)
    if current.status.value != "draft":
        return redirect(page_url(f"/mes-contributions/{current.id}"), 303)
    project = get_project(db.session, who.grants(), current.project_id)
    form.values["version"] = str(current.version)  # saving again now replaces the other change, knowingly
    return _form_page(form, project=project, contribution=current, status=409, stale=True)


@bp.post("/mes-contributions/<uuid:contribution_id>/soumettre")
@signed_in
def submit(contribution_id: uuid.UUID) -> BaseResponse:
    """Submit a draft to the project's tutors (a second click changes nothing)."""
    contribution = _own(contribution_id)
    if contribution.status.value == "draft":
        contributions.submit_contribution(db.session, who.grants(), contribution.id, clock=runtime().clock)
        db.session.commit()
    return redirect(page_url(f"/mes-contributions/{contribution.id}"), 303)


# --- a contribution's page, with its evidence and claims ----------------------------------------------


@bp.get("/mes-contributions/<uuid:contribution_id>")
@signed_in
def detail(contribution_id: uuid.UUID) -> Response:
    """A contribution, its evidence and its claims; to its learner, the forms to act on it."""
    return _detail(contribution_id)


def _detail(contribution_id: uuid.UUID, *, status: int = 200, **form: Any) -> Response:
    grants = who.grants()
    contribution = contributions.get_contribution(db.session, grants, contribution_id)
    project = get_project(db.session, grants, contribution.project_id)
    items = evidence.list_evidence(db.session, grants, contribution.id, per_page=500).items
    found = []
    if contribution.status.value == "submitted":
        shown = list_claims(db.session, grants, contribution_id=contribution.id, per_page=200).items
        named = claim_service.competencies_of(db.session, shown)
        found = [(claim, named[claim.competency_id]) for claim in shown]
    return render_page(
        "web/contributions/detail.html",
        status=status,
        contribution=contribution,
        project=project,
        evidence=items,
        claims=found,
        own=contribution.learner_id == grants.actor.id,
        hours=hours_text(contribution.hours),
        ev=form.get("ev") or EvidenceForm(),
        max_mb=_max_mb(),
        size_text=size_text,
    )


def size_text(size: int | None) -> str:
    """A file's size as people read it: « 350 ko », « 2,4 Mo »."""
    t = words()
    size = size or 0
    if size < 1024 * 1024:
        return t.get("contrib_size_kb", n=str(max(1, round(size / 1024))))
    text = f"{size / 1024 / 1024:.1f}".removesuffix(".0")
    return t.get("contrib_size_mb", n=text.replace(".", ",") if t.lang == "fr" else text)


def _max_mb() -> str:
    return size_text(runtime().settings.max_upload_bytes)


# --- adding evidence ------------------------------------------------------------------------------------


@dataclass
class EvidenceForm:
    values: dict[str, str] = field(default_factory=lambda: {"visibilite": "tutors"})
    errors: dict[str, str] = field(default_factory=dict)
    retour: str | None = None
    upload_field: str | None = None  # "photo" or "fichier": the input a file was sent by


def read_evidence_form() -> tuple[EvidenceForm, FileStorage | None]:
    """Read the evidence form: one of a file, a link or a text, its title and its visibility."""
    t = words()
    values = {n: request.form.get(n, "").strip() for n in ("titre", "lien", "visibilite")}
    values["texte"] = request.form.get("texte", "").strip()
    form = EvidenceForm(values, retour=back_to(request.args.get("retour") or request.form.get("retour")))
    sent = {n: f for n in ("photo", "fichier") if (f := request.files.get(n)) is not None and f.filename}
    # (the browser sends an empty part for a file input left empty)
    given = [*sent, *(n for n in ("lien", "texte") if values[n])]
    if not given:
        form.errors["photo"] = t.contrib_error_evidence_missing
    elif len(given) > 1:
        form.errors[given[1]] = t.contrib_error_evidence_one
    form.upload_field = next(iter(sent), None)
    upload = sent.get(form.upload_field) if form.upload_field else None
    if values["lien"] and not _is_web_address(values["lien"]):
        form.errors["lien"] = t.contrib_error_link
    if len(values["texte"]) > 50000:
        form.errors["texte"] = t.get("contrib_error_too_long", n="50 000")
    if len(values["titre"]) > 200:
        form.errors["titre"] = t.get("contrib_error_too_long", n=200)
    if values["visibilite"] not in VISIBILITIES:
        form.errors["visibilite"] = t.contrib_error_visibility
    return form, upload


def _is_web_address(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and len(value) <= 2000 and " " not in value


def _title(form: EvidenceForm, upload: FileStorage | None) -> str:
    """The title typed, else one made of what was sent (the file's name, the link's site, the text's start)."""
    if form.values["titre"]:
        return form.values["titre"]
    if upload is not None:
        return evidence.clean_filename(upload.filename) or words().contrib_evidence_photo
    if form.values["lien"]:
        return urlsplit(form.values["lien"]).netloc[:200]
    text = " ".join(form.values["texte"].split())
    return text if len(text) <= 60 else text[:59].rstrip() + "…"


@bp.post("/mes-contributions/<uuid:contribution_id>/preuves")
@signed_in
def add_evidence(contribution_id: uuid.UUID) -> BaseResponse:
    """Attach a photo or file, a link or a text; then go back where the form came from."""
    t = words()
    try:
        csrf.raise_if_form_too_large()
        form, upload = read_evidence_form()
    except RequestEntityTooLarge:  # refused before the form could be read: nothing was saved
        refused = EvidenceForm(errors={"fichier": t.get("contrib_error_too_large", size=_max_mb())})
        return _detail(contribution_id, status=413, ev=refused)
    if form.errors:
        return _detail(contribution_id, status=422, ev=form)
    try:
        _save_evidence(contribution_id, form, upload)
    except (PayloadTooLarge, UnsupportedMediaType) as error:
        db.session.rollback()  # nothing half-saved
        too_large = isinstance(error, PayloadTooLarge)
        message = t.get("contrib_error_too_large", size=_max_mb()) if too_large else t.contrib_error_type
        form.errors[form.upload_field or "fichier"] = message
        return _detail(contribution_id, status=413 if too_large else 415, ev=form)
    db.session.commit()
    return redirect(form.retour or page_url(f"/mes-contributions/{contribution_id}", "#preuves"), 303)


def _save_evidence(contribution_id: uuid.UUID, form: EvidenceForm, upload: FileStorage | None) -> None:
    data = {"title": _title(form, upload), "visibility": form.values["visibilite"]}
    if upload is not None:
        evidence.upload_evidence(
            db.session,
            who.grants(),
            contribution_id,
            cast(BinaryIO, upload.stream),
            upload.filename,
            data,
            storage=runtime().storage,
            max_bytes=runtime().settings.max_upload_bytes,
        )
    elif form.values["lien"]:
        evidence.add_evidence(
            db.session, who.grants(), contribution_id, {"kind": "link", "url": form.values["lien"], **data}
        )
    else:
        evidence.add_evidence(
            db.session, who.grants(), contribution_id, {"kind": "text", "text": form.values["texte"], **data}
        )


# --- evidence files: a reduced photo for pages, the file itself on request -------------------------------


@bp.get("/preuves/<uuid:evidence_id>/apercu")
@signed_in
def preview(evidence_id: uuid.UUID) -> Response:
    """A reduced copy of a photo (at most 480 px a side, re-encoded, without EXIF), never the upload."""
    image = evidence.preview_evidence(db.session, who.grants(), evidence_id, storage=runtime().storage)
    # Never stored by a shared cache: every answer to a signed-in person is no-store (session_cookie).
    return Response(image.data, mimetype=image.media_type, headers={"Content-Disposition": "inline"})


@bp.get("/preuves/<uuid:evidence_id>/fichier")
@signed_in
def file(evidence_id: uuid.UUID) -> Response:
    """The file itself: shown by the browser when an image or a PDF, downloaded otherwise; never run."""
    item, handle = evidence.open_evidence_file(db.session, who.grants(), evidence_id, storage=runtime().storage)
    media_type = item.media_type or "application/octet-stream"
    inline = media_type.startswith(INLINE_TYPES)
    name = item.filename or "preuve" + EXTENSIONS.get(media_type, "")
    headers = {
        "Content-Disposition": disposition("inline" if inline else "attachment", name, fallback="preuve"),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
        "Content-Length": str(item.size),
    }
    if not media_type.startswith("image/"):
        headers["Content-Security-Policy"] = "sandbox"  # a document is its own origin: no script runs here
    return Response(iter_file(handle), mimetype=media_type, headers=headers)
