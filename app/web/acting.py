"""Pages: a facilitator acts for an assisted learner (``/agir-pour``), then comes back to their own account.

``GET /agir-pour`` lists the assisted learners the signed-in person may act for today, each with a
button *Agir pour Marcel Dubreuil* (``POST /agir-pour/<learner_id>``). The service checks the
facilitation (anyone else gets the 404 page: who is assisted is not told), the browser's session
then acts for the learner and the start is audited with both ids. Every page after that gets the
learner's grants (:mod:`app.web.signed_in`), so every action is recorded as the facilitator's on
the learner's behalf, and the layout shows a banner with ``POST /agir-pour/fin`` to stop.
"""

from __future__ import annotations

import uuid

from flask import Blueprint, redirect, request
from werkzeug.wrappers import Response

from app.db import db
from app.runtime import runtime
from app.services.identity import access, web_sessions
from app.web import pages, session_cookie
from app.web.signed_in import acting_for_id, person_id, signed_in

bp = Blueprint("pages_acting", __name__)

# What ``?fin=`` says on the list: the facilitator stopped, or the facilitation ended meanwhile.
ENDED = {"ok": "acting_stopped_notice", "retrait": "acting_ended_notice"}


@bp.get("/agir-pour")
@signed_in
def choose() -> Response:
    """The assisted learners the signed-in person may act for, each with its button."""
    learners = access.assisted_learners(db.session, person_id())
    notice = ENDED.get(request.args.get("fin", ""))
    return pages.render_page("web/acting/choose.html", learners=learners, acting=acting_for_id(), notice=notice)


@bp.post("/agir-pour/<uuid:learner_id>")
@signed_in
def start(learner_id: uuid.UUID) -> Response:
    """Act for this learner in this browser, then open their contributions."""
    current = session_cookie.current()
    assert current is not None  # @signed_in
    web_sessions.start_acting(db.session, current, learner_id, clock=runtime().web_sessions.clock)
    db.session.commit()
    return redirect("/mes-contributions" + _lang(), 303)


@bp.post("/agir-pour/fin")
@signed_in
def stop() -> Response:
    """Come back to one's own account."""
    current = session_cookie.current()
    assert current is not None  # @signed_in
    web_sessions.stop_acting(db.session, current, clock=runtime().web_sessions.clock)
    db.session.commit()
    return redirect("/agir-pour?fin=ok" + _lang("&"), 303)


def _lang(sep: str = "?") -> str:
    """Keep an English reader's ``?lang=en`` across the redirect."""
    return f"{sep}lang=en" if request.args.get("lang") == "en" else ""
