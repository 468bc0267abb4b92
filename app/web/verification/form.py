"""``/verify``: a page where anyone checks a badge — ours or another issuer's — without an account.

One form: a file (a baked PNG or SVG image, or a JSON or JWT file) or a text (a badge pasted as
JSON or JWT, or the address of an Open Badges 2.0 assertion or of a credential), and optionally
the recipient's e-mail address or DID. The answer is the same page with the verdict, the badge's
name and issuer as the document states them, and every check in the reader's language. The work
is ``POST /api/v1/verify``'s, through the same intake (``app.services.verification.intake``): the
same limits, upload reading, guarded fetching of foreign documents, rate limit (one window shared
with the API) and statuses (``app.problems``). Results are never cached; bad input is answered on
the page with a 4xx status and a message beside the field, never a 500.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response as BaseResponse

from app.db import db, reads_only
from app.platform.errors import PayloadTooLarge, ServiceError, UnsupportedMediaType
from app.problems import status_of
from app.runtime import runtime
from app.services.verification import intake, verification
from app.services.verification.intake import verify_fetcher
from app.web import csrf
from app.web.verification.public import now, render_page, urls, words

bp = Blueprint("verify_form", __name__)

TONES = {
    "genuine": "ok",
    "suspended": "warn",
    "expired": "warn",
    "not_yet_valid": "warn",
    "status_unknown": "warn",
    "unreachable": "warn",
}


def _page(status: int = 200, **context: Any) -> BaseResponse:
    response = render_page("public/verify.html", max_age=0, status=status, **context)
    response.headers["Cache-Control"] = "no-store"  # a result is about what this visitor sent
    response.headers.pop("ETag", None)
    return response


@bp.get("/verify")
def form() -> BaseResponse:
    """The empty form."""
    return _page()


# The text field may carry a whole credential: past Flask's 500 kB default, up to the intake's limit.
FORM_MEMORY = intake.MAX_CREDENTIAL_BYTES + 64 * 1024


@bp.post("/verify")
@reads_only
def check() -> BaseResponse:
    """Verify what was sent and show the verdict (or what was wrong with the request)."""
    t = words()
    request.max_form_memory_size = FORM_MEMORY
    try:
        csrf.raise_if_form_too_large()
        recipient, text = intake.recipient_of(request.form.get("recipient")), request.form.get("badge") or ""
    except RequestEntityTooLarge:  # past even that, or past the request limit: refused before the intake
        field = "file" if (request.content_length or 0) > (request.max_content_length or 0) else "badge"
        return _page(413, error=_too_large(field), field=field)
    wait = intake.spend(runtime().verify_limiter, request.remote_addr)
    if wait is not None:
        response = _page(429, error=t.verify_rate_limited, recipient=recipient)
        response.headers["Retry-After"] = str(wait)
        return response
    try:
        outcome = verification.verify_submission(
            db.session, _submission(text, recipient), urls=urls(), fetcher=verify_fetcher(), now=now()
        )
    except _Refused as refused:
        return _page(
            refused.status,
            error=refused.message,
            field=refused.field,
            recipient=recipient,
            text=text[: intake.MAX_CREDENTIAL_BYTES],
        )
    except ServiceError as exc:
        return _page(
            status_of(exc),
            error=_explain(exc),
            field=_field(exc),
            recipient=recipient,
            text=text[: intake.MAX_CREDENTIAL_BYTES],
        )
    return _page(result=_result(outcome), recipient=recipient)


class _Refused(Exception):
    def __init__(self, status: int, message: str, field: str) -> None:
        super().__init__(message)
        self.status, self.message, self.field = status, message, field


def _submission(text: str, recipient: str | None) -> verification.Submission:
    """Which of the two inputs was used (a file or a text), read by the shared intake."""
    t = words()
    upload = request.files.get("file")
    content = b""
    if upload is not None:  # the browser sends an empty part when no file was chosen
        content = intake.read_upload(upload.stream, intake.upload_limit(runtime().settings.max_upload_bytes))
    if content and text.strip():
        raise _Refused(422, t.verify_one_input, "badge")
    if content:
        return intake.from_file(content, recipient)
    if not text.strip():
        raise _Refused(422, t.verify_nothing, "file")
    return intake.from_text(text, recipient, pointer="#/badge")


def _field(exc: ServiceError) -> str:
    """The field the message stands beside: the one the error names, else the input that was used."""
    pointers = {error.pointer for error in exc.errors}
    if "#/file" in pointers or isinstance(exc, UnsupportedMediaType):
        return "file"
    if pointers & {"#/badge", "#/url"}:
        return "badge"
    upload = request.files.get("file")
    return "file" if upload is not None and upload.filename else "badge"


def _explain(exc: ServiceError) -> str:
    t = words()
    pointers = {error.pointer for error in exc.errors}
    if isinstance(exc, PayloadTooLarge) and pointers & {"#/file", "#/badge"}:
        return _too_large("file" if "#/file" in pointers else "badge")
    if isinstance(exc, UnsupportedMediaType):
        return t.verify_unsupported
    if t.lang == "en":
        return exc.detail
    if "#/url" in pointers:
        return t.verify_bad_url
    return t.verify_unreadable


check.max_form_memory_size = FORM_MEMORY  # type: ignore[attr-defined]  # read by the CSRF check first


def _too_large(field: str) -> str:
    t = words()
    if field == "file":
        limit = intake.upload_limit(runtime().settings.max_upload_bytes)
        return t.get("verify_too_large", size=f"{limit / 1024 / 1024:.0f}")
    return t.get("verify_text_too_long", size=str(intake.MAX_CREDENTIAL_BYTES // 1024))


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
        "verdict": verdict,
        "tone": TONES.get(verdict, "bad"),
        "name": name,
        "issuer": issuer,
        "more": t.get(f"verdict_{verdict}_more", issuer=issuer or t.verify_the_issuer, date=_date(when)),
        "reason": reason,
        "format": outcome.report.format,
        "checks": outcome.report.checks,
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
    return (
        _text(badge.get("name")) if isinstance(badge, dict) else None,
        _text(issuer.get("name")) if isinstance(issuer, dict) else None,
        _text(document.get("validFrom") or document.get("issuanceDate") or document.get("issuedOn")),
        _text(document.get("validUntil") or document.get("expirationDate") or document.get("expires")),
    )


def _text(value: Any) -> str | None:
    return value[:500] if isinstance(value, str) and value.strip() else None


def _date(value: str | None) -> str:
    if not value:
        return ""
    try:
        return words().date(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return value
