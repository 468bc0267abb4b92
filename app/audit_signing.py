"""Signs the audit chain's head now and then, after requests, with the platform key.

Checked after every request whose own work is already committed (its session holds no open
transaction): signing commits, and must never commit what a failed or read-only request left in
the session. Two indexed reads when nothing is due; a failure is logged, never the client's.
"""
from __future__ import annotations

import logging

from flask import Flask, Response, current_app

from app.db import db
from app.runtime import runtime
from app.services.identity.audit_heads import sign_head_if_due

log = logging.getLogger(__name__)


def register(app: Flask) -> None:
    app.after_request(_sign_head_if_due)


def _sign_head_if_due(response: Response) -> Response:
    if not db.registry.registry.has() or db.registry().in_transaction():
        return response
    settings = current_app.config["BLASON"]
    if not settings["AUDIT_SIGN_EVERY_EVENTS"] and not settings["AUDIT_SIGN_EVERY_MINUTES"]:
        return response
    rt = runtime()
    try:
        head = sign_head_if_due(db.session, rt.platform_key, every_events=settings["AUDIT_SIGN_EVERY_EVENTS"],
                                every_minutes=settings["AUDIT_SIGN_EVERY_MINUTES"], clock=rt.clock)
        # Commit even when nothing was signed: a rollback would expire the objects the request
        # loaded, which its response (or a test) may still read.
        db.session.commit()
        if head is not None:
            log.info("audit head signed at event %d", head.seq)
    except Exception:  # the request succeeded; the next one will try again
        db.session.rollback()
        log.exception("signing the audit head failed")
    return response
