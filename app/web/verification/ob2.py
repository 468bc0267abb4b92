"""Open Badges 2.0 documents: issuer profile, hosted assertion (410 once withdrawn), badge class, key, revocation list.

OB 2.0 consumers send ``Accept: application/ld+json, application/json`` or ``*/*`` and get JSON;
a browser opening a hosted assertion is sent to the badge's verification page.
"""

from __future__ import annotations

import uuid

from flask import Blueprint, redirect
from werkzeug.wrappers import Response as BaseResponse

from app.db import db
from app.services.verification import public_docs
from app.web.verification.public import (
    MEDIUM,
    SHORT,
    cacheable,
    json_response,
    missing,
    render_page,
    urls,
    wants_html,
    words,
)

bp = Blueprint("ob2", __name__, url_prefix="/ob2")


def _answer(url: str, title: str, *, max_age: int) -> BaseResponse:
    """The document our resolver gives for ``url``, as JSON or as a readable page."""
    answer = public_docs.resolve(db.session, urls(), url)
    if answer is None:
        return missing("No Open Badges 2.0 document has this id.")
    status, document = answer
    if not wants_html():
        return json_response(document, status=status, max_age=max_age)
    return render_page("public/document.html", title=title, document=document, status=status, max_age=max_age)


@bp.get("/issuers/<uuid:issuer_id>")
def issuer(issuer_id: uuid.UUID) -> BaseResponse:
    return _answer(urls().ob2_issuer(issuer_id), words().ob2_issuer, max_age=MEDIUM)


@bp.get("/issuers/<uuid:issuer_id>/revocations")
def revocations(issuer_id: uuid.UUID) -> BaseResponse:
    return _answer(urls().ob2_revocations(issuer_id), words().ob2_revocations, max_age=SHORT)


@bp.get("/badgeclasses/<uuid:version_id>")
def badgeclass(version_id: uuid.UUID) -> BaseResponse:
    return _answer(urls().ob2_badgeclass(version_id), words().ob2_badgeclass, max_age=MEDIUM)


@bp.get("/keys/<kid>")
def key(kid: str) -> BaseResponse:
    return _answer(urls().ob2_key(kid), words().ob2_key, max_age=MEDIUM)


@bp.get("/assertions/<uuid:credential_id>")
def assertion(credential_id: uuid.UUID) -> BaseResponse:
    """The hosted assertion: 200, or 410 Gone with ``revoked`` and ``revocationReason``."""
    answer = public_docs.resolve(db.session, urls(), urls().ob2_assertion(credential_id))
    if answer is None:
        return missing("No Open Badges 2.0 assertion has this id.")
    if wants_html():
        return cacheable(redirect(urls().credential(credential_id), 303), SHORT, etag=False)
    status, document = answer
    return json_response(document, status=status, max_age=SHORT)
