"""Issuer administrator pages: the issuer's profile and image, signing keys, achievements (image,
alignments, award rule, versions).

URLs under ``/emetteur`` (the hub ``/emetteur``). ``/emetteur`` lists the issuers the person
administers with a link to everything of each; ``/emetteur/<id>`` is the profile (edit, image),
``/emetteur/<id>/cles`` the signing keys (renew, mark compromised, each after a page saying what
it does to badges already issued), ``/emetteur/<id>/badges`` the badge templates, and
``/emetteur/badges/<id>`` one template: its content (an edit after the first award makes a new
version), its image (drawn from two colours or uploaded), its competencies (found with the
frameworks search) and its award rule. The approvals, manual award, bulk CSV and issued badges
pages are ``app.web.awards``. Every page calls the issuing services with the caller's grants, as
``app.api.issuing`` does; :mod:`app.services.issuing.issuer_admin` answers 403 to people who
administer no issuer and 404 for another issuer's things.
"""

from __future__ import annotations

import uuid
from typing import Any, BinaryIO, cast

from flask import Blueprint, Response, redirect, request
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response as BaseResponse

from app.db import db
from app.platform.errors import Conflict, InvalidInput, PayloadTooLarge, UnsupportedMediaType
from app.runtime import runtime
from app.services.frameworks import query as frameworks_query
from app.services.issuing import achievements, badge_images, issuer_admin, issuers
from app.services.recognition.scales import DEFAULT_SCALE
from app.web import csrf, pages, signed_in as who
from app.web.i18n import Words, current_lang
from app.web.issuer_forms import (
    TYPES,
    Form,
    achievement_values,
    profile_values,
    read_achievement,
    read_image_choice,
    read_profile,
    read_rule,
    rule_values,
)
from app.web.request_args import lang_query, page_number, pages_count
from app.web.signed_in import signed_in

bp = Blueprint("pages_issuer", __name__)

PER_PAGE = 20
HITS_PER_PAGE = 10
DONE = ("profil", "image", "cles", "compromise", "cree", "modifie", "regle", "ajoutee", "retiree")


def words() -> Words:
    return Words(current_lang())


def _render(template: str, *, status: int = 200, **context: Any) -> Response:
    done = request.args.get("fait")
    response = pages.render_page(
        template,
        status=status,
        lq=lang_query,
        done=done if done in DONE else None,
        key_purpose=lambda k: words()(f"iss_purpose_{k.purpose.value}"),
        **context,
    )
    return response


def _after(path: str, done: str) -> BaseResponse:
    db.session.commit()
    return redirect(path + lang_query(fait=done), 303)


def _version(form: Form) -> int | None:
    text = str(form.values.get("version") or "")
    return int(text) if text.isdigit() else None


def _upload_error(form: Form, error: Exception, field: str = "fichier") -> int:
    """Put an upload's refusal next to its field; the status to answer with."""
    db.session.rollback()  # nothing half-saved
    t = words()
    if isinstance(error, PayloadTooLarge):
        form.errors[field] = t.get("iss_error_too_large", size=_max_size())
        return 413
    form.errors[field] = t.iss_error_image_type
    return 415


def _max_size() -> str:
    size = runtime().settings.max_upload_bytes
    text = f"{size / 1024 / 1024:.1f}".removesuffix(".0")
    return (text.replace(".", ",") if current_lang() == "fr" else text) + (" Mo" if current_lang() == "fr" else " MB")


# --- the hub ------------------------------------------------------------------------------------------------


@bp.get("/emetteur")
@signed_in
def hub() -> Response:
    """The issuers the person administers, each with a link to everything of it."""
    found = issuer_admin.administered_issuers(db.session, who.grants(), page=page_number(), per_page=PER_PAGE)
    return _render("web/issuer/hub.html", found=found, pages_count=pages_count(found.total, PER_PAGE))


# --- the profile and image ------------------------------------------------------------------------------------


