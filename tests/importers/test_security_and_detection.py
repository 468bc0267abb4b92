"""Refused inputs (zip traversal, bombs, empty files) and format detection."""

from __future__ import annotations

import io
import zipfile

import pytest

from app.importers import (
    EmptyInputError,
    ImportFormatError,
    UnknownFormatError,
    UnsafeInputError,
    detect_format,
    open_import,
    parse_rncp_xml,
)
from app.importers.sources import BytesSource, list_zip, open_text

from .conftest import header_of, make_zip, sample

XML = b'<?xml version="1.0"?><FICHES><VERSION_FLUX>4.1</VERSION_FLUX></FICHES>'


@pytest.mark.parametrize("name", ["../evil.xml", "/etc/evil.xml", "a/../../evil.xml", "C:/evil.xml", "..\\evil.xml"])
def test_zip_traversal_names_are_refused(name: str) -> None:
    with pytest.raises(UnsafeInputError, match="escapes"):
        list(parse_rncp_xml(make_zip({name: XML}), "x.zip"))


def test_zip_bomb_is_refused_from_the_directory() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("export_fiches.xml", "w") as member:
            chunk = b"\0" * (1 << 20)
            for _ in range(64):
                member.write(chunk)
    with pytest.raises(UnsafeInputError, match="ratio"):
        list(parse_rncp_xml(buffer.getvalue(), "bomb.zip"))


def test_zip_total_size_cap() -> None:
    with pytest.raises(UnsafeInputError, match="expands"):
        list_zip(BytesSource(make_zip({"a.xml": XML, "b.xml": XML})), max_total=len(XML) + 1)


def test_member_inflating_beyond_its_declared_size_is_stopped() -> None:
    data = make_zip({"export.xml": XML * 50})
    archive = BytesSource(data)
    member = list_zip(archive)[0]
    info = member.entry.info
    info.file_size = 20  # a lying directory entry
    with pytest.raises(ImportFormatError):
        with member.open() as stream:
            stream.read()


def test_corrupt_zip_is_a_format_error() -> None:
    data = make_zip({"export.xml": XML})
    with pytest.raises(ImportFormatError):
        list(parse_rncp_xml(data[:30] + data[60:], "x.zip"))


@pytest.mark.parametrize("data", [b"", b"   \r\n\t", b"\xef\xbb\xbf"])
def test_empty_input(data: bytes) -> None:
    with pytest.raises(EmptyInputError):
        detect_format(data, "empty.csv")


def test_text_decoding_policy() -> None:
    for raw, expected in (
        (b"\xef\xbb\xbfcaf\xc3\xa9", "café"),
        (b"caf\xc3\xa9", "café"),
        (b"caf\xe9 \x92", "café ’"),
        (b"caf\xe9 \x81", "café \x81"),
    ):
        with open_text(BytesSource(raw)) as text:
            assert text.read() == expected


@pytest.mark.shared
@pytest.mark.parametrize(
    "path,expected",
    [
        (("rncp", "export-fiches-rncp-v4-1_extract_RNCP35340_RNCP40792.xml"), "rncp-xml"),
        (("esco", "skills_fr.first300.csv"), "esco-csv"),
        (("esco", "skillGroups_fr.csv"), "esco-csv"),
        (("esco", "broaderRelationsSkillPillar.sample.csv"), "esco-csv"),
        (("case", "opensalt_tests_Ordering_ACT-Holistic-Math.json"), "case-json"),
    ],
)
def test_detect_shared_samples(path: tuple[str, str], expected: str) -> None:
    assert detect_format(sample(*path)) == expected
    assert detect_format(sample(*path).read_bytes(), path[1]) == expected


def test_detect_zip_xml_and_unknowns() -> None:
    assert detect_format(make_zip({"export_fiches_RNCP_V4_1.xml": XML})) == "rncp-xml"
    assert detect_format(b"<!DOCTYPE FICHES><FICHES/>") == "rncp-xml"
    with pytest.raises(UnknownFormatError):
        detect_format(b"<html><body/></html>")
    with pytest.raises(UnknownFormatError):
        detect_format(b'{"hello": 1}')
    with pytest.raises(UnknownFormatError):
        detect_format(b"a,b,c\n1,2,3\n")
    with pytest.raises(UnknownFormatError, match="zip"):
        detect_format(b"Numero_Fiche;Intitule\n")


def test_open_import_dispatches() -> None:
    items = list(open_import(XML, "export.xml"))
    assert header_of(items).source_format == "rncp-xml-4.1"
