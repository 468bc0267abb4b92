"""Issuer administrator pages: the approval queue, a manual award, and the credentials issued
(search, filter by state, revoke, suspend, unsuspend). Bulk award from a CSV file is in
:mod:`app.web.awards_bulk`, on this blueprint.

URLs ``/emetteur/<issuer>/a-approuver``, ``/attribuer``, ``/badges-emis`` (``/envois``: bulk). Each
page calls the services the API calls (``POST /credentials/<id>/approve`` and the others), with
the caller's grants, and the same e-mails once committed. Without an issuer to administer: the 403
page; another issuer's pages: the 404 page.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode, urlsplit

from babel.numbers import format_decimal
from flask import Blueprint, redirect, request
from werkzeug.wrappers import Response

from app.db import db
from app.mailing import send_after_commit
from app.platform.errors import Conflict, InvalidInput, NotFound
from app.runtime import runtime
from app.services.issuing import awarding, badge_mail, issuer_desk, oid4vci_copies, revocation
from app.web import pages, signed_in as who
from app.web.i18n import LANGS, Words, current_lang
from app.web.request_args import page_number, pages_count, read_uuid
from app.web.signed_in import signed_in

bp = Blueprint("pages_awards", __name__)

PER_PAGE = 20
REASON_MAX = 2000
TEXT_MAX = 5000


def words() -> Words:
    return Words(current_lang())


def number(n: int) -> str:
    return str(format_decimal(n, locale=current_lang()))


def query(**values: Any) -> str:
    """A query string of these values (empty ones left out) and the language asked, with its ``?``."""
    pairs = [(k, str(v)) for k, v in values.items() if v not in (None, "")]
    if request.args.get("lang") in LANGS:
        pairs.append(("lang", str(request.args["lang"])))
    return "?" + urlencode(pairs) if pairs else ""


def render(template: str, issuer: Any, *, status: int = 200, **context: Any) -> Response:
    response = pages.render_page(
        template, status=status, issuer=issuer, base=f"/emetteur/{issuer.id}", query=query, num=number, **context
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def clock() -> Any:
    return runtime().clock()


# --- the approval queue -------------------------------------------------------------------------------


def _queue(issuer_id: uuid.UUID, *, status: int = 200, **context: Any) -> Response:
    grants = who.grants()
    issuer = issuer_desk.issuer_for_pages(db.session, grants, issuer_id)
    result = issuer_desk.approval_queue(
        db.session, grants, issuer_id, page=page_number(values=request.values), per_page=PER_PAGE, now=clock()
    )
    return render(
        "web/awards/queue.html",
        issuer,
        status=status,
        result=result,
        pages_count=pages_count(result.total, PER_PAGE),
        errors=context.pop("errors", {}),
        form=context.pop("form", {}),
        **context,
    )


@bp.get("/emetteur/<uuid:issuer_id>/a-approuver")
@signed_in
def approval_queue(issuer_id: uuid.UUID) -> Response:
    """The awards waiting for approval: who, which badge, what the rule found; approve or decline."""
    done = request.args.get("fait")
    return _queue(issuer_id, done=done if done in ("approved", "declined") else None)


@bp.post("/emetteur/<uuid:issuer_id>/a-approuver")
@signed_in
def decide(issuer_id: uuid.UUID) -> Response:
    """Approve a proposal (issued in every format, the holder told), or decline it with a reason."""
    form = {k: request.form.get(k, "").strip() for k in ("proposition", "action", "motif")}
    credential_id = read_uuid(form["proposition"])
    if credential_id is None:
        raise NotFound("Proposal not found.")
    grants, settings = who.grants(), runtime().issuing
    issuer_desk.credential_of_issuer(db.session, grants, issuer_id, credential_id)
    t = words()
    if form["action"] not in ("approve", "decline"):
        return _queue(issuer_id, status=422, errors={f"motif-{credential_id}": t.awd_error_action}, form=form)
    if form["action"] == "decline" and not form["motif"]:
        return _queue(issuer_id, status=422, errors={f"motif-{credential_id}": t.awd_error_reason_missing}, form=form)
    if len(form["motif"]) > REASON_MAX:
        errors = {f"motif-{credential_id}": t.get("awd_error_too_long", n=number(REASON_MAX))}
        return _queue(issuer_id, status=422, errors=errors, form=form)
    try:
        if form["action"] == "approve":
            credential = awarding.approve(db.session, grants, credential_id, settings=settings)
            send_after_commit(badge_mail.badges_issued(db.session, [credential.id], settings=settings))
        else:
            awarding.decline(db.session, grants, credential_id, form["motif"], settings=settings)
    except Conflict:  # another administrator decided meanwhile: say so, on the queue as it is now
        db.session.rollback()
        return _queue(issuer_id, status=409, conflict=True)
    db.session.commit()
    done = "approved" if form["action"] == "approve" else "declined"
    return redirect(f"/emetteur/{issuer_id}/a-approuver" + query(fait=done, page=_kept_page()), 303)


def _kept_page() -> int | None:
    """The list's page the form was sent from (a hidden field), to go back to it."""
    page = request.form.get("page", "")
    return int(page) if page.isdigit() and 1 < int(page) <= 1_000_000 else None