def public_ids(issuer: Any) -> issuer_admin.PublishedIds:
    return issuer_admin.published_ids(issuer, runtime().issuing.urls)


def _profile_page(issuer: Any, form: Form | None = None, image: Form | None = None, **context: Any) -> Response:
    return _render(
        "web/issuer/profile.html",
        issuer=issuer,
        form=form or profile_values(issuer),
        image=image or Form({}),
        max_size=_max_size(),
        identifiers=public_ids(issuer),
        **context,
    )


@bp.route("/emetteur/<uuid:issuer_id>", methods=["GET", "POST"])
@signed_in
def profile(issuer_id: uuid.UUID) -> BaseResponse:
    """The issuer's profile; the form changes it (badges already issued keep the profile they were signed with)."""
    grants = who.grants()
    issuer = issuer_admin.managed_issuer(db.session, grants, issuer_id)
    if request.method == "GET":
        return _profile_page(issuer)
    form = read_profile()
    if form.errors:
        return _profile_page(issuer, form, status=422)
    try:
        issuers.update_issuer(
            db.session, grants, issuer.id, form.data, expected_version=_version(form), settings=runtime().issuing
        )
    except Conflict:
        db.session.rollback()
        issuer = issuer_admin.managed_issuer(db.session, grants, issuer_id)
        form.values["version"] = str(issuer.version)  # saving again replaces the other change, knowingly
        return _profile_page(issuer, form, status=409, stale=True)
    return _after(f"/emetteur/{issuer.id}", "profil")


@bp.post("/emetteur/<uuid:issuer_id>/image")
@signed_in
def issuer_image(issuer_id: uuid.UUID) -> BaseResponse:
    """Upload the issuer's image (PNG or SVG, checked as the API checks it)."""
    grants = who.grants()
    issuer = issuer_admin.managed_issuer(db.session, grants, issuer_id)
    image = Form({})
    try:
        csrf.raise_if_form_too_large()
        upload = request.files.get("fichier")
    except RequestEntityTooLarge:
        return _profile_page(issuer, image=image, status=_upload_error(image, PayloadTooLarge("too large")))
    if upload is None or not upload.filename:
        image.errors["fichier"] = words().iss_error_file_missing
        return _profile_page(issuer, image=image, status=422)
    try:
        issuers.set_issuer_image(
            db.session,
            grants,
            issuer.id,
            cast(BinaryIO, upload.stream),
            storage=runtime().storage,
            max_bytes=runtime().settings.max_upload_bytes,
            settings=runtime().issuing,
        )
    except (PayloadTooLarge, UnsupportedMediaType) as error:
        status = _upload_error(image, error)
        return _profile_page(issuer_admin.managed_issuer(db.session, grants, issuer_id), image=image, status=status)
    return _after(f"/emetteur/{issuer.id}", "image")


# --- signing keys ---------------------------------------------------------------------------------------------


@bp.get("/emetteur/<uuid:issuer_id>/cles")
@signed_in
def keys(issuer_id: uuid.UUID) -> Response:
    """Every key of the issuer (public parts only): what it signs, algorithm, kid, state, dates."""
    grants = who.grants()
    issuer = issuer_admin.managed_issuer(db.session, grants, issuer_id)
    found = issuers.list_keys(db.session, grants, issuer.id, page=page_number(), per_page=PER_PAGE)
    return _render("web/issuer/keys.html", issuer=issuer, found=found, pages_count=pages_count(found.total, PER_PAGE))


@bp.route("/emetteur/<uuid:issuer_id>/cles/renouveler", methods=["GET", "POST"])
@signed_in
def rotate(issuer_id: uuid.UUID) -> BaseResponse:
    """Say what renewing the keys does; on confirmation, new keys sign from now on."""
    grants = who.grants()
    issuer = issuer_admin.managed_issuer(db.session, grants, issuer_id)
    if request.method == "GET":
        return _render("web/issuer/rotate.html", issuer=issuer)
    issuers.rotate_keys(db.session, grants, issuer.id, None, settings=runtime().issuing)
    return _after(f"/emetteur/{issuer.id}/cles", "cles")


