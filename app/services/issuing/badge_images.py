"""Generated badge images: a shape in the issuer's colours with the badge's initials and name.

A badge made without an uploaded image still looks like a badge (never a bare QR code): an SVG
drawn here from the name, a background colour, a text colour and a shape. The two colours must
read well together: the contrast of the text on the background is at least 4.5:1 (WCAG 2.1 AA
for normal text), checked before anything is drawn.
"""

from __future__ import annotations

import io
import re
import unicodedata
import uuid
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from app.db import utcnow
from app.models import Achievement, Issuer
from app.platform.errors import FieldError, InvalidInput
from app.platform.images import SVG_NS, svg_text, wrap_words
from app.platform.storage import Storage
from app.services.identity.access import Grants
from app.services.issuing import achievements

SHAPES = ("circle", "shield", "hexagon")
MIN_CONTRAST = 4.5
_HEX = re.compile(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
# Little words left out of the initials: « Animer un jardin partagé » → AJP.
_SMALL_WORDS = frozenset("de du des d la le les l un une et à a au aux en pour par sur the of and or in to for".split())
_OUTLINES = {
    "circle": '<circle cx="200" cy="200" r="186" fill="{bg}" stroke="{fg}" stroke-width="10"/>'
    '<circle cx="200" cy="200" r="164" fill="none" stroke="{fg}" stroke-width="3"/>',
    "shield": '<path d="M200 12 L372 64 V196 C372 300 296 364 200 392 C104 364 28 300 28 196 V64 Z" '
    'fill="{bg}" stroke="{fg}" stroke-width="10" stroke-linejoin="round"/>',
    "hexagon": '<path d="M200 12 L363 106 V294 L200 388 L37 294 V106 Z" fill="{bg}" stroke="{fg}" '
    'stroke-width="10" stroke-linejoin="round"/>',
}


def parse_colour(value: str | None) -> str | None:
    """``#rrggbb`` (lower case) from ``#rgb``/``#rrggbb`` with or without ``#``; None if it is not one."""
    match = _HEX.match((value or "").strip())
    if match is None:
        return None
    digits = match.group(1).lower()
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return "#" + digits


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(first: str, second: str) -> float:
    """The WCAG 2.1 contrast ratio of two ``#rrggbb`` colours (1 to 21)."""
    high, low = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def initials(name: str, most: int = 3) -> str:
    """The initials of a badge's name, little words left out (at most three letters)."""
    words = re.findall(r"[^\W\d_]+|\d+", name)
    kept = [w for w in words if w.lower() not in _SMALL_WORDS] or words
    letters = "".join(w[0] for w in kept[:most]).upper()
    return unicodedata.normalize("NFC", letters) or "?"


def check_colours(background: str | None, foreground: str | None) -> tuple[str, str]:
    """The two colours, normalised; InvalidInput naming the field when one is not a colour or they do
    not contrast enough."""
    bg, fg = parse_colour(background), parse_colour(foreground)
    errors = []
    if bg is None:
        errors.append(FieldError("#/background", "A colour such as #1b3a5c."))
    if fg is None:
        errors.append(FieldError("#/foreground", "A colour such as #ffffff."))
    if errors:
        raise InvalidInput("Unknown colour.", errors=errors)
    assert bg is not None and fg is not None
    ratio = contrast_ratio(bg, fg)
    if ratio < MIN_CONTRAST:
        raise InvalidInput(
            "The text would be hard to read on this background.",
            errors=[FieldError("#/foreground", f"Contrast {ratio:.1f}:1, below {MIN_CONTRAST}:1.")],
        )
    return bg, fg


def badge_svg(name: str, *, background: str, foreground: str, shape: str = "circle", issuer_name: str = "") -> bytes:
    """The badge drawn as SVG: the shape in the background colour, initials and name in the text colour."""
    bg, fg = check_colours(background, foreground)
    if shape not in SHAPES:
        raise InvalidInput("Unknown shape.", errors=[FieldError("#/shape", "Use circle, shield or hexagon.")])
    lines = wrap_words(name, 20, 2, slack=2)
    texts = "".join(
        f'<text x="200" y="{262 + i * 30}" text-anchor="middle" font-size="24" font-weight="bold" '
        f'font-family="sans-serif" fill="{fg}">{svg_text(line)}</text>'
        for i, line in enumerate(lines)
    )
    footer = (
        f'<text x="200" y="{262 + len(lines) * 30 + 6}" text-anchor="middle" font-size="15" '
        f'font-family="sans-serif" fill="{fg}">{svg_text(wrap_words(issuer_name, 26, 1, slack=2)[0])}</text>'
        if issuer_name.strip()
        else ""
    )
    svg = (
        f'<svg xmlns="{SVG_NS}" width="400" height="400" viewBox="0 0 400 400" role="img">'
        f"<title>{svg_text(name)}</title>"
        + _OUTLINES[shape].format(bg=bg, fg=fg)
        + f'<text x="200" y="200" text-anchor="middle" font-size="96" font-weight="bold" '
        f'font-family="sans-serif" fill="{fg}">{svg_text(initials(name))}</text>'
        f"{texts}{footer}</svg>"
    )
    return svg.encode("utf-8")


def set_generated_image(
    session: Session,
    grants: Grants,
    achievement_id: uuid.UUID,
    *,
    background: str,
    foreground: str,
    shape: str,
    storage: Storage,
    max_bytes: int,
    clock: Callable[[], datetime] = utcnow,
) -> Achievement:
    """Draw the badge from its current name and these colours, and make it the badge's image.

    The same path as an uploaded image (checked, stored, a new version once awarded).
    """
    achievement = achievements.get_achievement(session, grants, achievement_id)
    version = achievements.current_version(session, achievement)
    issuer = session.get(Issuer, achievement.issuer_id)
    issuer_name = issuer.name if issuer is not None else ""
    drawn = badge_svg(version.name, background=background, foreground=foreground, shape=shape, issuer_name=issuer_name)
    return achievements.set_image(
        session, grants, achievement.id, io.BytesIO(drawn), storage=storage, max_bytes=max_bytes, clock=clock
    )
