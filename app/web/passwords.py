"""Choosing a password from an e-mailed link: ``/invitation/<token>``, ``/mot-de-passe-oublie``, ``/mot-de-passe/<token>``.

Asking for a reset answers the same whether the address has an account or not, throttled like
signing in (per address and per e-mail). A link that is unknown, used or expired gets one page,
*Ce lien n'est plus valable*, with the way to ask for a new one. Choosing the password hashes it
outside the write transaction (as signing in does), ends the person's other sessions and signs
this browser in. The tokens are in the path, which the access log redacts (:mod:`app.access_log`).
"""

from __future__ import annotations

from flask import Blueprint, redirect, request
from werkzeug.exceptions import TooManyRequests
from werkzeug.wrappers import Response

from app.db import db, reads_only, start_writing
from app.mailing import send_after_commit
from app.runtime import runtime
from app.services.identity import account_links, web_sessions
from app.web import pages, session_cookie
from app.web.i18n import Words, current_lang

bp = Blueprint("pages_passwords", __name__)

FORGOT = "/mot-de-passe-oublie"
TEMPLATES = {account_links.INVITATION: "web/passwords/invitation.html", account_links.RESET: "web/passwords/reset.html"}


def link_settings() -> account_links.LinkSettings:
    rt = runtime()
    return account_links.LinkSettings(base_url=rt.settings.public_base_url, clock=rt.clock)


def _lang_query() -> str:
    return "?lang=en" if current_lang() == "en" else ""


def _page(template: str, status: int = 200, **context: object) -> Response:
    response = pages.render_page(
        template,
        status=status,
        lang_query=_lang_query(),
        min_length=account_links.PASSWORD_MIN_LENGTH,
        reset_minutes=int(account_links.RESET_TTL.total_seconds() // 60),
        **context,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _throttled(template: str, wait: int, **context: object) -> Response:
    response = _page(template, 429, errors={"form": Words(current_lang()).pw_throttled}, **context)
    response.headers["Retry-After"] = str(wait)
    return response


@bp.get(FORGOT)
def forgot_form() -> Response:
    """The form asking for a reset link (or, after it, the answer that does not say whether the account exists)."""
    return _page("web/passwords/forgot.html", sent=request.args.get("envoye") == "1")


@bp.post(FORGOT)
def forgot() -> Response:
    """Send a reset link to the account the address names, if there is one; answer the same either way."""
    t = Words(current_lang())
    email = request.form.get("email", "").strip()
    if not email or "@" not in email:
        error = t.pw_email_missing if not email else t.pw_email_invalid
        return _page("web/passwords/forgot.html", 422, errors={"email": error}, email=email)
    wait = runtime().login_limits.take(email, request.remote_addr or "-")
    if wait is not None:
        return _throttled("web/passwords/forgot.html", wait, email=email)
    send_after_commit(account_links.request_reset(db.session, email, settings=link_settings()))
    db.session.commit()
    return redirect(FORGOT + ("?envoye=1&lang=en" if current_lang() == "en" else "?envoye=1"), 303)


def _show(token: str, purpose: account_links.LinkPurpose) -> Response:
    person = account_links.lookup(db.session, token, purpose, clock=runtime().clock)
    if person is None:
        return _page("web/passwords/invalid.html", 404, purpose=purpose.value)
    return _page(TEMPLATES[purpose], person=person, token=token)


def _choose(token: str, purpose: account_links.LinkPurpose) -> Response:
    """Check the link and the new password, save it, and sign this browser in."""
    rt, t = runtime(), Words(current_lang())
    wait = rt.login_limits.address.take(request.remote_addr or "-")
    if wait is not None:  # before anything is looked up or hashed; answered by the 429 page
        raise TooManyRequests(retry_after=wait)
    person = account_links.lookup(db.session, token, purpose, clock=rt.clock)
    if person is None:
        return _page("web/passwords/invalid.html", 404, purpose=purpose.value)
    password, repeated = request.form.get("password", ""), request.form.get("repeated", "")
    problems = account_links.password_problems(password, repeated)
    if problems:
        errors = {f: t.get(f"pw_{f}_{code}", min=account_links.PASSWORD_MIN_LENGTH) for f, code in problems.items()}
        return _page(TEMPLATES[purpose], 422, person=person, token=token, errors=errors)
    chosen = account_links.new_password(password, repeated, passwords=rt.passwords)
    start_writing(db.session)  # the hash is done: only now take the write lock
    person = account_links.use(db.session, token, purpose, chosen, settings=link_settings())
    session_token = web_sessions.start(
        db.session, person.id, replacing=session_cookie.token(), settings=rt.web_sessions
    )
    db.session.commit()
    response = redirect("/", 303)
    session_cookie.set_cookie(response, session_token)
    return response


@bp.get("/invitation/<token>")
def invitation_form(token: str) -> Response:
    """Welcome an invited person: choose the password of the new account."""
    return _show(token, account_links.INVITATION)


@bp.post("/invitation/<token>")
@reads_only  # the password is hashed outside the write transaction, which opens only to save it
def invitation(token: str) -> Response:
    """Save the invited person's first password and sign them in."""
    return _choose(token, account_links.INVITATION)


@bp.get("/mot-de-passe/<token>")
def reset_form(token: str) -> Response:
    """Choose a new password from a reset link."""
    return _show(token, account_links.RESET)


@bp.post("/mot-de-passe/<token>")
@reads_only  # the password is hashed outside the write transaction, which opens only to save it
def reset(token: str) -> Response:
    """Save the new password, end the person's other sessions and sign this browser in."""
    return _choose(token, account_links.RESET)
