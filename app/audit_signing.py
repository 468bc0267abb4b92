"""Signs the audit chain's head now and then, after requests, with the platform key.

Checked after every request whose own work is already committed (its session holds no open
transaction): signing commits, and must never commit what a failed or read-only request left in
the session. Two indexed reads when nothing is due; a failure is logged, never the client's.
"""

from __future__ import annotations

import logging

from flask import Flask, Response

from app.db import db
from app.runtime import runtime
from app.services.identity.audit_heads import sign_head_if_due

log = logging.getLogger(__name__)


def register(app: Flask) -> None:
    app.after_request(_sign_head_if_due)


def _sign_head_if_due(response: Response) -> Response:
    if not db.registry.registry.has() or db.registry().in_transaction():
        return response
    rt = runtime()
    settings = rt.settings
    if not settings.audit_sign_every_events and not settings.audit_sign_every_minutes:
        return response
    try:
        head = sign_head_if_due(
            db.session,
            rt.platform_key,
            every_events=settings.audit_sign_every_events,
            every_minutes=settings.audit_sign_every_minutes,
            clock=rt.clock,
        )
        # Commit even when nothing was signed: a rollback would expire the objects the request
        # loaded, which its response (or a test) may still read.
        db.session.commit()
        if head is not None:
            log.info("audit head signed at event %d", head.seq)
    except Exception:  # the request succeeded; the next one will try again
        db.session.rollback()
        log.exception("signing the audit head failed")
    return response
