"""Who is calling: the bearer token, and the learner a facilitator acts for (X-Act-For)."""
from __future__ import annotations

import uuid

from flask import g, request

from app.db import db
from app.runtime import runtime
from app.services import access, auth
from app.services.access import Grants
from app.services.errors import FieldError, InvalidInput, Unauthenticated

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
            raise InvalidInput("X-Act-For is not a person id.",
                               errors=[FieldError("#/headers/X-Act-For", "Not a UUID.")]) from None
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
        raise InvalidInput("If-Match must be the ETag returned by a GET.",
                           errors=[FieldError("#/headers/If-Match", "Not a version ETag.")]) from None


def with_etag(obj: object, response_headers: dict[str, str] | None = None) -> dict[str, str]:
    return {"ETag": f'"{getattr(obj, "version")}"'}
