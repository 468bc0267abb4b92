from __future__ import annotations

import json
import zlib

import pytest

from badges import BakingError, ImageTooLarge, bake_png, bake_svg, unbake, unbake_png, unbake_svg

from .conftest import png_chunk, tiny_png


def test_png_bake_layout_and_rebake() -> None:
    baked = bake_png(tiny_png(), "a.b.c")
    assert b"iTXt" + b"openbadgecredential\x00\x00\x00\x00\x00a.b.c" in baked
    assert baked.index(b"iTXt") < baked.index(b"IDAT")
    again = bake_png(baked, '{"id": "x"}')
    assert again.count(b"openbadgecredential") == 1
    payload = unbake_png(again)
    assert payload is not None and payload.text == '{"id": "x"}' and payload.version == "ob3"
    ob2 = bake_png(tiny_png(), "jws", "ob2")
    assert unbake(ob2).version == "ob2"  # type: ignore[union-attr]


def test_png_legacy_text_and_compressed_itxt() -> None:
    legacy = tiny_png(extra=png_chunk(b"tEXt", b"openbadges\x00https://example.org/a.json"))
    payload = unbake_png(legacy)
    assert payload is not None and payload.container == "png-text"
    assert payload.text == "https://example.org/a.json"
    compressed = png_chunk(b"iTXt", b"openbadgecredential\x00\x01\x00\x00\x00" + zlib.compress(b"t.o.k"))
    assert unbake_png(tiny_png(extra=compressed)).text == "t.o.k"  # type: ignore[union-attr]


def test_png_defences() -> None:
    with pytest.raises(ImageTooLarge):
        unbake_png(tiny_png(width=100_000, height=100_000))
    bomb = png_chunk(b"iTXt", b"openbadgecredential\x00\x01\x00\x00\x00" + zlib.compress(b"a" * 50_000_000))
    with pytest.raises(ImageTooLarge):
        unbake_png(tiny_png(extra=bomb))
    broken = bytearray(tiny_png())
    broken[20] ^= 1
    with pytest.raises(BakingError):
        unbake_png(bytes(broken))
    with pytest.raises(BakingError):
        unbake_png(b"\x89PNG\r\n\x1a\n" + b"\0\0\0\xffIHDR")
    assert unbake_png(tiny_png()) is None


SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10"><rect/></svg>'


def test_svg_bake_jws_and_json() -> None:
    baked = bake_svg(SVG, "aa.bb.cc")
    assert b'xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"' in baked
    assert b'<openbadges:credential verify="aa.bb.cc"/>' in baked
    assert unbake_svg(baked).text == "aa.bb.cc"  # type: ignore[union-attr]
    document = json.dumps({"id": "urn:x", "name": "Déjà <vu>"})
    rebaked = bake_svg(baked, document)
    assert rebaked.count(b"openbadges:credential") == 2  # one open and one close tag
    payload = unbake_svg(rebaked)
    assert payload is not None and payload.text == document and payload.container == "svg-cdata"
    ob2 = bake_svg(SVG, "x.y.z", "ob2")
    assert b'xmlns:openbadges="http://openbadges.org"' in ob2
    assert unbake(ob2).version == "ob2"  # type: ignore[union-attr]


def test_svg_defences() -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>'
    with pytest.raises(BakingError):
        unbake_svg(bomb)
    with pytest.raises(BakingError):
        bake_svg(bomb, "a.b.c")
    with pytest.raises(BakingError):
        unbake_svg(b"<svg")
    with pytest.raises(BakingError):
        unbake(b"GIF89a")
