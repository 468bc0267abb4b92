"""Pick the importer for a file by sniffing its bytes (zip, XML, JSON, CSV) and names."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any, Literal

from .case import parse_case
from .csvfiles import CsvFile
from .custom import parse_custom
from .errors import ImportFormatError, MissingColumnsError, UnknownFormatError
from .esco import classify, parse_esco
from .jsonstream import top_level_keys
from .records import CompetencyRecord, FrameworkHeader, ProgressCallback, Record, StreamItem
from .rncp_csv import _part, parse_rncp_csv
from .rncp_xml import parse_rncp_xml
from .sources import ByteSource, Input, as_source, detect_encoding, ensure_not_empty, is_zip, list_zip

Format = Literal["rncp-xml", "rncp-csv", "esco-csv", "case-json", "custom-csv", "custom-json"]
FORMATS: tuple[Format, ...] = ("rncp-xml", "rncp-csv", "esco-csv", "case-json", "custom-csv", "custom-json")
_ROOT = re.compile(rb"<\s*([A-Za-z_][\w.-]*)")


def detect_format(source: Input | ByteSource, filename: str | None = None) -> Format:
    """Return the format name of a file (path or bytes); raise when it is not recognised."""
    byte_source = as_source(source, filename)
    ensure_not_empty(byte_source)
    if is_zip(byte_source):
        return _detect_zip(byte_source)
    with byte_source.open() as stream:
        head = stream.read(4096)
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"<"):
        body = re.sub(rb"<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>", b"", stripped, flags=re.S)
        root = _ROOT.search(body)
        if root and root.group(1) == b"FICHES":
            return "rncp-xml"
        raise UnknownFormatError(
            f"{byte_source.name}: XML document is not an RNCP export (root {root.group(1).decode() if root else '?'})"
        )
    if stripped.startswith(b"{"):
        keys = top_level_keys(byte_source, detect_encoding(byte_source))
        if "CFDocument" in keys or "CFPackage" in keys or "CFItems" in keys:
            return "case-json"
        if "format" in keys or "competencies" in keys:
            return "custom-json"
        raise UnknownFormatError(f"{byte_source.name}: JSON is neither a CASE package nor a blason-framework document")
    return _detect_csv(byte_source)


def _detect_csv(source: ByteSource) -> Format:
    csv_file = CsvFile(source)
    if csv_file.has("key") and csv_file.has("label"):
        return "custom-csv"
    if csv_file.has("key") and csv_file.has("parent_key"):
        raise MissingColumnsError(["label"], file=source.name)
    if csv_file.has("Numero_Fiche"):
        raise UnknownFormatError(f"{source.name}: RNCP CSV files must be imported as the whole export zip")
    try:
        classify(csv_file)
    except MissingColumnsError:
        raise  # an ESCO file lacking columns: name them rather than "unrecognised"
    except ImportFormatError as exc:
        raise UnknownFormatError(f"{source.name}: unrecognised CSV header ({', '.join(csv_file.header[:6])})") from exc
    return "esco-csv"


def _detect_zip(source: ByteSource) -> Format:
    members = list_zip(source)
    names = [m.name for m in members]
    if any(n.lower().endswith(".xml") for n in names):
        return "rncp-xml"
    if any(_part(n) == "standard" for n in names):
        return "rncp-csv"
    csvs = [m for m in members if m.name.lower().endswith(".csv")]
    for member in csvs:
        try:
            if classify(CsvFile(member)) is not None:
                return "esco-csv"
        except ImportFormatError:
            continue
    if any(n.lower().endswith(".json") for n in names):
        raise UnknownFormatError(f"{source.name}: zipped JSON is not supported; upload the file")
    raise UnknownFormatError(f"{source.name}: zip content not recognised")


def open_import(
    source: Input | ByteSource | Sequence[Input | ByteSource],
    filename: str | None = None,
    *,
    format: Format | None = None,
    on_progress: ProgressCallback | None = None,
    progress_every: int = 1000,
    **options: Any,
) -> Iterator[StreamItem]:
    """Detect the format (unless given) and return the importer's stream.

    A list of sources is accepted for ESCO only (skills + groups + relations files).
    ``options`` are passed to the importer (ESCO: ``language``, ``version``,
    ``fallback_descriptions``; custom: ``title``).
    """
    if isinstance(source, (list, tuple)):
        return parse_esco(source, on_progress=on_progress, progress_every=progress_every, **options)
    byte_source = as_source(source, filename)  # type: ignore[arg-type]
    chosen = format or detect_format(byte_source)
    common: dict[str, Any] = {"on_progress": on_progress, "progress_every": progress_every}
    if chosen == "rncp-xml":
        return parse_rncp_xml(byte_source, **common)
    if chosen == "rncp-csv":
        return parse_rncp_csv(byte_source, **common)
    if chosen == "esco-csv":
        return parse_esco([byte_source], **common, **options)
    if chosen == "case-json":
        return parse_case(byte_source, **common)
    if chosen in ("custom-csv", "custom-json"):
        return parse_custom(byte_source, **common, **options)
    raise UnknownFormatError(f"unknown format {chosen!r}")


def split_header(stream: Iterator[StreamItem]) -> tuple[FrameworkHeader, Iterator[Record]]:
    """Read the header of a stream; return it with the iterator over the remaining items."""
    first = next(stream, None)
    if not isinstance(first, FrameworkHeader):
        raise ImportFormatError("the stream did not start with a FrameworkHeader")
    return first, stream  # type: ignore[return-value]


def competencies(stream: Iterator[StreamItem]) -> Iterator[CompetencyRecord]:
    """Keep only the competency records of a stream."""
    return (item for item in stream if isinstance(item, CompetencyRecord))
