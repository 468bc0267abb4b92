"""A ZIP writer for archives written to a regular file, whose large members the kernel copies.

``zipfile`` computes every member's CRC-32 itself, so each byte of a copied file crosses user
space twice and is checksummed on the way. Stored evidence already has a known size and CRC-32
(recorded at upload), so here such a member is a local header written with its final values
followed by the file's bytes copied file-to-file by the kernel (``copy_file_range``; a
read/write loop where the kernel cannot): the archive costs about what copying the files costs.
Members of unknown CRC (or to be deflated) are streamed through user space and their header is
patched afterwards, which needs a seekable output, hence a regular file.

The format is PKWARE's APPNOTE 6.3: local headers, central directory, end records; ZIP64 extra
fields and end records as soon as a size, an offset or the member count needs them. Names are
UTF-8 (general-purpose bit 11 when not ASCII); every member is dated 2020-01-01 so that the same
content gives the same bytes.
"""

from __future__ import annotations

import errno
import os
import struct
import zlib
from dataclasses import dataclass
from typing import BinaryIO

from app.platform.storage import TooLarge

CHUNK = 1024 * 1024
STORED, DEFLATED = 0, 8
ZIP32_LIMIT = 0xFFFFFFFF
MAX_MEMBERS_ZIP32 = 0xFFFF
_DOS_DATE = ((2020 - 1980) << 9) | (1 << 5) | 1  # 2020-01-01
_DOS_TIME = 0
_UTF8 = 0x0800
_UNIX_FILE = 0o100644 << 16
KERNEL_COPY = hasattr(os, "copy_file_range")  # Linux, and Python built with it
_KERNEL_COPY_ERRORS = {errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.EBADF, errno.EPERM}


class SourceChanged(Exception):
    """A file being copied in did not have the size it was announced with."""


@dataclass
class _Entry:
    name: bytes
    flags: int
    method: int
    crc: int
    compressed: int
    size: int
    offset: int
    zip64: bool  # the local header carries a ZIP64 extra field


