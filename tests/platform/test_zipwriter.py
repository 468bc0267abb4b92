"""The dossier ZIP writer, read back by the standard library (and Info-ZIP's unzip when present)."""

from __future__ import annotations

import errno
import io
import os
import shutil
import subprocess
import zipfile
import zlib
from pathlib import Path

import pytest

from app.platform.storage import TooLarge
from app.platform.zipwriter import SourceChanged, ZipWriter

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40
TEXT = "Compte rendu de l’atelier « grand public », réunion du 12 mars.\n".encode() * 200


def _write(path: Path, build, **options) -> bytes:  # type: ignore[no-untyped-def]
    with open(path, "wb") as out:
        writer = ZipWriter(out.fileno(), limit=options.pop("limit", 1 << 30), **options)
        build(writer, path.parent)
        assert writer.close() == out.seek(0, io.SEEK_END)
    return path.read_bytes()


def _source(folder: Path, name: str, data: bytes) -> io.BufferedReader:
    path = folder / name
    path.write_bytes(data)
    return open(path, "rb")


def _every_kind(writer: ZipWriter, folder: Path) -> None:
    writer.add_bytes("dossier.pdf", PDF, deflate=False)
    writer.add_bytes("dossier.json", b'{"a": 1}' * 100, deflate=True)
    with _source(folder, "a", PDF) as source:  # known CRC: copied by the kernel
        writer.add_file("annexes/A001-tableau.pdf", source, len(PDF), crc32=zlib.crc32(PDF), deflate=False)
    with _source(folder, "b", PDF) as source:  # CRC unknown: checksummed on the way
        assert writer.add_file("annexes/A002-piece.pdf", source, len(PDF), crc32=None, deflate=False) == zlib.crc32(PDF)
    with _source(folder, "c", TEXT) as source:
        writer.add_file("annexes/A003-récit.txt", source, len(TEXT), crc32=zlib.crc32(TEXT), deflate=True)
    writer.add_bytes("vide.txt", b"", deflate=True)


def _check(data: bytes) -> dict[str, zipfile.ZipInfo]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        infos = {i.filename: i for i in archive.infolist()}
        assert archive.read("dossier.pdf") == PDF == archive.read("annexes/A001-tableau.pdf")
        assert archive.read("annexes/A002-piece.pdf") == PDF
        assert archive.read("annexes/A003-récit.txt") == TEXT
        assert archive.read("vide.txt") == b""
    return infos


def test_members_of_every_kind_read_back(tmp_path):  # type: ignore[no-untyped-def]
    data = _write(tmp_path / "out.zip", _every_kind)
    infos = _check(data)
    assert list(infos) == [
        "dossier.pdf",
        "dossier.json",
        "annexes/A001-tableau.pdf",
        "annexes/A002-piece.pdf",
        "annexes/A003-récit.txt",
        "vide.txt",
    ]
    assert infos["annexes/A001-tableau.pdf"].compress_type == zipfile.ZIP_STORED
    assert infos["annexes/A003-récit.txt"].compress_type == zipfile.ZIP_DEFLATED
    assert infos["annexes/A003-récit.txt"].compress_size < len(TEXT) // 10
    assert infos["annexes/A003-récit.txt"].flag_bits & 0x800  # UTF-8 name
    assert not infos["dossier.pdf"].flag_bits & 0x800
    assert all(i.date_time == (2020, 1, 1, 0, 0, 0) for i in infos.values())
    if shutil.which("unzip"):
        result = subprocess.run(["unzip", "-tq", str(tmp_path / "out.zip")], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


def test_same_members_same_bytes(tmp_path):  # type: ignore[no-untyped-def]
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    assert _write(tmp_path / "one" / "out.zip", _every_kind) == _write(tmp_path / "two" / "out.zip", _every_kind)


def test_zip64_records_are_read_back(tmp_path):  # type: ignore[no-untyped-def]
    # Lowering the threshold exercises the ZIP64 extra fields and end records on small data.
    data = _write(tmp_path / "out.zip", _every_kind, zip64_from=1000)
    assert data[-22 - 20 - 56 : -22 - 20][:4] == b"PK\x06\x06"  # the ZIP64 end record, then its locator
    infos = _check(data)
    assert infos["annexes/A001-tableau.pdf"].header_offset > 1000
    if shutil.which("unzip"):
        result = subprocess.run(["unzip", "-tq", str(tmp_path / "out.zip")], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


def test_the_kernel_copy_falls_back_to_a_plain_copy(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    def refuse(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError(errno.EXDEV, "cross-device")

    monkeypatch.setattr(os, "copy_file_range", refuse, raising=False)
    _check(_write(tmp_path / "out.zip", _every_kind))


def test_a_source_of_another_size_than_announced_is_refused(tmp_path):  # type: ignore[no-untyped-def]
    for crc in (zlib.crc32(PDF), None):
        for announced in (len(PDF) + 10, len(PDF) - 10):
            with open(tmp_path / "out.zip", "wb") as out, _source(tmp_path, "a", PDF) as source:
                writer = ZipWriter(out.fileno(), limit=1 << 20)
                with pytest.raises(SourceChanged):
                    writer.add_file("a.pdf", source, announced, crc32=crc, deflate=False)


def test_the_size_limit_is_checked_before_writing(tmp_path):  # type: ignore[no-untyped-def]
    with open(tmp_path / "out.zip", "wb") as out, _source(tmp_path, "a", PDF) as source:
        writer = ZipWriter(out.fileno(), limit=len(PDF) + 150)  # 139 bytes, then 35 + the PDF
        writer.add_bytes("small.txt", b"x" * 100, deflate=False)
        with pytest.raises(TooLarge):
            writer.add_file("a.pdf", source, len(PDF), crc32=zlib.crc32(PDF), deflate=False)
        assert writer.size == out.seek(0, io.SEEK_END) < len(PDF)


@pytest.mark.parametrize("name", ["", "/etc/passwd", "a/../b", "..", "a\\b", "dossier.pdf"])
def test_bad_or_duplicate_names_are_refused(tmp_path, name):  # type: ignore[no-untyped-def]
    with open(tmp_path / "out.zip", "wb") as out:
        writer = ZipWriter(out.fileno(), limit=1 << 20)
        writer.add_bytes("dossier.pdf", PDF, deflate=False)
        with pytest.raises(ValueError):
            writer.add_bytes(name, b"x", deflate=False)
