"""The generated badge image: colours read and checked (text on background at least 4.5:1),
initials without the little words, a real shape with the name, never a QR code, and an SVG the
upload checks accept; set as an achievement's image through the same path as an upload."""

from __future__ import annotations

import pytest

from app.platform import images
from app.platform.errors import InvalidInput
from app.runtime import runtime
from app.services.identity import access
from app.services.issuing import achievements, badge_images


def test_colours_are_read_in_the_usual_forms() -> None:
    assert badge_images.parse_colour("#1B3A5C") == "#1b3a5c"
    assert badge_images.parse_colour("fff") == "#ffffff"
    assert badge_images.parse_colour(" #abc ") == "#aabbcc"
    for wrong in ("", None, "bleu", "#12345", "#ggg000", "url(#x)"):
        assert badge_images.parse_colour(wrong) is None


def test_contrast_is_the_wcag_ratio() -> None:
    assert badge_images.contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert badge_images.contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1.0)
    assert badge_images.contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)  # the AA threshold grey
    assert badge_images.contrast_ratio("#1b3a5c", "#ffffff") == badge_images.contrast_ratio("#ffffff", "#1b3a5c")


def test_colours_that_do_not_contrast_are_refused_naming_the_field() -> None:
    with pytest.raises(InvalidInput) as refused:
        badge_images.check_colours("#777777", "#ffffff")
    assert [e.pointer for e in refused.value.errors] == ["#/foreground"]
    with pytest.raises(InvalidInput) as unknown:
        badge_images.check_colours("bleu", "#ffffff")
    assert [e.pointer for e in unknown.value.errors] == ["#/background"]
    assert badge_images.check_colours("#767676", "#FFF") == ("#767676", "#ffffff")


def test_initials_leave_the_little_words_out() -> None:
    assert badge_images.initials("Animer un jardin partagé") == "AJP"
    assert badge_images.initials("Restauratrice ou restaurateur de lavoir") == "ROR"
    assert badge_images.initials("Éco-geste") == "ÉG"
    assert badge_images.initials("de la") == "DL"  # only little words: they are kept
    assert badge_images.initials("!!!") == "?"


@pytest.mark.parametrize("shape", badge_images.SHAPES)
def test_the_badge_is_a_shape_with_initials_and_name_that_the_upload_checks_accept(shape: str) -> None:
    svg = badge_images.badge_svg(
        "Animer un <jardin> & partager", background="#1b3a5c", foreground="#ffffff", shape=shape, issuer_name="CC"
    )
    images.check_svg(svg)  # what an upload must pass
    text = svg.decode()
    assert ">AJP</text>" in text and "&lt;jardin&gt; &amp;" in text and 'fill="#1b3a5c"' in text
    assert "<title>Animer un &lt;jardin&gt; &amp; partager</title>" in text
    assert "<rect" not in text  # a shape, not the squares of a QR code
    assert text.count('fill="#ffffff"') >= 3  # initials, name, issuer in the text colour


def test_a_long_name_is_cut_on_two_lines() -> None:
    svg = badge_images.badge_svg("Mot " * 30, background="#000000", foreground="#ffffff").decode()
    assert svg.count('font-size="24"') == 2 and "…" in svg


def test_an_unknown_shape_is_refused() -> None:
    with pytest.raises(InvalidInput):
        badge_images.badge_svg("Badge", background="#000000", foreground="#ffffff", shape="star")


def test_the_drawn_image_becomes_the_achievements_image(app, session, issuing) -> None:  # type: ignore[no-untyped-def]
    grants = access.load_grants(session, issuing.admin.id)
    before = achievements.current_version(session, issuing.achievement).image_sha256
    badge_images.set_generated_image(
        session,
        grants,
        issuing.achievement.id,
        background="#fff8e1",
        foreground="#1b3a5c",
        shape="hexagon",
        storage=runtime(app).storage,
        max_bytes=1 << 20,
    )
    after = achievements.current_version(session, issuing.achievement).image_sha256
    assert after != before
    with runtime(app).storage.open(after) as handle:
        drawn = handle.read().decode()
    assert ">ARP</text>" in drawn and "Collectif des territoires" in drawn
    with pytest.raises(InvalidInput):
        badge_images.set_generated_image(
            session,
            grants,
            issuing.achievement.id,
            background="#ffffff",
            foreground="#fefefe",
            shape="circle",
            storage=runtime(app).storage,
            max_bytes=1 << 20,
        )
