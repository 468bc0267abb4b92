"""Small text helpers shared by the importers (normalising, dates, sort keys)."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "´": "'"})
_SPACES = re.compile(r"\s+")
_MOJIBAKE = re.compile(r"\ufffd|Ã[\u0080-\u00bf]|â€|[A-Za-z]\?[-A-Za-z]")


def clean(text: str | None) -> str:
    """Collapse whitespace (incl. non-breaking spaces) and strip; keep every other character."""
    if not text:
        return ""
    return _SPACES.sub(" ", text.replace("\u00a0", " ").replace("\u202f", " ")).strip()


def optional(text: str | None) -> str | None:
    """Return :func:`clean` text, or None when nothing is left."""
    value = clean(text)
    return value or None


def normalise_for_matching(text: str) -> str:
    """Return a matching key: NFC, straight apostrophes, collapsed spaces, case-folded."""
    return clean(unicodedata.normalize("NFC", text).translate(_APOSTROPHES)).casefold()


def ascii_fold(text: str) -> str:
    """Return lower-case ASCII text without accents (for matching file names and labels)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def parse_french_date(value: str | None) -> str | None:
    """Parse an explicit ``dd/mm/yyyy`` date and return it as ISO ``yyyy-mm-dd``."""
    value = clean(value)
    if not value:
        return None
    try:
        return datetime.strptime(value, "%d/%m/%Y").date().isoformat()
    except ValueError:
        return None


def parse_iso_datetime(value: str | None) -> str | None:
    """Parse an ISO-8601 timestamp loosely (any fractional seconds, ``Z``) and return it in UTC."""
    value = clean(value)
    if not value:
        return None
    text = value.replace("Z", "+00:00").replace("z", "+00:00")
    match = re.match(r"^(.*T\d{2}:\d{2}:\d{2})\.(\d+)(.*)$", text)
    if match:  # fromisoformat wants 3 or 6 fractional digits before Python 3.11 quirks
        text = f"{match.group(1)}.{match.group(2)[:6].ljust(6, '0')}{match.group(3)}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_yes_no(value: str | None) -> bool | None:
    """Map RNCP ``Oui``/``Non`` and ``ACTIVE``/``INACTIVE`` to booleans."""
    folded = ascii_fold(clean(value))
    if folded in {"oui", "active", "actif", "true", "yes", "1"}:
        return True
    if folded in {"non", "inactive", "inactif", "false", "no", "0"}:
        return False
    return None


def natural_key(text: str | None) -> tuple[tuple[int, int | str], ...]:
    """Return a sort key where digit runs compare as numbers (``L1.2`` < ``L1.10``)."""
    parts = re.split(r"(\d+)", text or "")
    return tuple((0, int(p)) if p.isdigit() else (1, p.casefold()) for p in parts if p)


def looks_garbled(text: str | None) -> bool:
    """Tell whether text shows a lost or mis-decoded character (kept as is, but reported)."""
    return bool(text) and _MOJIBAKE.search(text or "") is not None