@bp.route("/emetteur/<uuid:issuer_id>/cles/<uuid:key_id>/compromise", methods=["GET", "POST"])
@signed_in
def compromise(issuer_id: uuid.UUID, key_id: uuid.UUID) -> BaseResponse:
    """Say what marking this key compromised does to the badges it signed; on confirmation, do it."""
    grants = who.grants()
    key = issuer_admin.managed_key(db.session, grants, issuer_id, key_id)
    issuer = issuer_admin.managed_issuer(db.session, grants, issuer_id)
    signed = issuer_admin.credentials_signed_with(db.session, key)
    context: dict[str, Any] = {"issuer": issuer, "key": key, "signed": signed}
    if request.method == "GET":
        return _render("web/issuer/compromise.html", **context)
    if key.status.value == "compromised":  # already done (a second click, another administrator)
        return _render("web/issuer/compromise.html", status=409, **context)
    form = Form({"raison": request.form.get("raison", "").strip()})
    if not form.values["raison"]:
        form.errors["raison"] = words().iss_error_reason
    elif len(form.values["raison"]) > 2000:
        form.errors["raison"] = words().get("iss_error_too_long", n="2\u202f000")
    if form.errors:
        return _render("web/issuer/compromise.html", status=422, form=form, **context)
    issuers.compromise_key(db.session, grants, issuer.id, key.id, form.values["raison"], settings=runtime().issuing)
    return _after(f"/emetteur/{issuer.id}/cles", "compromise")


# --- achievements: the list, a new one -------------------------------------------------------------------------


@bp.get("/emetteur/<uuid:issuer_id>/badges")
@signed_in
def achievement_list(issuer_id: uuid.UUID) -> Response:
    """The issuer's badge templates, newest first, paged."""
    grants = who.grants()
    issuer = issuer_admin.managed_issuer(db.session, grants, issuer_id)
    found = achievements.list_achievements(
        db.session, grants, urls=runtime().issuing.urls, issuer_id=issuer.id, page=page_number(), per_page=PER_PAGE
    )
    return _render(
        "web/issuer/achievements.html", issuer=issuer, found=found, pages_count=pages_count(found.total, PER_PAGE)
    )


def _form_page(issuer: Any, form: Form, *, detail: Any = None, status: int = 200, **context: Any) -> Response:
    types = TYPES if form.values.get("type") in (*TYPES, "") else (*TYPES, form.values["type"])
    return _render(
        "web/issuer/achievement_form.html",
        status=status,
        issuer=issuer,
        form=form,
        detail=detail,
        types=types,
        shapes=badge_images.SHAPES,
        max_size=_max_size(),
        **context,
    )


def _set_image(achievement_id: uuid.UUID, form: Form, upload: FileStorage | None) -> None:
    """Give the achievement the image the form chose: drawn from its colours, or the file sent."""
    grants, settings = who.grants(), runtime().issuing
    max_bytes = runtime().settings.max_upload_bytes
    chosen = form.data["image"]
    if chosen.get("upload"):
        assert upload is not None
        achievements.set_image(
            db.session,
            grants,
            achievement_id,
            cast(BinaryIO, upload.stream),
            storage=runtime().storage,
            max_bytes=max_bytes,
            clock=settings.clock,
        )
        return
    badge_images.set_generated_image(
        db.session,
        grants,
        achievement_id,
        background=chosen["background"],
        foreground=chosen["foreground"],
        shape=chosen["shape"],
        storage=runtime().storage,
        max_bytes=max_bytes,
        clock=settings.clock,
    )


