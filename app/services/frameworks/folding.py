"""Text folding for matching: the one rule both the index and the queries follow."""

from __future__ import annotations

import re
import unicodedata

_LIGATURES = str.maketrans(
    {
        "œ": "oe",
        "Œ": "oe",
        "æ": "ae",
        "Æ": "ae",
        "ø": "o",
        "Ø": "o",
        "ł": "l",
        "Ł": "l",
        "đ": "d",
        "Đ": "d",
        "’": " ",
        "‘": " ",
        "«": " ",
        "»": " ",
        "–": " ",
        "—": " ",
    }
)
_NON_WORD = re.compile(r"[\W_]+")
_COMBINING = re.compile("[\u0300-\u036f]+")


def fold(text: str | None) -> str:
    """Return text for matching: no accents, case-folded, punctuation as single spaces."""
    if not text:
        return ""
    if not text.isascii():  # imports fold every label: skip the Unicode work when there is none
        # French punctuation (’ « » –) is no word character either: spaces now, and the text is
        # usually ASCII once the accents are gone, which spares the per-character pass below.
        decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
        text = _COMBINING.sub("", decomposed)
        if not text.isascii():
            text = "".join(c for c in text if not unicodedata.combining(c))
    return _NON_WORD.sub(" ", text.casefold()).strip()
