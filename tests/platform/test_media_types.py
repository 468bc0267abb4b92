"""Types are recognised from real structure: MPEG audio frames, ID3 tags, SVG in any encoding (issue 11)."""

from __future__ import annotations

import io

import pytest

from app.platform import images
from app.platform.errors import UnsupportedMediaType
from app.platform.storage import sniff_media_type
from badges import BakingError
from badges.baking import bake_svg, parse_untrusted_xml, unbake, unbake_svg, xml_encoding

# MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, no padding: 144 * 128000 // 44100 = 417 bytes a frame.
FRAME = b"\xff\xfb\x90\x00" + b"\x55" * 413
# MPEG-2 Layer III, 64 kbit/s, 22.05 kHz, padded: 72 * 64000 // 22050 + 1 = 209 bytes.
FRAME_MPEG2 = b"\xff\xf3\x82\x00" + b"\x55" * 205
ID3 = b"ID3\x04\x00\x00\x00\x00\x00\x0a" + b"\x00" * 10


@pytest.mark.parametrize(
    "data",
    [FRAME * 3, FRAME_MPEG2 * 3, FRAME * 2, ID3 + FRAME * 2, ID3],
    ids=["mpeg1", "mpeg2", "two-frames", "id3-then-frames", "id3-alone"],
)
def test_real_mp3_is_audio(data: bytes) -> None:
    assert sniff_media_type(data[:4096]) == "audio/mpeg"


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xe0" + b"<script>alert(1)</script>" * 20,  # only the 11 sync bits of a frame
        b"\xff\xff\xff\xff" + b"\x00" * 600,  # layer I, bitrate index 15 (invalid)
        b"\xff\xeb\x90\x00" + b"\x55" * 600,  # reserved version (01)
        b"\xff\xf9\x90\x00" + b"\x55" * 600,  # reserved layer (00): an AAC ADTS header
        b"\xff\xfb\x00\x00" + b"\x55" * 600,  # "free" bitrate
        b"\xff\xfb\x9c\x00" + b"\x55" * 600,  # reserved sample rate (11)
        b"\xff\xfb\x90\x02" + b"\x55" * 600,  # reserved emphasis (10)
        FRAME + b"\x55" * 600,  # one header, then no second frame
        FRAME[:417] + FRAME_MPEG2,  # the next frame is of another stream
        FRAME,  # a single frame is no audio file
        b"ID3\xff\x00\x00\x00\x00\x00\x0a\xff\xfe",  # no ID3 version FF
        b"ID3\x03\x00\x00\x80\x00\x00\x0a\xff\xfe",  # size bytes are 7-bit
    ],
    ids=[
        "sync-only",
        "bad-bitrate",
        "bad-version",
        "adts",
        "free-bitrate",
        "bad-rate",
        "bad-emphasis",
        "no-second-frame",
        "other-stream",
        "one-frame",
        "id3-bad-version",
        "id3-bad-size",
    ],
)
def test_sync_bits_or_an_id3_prefix_alone_are_not_audio(data: bytes) -> None:
    assert sniff_media_type(data[:4096]) != "audio/mpeg"


def test_text_starting_with_id3_stays_text() -> None:
    assert sniff_media_type(b"ID3 is a tag format; these are my notes.") == "text/plain"


SVG_WITH_DTD = (
    '<?xml version="1.0" encoding="{enc}"?><!DOCTYPE svg [<!ENTITY a "aaaa">]>'
    '<svg xmlns="http://www.w3.org/2000/svg"><title>&a;</title></svg>'
)
PLAIN_SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><circle r="4"/></svg>'
WIDE = {
    "utf-16-le": "UTF-16",
    "utf-16-be": "UTF-16",
    "utf-16": "UTF-16",
    "utf-32": "UTF-32",
    "utf-32-le": "UTF-32",
    "utf-32-be": "UTF-32",
    "utf-8-sig": "UTF-8",
}


@pytest.mark.parametrize("codec", list(WIDE))
def test_svg_dtd_is_refused_in_any_encoding(codec: str) -> None:
    data = SVG_WITH_DTD.format(enc=WIDE[codec]).encode(codec)
    with pytest.raises(UnsupportedMediaType, match="DOCTYPE"):
        images.check_image(io.BytesIO(data), 10**6)
    for read in (unbake, unbake_svg, lambda svg: bake_svg(svg, "a.b.c")):
        with pytest.raises(BakingError):
            read(data)


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-16", "utf-32"])
def test_badge_images_are_utf8_only(codec: str) -> None:
    with pytest.raises(UnsupportedMediaType, match="UTF-8"):
        images.check_image(io.BytesIO(PLAIN_SVG.encode(codec)), 10**6)
    with pytest.raises(BakingError):
        bake_svg(PLAIN_SVG.encode(codec), "a.b.c")
    assert images.check_image(io.BytesIO(PLAIN_SVG.encode("utf-8-sig")), 10**6).media_type == "image/svg+xml"


def test_the_parser_itself_refuses_any_dtd() -> None:
    # Even where no text check ran first: the parser stops at the declaration, whatever its bytes.
    for data in (
        b'<!DOCTYPE svg SYSTEM "http://evil.example/x.dtd"><svg/>',
        '<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg>&x;</svg>'.encode("utf-16"),
    ):
        with pytest.raises(BakingError, match="DOCTYPE"):
            parse_untrusted_xml(data)
    root = parse_untrusted_xml(
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink">'
        b'<a x:href="#z">t<![CDATA[<b>]]></a></svg>'
    )
    link = root[0]
    assert root.tag == "{http://www.w3.org/2000/svg}svg" and link.tag == "{http://www.w3.org/2000/svg}a"
    assert link.get("{http://www.w3.org/1999/xlink}href") == "#z" and link.text == "t<b>"


def test_encoding_detection() -> None:
    assert xml_encoding("<svg/>".encode("utf-16-le")) == "utf-16-le"
    assert xml_encoding("<svg/>".encode("utf-32-be")) == "utf-32-be"
    assert xml_encoding(b'<?xml version="1.0" encoding="ISO-8859-1"?><svg/>') == "iso-8859-1"
    assert xml_encoding(b"<svg/>") == "utf-8"
