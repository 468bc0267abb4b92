"""The tutor's pages: *À valider* (the queue of their projects) and a claim's page, where they decide.

The queue is the API's review queue (``GET /api/v1/reviews/queue``), filtered and paged by a plain
GET form; a decision goes through the same service as ``POST /api/v1/claims/<id>/reviews``, with
the claim's version the page showed as its ``If-Match``. When another tutor decided meanwhile, the
page says who decided what and keeps the comment typed; after a decision the next claim opens.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from babel.numbers import format_decimal
from flask import Blueprint, redirect, request
from werkzeug.wrappers import Response

from app.db import db
from app.mailing import award_after_commit, page_links, send_after_commit
from app.platform.errors import Conflict, InvalidInput
from app.runtime import runtime
from app.services.recognition import reviews, tutoring
from app.web import pages, signed_in as who
from app.web.i18n import LANGS, Words, current_lang
from app.web.request_args import page_number, pages_count, read_uuid
from app.web.signed_in import signed_in

bp = Blueprint("pages_tutor", __name__)

PER_PAGE = 20
DECISIONS = ("validated", "needs_evidence", "rejected")
FILTERS = {"projet": "project_id", "apprenant": "learner_id", "referentiel": "framework_id"}
DONE = (*DECISIONS, "first_of_two")  # what the page after a decision confirms


def _filters(values: Any) -> dict[str, uuid.UUID | None]:
    """The queue's filters from a query string or a form (unreadable values are ignored)."""
    return {name: read_uuid(values.get(param)) for param, name in FILTERS.items()}


def _query(filters: dict[str, uuid.UUID | None], **more: Any) -> str:
    """The query string keeping the filters (and ``more``), with its ``?``; empty when there is none."""
    pairs = [(param, str(filters[name])) for param, name in FILTERS.items() if filters.get(name)]
    pairs += [(k, str(v)) for k, v in more.items() if v]
    if request.args.get("lang") in LANGS:  # a language asked in the address stays on the next page
        pairs.append(("lang", str(request.args["lang"])))
    return "?" + urlencode(pairs) if pairs else ""


def _number(n: int | float | Decimal) -> str:
    return str(format_decimal(n, locale=current_lang()))


@bp.get("/a-valider")
@signed_in
def queue() -> Response:
    """The claims waiting for this tutor across their projects, oldest first, filtered and paged."""
    filters = _filters(request.args)
    queue = tutoring.tutor_queue(
        db.session,
        who.grants(),
        project_id=filters["project_id"],
        learner_id=filters["learner_id"],
        framework_id=filters["framework_id"],
        page=page_number(),
        per_page=PER_PAGE,
    )
    done = request.args.get("avis")
    return pages.render_page(
        "web/tutor/queue.html",
        result=queue.page,
        pages_count=pages_count(queue.page.total, PER_PAGE),
        choices=queue.choices,
        filters=filters,
        filtered=any(filters.values()),
        query=lambda **more: _query(filters, **more),
        total=_number(queue.page.total),
        done=done if done in DONE else None,
    )


def _claim_page(
    claim_id: uuid.UUID, *, status: int = 200, form: dict[str, str] | None = None, **context: Any
) -> Response:
    grants = who.grants()
    view = tutoring.claim_to_review(db.session, grants, claim_id)
    filters = _filters(request.values)
    item = view.item
    lang = request.args.get("lang")
    response = pages.render_page(
        "web/tutor/claim.html",
        status=status,
        view=view,
        item=item,
        filters=filters,
        back=_query(filters),
        form=form or {},
        hours=_number(item.contribution.hours) if item.contribution.hours is not None else None,
        why_not=_why_not(item, grants.person_id),
        lang_query="?lang=" + lang if lang in LANGS else "",
        **context,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _why_not(item: Any, me: uuid.UUID) -> str:
    """Why the caller cannot decide on this claim (a message key's end), when they cannot."""
    if item.claim.status.value != "pending":
        return "decided"
    if item.claim.learner_id == me:
        return "own"
    if item.claim.first_reviewer_id == me:
        return "first_reviewer"
    return "other"


@bp.get("/a-valider/<uuid:claim_id>")
@signed_in
def claim(claim_id: uuid.UUID) -> Response:
    """A claim with its contribution, evidence, history and scale, and the form to decide."""
    done = request.args.get("avis")
    return _claim_page(claim_id, done=done if done in DONE else None)


def _form_errors(form: dict[str, str]) -> dict[str, str]:
    t = Words(current_lang())
    errors = {}
    if form["decision"] not in DECISIONS:
        errors["decision"] = t("review_decision_missing")
    elif form["decision"] == "validated" and not form["level"]:
        errors["level"] = t("review_level_missing")
    if not form["comment"].strip():
        errors["comment"] = t("review_comment_missing")
    return errors


@bp.post("/a-valider/<uuid:claim_id>")
@signed_in
def decide(claim_id: uuid.UUID) -> Response:
    """Record the tutor's decision on the version they read; then open the next claim of the queue."""
    form = {k: request.form.get(k, "") for k in ("decision", "level", "comment", "version")}
    errors = _form_errors(form)
    if errors:
        return _claim_page(claim_id, status=422, form=form, errors=errors)
    outcome = _review(claim_id, form)
    if isinstance(outcome, Response):
        return outcome
    filters = _filters(request.form)
    grants = who.grants()
    following = tutoring.next_claim_id(
        db.session,
        grants,
        after=claim_id,
        project_id=filters["project_id"],
        learner_id=filters["learner_id"],
        framework_id=filters["framework_id"],
    )
    done = "first_of_two" if not outcome.value.final else form["decision"]
    send_after_commit(outcome.messages)  # as the API's decision: the e-mails, then what it earned
    award_after_commit()
    db.session.commit()
    target = f"/a-valider/{following}" if following else "/a-valider"
    return redirect(target + _query(filters, avis=done), 303)


def _review(claim_id: uuid.UUID, form: dict[str, str]) -> Any:
    """The review's outcome, or the claim's page again when the decision cannot be taken as sent."""
    data = {
        "decision": form["decision"],
        "comment": form["comment"],
        "level": form["level"] if form["decision"] == "validated" else None,
    }
    version = int(form["version"]) if form["version"].isdigit() else None
    try:
        return reviews.review_claim(
            db.session,
            who.grants(),
            claim_id,
            data,
            expected_version=version,
            clock=runtime().clock,
            links=page_links(),
        )
    except Conflict:
        # Another tutor (or the learner) changed the claim since the page was shown: say what
        # happened, on the claim as it is now, with the comment typed still there.
        db.session.rollback()
        return _claim_page(claim_id, status=409, form=form, conflict=True)
    except InvalidInput:  # a level that is not on the scale (the form offers only its levels)
        db.session.rollback()
        errors = {"level": Words(current_lang())("review_level_missing")}
        return _claim_page(claim_id, status=422, form=form, errors=errors)
