"""Error pages: the French (or English) page a person gets instead of problem+json.

Every error of the service is answered by :mod:`app.problems`, which asks :func:`page_for` first:
for a page of the signed-in application (its blueprints are listed in :data:`PAGE_BLUEPRINTS`), or
a request outside the JSON API whose browser prefers HTML (``Accept: text/html``), the answer is a
page in the site's layout that says what happened and what to do, never internals. Programs
(``/api/``, ``Accept: application/json`` or ``*/*``) keep their problem+json.
"""

from __future__ import annotations

from flask import Response, request

from app.web import pages

# The blueprints whose every answer is a page (their errors too, whatever the Accept header says).
PAGE_BLUEPRINTS = frozenset(
    {
        "account",
        *(
            f"pages_{n}"
            for n in (
                *("contributions", "claims", "badges", "tutor", "acting", "passwords", "dashboard"),
                *("territory", "people", "issuer", "issuer_clients", "awards", "jobs", "admin", "jury"),
            )
        ),
    }
)
# Statuses with words of their own; any other 4xx reads as 400, any 5xx as 500.
WORDED = frozenset({400, 403, 404, 405, 409, 413, 415, 429, 500, 503})


def wants_page() -> bool:
    if request.path.startswith("/api/"):
        return False
    if request.blueprint in PAGE_BLUEPRINTS:
        return True
    accept = request.accept_mimetypes
    return accept["text/html"] > max(accept["application/json"], accept["application/problem+json"])


def page_for(status: int, headers: dict[str, str] | None = None) -> Response | None:
    """The error page for ``status``, or ``None`` when the caller is a program."""
    if not wants_page():
        return None
    worded = status if status in WORDED else (500 if status >= 500 else 400)
    response = pages.render_page(
        "web/error.html", status=status, title_key=f"error_{worded}_title", text_key=f"error_{worded}_text", code=status
    )
    for key, value in (headers or {}).items():
        if key.lower() in ("retry-after", "allow"):
            response.headers[key] = value
    response.headers["Cache-Control"] = "no-store"
    return response
