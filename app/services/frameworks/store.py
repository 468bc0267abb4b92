"""Persist a framework record stream: bulk rows, versions and hashes, in memory bounded by a batch.

Two paths, chosen by how the stream is ordered:

* RNCP XML yields each fiche whole (the fiche, its links, blocs and compétences), one after the
  other. A fiche is buffered (tens of rows), hashed and its parents resolved in Python; a batch
  of complete fiches is compared with the stored content hashes in one query and only new or
  changed fiches are written. Nothing stays in memory per fiche once its batch is written, and
  an unchanged re-import writes nothing.
* Other streams (one framework per file, or RNCP CSV whose blocs follow all the fiches) are
  written as they come; parents and association ends are then resolved with set-based UPDATEs
  on ``(framework_id, source_key)`` and the hash decides: an unchanged version is deleted again.

Ids are time-ordered UUIDs (the UUIDv7 layout), so an import appends at the right edge of the
primary-key, framework and parent indexes instead of dirtying random pages all over them:
inserting stays as fast at 700,000 rows as at 7,000.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, delete, func, insert, select, text, update
from sqlalchemy.orm import Session, aliased

from app.importers import AssociationRecord, CompetencyRecord, Counts, FrameworkHeader, WarningRecord
from app.importers.case_export import case_identifier
from app.models import Competency, CompetencyAssociation, Confidence, Framework, SourceType
from app.services.frameworks import fts as frameworks_fts
from app.services.frameworks.query import fold
from app.services.identity.access import Grants
from app.services.identity.audit import canonical_json

UNKNOWN_LANGUAGE = "und"
BATCH_ROWS = 2000
CHUNK_IDS = 500
MAX_WARNINGS = 50
MAX_LISTED = 100
# PostgreSQL plans search from table statistics; refresh them after an import this large.
ANALYZE_AFTER_ROWS = 50_000
FRAMEWORKS = cast(Table, Framework.__table__)
COMPETENCIES = cast(Table, Competency.__table__)
ASSOCIATIONS = cast(Table, CompetencyAssociation.__table__)


@dataclass
class ImportedFramework:
    """One framework the file held, and what the import did with it."""

    id: uuid.UUID | None
    source_type: str
    source_key: str
    title: str
    version: int | None
    status: str  # "created" (a new version) or "unchanged" (same content as ``version``)
    competencies: int
    restores: int | None = None  # created with the content of this older version (made current again)


@dataclass
class ImportReport:
    """What an import produced: counts per kind, the first frameworks and warnings, totals."""

    filename: str
    format: str
    counts: Counts
    frameworks: list[ImportedFramework] = field(default_factory=list)  # the first MAX_LISTED
    warnings: list[WarningRecord] = field(default_factory=list)
    warnings_total: int = 0
    created: int = 0
    unchanged: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # rows left out, by reason

    @property
    def first_frameworks(self) -> list[ImportedFramework]:
        return self.frameworks[:MAX_LISTED]


def document_key(source_type: str, source_key: str) -> str:
    """Return the CASE document key of a framework: RNCP keys are global, so one per fiche."""
    return f"#document|{source_key}" if source_type == "rncp" else "#document"


def _format_name(header: FrameworkHeader) -> str:
    return header.source_format


class _Ids:
    """Time-ordered UUIDs: 48-bit milliseconds, version 7, random bits, then a counter."""

    def __init__(self) -> None:
        ms = time.time_ns() // 1_000_000
        noise = int.from_bytes(os.urandom(6), "big")
        self.base = (
            (ms & (1 << 48) - 1) << 80 | 0x7 << 76 | (noise >> 36) << 64 | 0b10 << 62 | (noise & (1 << 30) - 1) << 32
        )
        self.count = 0

    def __call__(self) -> uuid.UUID:
        self.count += 1
        return uuid.UUID(int=self.base + self.count)


@dataclass
class _Group:
    """One framework of the file; on the buffered path it also holds its rows until written."""

    source_key: str
    id: uuid.UUID
    title: str
    uri: str | None = None
    hasher: Any = field(default_factory=hashlib.sha256)
    rows: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)
    version: int | None = None
    competencies: int = 0
    restores: int | None = None  # an older version with the same content, made current again


class FrameworkWriter:
    """Turns a record stream into rows, batch by batch."""

    def __init__(
        self,
        session: Session,
        header: FrameworkHeader,
        filename: str,
        grants: Grants,
        file_sha256: str | None,
        now: datetime,
        on_warning: Callable[[WarningRecord], None] | None = None,
    ) -> None:
        self.session = session
        self.on_warning = on_warning  # every warning, as it comes (the report keeps the first 50)
        self.header = header
        self.filename = filename
        self.file_sha256 = file_sha256
        self.now = now
        self.person_id = grants.actor.author_id
        self.source_type = SourceType(header.source_type)
        # RNCP XML yields each fiche whole, parents first: buffer fiches, write the changed ones.
        self.buffered = self.source_type is SourceType.RNCP and header.source_format.startswith("rncp-xml")
        self.new_id = _Ids()
        self.fts = frameworks_fts.enabled(session)
        self.current: _Group | None = None
        self.closed: list[_Group] = []  # buffered path: complete fiches waiting for their batch
        self.closed_rows = 0
        self.groups: dict[str, _Group] = {}  # streamed path: every framework of the file
        self.pending: list[_Group] = []  # streamed path: frameworks not inserted yet
        self.rows: list[dict[str, Any]] = []
        self.links: list[dict[str, Any]] = []
        self.report = ImportReport(filename, _format_name(header), Counts())
        self.orphans = 0
        self.written = 0

    # -- grouping ---------------------------------------------------------------------------
    def _group_key(self, record: CompetencyRecord) -> str:
        if self.source_type is SourceType.RNCP:
            if record.parent_key is None:
                return record.key
            return str(record.metadata.get("fiche_code") or (self.current.source_key if self.current else record.key))
        header = self.header
        if self.source_type is SourceType.ESCO:
            return f"esco:{header.version or 'unversioned'}:{header.language or 'und'}"
        return header.source_id or f"{header.source_type}:{header.title}"

    def _group_for(self, record: CompetencyRecord) -> _Group:
        key = self._group_key(record)
        current = self.current
        if current is not None and current.source_key == key:
            return current
        group = None if self.buffered else self.groups.get(key)
        if group is None:
            rncp_root = self.source_type is SourceType.RNCP and record.parent_key is None
            title = record.label if rncp_root else self.header.title if self.source_type is not SourceType.RNCP else key
            group = _Group(key, self.new_id(), title, record.uri if rncp_root else None)
            if self.buffered:
                if current is not None:
                    self._close(current)
            else:
                self.groups[key] = group
                self.pending.append(group)
        self.current = group
        return group

    # -- records ----------------------------------------------------------------------------
    def add(self, item: object) -> None:
        if isinstance(item, CompetencyRecord):
            self._competency(item)
        elif isinstance(item, AssociationRecord):
            self._association(item)
        elif isinstance(item, WarningRecord):
            self._warn(item)

    def _warn(self, warning: WarningRecord) -> None:
        if warning.count:
            self.report.skipped[warning.reason] = self.report.skipped.get(warning.reason, 0) + warning.count
        if self.on_warning is not None:
            self.on_warning(warning)
        self.report.warnings_total += 1
        if len(self.report.warnings) < MAX_WARNINGS:
            self.report.warnings.append(warning)

    def _competency(self, record: CompetencyRecord) -> None:
        group = self._group_for(record)
        meta = dict(record.metadata)
        if record.alt_labels:
            meta["alt_labels"] = list(record.alt_labels)
        if record.active is not None:
            meta["active"] = record.active
        if record.line is not None:
            meta["line"] = record.line
        label = record.label
        folded = fold(label)
        group.hasher.update(
            _digest_bytes(
                (
                    "c",
                    record.key,
                    record.parent_key,
                    record.kind,
                    label,
                    record.code,
                    record.description,
                    record.uri,
                    record.raw_text,
                    record.confidence,
                    record.alt_labels,
                    record.language,
                    record.position,
                    record.active,
                    {k: v for k, v in meta.items() if k != "line"},
                )
            )
        )
        group.competencies += 1
        row = {
            "id": self.new_id(),
            "framework_id": group.id,
            "parent_id": None,
            "source_key": record.key,
            "parent_key": record.parent_key,
            "kind": record.kind[:32],
            "code": record.code,
            "label": label,
            "description": record.description,
            "uri": record.uri,
            "raw_text": record.raw_text,
            "confidence": Confidence(record.confidence or "high"),
            "language": (record.language or self.header.language or None),
            "position": record.position,
            "search_text": " ".join(
                filter(None, (folded, fold(record.code), fold(record.description), *map(fold, record.alt_labels)))
            ),
            "search_label": folded,
            "meta": meta,
            "case_id": uuid.UUID(case_identifier(self.header, record.key)),
        }
        if self.buffered:
            group.rows.append(row)
        else:
            self.rows.append(row)
            if len(self.rows) >= BATCH_ROWS:
                self._flush()

    def _association(self, record: AssociationRecord) -> None:
        if self.current is None:  # an association before any node has no framework to live in
            return
        group = self.current
        group.hasher.update(
            _digest_bytes(
                (
                    "a",
                    record.kind,
                    record.source_key,
                    record.target_key,
                    record.target_uri,
                    record.external,
                    record.identifier,
                    record.position,
                    dict(record.metadata),
                )
            )
        )
        link = {
            "id": self.new_id(),
            "framework_id": group.id,
            "origin_id": None,
            "origin_uri": None,
            "origin_key": record.source_key,
            "target_id": None,
            "target_uri": record.target_uri,
            "target_key": record.target_key,
            "association_type": record.kind[:64],
            "meta": {
                k: v
                for k, v in (
                    ("target_label", record.target_label),
                    ("external", record.external),
                    ("identifier", record.identifier),
                    ("position", record.position),
                    *record.metadata.items(),
                )
                if v is not None
            },
        }
        if self.buffered:
            group.links.append(link)
        else:
            self.links.append(link)
            if len(self.links) >= BATCH_ROWS:
                self._flush()

    def _list(self, group: _Group, status: str, version: int | None) -> None:
        if status == "created":
            self.report.created += 1
        else:
            self.report.unchanged += 1
        if len(self.report.frameworks) < MAX_LISTED:
            self.report.frameworks.append(
                ImportedFramework(
                    group.id if status == "created" else None,
                    self.source_type.value,
                    group.source_key,
                    group.title,
                    version,
                    status,
                    group.competencies,
                    group.restores if status == "created" else None,
                )
            )

    # -- the buffered path --------------------------------------------------------------------
    def _close(self, group: _Group) -> None:
        self.closed.append(group)
        self.closed_rows += len(group.rows) + len(group.links)
        if self.closed_rows >= BATCH_ROWS:
            self._write_closed()

    def _stored(self, keys: list[str]) -> dict[str, tuple[int, str | None, int | None, dict[str, int]]]:
        """Per stored framework: latest version, current hash and version, {hash: newest version with it}.

        Only the current version decides "unchanged": content equal to an older version is made
        current again as a new version (see FORMATS.md, "Versions").
        """
        stored: dict[str, tuple[int, str | None, int | None, dict[str, int]]] = {}
        for key, version, digest, current in self.session.execute(
            select(Framework.source_key, Framework.version, Framework.content_sha256, Framework.is_current).where(
                Framework.source_type == self.source_type, Framework.source_key.in_(keys)
            )
        ):
            latest, current_digest, current_version, digests = stored.get(key, (0, None, None, {}))
            if digest:
                digests[digest] = max(version, digests.get(digest, 0))
            if current:
                current_digest, current_version = digest, version
            stored[key] = (max(latest, version), current_digest, current_version, digests)
        return stored

    def _write_closed(self) -> None:
        """Decide a batch of complete fiches against the stored hashes; write the changed ones."""
        groups, self.closed, self.closed_rows = self.closed, [], 0
        if not groups:
            return
        stored = self._stored([g.source_key for g in groups])
        fresh: list[tuple[_Group, str]] = []
        for group in groups:
            digest = group.hasher.hexdigest()
            latest, current_digest, current_version, digests = stored.get(group.source_key, (0, None, None, {}))
            if current_digest is not None and digest == current_digest:
                self._list(group, "unchanged", current_version)
            else:
                group.version = latest + 1
                group.restores = digests.get(digest)
                fresh.append((group, digest))
        if not fresh:
            return
        rows: list[dict[str, Any]] = []
        links: list[dict[str, Any]] = []
        for group, _ in fresh:
            ids = {row["source_key"]: row["id"] for row in group.rows}
            for row in group.rows:
                if row["parent_key"] is not None:
                    row["parent_id"] = ids.get(row["parent_key"])
                    self.orphans += row["parent_id"] is None
            for link in group.links:
                link["origin_id"] = ids.get(link["origin_key"])
                link["target_id"] = ids.get(link["target_key"])
            rows += group.rows
            links += group.links
            self._list(group, "created", group.version)
        self._retire([g.source_key for g, _ in fresh], [])
        self.session.execute(insert(FRAMEWORKS), [self._framework_row(g, True, d) for g, d in fresh])
        self._insert(rows, links)
        if self.fts:
            frameworks_fts.add_rows(self.session, rows, self.source_type.value)

    # -- the streamed path ----------------------------------------------------------------------
    def _flush(self) -> None:
        if self.pending:
            self._insert_frameworks(self.pending)
            self.pending = []
        self._insert(self.rows, self.links)
        self.rows, self.links = [], []

    def _insert(self, rows: list[dict[str, Any]], links: list[dict[str, Any]]) -> None:
        self.written += len(rows)
        if rows:
            _insert_many(self.session, COMPETENCIES, rows)
        if links:
            _insert_many(self.session, ASSOCIATIONS, links)

    def _insert_frameworks(self, groups: list[_Group]) -> None:
        latest = dict(
            self.session.execute(
                select(Framework.source_key, func.max(Framework.version))
                .where(
                    Framework.source_type == self.source_type, Framework.source_key.in_([g.source_key for g in groups])
                )
                .group_by(Framework.source_key)
            ).all()
        )
        for group in groups:
            group.version = (latest.get(group.source_key) or 0) + 1
        self.session.execute(insert(FRAMEWORKS), [self._framework_row(g, False, None) for g in groups])

    def _framework_row(self, group: _Group, current: bool, digest: str | None) -> dict[str, Any]:
        header = self.header
        return {
            "id": group.id,
            "source_type": self.source_type,
            "source_key": group.source_key[:500],
            "version": group.version,
            "version_label": (str(header.metadata.get("export_date") or header.version or "") or None)
            if self.source_type is SourceType.RNCP
            else header.version,
            "title": group.title,
            # What the file says; "und" (BCP 47: undetermined) when it says nothing, never a guess.
            "language": (header.language or UNKNOWN_LANGUAGE)[:8],
            "uri": group.uri
            or (
                header.source_id if header.source_id and header.source_id.startswith(("http://", "https://")) else None
            ),
            "case_id": uuid.UUID(case_identifier(header, document_key(self.source_type.value, group.source_key))),
            "is_current": current,
            "territory_id": None,
            "rating_scale_id": None,
            "requires_second_review": False,
            "source_filename": self.filename[:255],
            "source_sha256": self.file_sha256,
            "content_sha256": digest,
            "meta": {
                **({"restores_version": group.restores} if group.restores else {}),
                "source_format": header.source_format,
                "header": _jsonable(dict(header.metadata)),
                "source_id": header.source_id,
                "source_version": header.version,
            },
            "imported_at": self.now,
            "imported_by_id": self.person_id,
        }

    def finish(self, counts: Counts) -> ImportReport:
        if self.buffered:
            if self.current is not None:
                self.closed.append(self.current)
            self._write_closed()
        else:
            self._flush()
            self._finish_streamed()
        if self.written >= ANALYZE_AFTER_ROWS and self.session.get_bind().dialect.name == "postgresql":
            self.session.execute(text("ANALYZE frameworks, competencies"))
        if self.orphans:
            self._warn(WarningRecord(f"{self.orphans} node(s) name a parent absent from the file; kept as top level"))
        self.report.counts = counts
        return self.report

    def _finish_streamed(self) -> None:
        groups = list(self.groups.values())
        hashes = {g.source_key: g.hasher.hexdigest() for g in groups}
        unchanged: dict[str, int] = {}
        for chunk in _chunks(groups):
            for key, version, digest, current in self.session.execute(
                select(Framework.source_key, Framework.version, Framework.content_sha256, Framework.is_current).where(
                    Framework.source_type == self.source_type,
                    Framework.source_key.in_([g.source_key for g in chunk]),
                    Framework.id.not_in([g.id for g in chunk]),
                )
            ):
                if digest != hashes[key]:
                    continue
                if current:  # only the current version decides "unchanged"
                    unchanged[key] = version
                else:  # same content as an older version: this new version restores it
                    group = self.groups[key]
                    group.restores = max(version, group.restores or 0)
        same = [g for g in groups if g.source_key in unchanged]
        fresh = [g for g in groups if g.source_key not in unchanged]
        for chunk in _chunks(same):
            ids = [g.id for g in chunk]
            self.session.execute(delete(CompetencyAssociation).where(CompetencyAssociation.framework_id.in_(ids)))
            self.session.execute(delete(Competency).where(Competency.framework_id.in_(ids)))
            self.session.execute(delete(Framework).where(Framework.id.in_(ids)))
        for chunk in _chunks(fresh):
            self._promote(chunk, hashes)
        for group in fresh:
            if group.restores:
                self.session.execute(
                    update(Framework)
                    .where(Framework.id == group.id)
                    .values(meta=self._framework_row(group, True, None)["meta"])
                    .execution_options(synchronize_session=False)
                )
        for group in groups:
            if group.source_key in unchanged:
                self._list(group, "unchanged", unchanged[group.source_key])
            else:
                self._list(group, "created", group.version)

    def _retire(self, keys: list[str], new_ids: list[uuid.UUID]) -> None:
        """Older versions of these frameworks stop being current."""
        stmt = select(Framework.id).where(
            Framework.source_type == self.source_type, Framework.source_key.in_(keys), Framework.is_current.is_(True)
        )
        if new_ids:
            stmt = stmt.where(Framework.id.not_in(new_ids))
        old = list(self.session.scalars(stmt))
        if not old:
            return
        self.session.execute(
            update(Framework)
            .where(Framework.id.in_(old))
            .values(is_current=False)
            .execution_options(synchronize_session=False)
        )
        if self.fts:
            frameworks_fts.retire(self.session, old, self.source_type.value)

    def _promote(self, chunk: list[_Group], hashes: dict[str, str]) -> None:
        """Resolve parents and associations, then make the new versions current."""
        ids = [g.id for g in chunk]
        session = self.session
        parent = aliased(Competency)
        session.execute(
            update(Competency)
            .where(Competency.framework_id.in_(ids), Competency.parent_key.is_not(None))
            .values(
                parent_id=select(parent.id)
                .where(parent.framework_id == Competency.framework_id, parent.source_key == Competency.parent_key)
                .scalar_subquery()
            )
            .execution_options(synchronize_session=False)
        )
        node = aliased(Competency)
        for column, key in (
            (CompetencyAssociation.origin_id, CompetencyAssociation.origin_key),
            (CompetencyAssociation.target_id, CompetencyAssociation.target_key),
        ):
            session.execute(
                update(CompetencyAssociation)
                .where(CompetencyAssociation.framework_id.in_(ids), key.is_not(None))
                .values(
                    {
                        column: select(node.id)
                        .where(node.framework_id == CompetencyAssociation.framework_id, node.source_key == key)
                        .scalar_subquery()
                    }
                )
                .execution_options(synchronize_session=False)
            )
        self._retire([g.source_key for g in chunk], ids)
        table = FRAMEWORKS
        session.connection().execute(
            table.update()
            .where(table.c.id == bindparam("b_id"))
            .values(is_current=True, content_sha256=bindparam("b_sha")),
            [{"b_id": g.id, "b_sha": hashes[g.source_key]} for g in chunk],
        )
        self.orphans += (
            session.scalar(
                select(func.count())
                .select_from(Competency)
                .where(
                    and_(
                        Competency.framework_id.in_(ids),
                        Competency.parent_key.is_not(None),
                        Competency.parent_id.is_(None),
                    )
                )
            )
            or 0
        )
        if self.fts:
            frameworks_fts.add_frameworks(session, ids, self.source_type.value)


def _insert_many(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows that all name every column of ``table``.

    Each value converted once by its column type's bind processor, then straight to the driver:
    SQLite's executemany (SQLAlchemy's per-row parameter handling cost as much as SQLite's own
    inserting), PostgreSQL's COPY (a row-by-row executemany spent 100 µs a row). When a column
    is missing and its default must apply, through SQLAlchemy.
    """
    connection = session.connection()
    dialect = connection.dialect
    columns = list(rows[0])
    if dialect.name not in ("sqlite", "postgresql") or set(columns) != set(table.c.keys()):
        connection.execute(insert(table), rows)
        return
    processors = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns]
    converting = [(n, p) for n, p in enumerate(processors) if p is not None]
    data = []
    for row in rows:
        values = [row[name] for name in columns]
        for n, process in converting:
            values[n] = process(values[n])
        data.append(tuple(values))
    names = ", ".join(columns)
    if dialect.name == "postgresql":
        # COPY: one stream per batch instead of a statement per row (psycopg writes each value).
        driver = connection.connection.driver_connection
        assert driver is not None
        with driver.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for record in data:
                copy.write_row(record)
        return
    holders = ", ".join("?" * len(columns))
    connection.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({holders})", data)


def _chunks(groups: list[_Group]) -> Iterator[list[_Group]]:
    for start in range(0, len(groups), CHUNK_IDS):
        yield groups[start : start + CHUNK_IDS]


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _digest_bytes(value: Iterable[Any]) -> bytes:
    # json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)'s
    # bytes (stored content hashes stay as they were), written by orjson when it writes the same.
    return canonical_json(value)
