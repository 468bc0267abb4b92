"""Coordinator pages: people of the territory (search, a person's page, invitation, assisted accounts
and their facilitators, roles).

URLs under ``/personnes``. ``/personnes`` finds people of the coordinator's territories by name or
e-mail (accents and case ignored; a plain GET form, paged). A person's page shows their roles there,
projects, contributions and facilitators, with forms to give or withdraw a role (after a confirmation
page), name a facilitator and send the invitation again. ``/personnes/inviter`` creates an account
with an e-mail and a role, and e-mails its invitation once committed; ``/personnes/compte-accompagne``
creates an account without e-mail for someone a facilitator (the coordinator, or a tutor or
coordinator of the territory) then acts for on ``/agir-pour``. Every page calls
:mod:`app.services.identity.directory` with the caller's grants, which refuses anyone without a
territory to coordinate (403) and answers people outside it as missing (404).
"""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, redirect, request
from werkzeug.wrappers import Response

from app.db import db
from app.mailing import send_after_commit
from app.platform.errors import Conflict, InvalidInput
from app.runtime import runtime
from app.services.identity import access, account_links, directory
from app.web import signed_in as who
from app.web.i18n import LANGS, Words, current_lang
from app.web.pages import render_page
from app.web.request_args import page_number, pages_count, read_uuid
from app.web.signed_in import signed_in

bp = Blueprint("pages_people", __name__)

PER_PAGE = 20
MAX_NAME = 200
MAX_EMAIL = 320
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
# What ``?fait=`` confirms on a person's page after a form.
DONE = ("role_given", "role_removed", "invited", "invitation_sent", "assisted", "facilitator")


def _words() -> Words:
    return Words(current_lang())


def _lang(sep: str = "?") -> str:
    """Keep a language asked for in the address across a redirect."""
    asked = request.args.get("lang")
    return f"{sep}lang={asked}" if asked in LANGS else ""


def _page(template: str, *, status: int = 200, **context: Any) -> Response:
    response = render_page(template, status=status, **context)
    response.headers["Cache-Control"] = "private, no-store"  # people's names and addresses
    return response


def _to_person(person_id: uuid.UUID, done: str) -> Response:
    return redirect(f"/personnes/{person_id}?fait={done}" + _lang("&"), 303)


# --- /personnes: search ------------------------------------------------------------------------------


@bp.get("/personnes")
@signed_in
def index() -> Response:
    """The people of the coordinator's territories whose name or e-mail matches, by name, paged."""
    grants = who.grants()
    territories = directory.coordinated_territories(db.session, grants)
    q = request.args.get("q", "").strip()[:MAX_NAME]
    territory = read_uuid(request.args.get("territoire"))
    territory = territory if any(each.id == territory for each in territories) else None
    found = directory.search_people(
        db.session, grants, q=q, territory_id=territory, page=page_number(), per_page=PER_PAGE
    )

    def query(**more: Any) -> str:
        pairs = [("q", q), ("territoire", str(territory or "")), *((k, str(v)) for k, v in more.items())]
        if request.args.get("lang") in LANGS:
            pairs.append(("lang", request.args["lang"]))
        kept = [(k, v) for k, v in pairs if v]
        return "?" + urlencode(kept) if kept else ""

    done = request.args.get("fait")
    return _page(
        "web/people/index.html",
        done=done if done == "role_removed_last" else None,
        found=found,
        search=q,
        territories=territories,
        territory=territory,
        pages_count=pages_count(found.total, PER_PAGE),
        query=query,
    )


# --- a person's page ---------------------------------------------------------------------------------


