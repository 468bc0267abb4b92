"""File storage: uploads named only by the SHA-256 of their bytes, and files the service makes.

Uploads (evidence, images) are content-addressed: the same bytes are stored once, under their
digest, with their size and CRC-32 computed on the way in (the CRC lets a ZIP take the file as
it is). Files the service generates and replaces (dossier archives) are stored under a key it
chooses, ``<area>/<32 hex digits>.<extension>``, and are never hashed as a whole.

A client's file name never reaches the file system; the only path components ever used are a
validated hex digest or a validated key.

Every file is first written under ``tmp/`` and moved to its name in one rename, so a crash leaves
nothing half-written under a digest or a key, only a temporary file. Its writer holds an exclusive
``flock`` on it until the rename (the kernel drops the lock when the process dies, even on
SIGKILL): ``sweep_tmp`` removes the temporary files nobody holds and nobody has written to for a
while, and never one that a live worker, on this host or another sharing the storage, is writing.

The same interface has an object-store backend (``app.platform.storage_s3``) for machines that
share no file system; it writes its temporary files the same way, locally, before uploading them.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import io
import os
import re
import tempfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, Protocol

CHUNK = 1024 * 1024
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_KEY = re.compile(r"^[a-z]{1,32}/[0-9a-f]{32}\.[a-z0-9]{1,8}$")


class TooLarge(Exception):
    """The stream went past the size limit."""


@dataclass(frozen=True)
class StoredFile:
    """A file found in storage: its name (a key, or ``tmp/<name>``), size and last write (epoch seconds)."""

    name: str
    size: int
    modified: float


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

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


class KeyedWriter(Protocol):
    """A regular file being written under a key; visible under it only once committed."""

    def fileno(self) -> int: ...

    def commit(self) -> None: ...

    def __enter__(self) -> KeyedWriter: ...

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


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

    def list_keyed(self, area: str) -> Iterator[StoredFile]: ...

    def sweep_tmp(self, grace: float, *, now: float, dry_run: bool = False) -> list[StoredFile]: ...


def blob_name(sha256: str) -> str:
    """Where a blob lives below the storage root: ``ab/cd/abcd...`` (a validated digest only)."""
    if not _HEX64.match(sha256):
        raise ValueError("not a SHA-256 hex digest")
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"


def keyed_name(key: str) -> str:
    """Where a keyed file lives below the storage root: ``keyed/<key>`` (a validated key only)."""
    if not _KEY.match(key):
        raise ValueError("not a storage key")
    return f"keyed/{key}"


def is_key(key: str) -> bool:
    return bool(_KEY.match(key))


class TemporaryFiles:
    """The ``tmp/`` folder where every file is written before it is published, and its sweep."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def create(self) -> tuple[int, str]:
        """A new file, locked by this process until it is renamed or deleted."""
        fd, tmp_name = tempfile.mkstemp(dir=self.folder, suffix=".part")
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a new file: nobody else can hold it
        return fd, tmp_name

    def sweep(self, grace: float, *, now: float, dry_run: bool = False) -> list[StoredFile]:
        """Delete the temporary files left by crashed writers; return them.

        A file goes only when no process holds its lock and nothing was written to it for
        ``grace`` seconds: the lock protects a live writer that pauses, the age one whose lock a
        network file system might not share.
        """
        removed = []
        with os.scandir(self.folder) as entries:
            for entry in entries:
                try:
                    stat = entry.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue
                if not entry.is_file(follow_symlinks=False) or now - stat.st_mtime < grace:
                    continue
                if _remove_unlocked(entry.path, dry_run):
                    removed.append(StoredFile(f"tmp/{entry.name}", stat.st_size, stat.st_mtime))
        return removed


