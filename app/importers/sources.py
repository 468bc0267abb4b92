"""Byte sources: files, in-memory bytes and zip members, opened safely and decoded.

Importers read their input several times at most (a cheap encoding scan, a key index, the
real pass), so a source is something that can be *re-opened*, never a consumed stream.

Encoding policy (all text formats): a UTF-8 BOM means UTF-8; a UTF-16 BOM means UTF-16;
otherwise the whole input is scanned as UTF-8 (incrementally, bounded memory); if that fails
it is decoded as Windows-1252, and as ISO-8859-1 when it holds bytes Windows-1252 leaves
undefined. The decision is reported so that a warning can name it.
"""

from __future__ import annotations

import codecs
import io
import os
import posixpath
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TextIO

from .errors import EmptyInputError, ImportFormatError, UnsafeInputError

CHUNK = 1 << 16
MAX_ZIP_MEMBERS = 1000
MAX_ZIP_TOTAL = 8 << 30  # 8 GiB uncompressed: the RNCP XML is tens of MB, ESCO ~100 MB
MAX_ZIP_RATIO = 200  # text compresses 5-30x; zip bombs 1000x and more

Input = str | os.PathLike[str] | bytes


class ByteSource:
    """Something that can be opened (again) as a binary stream."""

    name: str
    size: int | None

    def open(self) -> BinaryIO:  # pragma: no cover - interface
        """Return a fresh binary stream positioned at the start."""
        raise NotImplementedError