# --- a manual award -------------------------------------------------------------------------------------


def _award_page(issuer_id: uuid.UUID, values: Any, *, status: int = 200, **context: Any) -> Response:
    grants = who.grants()
    issuer = issuer_desk.issuer_for_pages(db.session, grants, issuer_id)
    choices = issuer_desk.achievements_to_award(db.session, grants, issuer_id)
    errors: dict[str, str] = context.pop("errors", {})
    t = words()
    achievement_id = read_uuid(values.get("modele"))
    chosen = next((name for a, name in choices if a == achievement_id), None)
    if values.get("modele") and chosen is None and "modele" not in errors:
        errors["modele"] = t.awd_error_achievement
    search = " ".join((values.get("q") or "").split())[:200]
    found = issuer_desk.find_recipients(db.session, grants, issuer_id, search) if search else []
    person = None
    person_id = read_uuid(values.get("personne"))
    if values.get("personne"):
        try:
            person = issuer_desk.recipient(db.session, grants, issuer_id, person_id) if person_id else None
        except NotFound:
            person = None
        if person is None and "personne" not in errors:
            errors["personne"] = t.awd_error_person
    if search and len(search) < 2 and "q" not in errors:
        errors["q"] = t.awd_error_search_short
    if errors and status == 200:
        status = 422
    return render(
        "web/awards/award.html",
        issuer,
        status=status,
        choices=choices,
        achievement_id=achievement_id if chosen else None,
        achievement_name=chosen,
        search=search,
        found=found,
        person=person,
        form={k: values.get(k, "") for k in ("recit", "preuve")},
        errors=errors,
        **context,
    )


@bp.get("/emetteur/<uuid:issuer_id>/attribuer")
@signed_in
def award_form(issuer_id: uuid.UUID) -> Response:
    """Choose the badge, find the person by name or e-mail, then confirm."""
    return _award_page(issuer_id, request.args)


@bp.post("/emetteur/<uuid:issuer_id>/attribuer")
@signed_in
def award(issuer_id: uuid.UUID) -> Response:
    """Issue the badge now in every format (as the API's award), then tell its holder by e-mail."""
    values = {k: request.form.get(k, "").strip() for k in ("modele", "personne", "recit", "preuve")}
    t = words()
    errors = {}
    if not read_uuid(values["modele"]):
        errors["modele"] = t.awd_error_achievement
    if not read_uuid(values["personne"]):
        errors["personne"] = t.awd_error_person
    if values["preuve"] and not _is_web_address(values["preuve"]):
        errors["preuve"] = t.awd_error_link
    if len(values["recit"]) > TEXT_MAX:
        errors["recit"] = t.get("awd_error_too_long", n=number(TEXT_MAX))
    if errors:
        return _award_page(issuer_id, values, status=422, errors=errors)
    grants, settings = who.grants(), runtime().issuing
    achievement_id = read_uuid(values["modele"])
    assert achievement_id is not None
    if achievement_id not in {a for a, _name in issuer_desk.achievements_to_award(db.session, grants, issuer_id)}:
        return _award_page(issuer_id, values, status=422, errors={"modele": t.awd_error_achievement})
    data = {
        "learner_id": read_uuid(values["personne"]),
        "narrative": values["recit"] or None,
        "evidence_url": values["preuve"] or None,
    }
    try:
        credential = awarding.award(db.session, grants, achievement_id, data, settings=settings)
    except Conflict:  # already holds it (or was proposed it): nothing written
        db.session.rollback()
        return _award_page(issuer_id, values, status=409, errors={"personne": t.awd_error_already})
    except InvalidInput:  # out of reach or gone meanwhile: told as an unknown person
        db.session.rollback()
        return _award_page(issuer_id, values, status=422, errors={"personne": t.awd_error_person})
    send_after_commit(badge_mail.badges_issued(db.session, [credential.id], settings=settings))
    db.session.commit()
    return redirect(f"/emetteur/{issuer_id}/badges-emis" + query(emis=credential.id), 303)


