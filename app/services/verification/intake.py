"""One intake for the two doors of the verifier: ``POST /api/v1/verify`` and the ``/verify`` form.

The views read the request (JSON, multipart fields, the uploaded file's stream) and hand plain
values here; this module spends the caller's rate limit, applies the limits below, reads the
upload and builds the submission that :func:`verification.verify_submission` checks with
:func:`verify_fetcher`. Both doors therefore refuse the same input with the same error, which
``app.problems`` maps to one status (the API answers problem+json, the page a message beside
the field).

Limits, one per kind of input:

* a credential sent as text (JSON, VC-JWT, OB 2.0 JWS — pasted in the form or sent as a string
  in the API) or as a JSON object (API, counted as compact UTF-8 JSON): ``MAX_CREDENTIAL_BYTES``,
  2 MiB, the most text ``badges`` reads from a baked image; beyond it 413;
* an address (``url``, or a pasted text starting with ``http(s)://``): ``MAX_URL_CHARS``
  characters; beyond it 422 naming ``#/url``;
* a file (baked PNG or SVG, JSON or JWT file): ``upload_limit(MAX_UPLOAD_BYTES)``, the smaller
  of the upload setting and ``badges``' 10 MiB image cap; beyond it 413;
* the recipient (e-mail or DID): ``MAX_RECIPIENT_CHARS``; a longer one is cut there.
"""

from __future__ import annotations

import json
from typing import IO, Any

import badges
from app.platform.errors import FieldError, InvalidInput, PayloadTooLarge
from app.platform.rate_limit import RateLimit
from app.services.verification.verification import Submission, check_depth, parse_text_credential
from badges.baking import MAX_IMAGE_BYTES, MAX_TEXT_BYTES

MAX_CREDENTIAL_BYTES = MAX_TEXT_BYTES
MAX_URL_CHARS = 2000
MAX_RECIPIENT_CHARS = 320
URL_SCHEMES = ("https://", "http://")


def verify_fetcher() -> Any:
    """The only way foreign documents are fetched: no private addresses, timeouts, size caps."""
    return badges.GuardedFetcher()


def spend(limit: RateLimit, client: str | None) -> int | None:
    """Spend one verification from the client's window (shared by both doors and POST /dossiers/verify).

    None when allowed, else the seconds to wait (Retry-After).
    """
    return limit.take(client or "-")


def upload_limit(max_upload_bytes: int) -> int:
    """The largest file either door accepts, in bytes."""
    return min(max_upload_bytes, MAX_IMAGE_BYTES)


def read_upload(stream: IO[bytes], limit: int) -> bytes:
    """Read an uploaded file, never more than one byte past ``limit`` (413 beyond it)."""
    content = stream.read(limit + 1)
    if len(content) > limit:
        raise PayloadTooLarge(
            f"The file is larger than {limit} bytes.", errors=[FieldError("#/file", f"At most {limit} bytes.")]
        )
    return content


def recipient_of(value: str | None) -> str | None:
    """The recipient to match, trimmed and cut at ``MAX_RECIPIENT_CHARS``; None when empty."""
    return (value or "").strip()[:MAX_RECIPIENT_CHARS] or None


def from_file(content: bytes, recipient: str | None) -> Submission:
    """A file read with :func:`read_upload`: an image or a JSON / JWT file."""
    return Submission(file=content, recipient=recipient)


def from_text(text: str, recipient: str | None, *, pointer: str = "#/credential") -> Submission:
    """A badge sent as text: an address (``http(s)://``) or a credential (JSON, JWT, JWS)."""
    text = text.strip()
    _check_size(text, pointer)
    if text.startswith(URL_SCHEMES):
        return from_url(text, recipient)
    credential = parse_text_credential(text)
    check_depth(credential, pointer)
    return Submission(credential=credential, recipient=recipient)


def from_url(url: str, recipient: str | None) -> Submission:
    """The address of an OB 2.0 assertion or of a credential."""
    url = url.strip()
    if len(url) > MAX_URL_CHARS:
        raise InvalidInput(
            f"An address is at most {MAX_URL_CHARS} characters long.",
            errors=[FieldError("#/url", f"Longer than {MAX_URL_CHARS} characters.")],
        )
    return Submission(url=url, recipient=recipient)


def from_document(document: dict[str, Any], recipient: str | None, *, pointer: str = "#/credential") -> Submission:
    """A credential sent as a JSON object (the API's ``credential``)."""
    _check_size(json.dumps(document, ensure_ascii=False, separators=(",", ":")), pointer)
    check_depth(document, pointer)
    return Submission(credential=document, recipient=recipient)


def _check_size(text: str, pointer: str) -> None:
    # Characters first: most texts are far below the limit even at four bytes a character.
    if len(text) * 4 <= MAX_CREDENTIAL_BYTES:
        return
    if len(text) > MAX_CREDENTIAL_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_CREDENTIAL_BYTES:
        raise PayloadTooLarge(
            f"A credential is at most {MAX_CREDENTIAL_BYTES} bytes long.",
            errors=[FieldError(pointer, f"Longer than {MAX_CREDENTIAL_BYTES} bytes.")],
        )
