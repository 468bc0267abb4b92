"""Getting in: the home page (``/``), signing in (``/connexion``) and out (``/deconnexion``).

Signing in hashes the password outside the write transaction, as ``POST /api/v1/auth/login``
does, through the same throttle (per account and per address, checked before hashing) and the
same audit; the message is the same whether the account exists or not.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, redirect, request
from werkzeug.wrappers import Response

from app.db import db, reads_only, start_writing
from app.runtime import runtime
from app.services import recognition
from app.services.dossiers import jury
from app.services.identity import access, auth, people, web_sessions
from app.web import pages, session_cookie
from app.web.i18n import Words, current_lang
from app.web.signed_in import person_id as signed_in_person_id, signed_in

bp = Blueprint("account", __name__)


@bp.get("/")
def home() -> Response:
    """A visitor: what Blason is; a signed-in person: their home."""
    person_id = session_cookie.current_person_id()
    if person_id is None:
        return pages.render_page("web/home.html")
    current = session_cookie.current()
    grants = access.load_grants(db.session, person_id, current.acting_for_id if current else None)
    me = people.get_me(db.session, access.load_grants(db.session, person_id))
    return pages.render_page("web/home.html", person=me.person, roles=_roles(grants), todo=_todo(grants))


def _todo(grants: access.Grants) -> list[tuple[str, int | None, str]]:
    """What waits for the person, by role: (message key, count or None, where to act)."""
    todo: list[tuple[str, int | None, str]] = []
    if grants.coordinator_of and not grants.actor.acting_for:
        todo.append(("home_todo_dashboard", None, "/tableau-de-bord"))  # the page a coordinator opens first
        todo.append(("home_todo_territory", None, "/territoire"))
        todo.append(("home_todo_people", None, "/personnes"))
    if grants.tutor_of and not grants.actor.acting_for:
        waiting = recognition.review_queue(db.session, grants, per_page=1).total
        todo.append(("home_todo_review_" + _one_or_many(waiting), waiting, "/a-valider"))
    if grants.learner_in or grants.actor.acting_for:
        mine = recognition.list_claims(
            db.session, grants, learner_id=grants.person_id, status="needs_evidence", per_page=1
        ).total
        if mine:
            todo.append(("home_todo_complete_" + _one_or_many(mine), mine, "/mes-contributions"))
        asked = jury.awaiting_consent(db.session, grants)  # dossiers a jury officer asked: answered on Mes données
        if asked:
            todo.insert(0, ("jury_home_consent_" + _one_or_many(asked), asked, "/mes-donnees"))
        todo.append(("home_todo_record", None, "/mes-contributions"))
        todo.append(("home_todo_badges", None, "/mes-badges"))
    if not grants.actor.acting_for and access.facilitates_anyone(db.session, grants.person_id):
        todo.append(("home_todo_act_for", None, "/agir-pour"))
    if grants.issuer_admin_of and not grants.actor.acting_for:
        todo.append(("home_todo_issuer", None, "/emetteur"))
    if grants.jury_officer_for and not grants.actor.acting_for:
        todo.append(("home_todo_jury", None, "/jury"))
    if grants.platform_admin and not grants.actor.acting_for:
        todo.append(("home_todo_admin", None, "/administration"))
    return todo


def _one_or_many(n: int) -> str:
    return "none" if n == 0 else "one" if n == 1 else "many"


def _roles(grants: access.Grants) -> list[str]:
    """The person's roles, as message keys, in the order they matter to them."""
    held = [
        ("role_learner", grants.learner_in),
        ("role_tutor", grants.tutor_of),
        ("role_coordinator", grants.coordinator_of),
        ("role_issuer_admin", grants.issuer_admin_of),
        ("role_jury_officer", grants.jury_officer_for),
    ]
    return [key for key, scopes in held if scopes] + (["role_platform_admin"] if grants.platform_admin else [])


def local_target(value: str | None) -> str:
    """Where to go after signing in: a path of this site only, else the home page."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in value):
        return "/"
    return value


def _form(status: int = 200, **context: object) -> Response:
    response = pages.render_page(
        "web/signin.html", status=status, next=local_target(request.values.get("next")), **context
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/connexion")
def signin_form() -> Response:
    """The sign-in form."""
    return _form()


@bp.post("/connexion")
@reads_only  # the password is hashed outside the write transaction, which opens only to record
def signin() -> Response:
    """Check the e-mail and password; open a new session and go where the person was going."""
    t = Words(current_lang())
    email, password = request.form.get("email", "").strip(), request.form.get("password", "")
    errors = {k: t.get(f"signin_{k}_missing") for k, v in (("email", email), ("password", password)) if not v}
    if errors:
        return _form(422, errors=errors, email=email)
    wait = runtime().login_limits.take(email, request.remote_addr or "-")
    if wait is not None:
        response = _form(429, errors={"form": t.signin_throttled}, email=email)
        response.headers["Retry-After"] = str(wait)
        return response
    rt = runtime()
    check = auth.check_password(db.session, email, password, passwords=rt.passwords)
    start_writing(db.session)
    token = web_sessions.sign_in(db.session, check, replacing=session_cookie.token(), settings=rt.web_sessions)
    db.session.commit()
    if token is None:
        return _form(401, errors={"password": t.signin_wrong}, email=email)
    response = redirect(local_target(request.form.get("next")), 303)
    session_cookie.set_cookie(response, token)
    return response


@bp.post("/deconnexion")
def signout() -> Response:
    """End this browser's session and go back to the home page."""
    sent = session_cookie.token()
    if sent:
        web_sessions.end(db.session, sent)
        db.session.commit()
    response = redirect("/", 303)
    session_cookie.clear_cookie(response)
    return response


@bp.post("/langue")
@signed_in
def choose_language() -> Response:
    """Keep the signed-in person's language (pages and e-mails), then go back to the page they were on."""
    lang = request.form.get("lang", "")
    people.set_locale(db.session, signed_in_person_id(), lang)
    db.session.commit()
    return redirect(local_target(request.form.get("next")), 303)