@bp.route("/emetteur/<uuid:issuer_id>/badges/nouveau", methods=["GET", "POST"])
@signed_in
def achievement_new(issuer_id: uuid.UUID) -> BaseResponse:
    """Create a badge template with its image; competencies and the award rule come next, on its page."""
    grants = who.grants()
    issuer = issuer_admin.managed_issuer(db.session, grants, issuer_id)
    if request.method == "GET":
        return _form_page(issuer, achievement_values())
    try:
        csrf.raise_if_form_too_large()
        form = read_achievement(with_image=True)
        upload = request.files.get("fichier") if form.data.get("image", {}).get("upload") else None
    except RequestEntityTooLarge:
        refused = achievement_values()
        return _form_page(issuer, refused, status=_upload_error(refused, PayloadTooLarge("too large")))
    if form.errors:
        return _form_page(issuer, form, status=422)
    settings = runtime().issuing
    created = achievements.create_achievement(
        db.session, grants, issuer.id, form.data, storage=runtime().storage, urls=settings.urls, clock=settings.clock
    )
    try:
        _set_image(created.id, form, upload)
    except (PayloadTooLarge, UnsupportedMediaType) as error:
        status = _upload_error(form, error)
        return _form_page(issuer_admin.managed_issuer(db.session, grants, issuer_id), form, status=status)
    return _after(f"/emetteur/badges/{created.id}", "cree")


# --- one achievement: its page, edit, image --------------------------------------------------------------------


def _places(competency_ids: list[uuid.UUID]) -> dict[uuid.UUID, Any]:
    return frameworks_query.places_of(db.session, competency_ids)


def _aligned_ids(detail: Any) -> list[uuid.UUID]:
    return [uuid.UUID(a["competencyId"]) for a in detail.alignments if a.get("competencyId")]


def _achievement_page(achievement: Any, *, status: int = 200, image: Form | None = None) -> Response:
    grants, urls = who.grants(), runtime().issuing.urls
    detail = achievements.detail(db.session, achievement, urls)
    issuer = issuer_admin.managed_issuer(db.session, grants, achievement.issuer_id)
    versions = issuer_admin.achievement_versions(
        db.session, grants, achievement.id, page=page_number("versions"), per_page=PER_PAGE
    )
    aligned = _aligned_ids(detail)
    in_rule = [uuid.UUID(i) for i in detail.award_rule.get("competencyIds") or []]
    places = _places([*aligned, *in_rule])
    image_form = image or Form({"image": "dessin", "forme": "circle", "fond": "#1b3a5c", "texte": "#ffffff"})
    return _render(
        "web/issuer/achievement.html",
        status=status,
        achievement=achievement,
        detail=detail,
        issuer=issuer,
        alignments=[
            (a, places.get(uuid.UUID(a["competencyId"])) if a.get("competencyId") else None) for a in detail.alignments
        ],
        rule_places=[places[c] for c in in_rule if c in places],
        level=DEFAULT_SCALE.get(detail.award_rule.get("minLevel")),
        versions=versions,
        versions_pages=pages_count(versions.total, PER_PAGE),
        image=image_form,
        shapes=badge_images.SHAPES,
        max_size=_max_size(),
    )


@bp.get("/emetteur/badges/<uuid:achievement_id>")
@signed_in
def achievement_page(achievement_id: uuid.UUID) -> Response:
    """A badge template: its content, image, competencies, award rule and versions."""
    return _achievement_page(issuer_admin.managed_achievement(db.session, who.grants(), achievement_id))


@bp.route("/emetteur/badges/<uuid:achievement_id>/modifier", methods=["GET", "POST"])
@signed_in
def achievement_edit(achievement_id: uuid.UUID) -> BaseResponse:
    """Change a badge template's content (once it was awarded, saving makes its next version)."""
    grants, settings = who.grants(), runtime().issuing
    achievement = issuer_admin.managed_achievement(db.session, grants, achievement_id)
    detail = achievements.detail(db.session, achievement, settings.urls)
    issuer = issuer_admin.managed_issuer(db.session, grants, achievement.issuer_id)
    if request.method == "GET":
        return _form_page(issuer, achievement_values(detail, achievement.lock_version), detail=detail)
    form = read_achievement(with_image=False)
    if form.errors:
        return _form_page(issuer, form, detail=detail, status=422)
    stale = _save_achievement(achievement.id, form)
    if stale is not None:
        detail = achievements.detail(db.session, stale, settings.urls)
        return _form_page(issuer, form, detail=detail, status=409, stale=True)
    return _after(f"/emetteur/badges/{achievement.id}", "modifie")


