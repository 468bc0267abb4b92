"""Names of files we hand out or archive, made from titles people wrote (a title is never a path)."""

from __future__ import annotations

import re
import unicodedata


def slug(text: str, *, fallback: str, limit: int = 60) -> str:
    """An ASCII file-name part: « Animer une réunion » → animer-une-reunion; ``fallback`` when nothing is left."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:limit].strip("-") or fallback
