"""RFC 9457 problem+json for every error the service returns, from this one module."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app, json, request
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from app.db import db, is_busy
from app.platform import errors as e
from app.platform.i18n import translator

log = logging.getLogger(__name__)

PageFor = Callable[[int, "dict[str, str] | None"], "Response | None"]
PAGES_KEY = "blason.error_pages"

PROBLEM_BASE = "https://blason.example/problems/"
MEDIA_TYPE = "application/problem+json"
# Titles and fixed details come from the catalogue (problem.*), in English: problem+json is read by
# programs, which tell problems apart by their type; the two details people may meet (busy
# database, concurrent edit) give the French first and the English after it.
API_WORDS = translator("en")

# Service error → (status, type slug, title's message key): the only place a service error gets its
# status, for the API and for the pages that answer it in HTML (status_of). Errors of HTTP itself
# (404 or 405 from routing, unparseable bodies, webargs' 422, 429 from a rate limit, 410 for a
# withdrawn document) keep the status they were raised with; werkzeug's take their slug from HTTP_SLUGS.
SERVICE_ERRORS: dict[type[e.ServiceError], tuple[int, str, str]] = {
    e.InvalidInput: (422, "validation-error", "problem.invalid_body"),
    e.Unauthenticated: (401, "unauthenticated", "problem.unauthenticated"),
    e.PermissionDenied: (403, "forbidden", "problem.forbidden"),
    e.NotFound: (404, "not-found", "problem.not_found"),
    e.Conflict: (409, "conflict", "problem.conflict"),
    e.PreconditionRequired: (428, "precondition-required", "problem.precondition_required"),
    e.PayloadTooLarge: (413, "payload-too-large", "problem.payload_too_large"),
    e.UnsupportedMediaType: (415, "unsupported-media-type", "problem.unsupported_media_type"),
}

HTTP_SLUGS = {
    400: "bad-request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "validation-error",
    428: "precondition-required",
    429: "too-many-requests",
    503: "service-unavailable",
}


def problem(
    status: int,
    slug: str,
    title: str,
    detail: str | None = None,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """Build a problem+json response (an error page instead, for a person's browser: app.web.errors)."""
    page_for: PageFor | None = current_app.extensions.get(PAGES_KEY)
    page = page_for(status, headers) if page_for is not None else None
    if page is not None:
        return page
    body: dict[str, Any] = {"type": PROBLEM_BASE + slug, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body["instance"] = request.path
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body), status=status, mimetype=MEDIA_TYPE)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _mapped(exc: e.ServiceError) -> tuple[int, str, str]:
    for cls in type(exc).__mro__:
        if cls in SERVICE_ERRORS:
            return SERVICE_ERRORS[cls]
    return (
        400,
        "bad-request",
        "problem.bad_request",
    )  # a ServiceError subclass nobody mapped is still the caller's fault


def status_of(exc: e.ServiceError) -> int:
    """The HTTP status of a service error, for pages that answer it in HTML (the same as the API's)."""
    return _mapped(exc)[0]


def _service_error(exc: e.ServiceError) -> Response:
    # Never commits: what a keep_changes refusal recorded was committed by the request's unit of
    # work before this handler runs (app.unit_of_work).
    status, slug, title = _mapped(exc)
    headers = {"WWW-Authenticate": 'Bearer realm="blason"'} if status == 401 else None
    return problem(
        status,
        slug,
        API_WORDS(title),
        exc.detail,
        [{"pointer": f.pointer, "detail": f.detail} for f in exc.errors] or None,
        headers,
    )


def _pointers(messages: Any, prefix: str = "#") -> list[dict[str, str]]:
    """Flatten marshmallow's nested messages into JSON-pointer errors."""
    out: list[dict[str, str]] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            if key == "_schema":
                out.extend(_pointers(value, prefix))
            else:
                out.extend(_pointers(value, f"{prefix}/{key}"))
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        out.extend({"pointer": prefix, "detail": m} for m in messages)
    elif isinstance(messages, list):
        for m in messages:
            out.extend(_pointers(m, prefix))
    else:
        out.append({"pointer": prefix, "detail": str(messages)})
    return out


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages") if isinstance(data, dict) else None
    if status == 422 and messages:
        # webargs wraps messages by location (json, query, files...): keep the field path only.
        errors = []
        for location, fields in messages.items():
            prefix = "#" if location in ("json", "form", "files") else f"#/{location}"
            errors.extend(_pointers(fields, prefix))
        return problem(
            422,
            "validation-error",
            API_WORDS("problem.invalid_request"),
            API_WORDS("problem.invalid_fields", count=len(errors)),
            errors,
        )
    if status == 400 and messages:
        return problem(
            400,
            "bad-request",
            API_WORDS("problem.not_json"),
            API_WORDS("problem.not_json_detail"),
            [{"pointer": "#", "detail": API_WORDS("problem.not_json_field")}],
        )
    description = exc.description if status < 500 else None
    # Keep Allow, WWW-Authenticate, Retry-After…; the body is ours, so its type is too.
    headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
    return problem(status, HTTP_SLUGS.get(status, "http-error"), exc.name, description, headers=headers)


def _unexpected(exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.path)
    return problem(
        500, "internal-error", API_WORDS("problem.internal_error"), API_WORDS("problem.internal_error_detail")
    )


# Seconds a client should wait before retrying when the database was busy (it already waited
# the busy timeout for the lock).
BUSY_RETRY_AFTER = 2


def _database_error(exc: OperationalError) -> Response:
    if not is_busy(exc):
        return _unexpected(exc)
    log.warning("database busy on %s %s: %s", request.method, request.path, type(exc.orig).__name__)
    db.session.rollback()
    return problem(
        503,
        "database-busy",
        API_WORDS("problem.service_unavailable"),
        _both("problem.database_busy"),
        headers={"Retry-After": str(BUSY_RETRY_AFTER)},
    )


def _stale_row(exc: StaleDataError) -> Response:
    # A versioned row (optimistic lock) was committed by someone else between our read and our
    # write, in a path that did not translate it itself: their change wins, ours is a 409.
    log.info("stale versioned row on %s %s", request.method, request.path)
    db.session.rollback()
    return problem(409, "conflict", API_WORDS("problem.conflict"), _both("problem.stale"))


def _both(key: str) -> str:
    """French, then English in brackets: a detail a person may read wherever the call came from."""
    return f"{translator('fr')(key)} ({API_WORDS(key)})"


def register(app: Flask, *, page_for: PageFor | None = None) -> None:
    """Install the handlers; called after flask-smorest so ours win.

    ``page_for(status, headers)`` answers a person's browser with an error page instead (the web
    layer's, passed in by the app factory so that this module depends on no view layer).
    """
    if page_for is not None:
        app.extensions[PAGES_KEY] = page_for
    app.register_error_handler(e.ServiceError, _service_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(OperationalError, _database_error)
    app.register_error_handler(StaleDataError, _stale_row)
    app.register_error_handler(Exception, _unexpected)
