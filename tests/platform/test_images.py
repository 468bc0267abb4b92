"""The generated badge image: every text fits inside the inner ring, whatever the names' lengths."""

from __future__ import annotations

from defusedxml import ElementTree

from app.platform.images import SVG_NS, default_badge_svg

INNER_RADIUS = 160
CHAR_WIDTH = 0.56  # a generous average advance of sans-serif glyphs, in em


def _texts(svg: bytes) -> list[tuple[float, float, str]]:
    root = ElementTree.fromstring(svg)
    return [(float(t.get("y")), float(t.get("font-size")), t.text or "") for t in root.iter(f"{{{SVG_NS}}}text")]


def test_a_long_issuer_name_wraps_inside_the_ring():
    svg = default_badge_svg("Animer un jardin partagé", "Communauté de communes du Val de Brenne et de la Creuse")
    for y, size, text in _texts(svg):
        half_chord = (INNER_RADIUS**2 - (y - 200) ** 2) ** 0.5
        assert len(text) * size * CHAR_WIDTH <= 2 * half_chord, (text, y)
    issuer_lines = [text for y, _size, text in _texts(svg) if y > 280]
    assert issuer_lines[0] == "Communauté de communes" and len(issuer_lines) == 2


def test_no_issuer_no_footer():
    assert all(y < 280 for y, _size, _text in _texts(default_badge_svg("Coopérer")))