class LocalStorage:
    """Files under a directory, fanned out by the first two bytes of the digest."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self._tmp = TemporaryFiles(self.root / "tmp")

    def _path(self, sha256: str) -> Path:
        return self.root / blob_name(sha256)

    def put(self, stream: BinaryIO, max_bytes: int) -> StoredBlob:
        """Copy a stream in, hashing as it goes; refuse it past ``max_bytes``."""
        with self.writer(max_bytes) as out:
            while chunk := stream.read(CHUNK):
                out.write(chunk)
            return out.commit()

    def writer(self, max_bytes: int) -> LocalBlobWriter:
        """A file to write a new blob into (hashed as it is written), for producers such as zipfile."""
        fd, tmp_name = self._tmp.create()
        return LocalBlobWriter(os.fdopen(fd, "wb"), tmp_name, max_bytes, self._publish_blob)

    def _publish_blob(self, tmp_name: str, sha256: str) -> None:
        final = self._path(sha256)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp_name, final)  # same content, same name: replacing is harmless

    def open(self, sha256: str) -> BinaryIO:
        return self._path(sha256).open("rb")

    def exists(self, sha256: str) -> bool:
        return self._path(sha256).is_file()

    def delete(self, sha256: str) -> None:
        self._path(sha256).unlink(missing_ok=True)

    def _keyed_path(self, key: str) -> Path:
        return self.root / keyed_name(key)

    def create_keyed(self, key: str) -> LocalKeyedWriter:
        """A new file to write under ``key`` (a regular file: seekable, with a descriptor)."""
        final = self._keyed_path(key)
        fd, tmp_name = self._tmp.create()

        def publish(tmp: str) -> None:
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, final)  # still locked: a sweep never sees it unowned

        return LocalKeyedWriter(fd, tmp_name, publish)

    def open_keyed(self, key: str) -> BinaryIO:
        return self._keyed_path(key).open("rb")

    def keyed_exists(self, key: str) -> bool:
        return self._keyed_path(key).is_file()

    def delete_keyed(self, key: str) -> None:
        self._keyed_path(key).unlink(missing_ok=True)

    def list_keyed(self, area: str) -> Iterator[StoredFile]:
        """The files stored under keys of ``area`` (e.g. ``dossiers``), in no particular order."""
        folder = self.root / "keyed" / area
        if not folder.is_dir():
            return
        with os.scandir(folder) as entries:
            for entry in entries:
                key = f"{area}/{entry.name}"
                if not _KEY.match(key) or not entry.is_file(follow_symlinks=False):
                    continue
                try:
                    stat = entry.stat(follow_symlinks=False)
                except FileNotFoundError:  # deleted meanwhile
                    continue
                yield StoredFile(key, stat.st_size, stat.st_mtime)

    def sweep_tmp(self, grace: float, *, now: float, dry_run: bool = False) -> list[StoredFile]:
        """Delete the temporary files left by crashed writers (see :meth:`TemporaryFiles.sweep`)."""
        return self._tmp.sweep(grace, now=now, dry_run=dry_run)


def _remove_unlocked(path: str, dry_run: bool) -> bool:
    """Delete ``path`` if no process holds its lock (checked and deleted under our own lock)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:  # renamed to its final name or deleted meanwhile
        return False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                return False  # a live writer has it
            raise
        if not dry_run:
            os.unlink(path)
        return True
    except FileNotFoundError:
        return False
    finally:
        os.close(fd)


class LocalKeyedWriter:
    """A temporary file published under its key by ``commit``; deleted if the block ends without it.

    ``publish(tmp_name)`` puts the file's bytes under the key in one step (a rename, or an upload
    that an object store completes whole) and leaves no file at ``tmp_name``.
    """

    def __init__(self, fd: int, tmp_name: str, publish: Callable[[str], None]) -> None:
        self._fd, self._tmp_name, self._publish, self._done = fd, tmp_name, publish, False

    def fileno(self) -> int:
        return self._fd

    def commit(self) -> None:
        self._publish(self._tmp_name)  # still locked while published: a sweep never sees it unowned
        os.close(self._fd)
        self._done = True

    def __enter__(self) -> LocalKeyedWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if not self._done:
            os.unlink(self._tmp_name)
            os.close(self._fd)
            self._done = True


