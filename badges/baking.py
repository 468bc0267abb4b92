"""Bake credentials into PNG (iTXt) and SVG images, and extract them (OB 3.0 and OB 2.0)."""

from __future__ import annotations

import codecs
import re
import struct
import zlib
from dataclasses import dataclass
from typing import Literal, NoReturn
from xml.etree import ElementTree
from xml.parsers import expat

from .errors import BakingError, ImageTooLarge

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
OB3_KEYWORD = "openbadgecredential"
OB2_KEYWORD = "openbadges"
CLR_KEYWORD = "clrcredential"
OB3_SVG_NS = "https://purl.imsglobal.org/ob/v3p0"
OB2_SVG_NS = "http://openbadges.org"
CLR_SVG_NS = "https://purl.imsglobal.org/clr/v2p0"

MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_DIMENSION = 8192
MAX_PIXELS = 32 * 1024 * 1024
MAX_TEXT_BYTES = 2 * 1024 * 1024
MAX_CHUNKS = 10_000

Version = Literal["ob3", "ob2", "clr"]
_KEYWORDS: dict[str, str] = {"ob3": OB3_KEYWORD, "ob2": OB2_KEYWORD, "clr": CLR_KEYWORD}
_SVG: dict[str, tuple[str, str]] = {
    "ob3": (OB3_SVG_NS, "credential"),
    "ob2": (OB2_SVG_NS, "assertion"),
    "clr": (CLR_SVG_NS, "credential"),
}


@dataclass(frozen=True)
class BakedPayload:
    """What an image carries: the text (JWS, JSON or URL) and where it was found."""

    text: str
    version: Version
    container: str  # "png-itxt", "png-text", "svg-cdata", "svg-verify"


@dataclass(frozen=True)
class _Chunk:
    type: bytes
    data: bytes
    raw: bytes


def _chunks(png: bytes) -> list[_Chunk]:
    if len(png) > MAX_IMAGE_BYTES:
        raise ImageTooLarge("image larger than the limit")
    if not png.startswith(PNG_SIGNATURE):
        raise BakingError("not a PNG image")
    chunks: list[_Chunk] = []
    offset = len(PNG_SIGNATURE)
    while offset < len(png):
        if offset + 8 > len(png) or len(chunks) >= MAX_CHUNKS:
            raise BakingError("truncated or over-fragmented PNG")
        length, kind = struct.unpack(">I4s", png[offset : offset + 8])
        end = offset + 12 + length
        if length > MAX_IMAGE_BYTES or end > len(png):
            raise BakingError("PNG chunk runs past the end of the file")
        data = png[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", png[offset + 8 + length : end])
        if zlib.crc32(kind + data) != crc:
            raise BakingError(f"bad CRC in PNG chunk {kind!r}")
        chunks.append(_Chunk(kind, data, png[offset:end]))
        offset = end
        if kind == b"IEND":
            break
    if not chunks or chunks[0].type != b"IHDR" or chunks[-1].type != b"IEND":
        raise BakingError("PNG must start with IHDR and end with IEND")
    width, height = struct.unpack(">II", chunks[0].data[:8])
    if not 0 < width <= MAX_DIMENSION or not 0 < height <= MAX_DIMENSION or width * height > MAX_PIXELS:
        raise ImageTooLarge("image dimensions exceed the limit")
    return chunks


def png_chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data and the CRC of type and data."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def write_png(width: int, height: int, rows: bytes, *, bit_depth: int, colour_type: int, level: int = 6) -> bytes:
    """A whole non-interlaced PNG; ``rows`` are its scanlines, each a filter byte then the row's samples."""
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return (
        PNG_SIGNATURE
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(rows, level))
        + png_chunk(b"IEND", b"")
    )


def _itxt_keyword(data: bytes) -> bytes:
    return data.split(b"\0", 1)[0]


def _parse_itxt(data: bytes) -> str:
    keyword, sep, rest = data.partition(b"\0")
    if not sep or len(rest) < 2:
        raise BakingError("malformed iTXt chunk")
    compressed, method, rest = rest[0], rest[1], rest[2:]
    _language, sep1, rest = rest.partition(b"\0")
    _translated, sep2, text = rest.partition(b"\0")
    if not sep1 or not sep2:
        raise BakingError("malformed iTXt chunk")
    if compressed:
        if method != 0:
            raise BakingError("unknown iTXt compression method")
        # Bounded inflate: a baked credential is small; refuse decompression bombs.
        inflater = zlib.decompressobj()
        try:
            text = inflater.decompress(text, MAX_TEXT_BYTES + 1)
        except zlib.error as exc:
            raise BakingError("corrupt compressed iTXt text") from exc
        if len(text) > MAX_TEXT_BYTES or inflater.unconsumed_tail:
            raise ImageTooLarge("compressed iTXt text exceeds the limit")
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BakingError("iTXt text is not UTF-8") from exc


