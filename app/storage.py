"""File storage: uploads named only by the SHA-256 of their bytes, and files the service makes.

Uploads (evidence, images) are content-addressed: the same bytes are stored once, under their
digest, with their size and CRC-32 computed on the way in (the CRC lets a ZIP take the file as
it is). Files the service generates and replaces (dossier archives) are stored under a key it
chooses, ``<area>/<32 hex digits>.<extension>``, and are never hashed as a whole.

A client's file name never reaches the file system; the only path components ever used are a
validated hex digest or a validated key.
"""
from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, Iterator, Protocol

CHUNK = 1024 * 1024
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_KEY = re.compile(r"^[a-z]{1,32}/[0-9a-f]{32}\.[a-z0-9]{1,8}$")


class TooLarge(Exception):
    """The stream went past the size limit."""


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int
    head: bytes  # the first bytes, for type detection
    crc32: int | None = None  # None: not computed by this storage


class BlobWriter(Protocol):
    """A new blob written in one pass; named by its digest only when committed."""

    def write(self, data: Any) -> int: ...

    def tell(self) -> int: ...

    def commit(self) -> StoredBlob: ...

    def abort(self) -> None: ...

    def __enter__(self) -> BlobWriter: ...

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...


class KeyedWriter(Protocol):
    """A regular file being written under a key; visible under it only once committed."""

    def fileno(self) -> int: ...

    def commit(self) -> None: ...

    def __enter__(self) -> KeyedWriter: ...

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...


class Storage(Protocol):
    def put(self, stream: BinaryIO, max_bytes: int) -> StoredBlob: ...

    def writer(self, max_bytes: int) -> BlobWriter: ...

    def open(self, sha256: str) -> BinaryIO: ...

    def exists(self, sha256: str) -> bool: ...

    def delete(self, sha256: str) -> None: ...

    def create_keyed(self, key: str) -> KeyedWriter: ...

    def open_keyed(self, key: str) -> BinaryIO: ...

    def keyed_exists(self, key: str) -> bool: ...

    def delete_keyed(self, key: str) -> None: ...