def _person_page(
    person_id: uuid.UUID, *, status: int = 200, errors: dict[str, str] | None = None, **context: Any
) -> Response:
    grants = who.grants()
    sheet = directory.person_sheet(db.session, grants, person_id, clock=runtime().clock)
    me = who.person_id()
    return _page(
        "web/people/person.html",
        status=status,
        sheet=sheet,
        places=directory.places(db.session, grants),
        facilitators=directory.facilitator_choices(db.session, grants) if sheet.assisted else [],
        facilitates=any(f.id == me for f in sheet.facilitators),
        can_act=sheet.assisted and access.may_act_for(db.session, me, sheet.person.id),
        viewer_id=me,
        errors=errors or {},
        **context,
    )


@bp.get("/personnes/<uuid:person_id>")
@signed_in
def person(person_id: uuid.UUID) -> Response:
    """A person of the territory: roles, projects, contributions, facilitators, invitation; the forms."""
    done = request.args.get("fait")
    return _person_page(person_id, done=done if done in DONE else None)


@bp.post("/personnes/<uuid:person_id>/roles")
@signed_in
def give_role(person_id: uuid.UUID) -> Response:
    """Give the person a role in a project or the territory."""
    choice = request.form.get("role", "")
    try:
        directory.give_role(db.session, who.grants(), person_id, choice)
    except (InvalidInput, Conflict) as refused:
        db.session.rollback()
        key = "ppl_error_role_held" if isinstance(refused, Conflict) else "ppl_error_role"
        return _person_page(person_id, status=422, errors={"role": _words()(key)}, chosen=choice)
    db.session.commit()
    return _to_person(person_id, "role_given")


@bp.get("/personnes/<uuid:person_id>/roles/<uuid:membership_id>/retirer")
@signed_in
def confirm_removal(person_id: uuid.UUID, membership_id: uuid.UUID) -> Response:
    """Ask before withdrawing a role: what it does, and the button."""
    grants = who.grants()
    line = directory.role_to_remove(db.session, grants, person_id, membership_id)
    sheet = directory.person_sheet(db.session, grants, person_id, clock=runtime().clock)
    yourself = person_id == who.person_id() and line.role == "coordinator"
    return _page("web/people/remove.html", sheet=sheet, line=line, yourself=yourself, last=len(sheet.roles) == 1)


@bp.post("/personnes/<uuid:person_id>/roles/<uuid:membership_id>/retirer")
@signed_in
def remove_role(person_id: uuid.UUID, membership_id: uuid.UUID) -> Response:
    """Withdraw the role; back on the person's page, or on the list when it was their last role here."""
    directory.remove_role(db.session, who.grants(), person_id, membership_id)
    db.session.commit()
    now = access.member_grants(db.session, who.person_id())  # one may have withdrawn one's own role
    if not now.coordinator_of:
        return redirect("/" + _lang(), 303)
    if not directory.in_scope(db.session, now, person_id):
        return redirect("/personnes?fait=role_removed_last" + _lang("&"), 303)
    return _to_person(person_id, "role_removed")


@bp.post("/personnes/<uuid:person_id>/invitation")
@signed_in
def resend_invitation(person_id: uuid.UUID) -> Response:
    """E-mail the person a new invitation (the earlier link stops working)."""
    try:
        messages = directory.resend_invitation(db.session, who.grants(), person_id, links=_links())
    except Conflict:
        db.session.rollback()
        return _person_page(person_id, status=409, invitation_refused=True)
    send_after_commit(messages)
    db.session.commit()
    return _to_person(person_id, "invitation_sent")


@bp.post("/personnes/<uuid:person_id>/facilitateurs")
@signed_in
def name_facilitator(person_id: uuid.UUID) -> Response:
    """Let oneself or a tutor or coordinator of the territory act for this assisted person."""
    chosen = request.form.get("facilitateur", "")
    facilitator = directory.ME if chosen == directory.ME else read_uuid(chosen)
    try:
        directory.name_facilitator(db.session, who.grants(), person_id, facilitator)
    except InvalidInput:
        db.session.rollback()
        errors = {"facilitateur": _words().ppl_error_facilitator}
        return _person_page(person_id, status=422, errors=errors, chosen_facilitator=chosen)
    db.session.commit()
    return _to_person(person_id, "facilitator")


