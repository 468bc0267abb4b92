"""Persist a framework record stream: bulk rows, parents resolved in SQL, versions and hashes.

Memory stays flat whatever the file size: rows go out every ``BATCH_ROWS`` with pre-generated
ids, parents and association ends are resolved afterwards with correlated UPDATEs on
``(framework_id, source_key)``, and each framework of the file keeps only its id and a running
hash. A framework whose hash equals one of its stored versions is deleted again (``unchanged``);
the others become the current version and their older versions stay.
"""
from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session, aliased

from app.importers import AssociationRecord, CompetencyRecord, Counts, FrameworkHeader, WarningRecord
from app.importers.case_export import case_identifier
from app.models import Competency, CompetencyAssociation, Confidence, Framework, SourceType
from app.services.access import Grants
from app.services.frameworks_query import fold

BATCH_ROWS = 2000
CHUNK_IDS = 500
MAX_WARNINGS = 50
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


@dataclass
class ImportReport:
    """What an import produced: counts per kind, frameworks, the first warnings."""

    filename: str
    format: str
    counts: Counts
    frameworks: list[ImportedFramework] = field(default_factory=list)
    warnings: list[WarningRecord] = field(default_factory=list)
    warnings_total: int = 0

    @property
    def created(self) -> int:
        return sum(1 for f in self.frameworks if f.status == "created")

    @property
    def unchanged(self) -> int:
        return sum(1 for f in self.frameworks if f.status == "unchanged")

    @property
    def first_frameworks(self) -> list[ImportedFramework]:
        return self.frameworks[:100]


def document_key(source_type: str, source_key: str) -> str:
    """Return the CASE document key of a framework: RNCP keys are global, so one per fiche."""
    return f"#document|{source_key}" if source_type == "rncp" else "#document"


def _format_name(header: FrameworkHeader) -> str:
    return header.source_format


@dataclass
class _Group:
    """Bookkeeping for one framework of the file (kept small: there may be 20,000)."""

    source_key: str
    id: uuid.UUID
    hasher: Any
    title: str
    uri: str | None = None
    version: int | None = None
    inserted: bool = False
    competencies: int = 0


