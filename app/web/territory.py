"""Coordinator pages: the territory, its projects (social functions, tutors), review rules and scale.

URLs under ``/territoire``. A coordinator of several territories chooses one with a plain GET form
(``?territoire=<id>``, as on ``/tableau-de-bord``); platform administrators may open any. The pages
call the same services as ``/api/v1/territories``, ``/api/v1/projects`` and their review rules; an
edit sends back the version the page showed, so a change made meanwhile by someone else is explained
(409) with what was typed kept. Who coordinates nothing meets the 403 page; another territory's
projects are missing (404). Forms are read in :mod:`app.web.territory_forms`.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, redirect, request
from werkzeug.wrappers import Response

from app.db import db
from app.platform.errors import Conflict, InvalidInput, NotFound
from app.runtime import runtime
from app.services.recognition import scales
from app.services.territories import coordination, territories
from app.web import pages, signed_in as who, territory_forms as forms
from app.web.i18n import Words, current_lang
from app.web.request_args import lang_query, page_number, pages_count
from app.web.signed_in import signed_in
from schemas.vocab import ExperimentationLevels, ProjectStatuses, SocialFunctions

bp = Blueprint("pages_territory", __name__)

PER_PAGE = 20
STATES = {"ouverts": ("planned", "active"), "termines": ("completed", "archived")}
DONE = ("territoire", "projet", "modifie", "cloture", "tuteur", "retrait", "regles", "deja")


def _uuid(value: str | None) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound("Territory not found.") from None


def _territory() -> tuple[Any, list[coordination.TerritoryChoice]]:
    """The territory asked in ``territoire`` (address or form), else the first one coordinated."""
    grants = who.grants()
    choices = coordination.coordinated_territories(db.session, grants)
    asked = _uuid(request.values.get("territoire"))
    if asked is None:
        if not choices:
            raise NotFound("No territory to coordinate.")
        asked = choices[0].id
    return coordination.territory_to_manage(db.session, grants, asked), choices


def _done() -> str | None:
    value = request.args.get("fait")
    return value if value in DONE else None


def _render(template: str, *, status: int = 200, **context: Any) -> Response:
    response = pages.render_page(
        template,
        status=status,
        q=lang_query,
        done=_done(),
        functions=SocialFunctions,
        levels=ExperimentationLevels,
        statuses=ProjectStatuses,
        **context,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- the territory ---------------------------------------------------------------------------------


def _territory_page(territory: Any, choices: Any, form: forms.Form, *, status: int = 200, **more: Any) -> Response:
    return _render(
        "web/territory/show.html",
        status=status,
        territory=territory,
        choices=choices,
        form=form,
        errors=form.errors,
        **more,
    )


@bp.get("/territoire")
@signed_in
def show() -> Response:
    """The territory coordinated: its description, level of experimentation and codes, to edit."""
    territory, choices = _territory()
    return _territory_page(territory, choices, forms.territory_values(territory))


@bp.post("/territoire")
@signed_in
def edit_territory() -> Response:
    """Save the territory from the version the page showed."""
    territory, choices = _territory()
    form = forms.read_territory(request.form)
    if form.errors:
        return _territory_page(territory, choices, form, status=422)
    try:
        territories.update_territory(
            db.session, who.grants(), territory.id, form.data, expected_version=forms.version_of(form.values)
        )
    except Conflict:
        db.session.rollback()
        territory, choices = _territory()
        form.values["version"] = str(territory.version)  # saving again replaces the other change, knowingly
        return _territory_page(territory, choices, form, status=409, stale=True)
    db.session.commit()
    return redirect("/territoire" + lang_query(territoire=territory.id, fait="territoire"), 303)


# --- projects --------------------------------------------------------------------------------------


@bp.get("/territoire/projets")
@signed_in
def projects() -> Response:
    """The territory's projects, open and closed, by title, twenty a page; filtered by state."""
    territory, choices = _territory()
    state = request.args.get("etat") if request.args.get("etat") in STATES else None
    found = coordination.territory_projects(
        db.session, who.grants(), territory.id, statuses=STATES.get(state or ""), page=page_number(), per_page=PER_PAGE
    )
    return _render(
        "web/territory/projects.html",
        territory=territory,
        choices=choices,
        result=found,
        state=state,
        pages_count=pages_count(found.total, PER_PAGE),
        closed=coordination.is_closed,
    )


