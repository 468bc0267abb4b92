"""The pages' server-side session: its cookie, read before every page request, and who is signed in.

The cookie ``blason_session`` carries only a random token (``HttpOnly``, ``SameSite=Lax``,
``Secure`` outside development); the session itself lives in ``web_sessions``
(:mod:`app.services.identity.web_sessions`). Flask's own cookie session is never used. The
session is resolved (and touched) in a short unit of work of its own, before the view's, so a
page that only reads still keeps its reader signed in; an ended session clears the cookie.
The JSON API (bearer tokens) never reads this cookie.
"""

from __future__ import annotations

import uuid

from flask import Flask, current_app, g, request
from werkzeug.wrappers import Response

from app.db import database_of
from app.runtime import runtime
from app.services.identity import web_sessions

COOKIE = "blason_session"
API_PREFIX = "/api/"


def current() -> web_sessions.Current | None:
    """The signed-in session of this request, if any."""
    return g.get("web_session")


def current_person_id() -> uuid.UUID | None:
    found = current()
    return found.person_id if found else None


def token() -> str | None:
    """The token the browser sent (valid or not)."""
    return request.cookies.get(COOKIE) or None


def _load() -> None:
    g.web_session = None
    sent = token()
    if sent is None or request.path.startswith(API_PREFIX):
        return
    with database_of(current_app).factory() as session:
        g.web_session = web_sessions.resolve(session, sent, settings=runtime().web_sessions)
        session.commit()
    if g.web_session is None:
        g.clear_session_cookie = True


def set_cookie(response: Response, value: str) -> None:
    """Hand the browser its new session token (valid for the session's absolute lifetime at most)."""
    rt = runtime()
    response.set_cookie(
        COOKIE,
        value,
        max_age=int(rt.web_sessions.lifetime.total_seconds()),
        path="/",
        httponly=True,
        samesite="Lax",
        secure=rt.settings.env != "development",
    )
    g.clear_session_cookie = False


def clear_cookie(response: Response) -> None:
    rt = runtime()
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="Lax", secure=rt.settings.env != "development")


def _after(response: Response) -> Response:
    if g.get("clear_session_cookie"):
        clear_cookie(response)
    if g.get("web_session") or (request.cookies.get(COOKIE) and not request.path.startswith(API_PREFIX)):
        # A page about a signed-in person is theirs alone: never stored by a shared cache.
        if "private" not in response.headers.get("Cache-Control", ""):  # a view may let the browser keep its own copy
            response.headers["Cache-Control"] = "no-store"
        response.vary.add("Cookie")
    return response


def register(app: Flask) -> None:
    app.before_request(_load)
    app.after_request(_after)