class FrameworkWriter:
    """Turns a record stream into rows, batch by batch."""

    def __init__(self, session: Session, header: FrameworkHeader, filename: str, grants: Grants,
                 file_sha256: str | None, now: datetime) -> None:
        self.session = session
        self.header = header
        self.filename = filename
        self.file_sha256 = file_sha256
        self.now = now
        self.person_id = grants.actor.author_id
        self.source_type = SourceType(header.source_type)
        self.groups: dict[str, _Group] = {}
        self.pending: list[_Group] = []
        self.current: _Group | None = None
        self.rows: list[dict[str, Any]] = []
        self.links: list[dict[str, Any]] = []
        self.warnings: list[WarningRecord] = []
        self.warnings_total = 0

    # -- grouping ---------------------------------------------------------------------------
    def _group_key(self, record: CompetencyRecord) -> str:
        if self.source_type is SourceType.RNCP:
            if record.parent_key is None:
                return record.key
            return str(record.metadata.get("fiche_code") or (self.current.source_key if self.current
                                                             else record.key))
        header = self.header
        if self.source_type is SourceType.ESCO:
            return f"esco:{header.version or 'unversioned'}:{header.language or 'und'}"
        return header.source_id or f"{header.source_type}:{header.title}"

    def _group_for(self, record: CompetencyRecord) -> _Group:
        key = self._group_key(record)
        group = self.groups.get(key)
        if group is None:
            rncp_root = self.source_type is SourceType.RNCP and record.parent_key is None
            group = _Group(source_key=key, id=uuid.uuid4(), hasher=hashlib.sha256(),
                           title=record.label if rncp_root else (self.header.title if
                                                                 self.source_type is not SourceType.RNCP
                                                                 else key),
                           uri=record.uri if rncp_root else None)
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
            self.warnings_total += 1
            if len(self.warnings) < MAX_WARNINGS:
                self.warnings.append(item)

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
        group.hasher.update(_digest_bytes(
            ("c", record.key, record.parent_key, record.kind, label, record.code, record.description,
             record.uri, record.raw_text, record.confidence, record.alt_labels, record.language,
             record.position, record.active, {k: v for k, v in meta.items() if k != "line"})))
        group.competencies += 1
        self.rows.append({
            "id": uuid.uuid4(), "framework_id": group.id, "parent_id": None,
            "source_key": record.key, "parent_key": record.parent_key, "kind": record.kind[:32],
            "code": record.code, "label": label, "description": record.description,
            "uri": record.uri, "raw_text": record.raw_text,
            "confidence": Confidence(record.confidence or "high"),
            "language": (record.language or self.header.language or None),
            "position": record.position,
            "search_text": " ".join(filter(None, (folded, fold(record.code), fold(record.description),
                                                   *map(fold, record.alt_labels)))),
            "search_label": folded, "meta": meta,
            "case_id": uuid.UUID(case_identifier(self.header, record.key)),
        })
        if len(self.rows) >= BATCH_ROWS:
            self._flush()

    def _association(self, record: AssociationRecord) -> None:
        if self.current is None:  # an association before any node has no framework to live in
            return
        group = self.current
        group.hasher.update(_digest_bytes(
            ("a", record.kind, record.source_key, record.target_key, record.target_uri,
             record.external, record.identifier, record.position, dict(record.metadata))))
        self.links.append({
            "id": uuid.uuid4(), "framework_id": group.id, "origin_id": None, "origin_uri": None,
            "origin_key": record.source_key, "target_id": None, "target_uri": record.target_uri,
            "target_key": record.target_key, "association_type": record.kind[:64],
            "meta": {k: v for k, v in (("target_label", record.target_label),
                                       ("external", record.external),
                                       ("identifier", record.identifier),
                                       ("position", record.position),
                                       *record.metadata.items()) if v is not None},
        })
        if len(self.links) >= BATCH_ROWS:
            self._flush()

    # -- persistence ------------------------------------------------------------------------
    def _flush(self) -> None:
        if self.pending:
            self._insert_frameworks(self.pending)
            self.pending = []
        if self.rows:
            self.session.execute(insert(COMPETENCIES), self.rows)
            self.rows = []
        if self.links:
            self.session.execute(insert(ASSOCIATIONS), self.links)
            self.links = []

    def _insert_frameworks(self, groups: list[_Group]) -> None:
        latest = dict(self.session.execute(
            select(Framework.source_key, func.max(Framework.version))
            .where(Framework.source_type == self.source_type,
                   Framework.source_key.in_([g.source_key for g in groups]))
            .group_by(Framework.source_key)).all())
        header = self.header
        rows = []
        for group in groups:
            group.version = (latest.get(group.source_key) or 0) + 1
            group.inserted = True
            rows.append({
                "id": group.id, "source_type": self.source_type, "source_key": group.source_key[:500],
                "version": group.version,
                "version_label": (str(header.metadata.get("export_date") or header.version or "")
                                  or None) if self.source_type is SourceType.RNCP
                else header.version,
                "title": group.title, "language": (header.language or "fr")[:8],
                "uri": group.uri or (header.source_id if header.source_id and
                                     header.source_id.startswith(("http://", "https://")) else None),
                "case_id": uuid.UUID(case_identifier(header, document_key(self.source_type.value,
                                                                          group.source_key))),
                "is_current": False, "territory_id": None, "rating_scale_id": None,
                "requires_second_review": False, "source_filename": self.filename[:255],
                "source_sha256": self.file_sha256, "content_sha256": None,
                "meta": {"source_format": header.source_format,
                         "header": _jsonable(dict(header.metadata)),
                         "source_id": header.source_id, "source_version": header.version},
                "imported_at": self.now, "imported_by_id": self.person_id,
            })
        self.session.execute(insert(FRAMEWORKS), rows)

    def finish(self, counts: Counts) -> ImportReport:
        self._flush()
        groups = list(self.groups.values())
        hashes = {g.source_key: g.hasher.hexdigest() for g in groups}
        unchanged: dict[str, int] = {}
        for chunk in _chunks(groups):
            for key, version, digest in self.session.execute(
                    select(Framework.source_key, Framework.version, Framework.content_sha256)
                    .where(Framework.source_type == self.source_type,
                           Framework.source_key.in_([g.source_key for g in chunk]),
                           Framework.id.not_in([g.id for g in chunk]))):
                if digest == hashes[key]:
                    unchanged[key] = max(version, unchanged.get(key, 0))
        same = [g for g in groups if g.source_key in unchanged]
        fresh = [g for g in groups if g.source_key not in unchanged]
        for chunk in _chunks(same):
            ids = [g.id for g in chunk]
            self.session.execute(delete(CompetencyAssociation).where(
                CompetencyAssociation.framework_id.in_(ids)))
            self.session.execute(delete(Competency).where(Competency.framework_id.in_(ids)))
            self.session.execute(delete(Framework).where(Framework.id.in_(ids)))
        for chunk in _chunks(fresh):
            self._promote(chunk, hashes)
        report = ImportReport(self.filename, _format_name(self.header), counts,
                              warnings=self.warnings, warnings_total=self.warnings_total)
        for group in groups:
            status = "unchanged" if group.source_key in unchanged else "created"
            report.frameworks.append(ImportedFramework(
                group.id if status == "created" else None, self.source_type.value,
                group.source_key, group.title,
                unchanged.get(group.source_key, group.version), status, group.competencies))
        return report

    def _promote(self, chunk: list[_Group], hashes: dict[str, str]) -> None:
        """Resolve parents and associations, then make the new versions current."""
        ids = [g.id for g in chunk]
        session = self.session
        parent = aliased(Competency)
        session.execute(
            update(Competency)
            .where(Competency.framework_id.in_(ids), Competency.parent_key.is_not(None))
            .values(parent_id=select(parent.id).where(
                parent.framework_id == Competency.framework_id,
                parent.source_key == Competency.parent_key).scalar_subquery())
            .execution_options(synchronize_session=False))
        node = aliased(Competency)
        for column, key in ((CompetencyAssociation.origin_id, CompetencyAssociation.origin_key),
                            (CompetencyAssociation.target_id, CompetencyAssociation.target_key)):
            session.execute(
                update(CompetencyAssociation)
                .where(CompetencyAssociation.framework_id.in_(ids), key.is_not(None))
                .values({column: select(node.id).where(
                    node.framework_id == CompetencyAssociation.framework_id,
                    node.source_key == key).scalar_subquery()})
                .execution_options(synchronize_session=False))
        session.execute(
            update(Framework)
            .where(Framework.source_type == self.source_type,
                   Framework.source_key.in_([g.source_key for g in chunk]),
                   Framework.id.not_in(ids), Framework.is_current.is_(True))
            .values(is_current=False).execution_options(synchronize_session=False))
        table = FRAMEWORKS
        session.connection().execute(
            table.update().where(table.c.id == bindparam("b_id"))
            .values(is_current=True, content_sha256=bindparam("b_sha")),
            [{"b_id": g.id, "b_sha": hashes[g.source_key]} for g in chunk])
        self._warn_orphans(ids)

    def _warn_orphans(self, ids: list[uuid.UUID]) -> None:
        orphans = self.session.scalar(select(func.count()).select_from(Competency).where(
            and_(Competency.framework_id.in_(ids), Competency.parent_key.is_not(None),
                 Competency.parent_id.is_(None))))
        if orphans:
            self.warnings_total += 1
            if len(self.warnings) < MAX_WARNINGS:
                self.warnings.append(WarningRecord(
                    f"{orphans} node(s) name a parent absent from the file; kept as top level"))


def _chunks(groups: list[_Group]) -> Iterator[list[_Group]]:
    for start in range(0, len(groups), CHUNK_IDS):
        yield groups[start:start + CHUNK_IDS]


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _digest_bytes(value: Iterable[Any]) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                      default=str).encode()
