"""Signed-in pages in tests: a browser session opened for a person without going through the form."""

from __future__ import annotations

import html
import re
from typing import Any

from app.db import database_of
from app.runtime import runtime
from app.services.identity import web_sessions
from app.web.session_cookie import COOKIE


def sign_in_as(client: Any, app: Any, person: Any, act_for: Any = None) -> str:
    """Give ``client`` a web session of ``person`` (acting for ``act_for``), as signing in would."""
    session = database_of(app).session
    settings = runtime(app).web_sessions
    token = web_sessions.start(session, person.id, replacing=None, settings=settings)
    if act_for is not None:
        current = web_sessions.resolve(session, token, settings=settings)
        assert current is not None
        web_sessions.act_for(session, current, act_for.id)
    session.commit()
    client.set_cookie(COOKIE, token)
    return token


def page_text(response: Any) -> str:
    """The words of a page (its style and scripts left out), tags removed, entities read, spaces collapsed."""
    body = re.sub(r"<(style|script)\b.*?</\1>", " ", response.get_data(as_text=True), flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body)))