class FileSource(ByteSource):
    """A file on disk."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.name = self.path.name
        try:
            self.size = self.path.stat().st_size
        except OSError as exc:
            raise ImportFormatError(f"cannot read {self.name}: {exc.strerror}") from exc

    def open(self) -> BinaryIO:
        return open(self.path, "rb")


class BytesSource(ByteSource):
    """Bytes held in memory (uploads)."""

    def __init__(self, data: bytes, name: str = "<bytes>") -> None:
        self.data = data
        self.name = name
        self.size = len(data)

    def open(self) -> BinaryIO:
        return io.BytesIO(self.data)


def as_source(value: Input | ByteSource, filename: str | None = None) -> ByteSource:
    """Wrap a path, bytes or an existing source."""
    if isinstance(value, ByteSource):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return BytesSource(bytes(value), filename or "<bytes>")
    source = FileSource(value)
    if filename:
        source.name = filename
    return source


def read_head(source: ByteSource, size: int = 4096) -> bytes:
    """Return the first bytes of a source."""
    with source.open() as stream:
        return stream.read(size)


def ensure_not_empty(source: ByteSource) -> None:
    """Raise :class:`EmptyInputError` for an empty or whitespace-only input."""
    with source.open() as stream:
        while True:
            chunk = stream.read(CHUNK)
            if not chunk:
                raise EmptyInputError(f"{source.name} is empty")
            if chunk.strip(b" \t\r\n\x00\xef\xbb\xbf"):
                return


# -- zip -------------------------------------------------------------------------------------


def zip_member_name(info: zipfile.ZipInfo) -> str:
    """Return a member name decoded as UTF-8 even without the zip UTF-8 flag, NFC-normalised."""
    name = info.filename
    if not info.flag_bits & 0x800:
        try:
            name = name.encode("cp437").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    return unicodedata.normalize("NFC", name)


def _unsafe_name(name: str) -> bool:
    unix = name.replace("\\", "/")
    if unix.startswith("/") or re.match(r"^[A-Za-z]:", unix) or "\x00" in unix:
        return True
    return ".." in unix.split("/") or posixpath.normpath(unix).startswith("..")


class _CappedReader(io.RawIOBase):
    """Stop reading a zip member once it yields more than announced (lying headers)."""

    def __init__(self, raw: BinaryIO, limit: int, name: str) -> None:
        self._raw = raw
        self._left = limit
        self._name = name

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(min(len(buffer), self._left + 1))
        if len(data) > self._left:
            raise UnsafeInputError(f"zip member {self._name} inflates beyond its declared size")
        self._left -= len(data)
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        try:
            self._raw.close()
        finally:
            super().close()


@dataclass(frozen=True)
class ZipEntry:
    """A checked member of a zip archive."""

    name: str
    info: zipfile.ZipInfo


class ZipMemberSource(ByteSource):
    """A member of a checked zip, re-opened from the archive source each time."""

    def __init__(self, archive: ByteSource, entry: ZipEntry) -> None:
        self.archive = archive
        self.entry = entry
        self.name = entry.name
        self.size = entry.info.file_size

    def open(self) -> BinaryIO:
        outer = self.archive.open()
        try:
            archive = zipfile.ZipFile(outer)
            member = archive.open(self.entry.info)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, zlib.error) as exc:
            outer.close()
            raise ImportFormatError(f"corrupt zip archive {self.archive.name}: {exc}") from exc
        capped = _CappedReader(member, self.entry.info.file_size, self.name)  # type: ignore[arg-type]
        return _Closing(io.BufferedReader(capped, CHUNK), archive, outer)  # type: ignore[return-value]


class _Closing(io.BufferedIOBase):
    """Close a member stream together with the archive and file it came from."""

    def __init__(self, inner: io.BufferedReader, *others: object) -> None:
        self._inner = inner
        self._others = others

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        try:
            return self._inner.read(size)
        except (zipfile.BadZipFile, ValueError, zlib.error) as exc:
            raise ImportFormatError(f"corrupt zip member: {exc}") from exc
        except EOFError as exc:
            raise ImportFormatError("zip member is truncated") from exc

    def read1(self, size: int = -1) -> bytes:
        return self.read(size)

    def close(self) -> None:
        if not self.closed:
            self._inner.close()
            for other in self._others:
                other.close()  # type: ignore[attr-defined]
        super().close()


def is_zip(source: ByteSource) -> bool:
    """Tell whether a source starts like a zip archive."""
    return read_head(source, 4) in (b"PK\x03\x04", b"PK\x05\x06")


def list_zip(
    source: ByteSource,
    *,
    max_total: int = MAX_ZIP_TOTAL,
    max_ratio: int = MAX_ZIP_RATIO,
    max_members: int = MAX_ZIP_MEMBERS,
) -> list[ZipMemberSource]:
    """Check a zip's directory before reading anything and return its file members.

    Refuses traversal/absolute names, encrypted members, too many members, a total
    uncompressed size above ``max_total`` and any member whose compression ratio exceeds
    ``max_ratio`` (a decompression bomb). Reads are also capped while streaming.
    """
    with source.open() as stream:
        try:
            with zipfile.ZipFile(stream) as archive:
                infos = archive.infolist()
        except (zipfile.BadZipFile, ValueError, EOFError) as exc:
            raise ImportFormatError(f"{source.name} is not a readable zip archive ({exc})") from exc
    if len(infos) > max_members:
        raise UnsafeInputError(f"zip archive has {len(infos)} members (limit {max_members})")
    total = 0
    members: list[ZipMemberSource] = []
    for info in infos:
        name = zip_member_name(info)
        if _unsafe_name(name):
            raise UnsafeInputError(f"zip member name {name!r} escapes the archive")
        if info.is_dir():
            continue
        if info.flag_bits & 0x1:
            raise UnsafeInputError(f"zip member {name!r} is encrypted")
        total += info.file_size
        if total > max_total:
            raise UnsafeInputError(f"zip archive expands to more than {max_total} bytes")
        if info.file_size > 1 << 20 and info.file_size > max_ratio * max(info.compress_size, 1):
            raise UnsafeInputError(
                f"zip member {name!r} has a compression ratio above {max_ratio} (decompression bomb?)"
            )
        members.append(ZipMemberSource(source, ZipEntry(name, info)))
    return members


# -- text decoding ---------------------------------------------------------------------------


def detect_encoding(source: ByteSource) -> str:
    """Return the codec to read a text source with (see the module docstring)."""
    with source.open() as stream:
        head = stream.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        decoder: codecs.IncrementalDecoder = codecs.getincrementaldecoder("utf-8")()
        data = head
        try:
            while data:
                decoder.decode(data)
                data = stream.read(CHUNK)
            decoder.decode(b"", final=True)
            return "utf-8"
        except UnicodeDecodeError:
            pass
    with source.open() as stream:
        decoder = codecs.getincrementaldecoder("cp1252")()
        try:
            while chunk := stream.read(CHUNK):
                decoder.decode(chunk)
            return "cp1252"
        except UnicodeDecodeError:
            return "latin-1"


class _TailTracker(io.TextIOBase):
    """Text stream wrapper remembering its last character (to spot a missing final newline)."""

    def __init__(self, inner: TextIO) -> None:
        self._inner = inner
        self.last = ""

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> str:
        data = self._inner.read(-1 if size is None else size)
        if data:
            self.last = data[-1]
        return data

    def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
        data = self._inner.readline(-1 if size is None else size)
        if data:
            self.last = data[-1]
        return data

    def __iter__(self) -> Iterator[str]:  # type: ignore[override]
        return self

    def __next__(self) -> str:  # type: ignore[override]
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def close(self) -> None:
        self._inner.close()
        super().close()


@contextmanager
def open_text(source: ByteSource, encoding: str | None = None) -> Iterator[_TailTracker]:
    """Open a source as text (``newline=''`` for the csv module), decoding per the policy."""
    codec = encoding or detect_encoding(source)
    raw = source.open()
    try:
        text = io.TextIOWrapper(raw, encoding=codec, newline="")  # type: ignore[arg-type]
    except Exception:
        raw.close()
        raise
    tracker = _TailTracker(text)
    try:
        yield tracker
    except UnicodeDecodeError as exc:
        raise ImportFormatError(f"{source.name}: undecodable bytes for {codec}: {exc.reason}") from exc
    finally:
        tracker.close()


class Utf8Transcoder(io.RawIOBase):
    """Re-encode a legacy-encoded byte stream as UTF-8 (for XML/JSON parsers), BOM dropped."""

    def __init__(self, raw: BinaryIO, encoding: str) -> None:
        self._raw = raw
        self._decoder = codecs.getincrementaldecoder(encoding)()
        self._pending = b""
        self._eof = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._pending and not self._eof:
            chunk = self._raw.read(CHUNK)
            self._eof = not chunk
            text = self._decoder.decode(chunk, final=self._eof)
            self._pending = text.lstrip("\ufeff").encode("utf-8") if text else b""
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size

    def close(self) -> None:
        try:
            self._raw.close()
        finally:
            super().close()


def open_utf8(source: ByteSource, encoding: str) -> BinaryIO:
    """Open a source as UTF-8 bytes, transcoding when ``encoding`` is not UTF-8."""
    raw = source.open()
    if encoding == "utf-8":
        return raw
    return io.BufferedReader(Utf8Transcoder(raw, encoding), CHUNK)  # type: ignore[return-value]