def _save_achievement(achievement_id: uuid.UUID, form: Form) -> Any | None:
    """Save the form's changes to the badge template at the form's version. ``None`` when saved;
    else (another change came first) the template as it is now, its version put in the form."""
    grants, settings = who.grants(), runtime().issuing
    try:
        achievements.update_achievement(
            db.session,
            grants,
            achievement_id,
            form.data,
            expected_version=_version(form),
            urls=settings.urls,
            clock=settings.clock,
        )
    except Conflict:
        db.session.rollback()
        achievement = issuer_admin.managed_achievement(db.session, grants, achievement_id)
        form.values["version"] = str(achievement.lock_version)
        return achievement
    return None


@bp.post("/emetteur/badges/<uuid:achievement_id>/image")
@signed_in
def achievement_image(achievement_id: uuid.UUID) -> BaseResponse:
    """Replace the badge's image: drawn again from colours, or an uploaded file."""
    grants = who.grants()
    achievement = issuer_admin.managed_achievement(db.session, grants, achievement_id)
    form = Form({})
    try:
        csrf.raise_if_form_too_large()
        upload = read_image_choice(form)
    except RequestEntityTooLarge:
        return _achievement_page(achievement, image=form, status=_upload_error(form, PayloadTooLarge("too large")))
    if form.errors:
        return _achievement_page(achievement, image=form, status=422)
    try:
        _set_image(achievement.id, form, upload)
    except (PayloadTooLarge, UnsupportedMediaType) as error:
        status = _upload_error(form, error)
        return _achievement_page(
            issuer_admin.managed_achievement(db.session, grants, achievement_id), image=form, status=status
        )
    return _after(f"/emetteur/badges/{achievement.id}", "image")


# --- competencies (alignments), found with the frameworks search ---------------------------------------------------


def _competencies_page(achievement: Any, *, status: int = 200, error: str | None = None) -> Response:
    grants, urls = who.grants(), runtime().issuing.urls
    detail = achievements.detail(db.session, achievement, urls)
    q = (request.values.get("q") or "").strip()[:200]
    hits = None
    places: dict[uuid.UUID, Any] = {}
    if q and frameworks_query.tokens(q):
        loose = frameworks_query.loosen_plurals(q)
        hits = frameworks_query.search_competencies(
            db.session, grants, q=loose, page=page_number(), per_page=HITS_PER_PAGE
        )
        places = _places([h.competency.id for h in hits.items])
    aligned = _aligned_ids(detail)
    return _render(
        "web/issuer/competencies.html",
        status=status,
        achievement=achievement,
        detail=detail,
        issuer=issuer_admin.managed_issuer(db.session, grants, achievement.issuer_id),
        q=q,
        hits=hits,
        hits_pages=pages_count(hits.total, HITS_PER_PAGE) if hits else 1,
        places=places,
        aligned=aligned,
        aligned_places=_places(aligned),
        in_rule={uuid.UUID(i) for i in detail.award_rule.get("competencyIds") or []},
        error=error,
    )


@bp.get("/emetteur/badges/<uuid:achievement_id>/competences")
@signed_in
def competencies(achievement_id: uuid.UUID) -> Response:
    """The competencies of a badge template, and the search to add more (framework and bloc shown)."""
    return _competencies_page(issuer_admin.managed_achievement(db.session, who.grants(), achievement_id))


