"""OpenID for Verifiable Credential Issuance 1.0: the issuer side (metadata, token, nonce, credential).

Wallets, not people, call these: ``/.well-known/openid-credential-issuer`` (the credential issuer
metadata, the issuer identifier being the public base URL), ``/.well-known/oauth-authorization-server``
(the authorisation server metadata it points to), and under ``/api/oid4vci/`` (no cookie, no CSRF
form: the wallet holds a pre-authorized code or a bearer token) ``POST token`` (form-encoded,
throttled per client address), ``POST nonce`` and ``POST credential`` (JSON, bearer token). Errors
are the specification's ``{"error", "error_description"}`` bodies; nothing secret is logged.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from app.db import db
from app.platform.rate_limit import RateLimit, open_storage
from app.runtime import runtime
from app.services.issuing import oid4vci
from app.services.issuing.oid4vci import ProtocolError

bp = Blueprint("oid4vci", __name__)

# The token endpoint's window per client address: a wallet needs one call per offer.
TOKEN_BURST, TOKEN_PER_MINUTE = 10, 30
_LIMIT_KEY = "blason.oid4vci_token_limit"


def _answer(body: dict[str, Any], status: int = 200, *, cache: bool = False) -> Response:
    response = jsonify(body)
    response.status_code = status
    if not cache:
        response.headers["Cache-Control"] = "no-store"
    return response


def _error(error: ProtocolError) -> Response:
    response = _answer(error.body(), error.status)
    if error.status == 401:
        response.headers["WWW-Authenticate"] = f'Bearer error="{error.error}"'
    return response


def _token_limit() -> RateLimit:
    limit = current_app.extensions.get(_LIMIT_KEY)
    if limit is None:
        storage = open_storage(runtime().settings.rate_limit_redis_url)
        limit = current_app.extensions[_LIMIT_KEY] = RateLimit(
            TOKEN_BURST, TOKEN_PER_MINUTE, name="oid4vci-token", storage=storage
        )
    return limit


@bp.get("/.well-known/openid-credential-issuer")
def issuer_metadata() -> Response:
    """The credential issuer metadata: configurations, endpoints, proof types."""
    return _answer(oid4vci.issuer_metadata(runtime().issuing.urls), cache=True)


@bp.get("/.well-known/oauth-authorization-server")
def authorization_server_metadata() -> Response:
    """RFC 8414 metadata of the authorisation server (the token endpoint, the pre-authorized grant)."""
    return _answer(oid4vci.authorization_server_metadata(runtime().issuing.urls), cache=True)


@bp.post("/api/oid4vci/token")
def token() -> Response:
    """Trade a pre-authorized code (and its transaction code) for a short-lived access token."""
    wait = _token_limit().take(request.remote_addr or "-")
    if wait is not None:
        response = _error(ProtocolError("slow_down", "Too many token requests: wait and retry.", 429))
        response.headers["Retry-After"] = str(wait)
        return response
    failure: ProtocolError | None = None
    try:
        body = oid4vci.exchange_code(db.session, request.form, settings=runtime().issuing)
    except ProtocolError as error:
        failure = error
    db.session.commit()  # one commit either way: a wrong transaction code counts
    return _error(failure) if failure is not None else _answer(body)


@bp.post("/api/oid4vci/nonce")
def nonce() -> Response:
    """A fresh ``c_nonce`` for the next key proof."""
    body = oid4vci.new_nonce(db.session, settings=runtime().issuing)
    db.session.commit()
    return _answer(body)


@bp.post("/api/oid4vci/credential")
def credential() -> Response:
    """The wallet copy of the offered badge, bound to the key proof's holder."""
    scheme, _, sent = (request.headers.get("Authorization") or "").partition(" ")
    access_token = sent.strip() if scheme.lower() in ("bearer", "dpop") else None
    body = request.get_json(silent=True)
    failure: ProtocolError | None = None
    try:
        answer = oid4vci.issue_credential(db.session, access_token, body, settings=runtime().issuing)
    except ProtocolError as error:
        failure = error
    db.session.commit()  # one commit either way: a nonce checked with a valid proof is spent
    return _error(failure) if failure is not None else _answer(answer)