def bake_png(png: bytes, text: str, version: Version = "ob3") -> bytes:
    """Return ``png`` with one uncompressed iTXt chunk holding ``text`` (replaces any old one)."""
    keyword = _KEYWORDS[version].encode("latin-1")
    payload = text.encode("utf-8")
    if len(payload) > MAX_TEXT_BYTES:
        raise BakingError("payload too large to bake")
    chunks = _chunks(png)
    itxt = png_chunk(b"iTXt", keyword + b"\0\0\0\0\0" + payload)
    out = [PNG_SIGNATURE, chunks[0].raw, itxt]
    for chunk in chunks[1:]:
        if chunk.type in (b"iTXt", b"tEXt", b"zTXt") and _itxt_keyword(chunk.data) == keyword:
            continue
        out.append(chunk.raw)
    return b"".join(out)


def unbake_png(png: bytes) -> BakedPayload | None:
    """Return the credential baked in a PNG (OB 3.0, CLR, OB 2.0 or legacy tEXt), or None."""
    chunks = _chunks(png)
    for version in ("ob3", "clr", "ob2"):
        keyword = _KEYWORDS[version].encode("latin-1")
        for chunk in chunks:
            if chunk.type == b"iTXt" and _itxt_keyword(chunk.data) == keyword:
                return BakedPayload(_parse_itxt(chunk.data).strip(), version, "png-itxt")
    for chunk in chunks:
        if chunk.type == b"tEXt" and _itxt_keyword(chunk.data) == OB2_KEYWORD.encode():
            text = chunk.data.split(b"\0", 1)[1].decode("latin-1").strip()
            return BakedPayload(text, "ob2", "png-text")
    return None


_SVG_START = re.compile(rb"<svg(?=[\s>/])[^>]*>", re.IGNORECASE)
_FORBIDDEN_XML = re.compile(r"<!DOCTYPE|<!ENTITY", re.IGNORECASE)
# XML 1.0 appendix F: the byte order mark, or the first "<" (or "<?") in a wide encoding.
_XML_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_XML_WIDE_STARTS = ((b"<\0\0\0", "utf-32-le"), (b"\0\0\0<", "utf-32-be"), (b"<\0", "utf-16-le"), (b"\0<", "utf-16-be"))
_XML_DECLARED = re.compile(rb"""^<\?xml[^>]*?\sencoding\s*=\s*["']([A-Za-z0-9._-]{1,40})["']""")


def xml_encoding(data: bytes) -> str:
    """The encoding an XML parser reads ``data`` in: its BOM, a wide first "<", or its declaration."""
    for bom, name in _XML_BOMS:
        if data.startswith(bom):
            return name
    for start, name in _XML_WIDE_STARTS:
        if data.startswith(start):
            return name
    declared = _XML_DECLARED.match(data.lstrip())
    return declared.group(1).decode("ascii").lower() if declared else "utf-8"


def xml_text(data: bytes) -> str:
    """``data`` decoded as an XML parser would (unknown encodings as UTF-8), for checks on its text."""
    encoding = xml_encoding(data)
    for bom, name in _XML_BOMS:
        if name == encoding and data.startswith(bom):
            data = data[len(bom) :]
    try:
        return data.decode(encoding, errors="replace")
    except LookupError:
        return data.decode("utf-8", errors="replace")


def _refuse_dtd(*_args: object) -> NoReturn:
    raise BakingError("SVG with a DOCTYPE or entity declarations is refused")


