"""Badge and issuer images: defensive checks of uploads, and the generated default badge.

A badge image is served publicly and baked with credentials, so only two kinds are accepted:
PNG (checked chunk by chunk by ``badges``, with size, dimension and decompression limits) and
SVG without anything active or external (no script, event handler, foreign object, external
reference or DTD).
"""

from __future__ import annotations

import io
import re
import struct
import warnings
import zlib
from dataclasses import dataclass
from typing import BinaryIO

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import badges
from app.models import StoredFile
from app.platform.errors import PayloadTooLarge, UnsupportedMediaType
from app.platform.storage import Storage, TooLarge
from badges.baking import MAX_DIMENSION, MAX_IMAGE_BYTES, MAX_PIXELS, parse_untrusted_xml, xml_encoding, xml_text

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
_FORBIDDEN_ELEMENTS = {
    "script",
    "foreignobject",
    "iframe",
    "object",
    "embed",
    "audio",
    "video",
    "handler",
    "listener",
    "set",
    "animate",
}
_URL_IN_STYLE = re.compile(r"url\(\s*['\"]?\s*(?!#)|@import|expression\(|javascript:", re.IGNORECASE)
_BYTES_PER_PIXEL = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # PNG colour type → samples per pixel


@dataclass(frozen=True)
class CheckedImage:
    data: bytes
    media_type: str


def _read(stream: BinaryIO, max_bytes: int) -> bytes:
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"The image is larger than {max_bytes} bytes.")
    return data


def check_png(data: bytes) -> None:
    """Refuse a PNG that is malformed, too large, or whose pixel data inflates past its size."""
    try:
        badges.unbake_png(data)  # parses every chunk: signature, CRCs, IHDR limits
    except badges.ImageTooLarge:
        raise PayloadTooLarge(
            f"The image's dimensions exceed the limits ({MAX_DIMENSION} px a side, {MAX_PIXELS} pixels)."
        ) from None
    except badges.BakingError:
        raise UnsupportedMediaType("This file is not a valid PNG image.") from None
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    samples = _BYTES_PER_PIXEL.get(colour)
    if samples is None or depth not in (1, 2, 4, 8, 16):
        raise UnsupportedMediaType("This PNG uses an unknown pixel format.")
    # The pixel data can never legitimately inflate past one filter byte per row plus the
    # rows themselves; anything more is a decompression bomb (or garbage).
    expected = height * (1 + (width * samples * depth + 7) // 8)
    if data[28:29] == b"\x01":  # Adam7 interlacing: seven passes, each row with its filter byte
        expected = 2 * expected + 64
    inflater = zlib.decompressobj()
    produced = 0
    offset = 8
    try:
        while offset < len(data):
            length, kind = struct.unpack(">I4s", data[offset : offset + 8])
            if kind == b"IEND":
                break
            if kind == b"IDAT":
                chunk = data[offset + 8 : offset + 8 + length]
                produced += len(inflater.decompress(chunk, expected + 1 - produced))
                if produced > expected or inflater.unconsumed_tail:
                    raise PayloadTooLarge("The image inflates past its declared size (a decompression bomb).")
            offset += 12 + length
    except (zlib.error, struct.error):
        raise UnsupportedMediaType("This PNG's pixel data is corrupt.") from None
    if produced == 0:
        raise UnsupportedMediaType("This PNG has no pixel data.")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].lower()


def check_svg(data: bytes) -> None:
    """Refuse an SVG with a DTD, script, event handlers, foreign content or external references."""
    # Checked on the decoded text: in UTF-16 or UTF-32 the declaration has no ASCII bytes to find.
    if re.search(r"<!DOCTYPE|<!ENTITY", xml_text(data), re.IGNORECASE):
        raise UnsupportedMediaType("SVG images with a DOCTYPE or entities are refused.")
    if xml_encoding(data) not in ("utf-8", "us-ascii", "ascii"):
        # Served as is and baked in UTF-8: one encoding, read the same by us and by every browser.
        raise UnsupportedMediaType("SVG images must be encoded in UTF-8.")
    try:
        root = parse_untrusted_xml(data)  # refuses a DTD in any form the text check missed
    except badges.BakingError:
        raise UnsupportedMediaType("This SVG is not well-formed XML, or declares a DOCTYPE or entities.") from None
    if root.tag != f"{{{SVG_NS}}}svg":
        raise UnsupportedMediaType("This file is not an SVG image.")
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        name = _local(element.tag)
        if name in _FORBIDDEN_ELEMENTS:
            raise UnsupportedMediaType(f"SVG images may not contain <{name}>.")
        if name == "style" and _URL_IN_STYLE.search(element.text or ""):
            raise UnsupportedMediaType("SVG styles may not load external resources.")
        for attribute, value in element.attrib.items():
            local = _local(attribute)
            if local.startswith("on"):
                raise UnsupportedMediaType("SVG images may not contain event handlers.")
            if local == "href" and not value.strip().startswith("#"):
                raise UnsupportedMediaType("SVG images may not reference external resources.")
            if local == "style" and _URL_IN_STYLE.search(value):
                raise UnsupportedMediaType("SVG styles may not load external resources.")
            if "url(" in value.lower() and re.search(r"url\(\s*['\"]?\s*(?!#)", value, re.IGNORECASE):
                raise UnsupportedMediaType("SVG images may not reference external resources.")


