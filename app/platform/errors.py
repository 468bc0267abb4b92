"""Domain errors raised by services; the HTTP layer maps them to problem+json in one table."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError


@dataclass
class FieldError:
    """One invalid field: a JSON pointer into the request and what is wrong."""

    pointer: str
    detail: str


class ServiceError(Exception):
    """Base of every error a service raises on purpose."""

    def __init__(self, detail: str, *, errors: list[FieldError] | None = None, keep_changes: bool = False) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        # Some refusals are themselves decisions to record (a failed login's audit event, a
        # stolen token's revoked family): the HTTP layer commits them before answering.
        self.keep_changes = keep_changes


class NotFound(ServiceError):
    """The thing does not exist, or the caller may not know that it does."""


class Conflict(ServiceError):
    """The request conflicts with the current state (duplicate, stale version, wrong status)."""


class PermissionDenied(ServiceError):
    """The caller can see the thing but may not do this to it."""


class Unauthenticated(ServiceError):
    """No valid credentials."""


class InvalidInput(ServiceError):
    """The data is well-formed but breaks a rule; ``errors`` names the fields."""


class PreconditionRequired(ServiceError):
    """An update needs the version the caller last saw (If-Match)."""


class PayloadTooLarge(ServiceError):
    """An upload exceeds the configured limit."""


class UnsupportedMediaType(ServiceError):
    """An upload's bytes are not of an accepted type."""


def check_version(current: int, expected: int | None, what: str) -> None:
    """Refuse an update made without the version the caller read (428) or from an older one (409)."""
    if expected is None:
        raise PreconditionRequired(
            f"Send If-Match with the ETag of the {what} you read, so no change is lost.",
            errors=[FieldError("#/headers/If-Match", "Required.")],
        )
    if current != expected:
        raise Conflict(
            f"The {what} was changed by someone else (version {current}, you had {expected}); "
            "reload it and apply your change again.",
            errors=[FieldError("#/headers/If-Match", f'Stale: the current ETag is "{current}".')],
        )


def flush_versioned(session: Session, what: str) -> None:
    """Flush a change to a versioned row; a concurrent writer's newer version is a Conflict.

    The version column makes the UPDATE match no row when someone else committed first, so a
    change is refused instead of silently overwriting theirs (no lost update).
    """
    try:
        session.flush()
    except StaleDataError:
        raise Conflict(
            f"The {what} was changed by someone else meanwhile; reload it and apply your change again."
        ) from None
