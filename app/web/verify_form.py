"""``/verify``: a page where anyone checks a badge — ours or another issuer's — without an account.

One form: a file (a baked PNG or SVG image, or a JSON or JWT file) or a text (a badge pasted as
JSON or JWT, or the address of an Open Badges 2.0 assertion or of a credential), and optionally
the recipient's e-mail address or DID. The answer is the same page with the verdict, the badge's
name and issuer as the document states them, and every check in the reader's language. The work
is ``POST /api/v1/verify``'s (``app.services.verification``): the same limits, the same guarded
fetching of foreign documents, the same rate limit (shared with the API). Results are never
cached; bad input is answered on the page with a 4xx status, never a 500.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, request
from werkzeug.wrappers import Response as BaseResponse

import badges
from app.db import db, reads_only
from app.runtime import runtime
from app.services.verification import verification
from app.platform.errors import InvalidInput, PayloadTooLarge, ServiceError, UnsupportedMediaType
from app.web.public import now, render_page, urls, words
from badges.baking import MAX_IMAGE_BYTES

bp = Blueprint("verify_form", __name__)

MAX_TEXT_CHARS = 256 * 1024
TONES = {"genuine": "ok", "suspended": "warn", "expired": "warn", "not_yet_valid": "warn", "status_unknown": "warn",
         "unreachable": "warn"}


def verify_fetcher() -> Any:
    """The only way foreign documents are fetched: no private addresses, timeouts, size caps."""
    return badges.GuardedFetcher()


def _page(status: int = 200, **context: Any) -> BaseResponse:
    response = render_page("public/verify.html", max_age=0, status=status, **context)
    response.headers["Cache-Control"] = "no-store"  # a result is about what this visitor sent
    response.headers.pop("ETag", None)
    return response


@bp.get("/verify")
def form() -> BaseResponse:
    """The empty form."""
    return _page()


@bp.post("/verify")
@reads_only
def check() -> BaseResponse:
    """Verify what was sent and show the verdict (or what was wrong with the request)."""
    t = words()
    recipient = (request.form.get("recipient") or "").strip()[:320] or None
    wait = runtime().verify_limiter.take(request.remote_addr or "-")
    if wait is not None:
        response = _page(429, error=t.verify_rate_limited, recipient=recipient)
        response.headers["Retry-After"] = str(max(1, int(wait + 0.999)))
        return response
    try:
        submission = _submission(recipient)
        outcome = verification.verify_submission(db.session, submission, urls=urls(), fetcher=verify_fetcher(),
                                                 now=now())
    except _Refused as refused:
        return _page(refused.status, error=refused.message, recipient=recipient,
                     text=(request.form.get("badge") or "")[:MAX_TEXT_CHARS])
    except ServiceError as exc:
        return _page(_status(exc), error=_explain(exc), recipient=recipient,
                     text=(request.form.get("badge") or "")[:MAX_TEXT_CHARS])
    return _page(result=_result(outcome), recipient=recipient)


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def _submission(recipient: str | None) -> verification.Submission:
    t = words()
    upload = request.files.get("file")
    text = (request.form.get("badge") or "").strip()
    if upload is not None:
        limit = min(runtime().settings.max_upload_bytes, MAX_IMAGE_BYTES)
        content = upload.stream.read(limit + 1)
        if not content:  # the browser sends an empty part when no file was chosen
            upload = None
        elif len(content) > limit:
            raise _Refused(413, t.get("verify_too_large", size=f"{limit / 1024 / 1024:.0f}"))
        elif text:
            raise _Refused(422, t.verify_one_input)
        else:
            return verification.Submission(file=content, recipient=recipient)
    if not text:
        raise _Refused(422, t.verify_nothing)
    if len(text) > MAX_TEXT_CHARS:
        raise _Refused(413, t.get("verify_text_too_long", size=str(MAX_TEXT_CHARS // 1024)))
    if text.startswith(("https://", "http://")):
        return verification.Submission(url=text, recipient=recipient)
    credential = verification.parse_text_credential(text)
    verification.check_depth(credential, "#/badge")
    return verification.Submission(credential=credential, recipient=recipient)


def _status(exc: ServiceError) -> int:
    if isinstance(exc, PayloadTooLarge):
        return 413
    if isinstance(exc, UnsupportedMediaType):
        return 415
    return 422 if isinstance(exc, InvalidInput) else 400


def _explain(exc: ServiceError) -> str:
    t = words()
    if isinstance(exc, UnsupportedMediaType):
        return t.verify_unsupported
    if t.lang == "en":
        return exc.detail
    if any(error.pointer == "#/url" for error in exc.errors):
        return t.verify_bad_url
    return t.verify_unreadable


def _result(outcome: verification.Outcome) -> dict[str, Any]:
    """What the page shows: verdict, the badge as its document names it, the checks, our page."""
    t = words()
    document = outcome.report.credential or {}
    name, issuer, valid_from, valid_until = _describe(document)
    verdict = outcome.verdict
    status = outcome.status
    reason = status.reason if status is not None and (status.revoked or status.suspended) else None
    when = valid_until if verdict == "expired" else valid_from
    return {
        "verdict": verdict, "tone": TONES.get(verdict, "bad"), "name": name, "issuer": issuer,
        "more": t.get(f"verdict_{verdict}_more", issuer=issuer or t.verify_the_issuer, date=_date(when)),
        "reason": reason, "format": outcome.report.format, "checks": outcome.report.checks,
        "page": urls().credential(outcome.credential_id) if outcome.credential_id else None,
        "checked_at": t.date(now()),
    }


def _describe(document: dict[str, Any]) -> tuple[str | None, str | None, str | None, str | None]:
    """Name, issuer name and validity dates as an OB 3.0 or OB 2.0 document states them."""
    subject = document.get("credentialSubject")
    achievement = subject.get("achievement") if isinstance(subject, dict) else None
    badge = achievement if isinstance(achievement, dict) else document.get("badge")
    issuer = document.get("issuer")
    if not isinstance(issuer, dict) and isinstance(badge, dict):
        issuer = badge.get("issuer")  # OB 2.0: the issuer hangs off the badge class
    return (_text(badge.get("name")) if isinstance(badge, dict) else None,
            _text(issuer.get("name")) if isinstance(issuer, dict) else None,
            _text(document.get("validFrom") or document.get("issuanceDate") or document.get("issuedOn")),
            _text(document.get("validUntil") or document.get("expirationDate") or document.get("expires")))


def _text(value: Any) -> str | None:
    return value[:500] if isinstance(value, str) and value.strip() else None


def _date(value: str | None) -> str:
    if not value:
        return ""
    try:
        return words().date(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return value