def _is_web_address(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and len(value) <= 2000 and " " not in value


# --- the credentials issued -----------------------------------------------------------------------------

ACTIONS = ("revoke", "suspend", "unsuspend")


def _filters(values: Any) -> dict[str, str]:
    state = values.get("etat", "")
    return {"q": " ".join((values.get("q") or "").split())[:200], "etat": state if state in issuer_desk.STATES else ""}


def _issued(issuer_id: uuid.UUID, *, status: int = 200, **context: Any) -> Response:
    grants = who.grants()
    issuer = issuer_desk.issuer_for_pages(db.session, grants, issuer_id)
    filters = _filters(request.values)  # a form sent back (422) keeps the list it was sent from
    result = issuer_desk.issued_credentials(
        db.session,
        grants,
        issuer_id,
        search=filters["q"],
        state=filters["etat"] or None,
        page=page_number(values=request.values),
        per_page=PER_PAGE,
        now=clock(),
    )
    copies = oid4vci_copies.copies_by_credential(db.session, grants, [row.credential.id for row in result.items])
    return render(
        "web/awards/issued.html",
        issuer,
        status=status,
        result=result,
        copies=copies,
        filters=filters,
        filtered=bool(filters["q"] or filters["etat"]),
        states=issuer_desk.STATES,
        pages_count=pages_count(result.total, PER_PAGE),
        errors=context.pop("errors", {}),
        form=context.pop("form", {}),
        **context,
    )


@bp.get("/emetteur/<uuid:issuer_id>/badges-emis")
@signed_in
def issued(issuer_id: uuid.UUID) -> Response:
    """The issuer's badges: search by person or badge, filter by state, revoke, suspend, unsuspend."""
    done = request.args.get("fait")
    return _issued(issuer_id, done=done if done in ACTIONS else None, just_issued=read_uuid(request.args.get("emis")))


@bp.post("/emetteur/<uuid:issuer_id>/badges-emis")
@signed_in
def change_state(issuer_id: uuid.UUID) -> Response:
    """Revoke or suspend with a reason, or unsuspend; the holder is told as the API tells them."""
    form = {k: request.form.get(k, "").strip() for k in ("badge", "action", "motif")}
    credential_id = read_uuid(form["badge"])
    if credential_id is None:
        raise NotFound("Credential not found.")
    grants, settings = who.grants(), runtime().issuing
    issuer_desk.credential_of_issuer(db.session, grants, issuer_id, credential_id)
    t = words()
    field = f"motif-{credential_id}"
    if form["action"] not in ACTIONS:
        return _issued(issuer_id, status=422, errors={field: t.awd_error_action}, form=form)
    if form["action"] != "unsuspend" and not form["motif"]:
        return _issued(issuer_id, status=422, errors={field: t.awd_error_reason_missing}, form=form)
    if len(form["motif"]) > REASON_MAX:
        errors = {field: t.get("awd_error_too_long", n=number(REASON_MAX))}
        return _issued(issuer_id, status=422, errors=errors, form=form)
    action = {"revoke": revocation.revoke, "suspend": revocation.suspend, "unsuspend": revocation.unsuspend}
    try:
        credential = action[form["action"]](db.session, grants, credential_id, form["motif"] or None, settings=settings)
    except Conflict:  # changed meanwhile (already revoked, no longer suspended): the list as it is now
        db.session.rollback()
        return _issued(issuer_id, status=409, conflict=True)
    send_after_commit(badge_mail.badge_status_changed(db.session, credential, settings=settings))
    db.session.commit()
    kept = _filters(request.form)  # the list's search and filter, sent back with the form
    done = query(q=kept["q"], etat=kept["etat"], page=_kept_page(), fait=form["action"])
    return redirect(f"/emetteur/{issuer_id}/badges-emis" + done, 303)


from app.web import awards_bulk  # noqa: E402,F401  - the bulk award pages, on this blueprint
