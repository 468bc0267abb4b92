"""Names of files we hand out or archive, made from titles people wrote (a title is never a path)."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def slug(text: str, *, fallback: str, limit: int = 60) -> str:
    """An ASCII file-name part: « Animer une réunion » → animer-une-reunion; ``fallback`` when nothing is left."""
    return re.sub(r"[^a-z0-9]+", "-", _ascii(text).lower()).strip("-")[:limit].strip("-") or fallback


def disposition(kind: str, name: str, *, fallback: str = "fichier") -> str:
    """A Content-Disposition naming a file a person named (RFC 6266): a plain ASCII name, and the real one encoded.

    The name is only shown by the browser; it is never a path here.
    """
    plain = re.sub(r"[^A-Za-z0-9._ -]", "_", _ascii(name)).strip(" .") or fallback
    return f"{kind}; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe='')}"