def _links() -> account_links.LinkSettings:
    rt = runtime()
    return account_links.LinkSettings(base_url=rt.settings.public_base_url, clock=rt.clock)


# --- /personnes/inviter -----------------------------------------------------------------------------


def _name_error(name: str) -> str | None:
    t = _words()
    if not name:
        return t.ppl_error_name
    return t.get("ppl_error_too_long", n=MAX_NAME) if len(name) > MAX_NAME else None


def _invite_page(form: dict[str, str], errors: dict[str, str] | None = None, status: int = 200) -> Response:
    places = directory.places(db.session, who.grants())
    return _page("web/people/invite.html", status=status, form=form, errors=errors or {}, places=places)


@bp.route("/personnes/inviter", methods=["GET", "POST"])
@signed_in
def invite() -> Response:
    """Create an account with an e-mail and a role; the invitation goes once it is saved."""
    if request.method == "GET":
        return _invite_page({"role": request.args.get("role", "")})
    form = {k: request.form.get(k, "").strip() for k in ("nom", "email", "role")}
    t = _words()
    errors: dict[str, str] = {}
    name_error = _name_error(form["nom"])
    if name_error:
        errors["nom"] = name_error
    if not form["email"]:
        errors["email"] = t.ppl_error_email_missing
    elif len(form["email"]) > MAX_EMAIL or not EMAIL.match(form["email"]):
        errors["email"] = t.ppl_error_email_invalid
    if directory.parse_role_choice(form["role"]) is None:
        errors["role"] = t.ppl_error_role
    if errors:
        return _invite_page(form, errors, 422)
    data = {"display_name": form["nom"], "email": form["email"], "role": form["role"]}
    try:
        person, messages = directory.invite_person(
            db.session, who.grants(), data, passwords=runtime().passwords, links=_links()
        )
    except Conflict:  # an account already uses this e-mail
        db.session.rollback()
        return _invite_page(form, {"email": t.ppl_error_email_used}, 422)
    send_after_commit(messages)
    db.session.commit()
    return _to_person(person.id, "invited")


# --- /personnes/compte-accompagne ----------------------------------------------------------------------


def _assisted_page(form: dict[str, str], errors: dict[str, str] | None = None, status: int = 200) -> Response:
    grants = who.grants()
    return _page(
        "web/people/assisted.html",
        status=status,
        form=form,
        errors=errors or {},
        places=directory.places(db.session, grants),
        facilitators=directory.facilitator_choices(db.session, grants),
    )


@bp.route("/personnes/compte-accompagne", methods=["GET", "POST"])
@signed_in
def assisted() -> Response:
    """Create an account without e-mail for a person of a project, and choose who acts for them."""
    if request.method == "GET":
        return _assisted_page({"projet": request.args.get("projet", ""), "facilitateur": directory.ME})
    form = {k: request.form.get(k, "").strip() for k in ("nom", "projet", "facilitateur")}
    t = _words()
    errors: dict[str, str] = {}
    name_error = _name_error(form["nom"])
    if name_error:
        errors["nom"] = name_error
    project = read_uuid(form["projet"])
    if project is None:
        errors["projet"] = t.ppl_error_project
    facilitator = directory.ME if form["facilitateur"] in ("", directory.ME) else read_uuid(form["facilitateur"])
    if facilitator is None:
        errors["facilitateur"] = t.ppl_error_facilitator
    if errors:
        return _assisted_page(form, errors, 422)
    data = {"display_name": form["nom"], "project_id": project, "facilitator": facilitator}
    try:
        person = directory.create_assisted(
            db.session, who.grants(), data, passwords=runtime().passwords, clock=runtime().clock
        )
    except InvalidInput:  # the person named takes part in none of the project's places
        db.session.rollback()
        return _assisted_page(form, {"facilitateur": t.ppl_error_facilitator}, 422)
    db.session.commit()
    return _to_person(person.id, "assisted")
