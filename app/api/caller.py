"""Who is calling: the bearer token, and the learner a facilitator acts for (X-Act-For)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import g, request

from app.db import db
from app.platform.errors import FieldError, InvalidInput, Unauthenticated
from app.runtime import runtime
from app.services.identity import access, auth
from app.services.identity.access import Grants

ACT_FOR_HEADER = "X-Act-For"


def current_grants() -> Grants:
    """The caller's grants, loaded once per request; anonymous without a token."""
    if "grants" in g:
        return g.grants  # type: ignore[no-any-return]
    header = request.headers.get("Authorization", "")
    if not header:
        g.grants = access.ANONYMOUS
        return g.grants  # type: ignore[no-any-return]
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Use 'Authorization: Bearer <access token>'.")
    person_id = auth.decode_access_token(token.strip(), settings=runtime().tokens)
    acting_for = None
    raw = request.headers.get(ACT_FOR_HEADER)
    if raw:
        try:
            acting_for = uuid.UUID(raw)
        except ValueError:
            raise InvalidInput(
                "X-Act-For is not a person id.", errors=[FieldError("#/headers/X-Act-For", "Not a UUID.")]
            ) from None
    g.grants = access.load_grants(db.session, person_id, acting_for)
    return g.grants  # type: ignore[no-any-return]


def expected_version() -> int | None:
    """The version from If-Match (a weak or strong ETag "N"), or None when absent."""
    raw = request.headers.get("If-Match")
    if not raw:
        return None
    value = raw.strip().removeprefix("W/").strip('"')
    try:
        return int(value)
    except ValueError:
        raise InvalidInput(
            "If-Match must be the ETag returned by a GET.",
            errors=[FieldError("#/headers/If-Match", "Not a version ETag.")],
        ) from None


def with_etag(obj: Any, response_headers: dict[str, str] | None = None) -> dict[str, str]:
    return {"ETag": f'"{obj.version}"'}


def etag(version: int) -> dict[str, str]:
    """The ETag header of a row whose optimistic-lock counter is ``version``."""
    return {"ETag": f'"{version}"'}


# OpenAPI of the request headers, declared once as components and referenced by the operations:
# If-Match on every conditional update (428 without, 409 when stale), X-Act-For on every
# operation that needs a login (added by app.api.Blueprint).
HEADER_PARAMETERS = {
    "IfMatch": {
        "in": "header",
        "name": "If-Match",
        "required": True,
        "schema": {"type": "string"},
        "description": 'The ETag read (`"<version>"`); a stale one is 409, none is 428.',
    },
    "ActFor": {
        "in": "header",
        "name": ACT_FOR_HEADER,
        "required": False,
        "schema": {"type": "string", "format": "uuid"},
        "description": "The id of the assisted learner a facilitator acts for; the call then sees "
        "and does only what the learner lent them (their projects and territories).",
    },
}
IF_MATCH_PARAMETER = "IfMatch"  # apispec writes a component's name as its $ref
ACT_FOR_PARAMETER = "ActFor"
ETAG_HEADER = {
    "ETag": {"description": 'The version to send back in If-Match (`"<version>"`).', "schema": {"type": "string"}}
}
