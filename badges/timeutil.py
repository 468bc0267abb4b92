"""Date-time helpers: XML Schema / ISO 8601 with a timezone, and JWT NumericDate."""

from __future__ import annotations

from datetime import UTC, datetime

from .errors import InvalidInput


def format_datetime(value: datetime) -> str:
    """Format an aware datetime as UTC ``YYYY-MM-DDTHH:MM:SSZ`` (sub-seconds dropped)."""
    if value.tzinfo is None:
        raise InvalidInput("datetimes must carry a timezone")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_datetime(text: str) -> datetime:
    """Parse an ISO 8601 date-time that carries a timezone (``Z`` or an offset)."""
    if not isinstance(text, str):
        raise InvalidInput("a date-time must be a string")
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise InvalidInput(f"invalid date-time: {text[:40]!r}") from exc
    if value.tzinfo is None:
        raise InvalidInput(f"date-time without a timezone: {text[:40]!r}")
    return value


def numeric_date(value: datetime | str) -> int:
    """Return the JWT NumericDate (whole seconds since the epoch)."""
    moment = parse_datetime(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        raise InvalidInput("datetimes must carry a timezone")
    return int(moment.timestamp())