def _change_alignments(achievement_id: uuid.UUID, adding: bool) -> BaseResponse:
    grants, settings = who.grants(), runtime().issuing
    achievement = issuer_admin.managed_achievement(db.session, grants, achievement_id)
    detail = achievements.detail(db.session, achievement, settings.urls)
    aligned = _aligned_ids(detail)
    try:
        chosen = uuid.UUID(request.form.get("competence", ""))
    except ValueError:
        return _competencies_page(achievement, status=422, error=words().iss_error_competency)
    if adding and chosen in aligned or not adding and chosen not in aligned:
        return redirect(_competencies_url(achievement.id), 303)  # a second click changes nothing
    in_rule = {uuid.UUID(i) for i in detail.award_rule.get("competencyIds") or []}
    if not adding and chosen in in_rule:
        return _competencies_page(achievement, status=409, error=words().iss_error_in_rule)
    ids = [*aligned, chosen] if adding else [c for c in aligned if c != chosen]
    version = request.form.get("version", "")
    try:
        achievements.update_achievement(
            db.session,
            grants,
            achievement.id,
            {"competency_ids": ids},
            expected_version=int(version) if version.isdigit() else None,
            urls=settings.urls,
            clock=settings.clock,
        )
    except InvalidInput:  # an unknown competency id
        db.session.rollback()
        return _competencies_page(achievement, status=422, error=words().iss_error_competency)
    except Conflict:
        db.session.rollback()
        achievement = issuer_admin.managed_achievement(db.session, grants, achievement_id)
        return _competencies_page(achievement, status=409, error=words().iss_stale)
    db.session.commit()
    return redirect(_competencies_url(achievement.id, "ajoutee" if adding else "retiree"), 303)


def _competencies_url(achievement_id: uuid.UUID, done: str | None = None) -> str:
    q = (request.form.get("q") or "").strip()[:200]
    return f"/emetteur/badges/{achievement_id}/competences" + lang_query(q=q, fait=done)


@bp.post("/emetteur/badges/<uuid:achievement_id>/competences/ajouter")
@signed_in
def competency_add(achievement_id: uuid.UUID) -> BaseResponse:
    """Align the badge template to one more competency; back to the search."""
    return _change_alignments(achievement_id, adding=True)


@bp.post("/emetteur/badges/<uuid:achievement_id>/competences/retirer")
@signed_in
def competency_remove(achievement_id: uuid.UUID) -> BaseResponse:
    """Take a competency off the badge template (not one its award rule counts)."""
    return _change_alignments(achievement_id, adding=False)


# --- the award rule ---------------------------------------------------------------------------------------------------


def _rule_page(achievement: Any, form: Form | None = None, *, status: int = 200, **context: Any) -> Response:
    grants, urls = who.grants(), runtime().issuing.urls
    detail = achievements.detail(db.session, achievement, urls)
    aligned = _aligned_ids(detail)
    return _render(
        "web/issuer/rule.html",
        status=status,
        achievement=achievement,
        detail=detail,
        issuer=issuer_admin.managed_issuer(db.session, grants, achievement.issuer_id),
        form=form or rule_values(detail, achievement.lock_version),
        aligned=aligned,
        places=_places(aligned),
        levels=DEFAULT_SCALE.levels,
        **context,
    )


@bp.route("/emetteur/badges/<uuid:achievement_id>/regle", methods=["GET", "POST"])
@signed_in
def rule(achievement_id: uuid.UUID) -> BaseResponse:
    """Build the award rule: all of / at least k of the chosen competencies, minimum level and hours, mode."""
    grants, settings = who.grants(), runtime().issuing
    achievement = issuer_admin.managed_achievement(db.session, grants, achievement_id)
    if request.method == "GET":
        return _rule_page(achievement)
    detail = achievements.detail(db.session, achievement, settings.urls)
    form = read_rule([str(c) for c in _aligned_ids(detail)])
    if form.errors:
        return _rule_page(achievement, form, status=422)
    stale = _save_achievement(achievement.id, form)
    if stale is not None:
        return _rule_page(stale, form, status=409, stale=True)
    return _after(f"/emetteur/badges/{achievement.id}", "regle")
