"""Content-addressed file storage: files are named only by the SHA-256 of their bytes.

A client's file name never reaches the file system; the only path component ever used is a
validated 64-character hex digest.
"""
from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, Iterator, Protocol

CHUNK = 1024 * 1024
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class TooLarge(Exception):
    """The stream went past the size limit."""


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int
    head: bytes  # the first bytes, for type detection


class BlobWriter(Protocol):
    """A new blob written in one pass; named by its digest only when committed."""

    def write(self, data: Any) -> int: ...

    def tell(self) -> int: ...

    def commit(self) -> StoredBlob: ...

    def abort(self) -> None: ...

    def __enter__(self) -> BlobWriter: ...

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...


class Storage(Protocol):
    def put(self, stream: BinaryIO, max_bytes: int) -> StoredBlob: ...

    def writer(self, max_bytes: int) -> BlobWriter: ...

    def open(self, sha256: str) -> BinaryIO: ...

    def exists(self, sha256: str) -> bool: ...

    def delete(self, sha256: str) -> None: ...


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


class LocalBlobWriter(io.RawIOBase):
    """Write-only and not seekable: bytes are hashed and counted on their way to a temporary file.

    ``commit`` moves the file to its content address; leaving the ``with`` block without committing
    (an error, ``TooLarge``) deletes it, so no partial blob is ever visible under a digest.
    """

    def __init__(self, storage: LocalStorage, out: BinaryIO, tmp_name: str, max_bytes: int) -> None:
        super().__init__()
        self._storage, self._out, self._tmp_name, self._max = storage, out, tmp_name, max_bytes
        self._digest, self._size, self._head = hashlib.sha256(), 0, b""

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
        return StoredBlob(sha, self._size, self._head)

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
