"""Custom competency frameworks written by territories (CSV or JSON).

Format "blason-framework" version 1 — also documented in ``FORMATS.md``.

CSV (``,`` or ``;`` separated, UTF-8 with or without BOM; Windows-1252 accepted):

* optional leading comment lines ``# name: value`` give the framework: ``title``, ``version``,
  ``language``, ``identifier`` (URI); any other name goes to the header metadata;
* then a header row, matched case-insensitively. Required: ``key``, ``label``. Optional:
  ``parent_key``, ``kind`` (default ``competence``), ``code``, ``description``, ``uri``,
  ``alt_labels`` (several values separated by `` | ``), ``language``, ``position`` (integer;
  default: order among siblings), ``active`` (``oui``/``non``, ``true``/``false``, ``1``/``0``),
  and ``meta.<name>`` columns copied into the record metadata;
* one row per competency, in any order.

JSON (UTF-8)::

    {"format": "blason-framework", "formatVersion": "1",
     "framework": {"title": "…", "version": "…", "language": "fr", "identifier": "https://…",
                   "metadata": {}},
     "competencies": [{"key": "…", "parentKey": null, "kind": "domain", "code": "…",
                       "label": "…", "description": "…", "uri": "…", "altLabels": ["…"],
                       "language": "fr", "position": 0, "active": true, "metadata": {},
                       "children": [{…same shape; parentKey implied…}]}],
     "associations": [{"source": "key", "target": "key", "type": "isRelatedTo",
                       "targetUri": "https://…", "targetLabel": "…"}]}

``framework.title`` is required (CSV: defaults to the file name). Rules, checked on a first
pass before anything is yielded so a bad file produces no record at all: keys are unique and
non-empty, labels non-empty, every ``parent_key`` names a key of the file, and the tree has no
cycle. An association whose ``target`` is not a key of the file is external (``targetUri``
then names it). Memory: the first pass keeps only keys and parent keys.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import PurePath
from typing import Any

from .csvfiles import CsvFile, CsvRow
from .errors import ImportFormatError
from .jsonstream import open_json, scan
from .records import (
    AssociationRecord,
    CompetencyRecord,
    FrameworkHeader,
    ProgressCallback,
    StreamItem,
    WarningRecord,
    tracked,
)
from .sources import ByteSource, Input, as_source, detect_encoding, ensure_not_empty
from .text import parse_yes_no
from .tree import break_cycles

FORMAT_NAME = "blason-framework"
CSV_COLUMNS = (
    "key",
    "parent_key",
    "kind",
    "code",
    "label",
    "description",
    "uri",
    "alt_labels",
    "language",
    "position",
    "active",
)
_HEADER_FIELDS = ("title", "version", "language", "identifier")


class _Checker:
    """First-pass validation: unique keys, known parents, no cycles; computes sibling order."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.parents: dict[str, str | None] = {}
        self.lines: dict[str, int | None] = {}
        self.counters: dict[str | None, int] = {}
        self.positions: dict[str, int] = {}

    def add(self, key: str, parent: str | None, label: str, line: int | None) -> None:
        if not key:
            raise ImportFormatError(f"{self.file}: competency without key", line=line, field="key")
        if key in self.parents:
            raise ImportFormatError(f"{self.file}: duplicate key {key!r}", line=line, field="key")
        if not label:
            raise ImportFormatError(f"{self.file}: competency {key!r} has no label", line=line, field="label")
        self.parents[key] = parent
        self.lines[key] = line
        self.positions[key] = self.counters.get(parent, 0)
        self.counters[parent] = self.positions[key] + 1

    def finish(self) -> None:
        if not self.parents:
            raise ImportFormatError(f"{self.file}: the framework has no competency")
        unknown = sorted({p for p in self.parents.values() if p is not None and p not in self.parents})
        if unknown:
            first = next(k for k, p in self.parents.items() if p in unknown)
            raise ImportFormatError(
                f"{self.file}: unknown parent key(s): {', '.join(unknown[:10])}",
                line=self.lines.get(first),
                field="parent_key",
            )
        cycle = break_cycles(dict(self.parents))
        if cycle:
            raise ImportFormatError(
                f"{self.file}: parent keys form a cycle through {cycle[0]!r}",
                line=self.lines.get(cycle[0]),
                field="parent_key",
            )