def check_image(stream: BinaryIO, max_bytes: int) -> CheckedImage:
    """Read and check an uploaded badge image (PNG or SVG)."""
    data = _read(stream, min(max_bytes, MAX_IMAGE_BYTES))
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        check_png(data)
        return CheckedImage(data, "image/png")
    if xml_text(data[:1024]).lstrip("\ufeff \t\r\n").startswith("<"):  # in any encoding
        check_svg(data)
        return CheckedImage(data, "image/svg+xml")
    raise UnsupportedMediaType("A badge image must be a PNG or an SVG.")


def svg_text(text: str) -> str:
    """Text escaped for an SVG element's content or attribute."""
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#39;")
    )


def wrap_words(name: str, width: int = 18, count: int = 3, *, slack: int = 4) -> list[str]:
    """``name`` in at most ``count`` lines of about ``width`` characters, words kept whole where they
    fit (a word longer than ``width + slack`` is cut), the last line ended with "…" when text is left."""
    words, lines, current = name.split(), [], ""
    for word in words:
        candidate = f"{current} {word}".strip()
        if len(candidate) <= width or not current:
            current = candidate
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    if len(lines) > count:
        lines = lines[:count]
        lines[-1] = lines[-1][: width - 1].rstrip() + "…"
    return [line if len(line) <= width + slack else line[: width + slack - 1] + "…" for line in lines]


def default_badge_svg(name: str, issuer_name: str = "") -> bytes:
    """A plain round badge showing the achievement's name (every text XML-escaped)."""
    lines = wrap_words(name)
    start = 200 - (len(lines) - 1) * 17
    texts = "".join(
        f'<text x="200" y="{start + i * 34}" text-anchor="middle" font-size="28" '
        f'font-family="sans-serif" font-weight="bold" fill="#1b3a5c">{svg_text(line)}</text>'
        for i, line in enumerate(lines)
    )
    # The issuer's name on at most two lines that fit inside the inner ring (about 24 characters
    # of 15 px text at these heights).
    footer = "".join(
        f'<text x="200" y="{296 + i * 20}" text-anchor="middle" font-size="15" font-family="sans-serif" '
        f'fill="#1b3a5c">{svg_text(line)}</text>'
        for i, line in enumerate(wrap_words(issuer_name, width=22, count=2) if issuer_name else [])
    )
    svg = (
        f'<svg xmlns="{SVG_NS}" width="400" height="400" viewBox="0 0 400 400" role="img">'
        f"<title>{svg_text(name)}</title>"
        '<circle cx="200" cy="200" r="190" fill="#f4c542" stroke="#1b3a5c" stroke-width="12"/>'
        '<circle cx="200" cy="200" r="160" fill="#fff8e1" stroke="#1b3a5c" stroke-width="3"/>'
        f"{texts}{footer}</svg>"
    )
    return svg.encode("utf-8")


def store_image(session: Session, storage: Storage, image: CheckedImage) -> str:
    """Store the image by its SHA-256 and record it; return the digest."""
    try:
        blob = storage.put(io.BytesIO(image.data), len(image.data) + 1)
    except TooLarge:  # pragma: no cover - the size was checked before
        raise PayloadTooLarge("The image is too large.") from None
    if session.get(StoredFile, blob.sha256) is None:
        try:
            with session.begin_nested():
                session.add(
                    StoredFile(sha256=blob.sha256, size=blob.size, crc32=blob.crc32, media_type=image.media_type)
                )
        except IntegrityError:
            pass  # the same bytes were recorded concurrently
    return blob.sha256


# Previews of photos (evidence): a small copy, never the upload itself, is what pages show inline.
PREVIEW_SIDE = 480
# Past this, a PNG, GIF or WebP would be decoded whole to be reduced (a JPEG decodes at 1/8 scale).
PREVIEW_MAX_PIXELS = 40_000_000
_PREVIEW_FORMATS = {"JPEG", "PNG", "GIF", "WEBP"}


def reduce_image(stream: BinaryIO, *, max_side: int = PREVIEW_SIDE) -> CheckedImage:
    """A reduced copy of a photo: upright, at most ``max_side`` px a side, re-encoded without metadata.

    A JPEG (JPEG quality 82) unless the image has transparency (then a PNG). EXIF (place, device),
    ICC profiles and comments are not copied: only the pixels are.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            # Pillow warns (and only warns) about a decompression bomb: refuse it instead.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(stream) as opened:
                if opened.format not in _PREVIEW_FORMATS:
                    raise UnsupportedMediaType("This image type has no preview.")
                width, height = opened.size
                if opened.format != "JPEG" and width * height > PREVIEW_MAX_PIXELS:
                    raise PayloadTooLarge("The image has too many pixels for a preview.")
                opened.draft("RGB", (max_side, max_side))  # JPEG: decode at a fraction of its size
                upright = ImageOps.exif_transpose(opened)
                upright.thumbnail((max_side, max_side))
                alpha = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
                mode = "RGBA" if alpha else "RGB"
                if upright.mode in ("I", "I;16", "I;16B", "I;16L", "F"):  # deep greyscale: to 8 bits
                    upright = upright.point(lambda value: value / 256).convert("L")
                pixels = upright.convert(mode)
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UnsupportedMediaType("This image cannot be read.") from None
    except (OSError, ValueError, SyntaxError, EOFError):  # truncated or corrupt data, unknown modes
        raise UnsupportedMediaType("This image cannot be read.") from None
    # A new image of the pixels alone: nothing of the original's info (EXIF, ICC, text) can follow.
    clean = Image.frombytes(mode, pixels.size, pixels.tobytes())
    out = io.BytesIO()
    if alpha:
        clean.save(out, format="PNG", optimize=True)
        return CheckedImage(out.getvalue(), "image/png")
    clean.save(out, format="JPEG", quality=82, optimize=True)
    return CheckedImage(out.getvalue(), "image/jpeg")