class LocalBlobWriter(io.RawIOBase):
    """Write-only and not seekable: bytes are hashed and counted on their way to a temporary file.

    ``commit`` publishes the file at its content address (``publish(tmp_name, sha256)``: a rename,
    or an upload); leaving the ``with`` block without committing (an error, ``TooLarge``) deletes
    it, so no partial blob is ever visible under a digest.
    """

    def __init__(self, out: BinaryIO, tmp_name: str, max_bytes: int, publish: Callable[[str, str], None]) -> None:
        super().__init__()
        self._out, self._tmp_name, self._max, self._publish = out, tmp_name, max_bytes, publish
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
        """Close the file and publish it at its content address."""
        self._out.flush()
        sha = self._digest.hexdigest()
        self._publish(self._tmp_name, sha)
        self._out.close()
        super().close()
        return StoredBlob(sha, self._size, self._head, self._crc)

    def abort(self) -> None:
        """Drop what was written (idempotent; nothing happens after a commit)."""
        if os.path.exists(self._tmp_name):
            os.unlink(self._tmp_name)
        self._out.close()
        super().close()

    def close(self) -> None:
        # zipfile closes the file it was given; only commit() publishes the blob.
        if not self.closed:
            self.abort()

    def __enter__(self) -> LocalBlobWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
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
    if _is_id3_tag(head) or _is_mpeg_audio(head):
        return "audio/mpeg"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head.startswith(b"PK\x03\x04"):
        return _sniff_zip_document(head)
    if _looks_like_text(head):
        return "text/plain"
    return None


# MPEG audio frame header fields (ISO 11172-3, 13818-3 and the unofficial MPEG 2.5): bitrates in
# kbit/s by (MPEG-1?, layer), index 0 ("free") and 15 (invalid) refused; sample rates by version.
_MPEG_BITRATES = {
    (True, 1): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (False, 3): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_MPEG_SAMPLE_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def _mpeg_frame(head: bytes, offset: int) -> tuple[tuple[int, int, int], int] | None:
    """The (version, layer, sample rate) and length of a valid MPEG audio frame header at ``offset``."""
    if len(head) < offset + 4:
        return None
    b1, b2, b3 = head[offset + 1], head[offset + 2], head[offset + 3]
    if head[offset] != 0xFF or b1 & 0xE0 != 0xE0:
        return None
    version, layer_bits = (b1 >> 3) & 3, (b1 >> 1) & 3
    bitrate_index, rate_index, padding = b2 >> 4, (b2 >> 2) & 3, (b2 >> 1) & 1
    if version == 1 or layer_bits == 0 or bitrate_index in (0, 15) or rate_index == 3 or b3 & 3 == 2:
        return None  # reserved version, layer, sample rate or emphasis; free or invalid bitrate
    layer = 4 - layer_bits
    bitrate = _MPEG_BITRATES[(version == 3, layer)][bitrate_index] * 1000
    rate = _MPEG_SAMPLE_RATES[version][rate_index]
    if layer == 1:
        length = (12 * bitrate // rate + padding) * 4
    else:
        length = (144 if layer == 2 or version == 3 else 72) * bitrate // rate + padding
    return (version, layer, rate), length


def _is_mpeg_audio(head: bytes) -> bool:
    # A lone sync word is any file starting FF Ex: real audio has a valid header, and the next
    # frame starts exactly where this one ends, with the same version, layer and sample rate.
    first = _mpeg_frame(head, 0)
    if first is None:
        return False
    second = _mpeg_frame(head, first[1])
    return second is not None and second[0] == first[0]


def _is_id3_tag(head: bytes) -> bool:
    # ID3v2 header: "ID3", major version 2-4, revision < FF, flags, four 7-bit ("syncsafe") size bytes.
    return (
        len(head) >= 10
        and head.startswith(b"ID3")
        and head[3] in (2, 3, 4)
        and head[4] != 0xFF
        and all(b < 0x80 for b in head[6:10])
    )


def _sniff_zip_document(head: bytes) -> str | None:
    # OpenDocument stores an uncompressed "mimetype" entry first; OOXML starts with
    # [Content_Types].xml. Any other zip is refused.
    if head[30:38] == b"mimetype":
        start = 38
        for odf in (
            b"application/vnd.oasis.opendocument.text",
            b"application/vnd.oasis.opendocument.spreadsheet",
            b"application/vnd.oasis.opendocument.presentation",
        ):
            if head[start : start + len(odf)] == odf:
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
