"""Security headers every response carries, set here and nowhere else (issues 11 and 12).

Every HTML page — those rendered by :func:`app.web.pages.render_page` and the Swagger UI page —
gets its Content-Security-Policy (framing forbidden), Referrer-Policy and nosniff from this hook.
A response that chose a stricter policy for its own content (an SVG image, a downloaded evidence
file) keeps it: the only thing ever added to a policy a view set is ``frame-ancestors 'none'``.
"""

from __future__ import annotations

import base64
import hashlib
import re

from flask import Flask, request
from werkzeug.wrappers import Response

from app.runtime import runtime

# The pages' policy: no script at all, inline style, images from this origin (or the public base
# URL's, which image addresses are written with) or data: URIs.
HTML_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' {origin} data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
REFERRER_POLICY = "no-referrer"
# The Swagger UI page (flask-smorest's) loads its script and style from this origin (the installed
# swagger-ui-bundle, never a CDN), starts with one inline script allowed by its hash, and fetches
# the OpenAPI document and the API it tries out from this origin.
DOCS_ENDPOINT = "api-docs.openapi_swagger_ui"
DOCS_POLICY = (
    "default-src 'none'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def docs_policy(html: str) -> str:
    """The docs page's policy: its own inline scripts by hash, nothing else inline."""
    hashes = [
        base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() for script in INLINE_SCRIPT.findall(html)
    ]
    return DOCS_POLICY.format(hashes=" ".join(f"'sha256-{h}'" for h in hashes)).replace("  ", " ")


def page_policy() -> str:
    """The policy of our pages (images also from the public base URL's origin)."""
    return HTML_POLICY.format(origin="/".join(runtime().settings.public_base_url.split("/")[:3]))


def with_frame_ancestors(policy: str) -> str:
    """The policy, forbidding framing unless it already says who may frame it."""
    directives = [d.strip().split(" ", 1)[0].lower() for d in policy.split(";")]
    return policy if "frame-ancestors" in directives else policy.rstrip("; ") + "; frame-ancestors 'none'"


def secure(response: Response) -> Response:
    """Add nosniff to every response; a CSP that forbids framing and a Referrer-Policy to HTML."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if request.endpoint == DOCS_ENDPOINT and response.mimetype == "text/html" and not response.is_streamed:
        response.headers.setdefault("Content-Security-Policy", docs_policy(response.get_data(as_text=True)))
    if response.mimetype in ("text/html", "application/xhtml+xml", "image/svg+xml"):
        policy = response.headers.get("Content-Security-Policy")
        response.headers["Content-Security-Policy"] = with_frame_ancestors(policy) if policy else page_policy()
    if response.mimetype in ("text/html", "application/xhtml+xml"):
        response.headers.setdefault("Referrer-Policy", REFERRER_POLICY)
    return response


def register(app: Flask) -> None:
    app.after_request(secure)