def _project_form_page(
    territory: Any, form: forms.Form, *, project: Any = None, status: int = 200, **more: Any
) -> Response:
    grants = who.grants()
    search = request.args.get("chercher", "").strip()[:200] if project else ""
    return _render(
        "web/territory/project.html",
        status=status,
        territory=territory,
        project=project,
        form=form,
        errors=form.errors,
        tutors=coordination.project_tutors(db.session, grants, project.id) if project else [],
        search=search,
        candidates=coordination.tutor_candidates(db.session, grants, project.id, q=search) if search else [],
        closed=coordination.is_closed(project) if project else False,
        **more,
    )


@bp.route("/territoire/projets/nouveau", methods=["GET", "POST"])
@signed_in
def new_project() -> Response:
    """Create a project: title, description, social functions, period."""
    territory, _choices = _territory()
    if request.method == "GET":
        return _project_form_page(territory, forms.new_project_values())
    form = forms.read_project(request.form, with_status=False)
    if form.errors:
        return _project_form_page(territory, form, status=422)
    created = territories.create_project(db.session, who.grants(), {"territory_id": territory.id, **form.data})
    db.session.commit()
    return redirect(f"/territoire/projets/{created.id}" + lang_query(fait="projet"), 303)


@bp.get("/territoire/projets/<uuid:project_id>")
@signed_in
def project(project_id: uuid.UUID) -> Response:
    """A project to edit, with its tutors (add a person of the territory, remove)."""
    found = coordination.project_to_manage(db.session, who.grants(), project_id)
    return _project_form_page(found.territory, forms.project_values(found), project=found)


@bp.post("/territoire/projets/<uuid:project_id>")
@signed_in
def edit_project(project_id: uuid.UUID) -> Response:
    """Save the project from the version the page showed."""
    grants = who.grants()
    found = coordination.project_to_manage(db.session, grants, project_id)
    form = forms.read_project(request.form, with_status=True)
    if form.errors:
        return _project_form_page(found.territory, form, project=found, status=422)
    try:
        territories.update_project(
            db.session, grants, found.id, form.data, expected_version=forms.version_of(form.values)
        )
    except Conflict:
        db.session.rollback()
        found = coordination.project_to_manage(db.session, grants, project_id)
        form.values["version"] = str(found.version)
        return _project_form_page(found.territory, form, project=found, status=409, stale=True)
    db.session.commit()
    return redirect(f"/territoire/projets/{found.id}" + lang_query(fait="modifie"), 303)


@bp.route("/territoire/projets/<uuid:project_id>/cloture", methods=["GET", "POST"])
@signed_in
def close(project_id: uuid.UUID) -> Response:
    """Closing a project: what it does, then the button that does it (from the version shown)."""
    grants = who.grants()
    found = coordination.project_to_manage(db.session, grants, project_id)
    if coordination.is_closed(found):  # closed already (a second click): nothing to do
        return redirect(f"/territoire/projets/{found.id}" + lang_query(), 303)
    if request.method == "GET":
        return _render("web/territory/close.html", project=found)
    version = forms.version_of(request.form)
    try:
        coordination.close_project(
            db.session, grants, found.id, expected_version=version, today=runtime().clock().date()
        )
    except Conflict:
        db.session.rollback()
        found = coordination.project_to_manage(db.session, grants, project_id)
        return _render("web/territory/close.html", status=409, project=found, stale=True)
    db.session.commit()
    return redirect(f"/territoire/projets/{found.id}" + lang_query(fait="cloture"), 303)