class ZipWriter:
    """Write members one after the other into ``fd`` (a regular file open for writing, at offset 0).

    ``limit`` bounds the whole archive: :class:`TooLarge` is raised before a member would cross it.
    ``zip64_from`` is where ZIP64 records start being used (lower it only to test them).
    """

    def __init__(self, fd: int, *, limit: int, zip64_from: int = ZIP32_LIMIT) -> None:
        self._fd, self._limit, self._zip64_from = fd, limit, zip64_from
        self._offset = 0
        self._entries: list[_Entry] = []
        self._names: set[bytes] = set()
        self._kernel_copy = KERNEL_COPY
        self._closed = False

    @property
    def size(self) -> int:
        """Bytes written so far."""
        return self._offset

    def add_bytes(self, path: str, data: bytes, *, deflate: bool) -> None:
        """Add a member held in memory."""
        crc = zlib.crc32(data)
        body = _deflate(data) if deflate else data
        entry = self._entry(path, DEFLATED if deflate else STORED, crc, len(body), len(data))
        self._write_header(entry)
        self._write(body)

    def add_file(self, path: str, source: BinaryIO, size: int, *, crc32: int | None, deflate: bool) -> int:
        """Add ``size`` bytes of ``source`` (from its start); return the member's CRC-32.

        With a known CRC-32 and no compression the kernel copies the bytes; otherwise they are
        streamed through here and the header is completed afterwards. :class:`SourceChanged` if
        the file does not hold exactly ``size`` bytes.
        """
        if crc32 is not None and not deflate:
            entry = self._entry(path, STORED, crc32, size, size)
            self._write_header(entry)
            self._copy(source, size)
            return crc32
        return self._stream(path, source, size, deflate)

    def close(self) -> int:
        """Write the central directory and the end records; return the archive's size."""
        if self._closed:
            return self._offset
        start = self._offset
        for entry in self._entries:
            self._write(_central_header(entry, self._zip64_from))
        self._write_end(start, self._offset - start)
        self._closed = True
        return self._offset

    # --- members ---------------------------------------------------------------------------

    def _entry(
        self, path: str, method: int, crc: int, compressed: int, size: int, *, zip64: bool | None = None
    ) -> _Entry:
        name = path.encode()
        if not path or path.startswith("/") or "\\" in path or ".." in path.split("/") or name in self._names:
            raise ValueError(f"bad or duplicate member name: {path!r}")
        flags = 0 if name.isascii() else _UTF8
        if zip64 is None:
            zip64 = max(compressed, size) >= self._zip64_from
        header = 30 + len(name) + (20 if zip64 else 0)
        if self._offset + header + compressed > self._limit:
            raise TooLarge()
        self._names.add(name)
        entry = _Entry(name, flags, method, crc, compressed, size, self._offset, zip64)
        self._entries.append(entry)
        return entry

    def _write_header(self, entry: _Entry) -> None:
        self._write(_local_header(entry))

    def _stream(self, path: str, source: BinaryIO, size: int, deflate: bool) -> int:
        # Deflate can grow incompressible data a little: leave room before choosing ZIP64.
        zip64 = size + size // 1000 + 1024 >= self._zip64_from
        entry = self._entry(path, DEFLATED if deflate else STORED, 0, size, size, zip64=zip64)
        self._write_header(entry)
        compressor = zlib.compressobj(6, zlib.DEFLATED, -15) if deflate else None
        buffer = memoryview(bytearray(CHUNK))
        crc = copied = written = 0
        while count := source.readinto(buffer):  # type: ignore[attr-defined]
            chunk = buffer[:count]
            crc = zlib.crc32(chunk, crc)
            copied += count
            if copied > size:
                raise SourceChanged(f"{path}: more than the {size} bytes announced")
            out = compressor.compress(chunk) if compressor else chunk
            written += self._write(out)
        if compressor:
            written += self._write(compressor.flush())
        if copied != size:
            raise SourceChanged(f"{path}: {copied} bytes, {size} announced")
        entry.crc, entry.compressed = crc, written
        if not entry.zip64 and written >= self._zip64_from:
            raise TooLarge()  # cannot happen with the margin above; never write a wrong header
        os.pwrite(self._fd, _local_header(entry), entry.offset)
        return crc

    def _copy(self, source: BinaryIO, size: int) -> None:
        """Copy ``size`` bytes from the start of ``source`` to the end of the archive."""
        src = source.fileno()
        copied = 0
        while copied < size:
            count = self._copy_some(src, copied, size - copied)
            if count == 0:
                raise SourceChanged(f"the file ended after {copied} bytes, {size} announced")
            copied += count
            self._offset += count
        if os.pread(src, 1, size):
            raise SourceChanged(f"the file is longer than the {size} bytes announced")

    def _copy_some(self, src: int, position: int, count: int) -> int:
        count = min(count, 1 << 30)
        if self._kernel_copy:
            try:
                return os.copy_file_range(src, self._fd, count, position, self._offset)
            except OSError as exc:
                if exc.errno not in _KERNEL_COPY_ERRORS:
                    raise
                self._kernel_copy = False  # another file system or an old kernel: copy here
        data = os.pread(src, min(count, CHUNK), position)
        if data:
            os.pwrite(self._fd, data, self._offset)
        return len(data)

    def _write(self, data: bytes | memoryview) -> int:
        view = memoryview(data)
        while view:
            count = os.pwrite(self._fd, view, self._offset)
            self._offset += count
            view = view[count:]
        return len(data)

    # --- end records ---------------------------------------------------------------------------

    def _write_end(self, start: int, length: int) -> None:
        count = len(self._entries)
        if count >= MAX_MEMBERS_ZIP32 or start >= self._zip64_from or length >= self._zip64_from:
            record = self._offset
            self._write(
                struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, (3 << 8) | 45, 45, 0, 0, count, count, length, start)
            )
            self._write(struct.pack("<IIQI", 0x07064B50, 0, record, 1))
            count, start, length = min(count, MAX_MEMBERS_ZIP32), ZIP32_LIMIT, min(length, ZIP32_LIMIT)
        self._write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, length, start, 0))


def _deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def _local_header(entry: _Entry) -> bytes:
    if entry.zip64:
        extra = struct.pack("<HHQQ", 0x0001, 16, entry.size, entry.compressed)
        sizes = (ZIP32_LIMIT, ZIP32_LIMIT)
    else:
        extra, sizes = b"", (entry.compressed, entry.size)
    version = 45 if entry.zip64 else 20
    return (
        struct.pack(
            "<IHHHHHIIIHH",
            0x04034B50,
            version,
            entry.flags,
            entry.method,
            _DOS_TIME,
            _DOS_DATE,
            entry.crc,
            *sizes,
            len(entry.name),
            len(extra),
        )
        + entry.name
        + extra
    )


def _central_header(entry: _Entry, zip64_from: int) -> bytes:
    # The ZIP64 extra field of the central directory holds, in this order, only the values
    # that do not fit in their 32-bit field.
    values: list[int] = []
    size, compressed, offset = entry.size, entry.compressed, entry.offset
    if entry.zip64 or size >= zip64_from:
        values.append(size)
        size = ZIP32_LIMIT
    if entry.zip64 or compressed >= zip64_from:
        values.append(compressed)
        compressed = ZIP32_LIMIT
    if offset >= zip64_from:
        values.append(offset)
        offset = ZIP32_LIMIT
    extra = struct.pack(f"<HH{len(values)}Q", 0x0001, 8 * len(values), *values) if values else b""
    version = 45 if values or entry.zip64 else 20
    return (
        struct.pack(
            "<IHHHHHHIIIHHHHHII",
            0x02014B50,
            (3 << 8) | version,
            version,
            entry.flags,
            entry.method,
            _DOS_TIME,
            _DOS_DATE,
            entry.crc,
            compressed,
            size,
            len(entry.name),
            len(extra),
            0,
            0,
            0,
            _UNIX_FILE,
            offset,
        )
        + entry.name
        + extra
    )
