"""The W3C VC-API issuer and verifier services (POST /credentials/issue, /credentials/verify) and
the OAuth 2.0 token endpoint that lets an issuer's registered clients call them (POST /oauth/token).

Bearer-token endpoints for programs: no cookie, no form token (``bearer_only`` exempts them from
the CSRF check, and nothing here reads the browser session, so a signed-in browser gets 401 like
anyone without a token). The token endpoint speaks RFC 6749 (``{"error": ...}``); the VC-API
endpoints answer problem+json errors (400 for the request's shape, 401/403 for the token, 422 for a
credential that cannot be signed). A credential that does not verify is a 422 carrying the
verification result, so callers that only look at the status see the failure.

The token endpoint is throttled like sign-in: a window per client address and one per client id,
spent before the secret is hashed (``RATE_LIMIT_REDIS_URL`` shares them between workers).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import unquote_plus

from flask import Blueprint, Response, current_app, jsonify, request

from app.db import db, reads_only
from app.platform import rate_limit
from app.platform.errors import Unauthenticated
from app.runtime import runtime
from app.services.issuing import api_clients, vc_api as issuer_service
from app.services.issuing.api_clients import ClientCaller, OAuthError
from app.services.verification import vc_api as verifier_service
from app.services.verification.intake import verify_fetcher

bp = Blueprint("vc_api", __name__)

F = TypeVar("F", bound=Callable[..., Any])
LIMITS_KEY = "blason.oauth_token_limits"


def bearer_only(view: F) -> F:
    """A program's endpoint: authorised by its bearer token alone, so no CSRF form token applies."""
    view.bearer_only = True  # type: ignore[attr-defined]
    return view


def _limits() -> rate_limit.LoginLimits:
    found = current_app.extensions.get(LIMITS_KEY)
    if found is None:
        settings = runtime().settings
        storage = rate_limit.open_storage(settings.rate_limit_redis_url)
        found = rate_limit.LoginLimits(
            account=rate_limit.RateLimit(
                settings.login_account_rate_burst,
                settings.login_account_rate_per_minute,
                name="oauth-client",
                storage=storage,
            ),
            address=rate_limit.RateLimit(
                settings.login_address_rate_burst,
                settings.login_address_rate_per_minute,
                name="oauth-address",
                storage=storage,
            ),
        )
        current_app.extensions[LIMITS_KEY] = found
    return found


def _oauth_error(exc: OAuthError) -> Response:
    response = jsonify({"error": exc.code, "error_description": exc.detail})
    response.status_code = exc.status
    response.headers["Cache-Control"] = "no-store"
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="blason", charset="UTF-8"'
    if exc.status == 429:
        response.headers["Retry-After"] = str(getattr(exc, "retry_after", 60))
    return response


bp.register_error_handler(OAuthError, _oauth_error)


def _one(name: str) -> str | None:
    values = request.form.getlist(name)
    if len(values) > 1:
        raise OAuthError("invalid_request", f"{name} is sent more than once.")
    return values[0] if values else None


def _client_credentials() -> tuple[str, str]:
    """The client's id and secret: HTTP Basic (RFC 6749 §2.3.1, form-encoded parts) or the form, not both."""
    header = request.headers.get("Authorization", "")
    posted_id, posted_secret = _one("client_id"), _one("client_secret")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            raise OAuthError("invalid_client", "Authenticate with HTTP Basic or client_secret_post.", status=401)
        if posted_secret is not None:
            raise OAuthError("invalid_request", "Use one client authentication method, not two.")
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise OAuthError("invalid_client", "Malformed HTTP Basic credentials.", status=401) from None
        client_id, sep, secret = decoded.partition(":")
        if not sep:
            raise OAuthError("invalid_client", "Malformed HTTP Basic credentials.", status=401)
        return unquote_plus(client_id), unquote_plus(secret)
    if not posted_id or posted_secret is None:
        raise OAuthError("invalid_client", "Client authentication is required.", status=401)
    return posted_id, posted_secret


@bp.post("/oauth/token")
@bearer_only
@reads_only
def token() -> Response:
    """The client credentials grant: an access token for a registered client of an issuer."""
    if request.mimetype != "application/x-www-form-urlencoded":
        raise OAuthError("invalid_request", "Send application/x-www-form-urlencoded parameters.")
    grant_type = _one("grant_type")
    if not grant_type:
        raise OAuthError("invalid_request", "grant_type is required.")
    if grant_type != "client_credentials":
        raise OAuthError("unsupported_grant_type", "Only grant_type=client_credentials is served here.")
    client_id, secret = _client_credentials()
    wait = _limits().take(client_id, request.remote_addr or "-")
    if wait is not None:
        refused = OAuthError("slow_down", "Too many token requests; try again later.", status=429)
        refused.retry_after = wait  # type: ignore[attr-defined]
        raise refused
    rt = runtime()
    client = api_clients.check_secret(db.session, client_id, secret, passwords=rt.passwords)
    granted = api_clients.grant_token(client, _one("scope"), tokens=rt.tokens)
    response = jsonify(
        {
            "access_token": granted.token,
            "token_type": "Bearer",
            "expires_in": granted.expires_in,
            "scope": " ".join(granted.scopes),
        }
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def current_client() -> ClientCaller:
    """The client the request's bearer token speaks for (never a cookie, never a person's token)."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthenticated("Use 'Authorization: Bearer <token>' with a token from POST /oauth/token.")
    return api_clients.authenticate(db.session, value.strip(), tokens=runtime().tokens)


@bp.post("/credentials/issue")
@bearer_only
def issue() -> tuple[Response, int]:
    """Sign a credential as the client's issuer (eddsa-rdfc-2022); 201 with {verifiableCredential}."""
    caller = current_client()
    answer = issuer_service.issue_credential(db.session, caller, request.get_json(), settings=runtime().issuing)
    db.session.commit()
    return jsonify(answer), 201


@bp.post("/credentials/verify")
@bearer_only
@reads_only
def verify() -> tuple[Response, int]:
    """Verify a credential; 200 when it is genuine, 422 with the same result when it is not."""
    caller = current_client()
    rt = runtime()
    result = verifier_service.verify_credential(
        db.session, caller, request.get_json(), urls=rt.issuing.urls, fetcher=verify_fetcher(), now=rt.clock()
    )
    return jsonify(result), 200 if result["verified"] else 422
