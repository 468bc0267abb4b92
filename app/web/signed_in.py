"""Pages for a signed-in person: :func:`signed_in` guards them, :func:`grants` says who acts.

A page under :func:`signed_in` sends a visitor (or a person whose session has ended) to
``/connexion?next=<this page>``, and back here after signing in. Its view reads the caller's
grants, the same :class:`~app.services.identity.access.Grants` the API builds, through
:func:`grants`: when a facilitator acts for an assisted learner (the session's ``acting_for_id``,
chosen on ``/agir-pour``), they are the learner's grants, recorded as the facilitator's acts, as
the API's ``X-Act-For`` does. Every template gets ``viewer``: the signed-in person's name, the
learner acted for, and the menu by role.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlencode

from flask import Flask, g, redirect, request
from werkzeug.wrappers import Response

from app.db import db
from app.services.identity import access, web_sessions
from app.web import session_cookie

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Viewer:
    """Who the page is shown to, for the layout: name, learner acted for, menu entries."""

    name: str
    acting_for: str | None
    menu: tuple[tuple[str, str], ...]  # (message key, path)


def signin_url(target: str) -> str:
    return "/connexion?" + urlencode({"next": target})


def signed_in(view: F) -> F:
    """Only for a signed-in person: others go to the sign-in page, then back here."""

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        current = session_cookie.current()
        if current is None:
            # A form sent after the session ended goes back to the page it came from.
            target = request.full_path if request.method == "GET" else (_referring_path() or "/")
            return redirect(signin_url(target.rstrip("?")), 303)
        g.grants = _grants_of(current)
        return view(*args, **kwargs)

    return cast(F, guarded)


def _grants_of(current: web_sessions.Current) -> access.Grants:
    """The grants of this request's session: the learner's, checked when the session was resolved,
    while acting for one; else the person's own (resolving found them active a moment ago)."""
    return current.grants or access.member_grants(db.session, current.person_id)


def _referring_path() -> str | None:
    ref = request.referrer or ""
    root = request.host_url.rstrip("/")
    if ref.startswith(root + "/"):
        return ref[len(root) :]
    return None


def grants() -> access.Grants:
    """The grants of the person acting on this page (set by :func:`signed_in`)."""
    found: access.Grants | None = g.get("grants")
    if found is None:
        raise RuntimeError("grants() outside a @signed_in page")
    return found


def person_id() -> uuid.UUID:
    """The signed-in person (the facilitator, when acting for someone)."""
    current = session_cookie.current()
    assert current is not None
    return current.person_id


def acting_for_id() -> uuid.UUID | None:
    current = session_cookie.current()
    return current.acting_for_id if current else None


def menu_of(held: access.Grants, facilitates: bool) -> tuple[tuple[str, str], ...]:
    """The menu entries of a person, by role (the learner's when acting for one)."""
    entries: list[tuple[str, str]] = [("nav_home", "/")]
    if held.learner_in or held.actor.acting_for:
        entries += [("nav_contributions", "/mes-contributions"), ("nav_skills", "/mes-competences")]
        entries += [("nav_badges", "/mes-badges"), ("nav_data", "/mes-donnees")]
    if held.tutor_of and not held.actor.acting_for:
        entries.append(("nav_to_review", "/a-valider"))
    if (held.coordinator_of or held.platform_admin) and not held.actor.acting_for:
        entries.append(("nav_dashboard", "/tableau-de-bord"))
    if held.coordinator_of and not held.actor.acting_for:
        entries += [("nav_territory", "/territoire"), ("nav_people", "/personnes")]
    if held.issuer_admin_of and not held.actor.acting_for:
        entries.append(("nav_issuer", "/emetteur"))
    if held.jury_officer_for and not held.actor.acting_for:
        entries.append(("nav_jury", "/jury"))
    if held.platform_admin and not held.actor.acting_for:
        entries.append(("nav_admin", "/administration"))
    if facilitates and not held.actor.acting_for:
        entries.append(("nav_act_for", "/agir-pour"))
    return tuple(entries)


def _viewer() -> dict[str, Any]:
    current = session_cookie.current()
    if current is None:
        return {"viewer": None}
    held: access.Grants | None = g.get("grants")
    if held is None:  # a page not under @signed_in (home, an error page)
        held = _grants_of(current)
    # The names and whether the person facilitates anyone came with the session: no query here.
    return {"viewer": Viewer(current.display_name, current.acting_for_name, menu_of(held, current.facilitates))}


def _acting_ended() -> Response | None:
    """The facilitation ended while its facilitator acted for the learner: say so, rather than fail."""
    current = session_cookie.current()
    if current is None or not current.acting_ended or request.endpoint == "account.signout":
        return None
    return redirect(ACTING_ENDED_URL, 303)


ACTING_ENDED_URL = "/agir-pour?fin=retrait"


def register(app: Flask) -> None:
    app.context_processor(_viewer)
    app.before_request(_acting_ended)