def parse_custom(
    source: Input | ByteSource,
    filename: str | None = None,
    *,
    title: str | None = None,
    on_progress: ProgressCallback | None = None,
    progress_every: int = 1000,
) -> Iterator[StreamItem]:
    """Stream a custom framework file (CSV or JSON, chosen by sniffing)."""
    byte_source = as_source(source, filename)
    return tracked(_dispatch(byte_source, title), on_progress, progress_every)


def _dispatch(source: ByteSource, title: str | None) -> Iterator[StreamItem]:
    ensure_not_empty(source)
    encoding = detect_encoding(source)
    with source.open() as stream:
        head = stream.read(512).lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"{"):
        yield from _json(source, encoding, title)
    else:
        yield from _csv(source, title)


def _int(value: Any, *, field: str, line: int | None, file: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ImportFormatError(f"{file}: {field} must be an integer, got {value!r}", line=line, field=field) from exc


def _csv(source: ByteSource, title: str | None) -> Iterator[StreamItem]:
    csv_file = CsvFile(source)
    csv_file.require(["key", "label"])
    declared: dict[str, str] = {}
    for comment in csv_file.comments:
        name, sep, value = comment.lstrip("#").partition(":")
        if sep:
            declared[name.strip().lower()] = value.strip()
    checker = _Checker(source.name)
    for row in csv_file.rows():
        checker.add(row.get("key").strip(), row.get("parent_key").strip() or None, row.get("label").strip(), row.line)
        _int(row.get("position").strip(), field="position", line=row.line, file=source.name)
    checker.finish()
    yield FrameworkHeader(
        source_type="custom",
        title=title or declared.get("title") or PurePath(source.name).stem,
        source_format="custom-csv",
        version=declared.get("version") or None,
        language=declared.get("language") or None,
        source_id=declared.get("identifier") or None,
        metadata={k: v for k, v in declared.items() if k not in _HEADER_FIELDS},
    )
    if csv_file.decoded_legacy:
        yield WarningRecord(f"file is not UTF-8; decoded as {csv_file.encoding}", file=source.name)
    extra = [h for h in csv_file.header if h.casefold() not in CSV_COLUMNS and not h.casefold().startswith("meta.")]
    if extra:
        yield WarningRecord(f"unknown column(s) ignored: {', '.join(extra)}", line=1, file=source.name)
    default_language = declared.get("language") or None
    for row in csv_file.rows():
        yield _csv_record(row, csv_file, checker, default_language)


def _csv_record(row: CsvRow, csv_file: CsvFile, checker: _Checker, language: str | None) -> CompetencyRecord:
    key = row.get("key").strip()
    metadata = {h[5:]: row.get(h) for h in csv_file.header if h.casefold().startswith("meta.") and row.get(h) != ""}
    position = _int(row.get("position").strip(), field="position", line=row.line, file=csv_file.source.name)
    return CompetencyRecord(
        key=key,
        parent_key=row.get("parent_key").strip() or None,
        kind=row.get("kind").strip() or "competence",
        label=row.get("label").strip(),
        code=row.get("code").strip() or None,
        description=row.get("description").strip() or None,
        uri=row.get("uri").strip() or None,
        alt_labels=tuple(v.strip() for v in row.get("alt_labels").split("|") if v.strip()),
        language=row.get("language").strip() or language,
        position=checker.positions[key] if position is None else position,
        active=parse_yes_no(row.get("active")) if row.get("active").strip() else None,
        metadata=metadata,
        line=row.line,
    )


def _flatten(node: Any, parent: str | None) -> Iterator[tuple[dict[str, Any], str | None]]:
    if not isinstance(node, dict):
        raise ImportFormatError("each competency must be a JSON object", field="competencies")
    own_parent = node.get("parentKey", parent) if parent is None else parent
    yield node, (str(own_parent) if own_parent not in (None, "") else None)
    for child in node.get("children") or []:
        yield from _flatten(child, str(node.get("key", "")))


_WANTED = {
    "format": "format",
    "framework": "framework",
    "competencies.item": "competency",
    "associations.item": "association",
}


def _json(source: ByteSource, encoding: str, title: str | None) -> Iterator[StreamItem]:
    framework: dict[str, Any] | None = None
    checker = _Checker(source.name)
    fmt = None
    ordinal = 0
    with open_json(source, encoding) as stream:
        for kind, value in scan(stream, _WANTED, source):
            if kind == "format":
                fmt = value
            elif kind == "framework" and isinstance(value, dict):
                framework = value
            elif kind == "competency":
                for node, parent in _flatten(value, None):
                    ordinal += 1
                    checker.add(str(node.get("key") or "").strip(), parent, str(node.get("label") or "").strip(), None)
                    _int(node.get("position"), field="position", line=None, file=source.name)
    if fmt != FORMAT_NAME:
        raise ImportFormatError(f'{source.name}: expected "format": "{FORMAT_NAME}"', field="format")
    if framework is None or not (title or str(framework.get("title") or "").strip()):
        raise ImportFormatError(f"{source.name}: framework.title is required", field="framework.title")
    checker.finish()
    metadata = framework.get("metadata") if isinstance(framework.get("metadata"), dict) else {}
    language = framework.get("language") or None
    yield FrameworkHeader(
        source_type="custom",
        title=title or str(framework["title"]).strip(),
        source_format="custom-json",
        version=framework.get("version") or None,
        language=language,
        source_id=framework.get("identifier") or None,
        metadata=dict(metadata or {}),
    )
    if encoding not in ("utf-8", "utf-8-sig"):
        yield WarningRecord(f"file is not UTF-8; decoded as {encoding}", file=source.name)
    with open_json(source, encoding) as stream:
        for kind, value in scan(stream, _WANTED, source):
            if kind == "competency":
                for node, parent in _flatten(value, None):
                    yield _json_record(node, parent, checker, language, source.name)
            elif kind == "association" and isinstance(value, dict):
                yield _json_association(value, checker, source.name)


def _json_record(
    node: dict[str, Any], parent: str | None, checker: _Checker, language: str | None, file: str
) -> CompetencyRecord:
    key = str(node["key"]).strip()
    position = _int(node.get("position"), field="position", line=None, file=file)
    alt = node.get("altLabels") or []
    return CompetencyRecord(
        key=key,
        parent_key=parent,
        kind=str(node.get("kind") or "competence"),
        label=str(node["label"]).strip(),
        code=node.get("code") or None,
        description=node.get("description") or None,
        uri=node.get("uri") or None,
        alt_labels=tuple(str(a) for a in ([alt] if isinstance(alt, str) else alt)),
        language=node.get("language") or language,
        position=checker.positions[key] if position is None else position,
        active=node.get("active") if isinstance(node.get("active"), bool) else None,
        metadata=dict(node.get("metadata") or {}),
    )


def _json_association(value: dict[str, Any], checker: _Checker, file: str) -> AssociationRecord:
    source_key = str(value.get("source") or "")
    if source_key not in checker.parents:
        raise ImportFormatError(f"{file}: association source {source_key!r} is not a key", field="associations.source")
    target = value.get("target")
    internal = target is not None and str(target) in checker.parents
    return AssociationRecord(
        kind=str(value.get("type") or "isRelatedTo"),
        source_key=source_key,
        target_key=str(target) if internal else None,
        target_uri=value.get("targetUri"),
        target_label=value.get("targetLabel"),
        external=not internal,
    )
