"""Exceptions raised by the Open Badges core; every one derives from BadgeError."""

from __future__ import annotations

from typing import Any


class BadgeError(Exception):
    """Base class of every error raised by ``badges``."""


class InvalidInput(BadgeError):
    """Input data cannot make a valid document."""


class KeyFormatError(BadgeError):
    """A key cannot be parsed, or has the wrong type for the operation."""


class ContextError(BadgeError):
    """A JSON-LD context is unknown, altered, or cannot be processed."""


class UndefinedTermError(ContextError):
    """A document uses a term that its contexts do not define."""


class SigningError(BadgeError):
    """A document cannot be signed."""


class ProofError(BadgeError):
    """A proof or signature is malformed or does not verify."""


class StatusListError(BadgeError):
    """A status list is malformed, full, or an index is out of range."""


class BakingError(BadgeError):
    """An image cannot be baked or read."""


class ImageTooLarge(BakingError):
    """An image exceeds the size, dimension or decompression limits."""


class QRCodeError(BadgeError):
    """A QR code cannot be produced for this payload."""


class ResolutionError(BadgeError):
    """A key, document or status list cannot be resolved."""

    def __init__(self, message: str, *, gone: bool = False, document: Any = None) -> None:
        super().__init__(message)
        self.gone = gone
        self.document = document  # what a 410 answered (an OB 2.0 host says why the badge was revoked)


class FetchRefused(ResolutionError):
    """The guarded fetcher refused a URL (scheme, address, size or redirect)."""


class Unreachable(ResolutionError):
    """A host could not be reached in time: resolution, connection, TLS, reset or deadline."""