@bp.post("/territoire/projets/<uuid:project_id>/tuteurs")
@signed_in
def add_tutor(project_id: uuid.UUID) -> Response:
    """Name the person chosen among the search's results tutor of the project."""
    grants = who.grants()
    found = coordination.project_to_manage(db.session, grants, project_id)
    chosen = request.form.get("personne", "")
    person_id = uuid.UUID(chosen) if _is_uuid(chosen) else None
    if person_id is None:
        return _tutor_refused(found, Words(current_lang()).terr_error_tutor_missing)
    try:
        coordination.add_tutor(db.session, grants, found.id, person_id)
    except InvalidInput:
        db.session.rollback()
        return _tutor_refused(found, Words(current_lang()).terr_error_tutor_unknown)
    except Conflict:  # named meanwhile (a second click): nothing to add
        db.session.rollback()
        return redirect(f"/territoire/projets/{found.id}" + lang_query(fait="deja") + "#tuteurs", 303)
    db.session.commit()
    return redirect(f"/territoire/projets/{found.id}" + lang_query(fait="tuteur") + "#tuteurs", 303)


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _tutor_refused(project: Any, message: str) -> Response:
    return _project_form_page(
        project.territory, forms.project_values(project), project=project, status=422, tutor_error=message
    )


@bp.post("/territoire/projets/<uuid:project_id>/tuteurs/<uuid:person_id>/retrait")
@signed_in
def remove_tutor(project_id: uuid.UUID, person_id: uuid.UUID) -> Response:
    """Withdraw a person from the project's tutors (their past reviews stay)."""
    coordination.remove_tutor(db.session, who.grants(), project_id, person_id)
    db.session.commit()
    return redirect(f"/territoire/projets/{project_id}" + lang_query(fait="retrait") + "#tuteurs", 303)


# --- review rules and rating scale -----------------------------------------------------------------


def _rules_page(territory: Any, choices: Any, form: forms.Form, *, status: int = 200) -> Response:
    rules = scales.get_territory_rules(db.session, who.grants(), territory.id)
    return _render(
        "web/territory/rules.html",
        status=status,
        territory=territory,
        choices=choices,
        rules=rules,
        form=form,
        errors=form.errors,
        is_default=rules.scale.id is None,
    )


@bp.get("/territoire/regles")
@signed_in
def rules() -> Response:
    """The territory's review rules: a second tutor's review or not, and its rating scale."""
    territory, choices = _territory()
    current = scales.get_territory_rules(db.session, who.grants(), territory.id)
    return _rules_page(territory, choices, forms.rules_values(current))


@bp.post("/territoire/regles")
@signed_in
def edit_rules() -> Response:
    """Save the rules; ``echelle=defaut`` goes back to Blason's scale."""
    territory, choices = _territory()
    grants = who.grants()
    if request.form.get("echelle") == "defaut":
        scales.set_territory_rules(db.session, grants, territory.id, {"scale": None})
    else:
        form = forms.read_rules(request.form)
        if form.errors:
            return _rules_page(territory, choices, form, status=422)
        scale = {
            "name": Words(current_lang()).get("terr_scale_name", name=territory.name),
            "levels": form.data["levels"],
        }
        data: dict[str, Any] = {"requires_second_review": form.data["requires_second_review"]}
        current = scales.get_territory_rules(db.session, grants, territory.id).scale
        if forms.levels_changed(current, form.data["levels"]):  # a new scale only when it changed
            data["scale"] = scale
        try:
            scales.set_territory_rules(db.session, grants, territory.id, data)
        except InvalidInput:  # codes sent twice (the page never does): the rows as typed, with the reason
            db.session.rollback()
            form.errors["niveaux"] = Words(current_lang()).terr_error_level_twice
            return _rules_page(territory, choices, form, status=422)
    db.session.commit()
    return redirect("/territoire/regles" + lang_query(territoire=territory.id, fait="regles"), 303)
