"""CSRF protection of every form: a token in each form, checked before any view of an unsafe method.

The token is an HMAC, under the app's secret key, of what only this browser holds: its server
session's token hash when signed in, else a random value in the ``blason_csrf`` cookie
(``HttpOnly``, ``SameSite=Lax``) given with the first form. Another site can neither read it nor
compute it. Templates write ``{{ csrf_field() }}`` inside every ``<form method="post">``. A POST,
PUT, PATCH or DELETE outside the JSON API (``/api/``, bearer tokens, no cookie) without a valid
token is refused with a 400 page, before its view runs. No state is kept for it in Flask's cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import Flask, current_app, g, request
from markupsafe import Markup
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from app.db import SAFE_METHODS
from app.runtime import runtime
from app.web import pages, session_cookie
from app.web.i18n import Words, current_lang

COOKIE = "blason_csrf"
FIELD = "csrf_token"


def _sign(kind: str, value: str) -> str:
    key = runtime().settings.secret_key.encode()
    return hmac.new(key, f"csrf:{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def _visitor_id() -> str:
    """This browser's random CSRF value: the cookie's, or a new one sent back with the response."""
    value = g.get("csrf_visitor") or request.cookies.get(COOKIE)
    if not value:
        value = g.csrf_new_visitor = secrets.token_urlsafe(24)
    g.csrf_visitor = value
    return value


def token() -> str:
    """The token the forms of this page carry."""
    signed_in = session_cookie.current()
    if signed_in is not None:
        return _sign("session", signed_in.token_hash)
    return _sign("visitor", _visitor_id())


def field() -> Markup:
    """The hidden input every form carries (Markup.format escapes its arguments)."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(FIELD, token())


def _valid(sent: str) -> bool:
    expected = []
    signed_in = session_cookie.current()
    if signed_in is not None:
        expected.append(_sign("session", signed_in.token_hash))
    visitor = request.cookies.get(COOKIE)
    if visitor:  # a form shown before sign-in (another tab) is still this browser's
        expected.append(_sign("visitor", visitor))
    return any(hmac.compare_digest(sent, candidate) for candidate in expected)


def _check() -> Response | None:
    if request.method in SAFE_METHODS or request.path.startswith(session_cookie.API_PREFIX):
        return None
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "bearer_only", False):  # OAuth and VC-API endpoints: a bearer token, never a cookie
        return None
    # A view that reads large forms says how much (the /verify form): the check reads the form first.
    limit = getattr(view, "max_form_memory_size", None)
    if limit is not None:
        request.max_form_memory_size = limit
    try:
        sent = request.form.get(FIELD, "")
    except RequestEntityTooLarge:
        g.csrf_form_too_large = True  # refused anyway: the view answers it with its own 413 page
        return None
    if sent and _valid(sent):
        return None
    t = Words(current_lang())
    return pages.render_page("web/refused.html", status=400, title=t.csrf_title, message=t.csrf_message)


def raise_if_form_too_large() -> None:
    """For a view answering too large a form itself: the refusal the check met reading it first."""
    if g.get("csrf_form_too_large"):
        raise RequestEntityTooLarge()


def _after(response: Response) -> Response:
    new = g.get("csrf_new_visitor")
    if new:
        response.set_cookie(
            COOKIE, new, path="/", httponly=True, samesite="Lax", secure=runtime().settings.env != "development"
        )
    return response


def register(app: Flask) -> None:
    app.before_request(_check)
    app.after_request(_after)
    app.jinja_env.globals["csrf_field"] = field