class LocalStorage:
    """Files under a directory, fanned out by the first two bytes of the digest."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        (self.root / "tmp").mkdir(parents=True, exist_ok=True)

    def _path(self, sha256: str) -> Path:
        if not _HEX64.match(sha256):
            raise ValueError("not a SHA-256 hex digest")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, stream: BinaryIO, max_bytes: int) -> StoredBlob:
        """Copy a stream in, hashing as it goes; refuse it past ``max_bytes``."""
        with self.writer(max_bytes) as out:
            while chunk := stream.read(CHUNK):
                out.write(chunk)
            return out.commit()

    def writer(self, max_bytes: int) -> LocalBlobWriter:
        """A file to write a new blob into (hashed as it is written), for producers such as zipfile."""
        fd, tmp_name = tempfile.mkstemp(dir=self.root / "tmp")
        return LocalBlobWriter(self, os.fdopen(fd, "wb"), tmp_name, max_bytes)

    def open(self, sha256: str) -> BinaryIO:
        return self._path(sha256).open("rb")

    def exists(self, sha256: str) -> bool:
        return self._path(sha256).is_file()

    def delete(self, sha256: str) -> None:
        self._path(sha256).unlink(missing_ok=True)

    def _keyed_path(self, key: str) -> Path:
        if not _KEY.match(key):
            raise ValueError("not a storage key")
        return self.root / "keyed" / key

    def create_keyed(self, key: str) -> LocalKeyedWriter:
        """A new file to write under ``key`` (a regular file: seekable, with a descriptor)."""
        final = self._keyed_path(key)
        fd, tmp_name = tempfile.mkstemp(dir=self.root / "tmp")
        return LocalKeyedWriter(fd, tmp_name, final)

    def open_keyed(self, key: str) -> BinaryIO:
        return self._keyed_path(key).open("rb")

    def keyed_exists(self, key: str) -> bool:
        return self._keyed_path(key).is_file()

    def delete_keyed(self, key: str) -> None:
        self._keyed_path(key).unlink(missing_ok=True)


class LocalKeyedWriter:
    """A temporary file moved under its key by ``commit``; deleted if the block ends without it."""

    def __init__(self, fd: int, tmp_name: str, final: Path) -> None:
        self._fd, self._tmp_name, self._final, self._done = fd, tmp_name, final, False

    def fileno(self) -> int:
        return self._fd

    def commit(self) -> None:
        os.close(self._fd)
        self._final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self._tmp_name, self._final)
        self._done = True

    def __enter__(self) -> LocalKeyedWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if not self._done:
            os.close(self._fd)
            os.unlink(self._tmp_name)
            self._done = True


class LocalBlobWriter(io.RawIOBase):
    """Write-only and not seekable: bytes are hashed and counted on their way to a temporary file.

    ``commit`` moves the file to its content address; leaving the ``with`` block without committing
    (an error, ``TooLarge``) deletes it, so no partial blob is ever visible under a digest.
    """

    def __init__(self, storage: LocalStorage, out: BinaryIO, tmp_name: str, max_bytes: int) -> None:
        super().__init__()
        self._storage, self._out, self._tmp_name, self._max = storage, out, tmp_name, max_bytes
        self._digest, self._size, self._head, self._crc = hashlib.sha256(), 0, b"", 0

    def writable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._size

    def write(self, data: Any) -> int:
        if self.closed:
            raise ValueError("write to a committed or aborted blob")
        size = len(data) if isinstance(data, bytes) else memoryview(data).nbytes
        if self._size + size > self._max:
            raise TooLarge()
        if len(self._head) < 4096:
            self._head += bytes(data[: 4096 - len(self._head)])
        self._digest.update(data)
        self._crc = zlib.crc32(data, self._crc)
        self._out.write(data)
        self._size += size
        return size

    def commit(self) -> StoredBlob:
        """Close the file and move it to its content address."""
        self._out.close()
        sha = self._digest.hexdigest()
        final = self._storage._path(sha)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self._tmp_name, final)  # same content, same name: replacing is harmless
        super().close()
        return StoredBlob(sha, self._size, self._head, self._crc)

    def abort(self) -> None:
        """Drop what was written (idempotent; nothing happens after a commit)."""
        self._out.close()
        if os.path.exists(self._tmp_name):
            os.unlink(self._tmp_name)
        super().close()

    def close(self) -> None:
        # zipfile closes the file it was given; only commit() publishes the blob.
        if not self.closed:
            self.abort()

    def __enter__(self) -> LocalBlobWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if not self.closed:
            self.abort()


def iter_file(handle: BinaryIO) -> Iterator[bytes]:
    """Yield a file in chunks and close it at the end (for streamed responses)."""
    with handle:
        while chunk := handle.read(CHUNK):
            yield chunk


# Accepted evidence types, recognised from their first bytes (never from the name or header).
def sniff_media_type(head: bytes) -> str | None:
    """Return the media type of accepted evidence formats, or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head[4:8] == b"ftyp":
        return "video/mp4"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "audio/mpeg"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head.startswith(b"PK\x03\x04"):
        return _sniff_zip_document(head)
    if _looks_like_text(head):
        return "text/plain"
    return None


def _sniff_zip_document(head: bytes) -> str | None:
    # OpenDocument stores an uncompressed "mimetype" entry first; OOXML starts with
    # [Content_Types].xml. Any other zip is refused.
    if head[30:38] == b"mimetype":
        start = 38
        for odf in (b"application/vnd.oasis.opendocument.text",
                    b"application/vnd.oasis.opendocument.spreadsheet",
                    b"application/vnd.oasis.opendocument.presentation"):
            if head[start:start + len(odf)] == odf:
                return odf.decode()
        return None
    if b"[Content_Types].xml" in head[:200] and b"word/" in head:
        return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    return None


def _looks_like_text(head: bytes) -> bool:
    if not head or b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the 4 KiB boundary is still text.
        if exc.start < len(head) - 4:
            return False
    lowered = head[:512].removeprefix(b"\xef\xbb\xbf").lstrip().lower()
    # Markup could run script when served back; it is not accepted as plain text.
    return not lowered.startswith((b"<!doctype html", b"<html", b"<svg", b"<?xml", b"<script"))