def parse_untrusted_xml(data: bytes) -> ElementTree.Element:
    """Parse XML from outside with no DTD at all: a DOCTYPE or entity is refused in any encoding.

    The handlers see what expat decoded, so a declaration hidden from byte patterns (UTF-16,
    UTF-32) is refused like any other (what defusedxml does, without the dependency).
    """
    builder = ElementTree.TreeBuilder()
    parser = expat.ParserCreate(namespace_separator=" ")

    def name(raw: str) -> str:
        namespace, _, local = raw.rpartition(" ")
        return f"{{{namespace}}}{local}" if namespace else local

    parser.StartElementHandler = lambda tag, attrs: builder.start(name(tag), {name(k): v for k, v in attrs.items()})
    parser.EndElementHandler = lambda tag: builder.end(name(tag))
    parser.CharacterDataHandler = builder.data
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_dtd
    parser.UnparsedEntityDeclHandler = _refuse_dtd
    parser.ExternalEntityRefHandler = _refuse_dtd
    parser.buffer_text = True
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise BakingError("SVG is not well-formed XML") from exc
    return builder.close()


def _check_svg(svg: bytes) -> None:
    if len(svg) > MAX_IMAGE_BYTES:
        raise ImageTooLarge("image larger than the limit")
    if _FORBIDDEN_XML.search(xml_text(svg)):
        # DTDs enable entity-expansion bombs and external entities; badges never need them.
        _refuse_dtd()


def _remove_baked(svg: bytes, namespace: str, element: str) -> bytes:
    pattern = re.compile(
        rb"<(?P<p>[A-Za-z_][\w.-]*):"
        + element.encode()
        + rb"\b[^>]*?(?:/>|>.*?</(?P=p):"
        + element.encode()
        + rb"\s*>)\s*",
        re.DOTALL,
    )
    out = svg
    for match in list(pattern.finditer(svg)):
        prefix = match.group("p")
        if (b"xmlns:" + prefix + b'="' + namespace.encode() + b'"') in svg:
            out = out.replace(match.group(0), b"", 1)
    return out


def bake_svg(svg: bytes, text: str, version: Version = "ob3", *, is_jws: bool | None = None) -> bytes:
    """Return ``svg`` with the credential element right after the ``<svg>`` start tag.

    A compact JWS goes in the ``verify`` attribute; JSON goes in a CDATA body. Any
    previously baked element for the same version is replaced.
    """
    _check_svg(svg)
    if xml_encoding(svg) not in ("utf-8", "us-ascii", "ascii"):
        raise BakingError("only a UTF-8 SVG can be baked")  # the baked element is written in UTF-8
    namespace, element = _SVG[version]
    jws = is_jws if is_jws is not None else not text.lstrip().startswith("{")
    if "]]>" in text:
        raise BakingError("payload cannot contain ]]>")
    svg = _remove_baked(svg, namespace, element)
    start = _SVG_START.search(svg)
    if start is None:
        raise BakingError("no <svg> element found")
    tag = start.group(0)
    declaration = b'xmlns:openbadges="' + namespace.encode() + b'"'
    if b"xmlns:openbadges=" in tag and declaration not in tag:
        raise BakingError("the openbadges prefix is bound to another namespace")
    if declaration not in tag:
        closing = b"/>" if tag.endswith(b"/>") else b">"
        tag = tag[: -len(closing)].rstrip() + b" " + declaration + closing
    if tag.endswith(b"/>"):
        raise BakingError("the <svg> element is empty")
    if jws:
        escaped = text.strip().replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
        baked = f'<openbadges:{element} verify="{escaped}"/>'.encode()
    else:
        baked = f"<openbadges:{element}><![CDATA[{text}]]></openbadges:{element}>".encode()
    return svg[: start.start()] + tag + baked + svg[start.end() :]


def unbake_svg(svg: bytes) -> BakedPayload | None:
    """Return the credential baked in an SVG (OB 3.0, CLR or OB 2.0), or None."""
    _check_svg(svg)
    root = parse_untrusted_xml(svg)
    for version in ("ob3", "clr", "ob2"):
        namespace, element = _SVG[version]
        found = root.findall(f"{{{namespace}}}{element}")
        if len(found) > 1:
            raise BakingError("more than one baked credential")
        if found:
            node = found[0]
            verify = node.get("verify")
            body = (node.text or "").strip()
            if body:
                return BakedPayload(body, version, "svg-cdata")
            if verify:
                return BakedPayload(verify.strip(), version, "svg-verify")
            raise BakingError("empty baked credential element")
    return None


def unbake(image: bytes) -> BakedPayload | None:
    """Return the credential baked in a PNG or SVG image, or None."""
    if image.startswith(PNG_SIGNATURE):
        return unbake_png(image)
    if xml_text(image[:1024]).lstrip("\ufeff \t\r\n").startswith("<"):
        return unbake_svg(image)
    raise BakingError("not a PNG or SVG image")
