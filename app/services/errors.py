"""Domain errors raised by services; the HTTP layer maps them to problem+json in one table."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class FieldError:
    """One invalid field: a JSON pointer into the request and what is wrong."""

    pointer: str
    detail: str


class ServiceError(Exception):
    """Base of every error a service raises on purpose."""

    def __init__(self, detail: str, *, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []


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
