"""Publish frameworks: public URLs, OB 3.0 alignments, CASE 1.0 CFPackage export.

Rows are turned back into the importers' plain records so the mapping tables of the guide
(``app.importers.alignment``) and the CASE exporter apply unchanged to what is stored.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.importers import (
    AssociationRecord,
    CompetencyRecord,
    FrameworkHeader,
    alignment_for,
    extra_alignments_for,
    to_cfpackage,
)
from app.models import Competency, CompetencyAssociation, Framework, SourceType
from app.platform.errors import NotFound
from app.services.frameworks.imports import document_key
from app.services.frameworks.query import CompetencyView, competency_url, framework_url, get_competency
from app.services.identity.access import Grants


def competency_view(
    session: Session, grants: Grants | None, competency_id: uuid.UUID, *, base_url: str
) -> CompetencyView:
    """One competency as the API and its public page show it, with its OB 3.0 alignments."""
    view = get_competency(session, grants, competency_id, base_url=base_url)
    view.alignments = alignments(view.framework, view.competency, base_url)
    return view


def header_for(framework: Framework) -> FrameworkHeader:
    """Rebuild the importer header a framework was imported from."""
    meta = framework.meta or {}
    return FrameworkHeader(
        source_type=framework.source_type.value,
        title=framework.title,
        source_format=str(meta.get("source_format") or "blason"),
        version=meta.get("source_version"),
        language=framework.language,
        source_id=meta.get("source_id"),
        metadata=dict(meta.get("header") or {}),
    )


def record_for(competency: Competency) -> CompetencyRecord:
    """Rebuild the importer record of a stored competency."""
    meta = dict(competency.meta or {})
    return CompetencyRecord(
        key=competency.source_key,
        parent_key=competency.parent_key,
        kind=competency.kind,
        label=competency.label,
        code=competency.code,
        description=competency.description,
        uri=competency.uri,
        raw_text=competency.raw_text,
        confidence=competency.confidence.value if competency.raw_text is not None else None,
        alt_labels=tuple(meta.get("alt_labels") or ()),
        language=competency.language,
        position=competency.position,
        active=meta.get("active"),
        metadata=meta,
    )


def alignments(framework: Framework, competency: Competency, base_url: str) -> list[dict[str, Any]]:
    """Return the OB 3.0 Alignment(s) a credential would carry for this competency.

    The first is the competency itself; RNCP fiches add their EQF level, NSF, Formacode and
    ROME codes. RNCP compétences align as ``CFItem`` since Blason publishes them as CASE.
    """
    record = record_for(competency)
    header = header_for(framework)
    main = alignment_for(record, header, competency_url(base_url, competency.id), case_base_url=base_url)
    return [main, *extra_alignments_for(record)]


def get_by_case_id(session: Session, case_id: uuid.UUID) -> tuple[str, uuid.UUID]:
    """Find what a CASE identifier names (a CFItem or a CFDocument), preferring current versions."""
    framework = session.scalar(
        select(Framework)
        .where(Framework.case_id == case_id)
        .order_by(Framework.is_current.desc(), Framework.version.desc())
        .limit(1)
    )
    if framework is not None:
        return "framework", framework.id
    competency_id = session.scalar(
        select(Competency.id)
        .join(Framework, Framework.id == Competency.framework_id)
        .where(Competency.case_id == case_id)
        .order_by(Framework.is_current.desc(), Framework.version.desc())
        .limit(1)
    )
    if competency_id is None:
        raise NotFound("No CASE item or document has this identifier.")
    return "competency", competency_id


def export_cfpackage(session: Session, framework_id: uuid.UUID, base_url: str) -> dict[str, Any]:
    """Return the framework version as a CASE 1.0 CFPackage (in memory: one framework at a time)."""
    framework = session.get(Framework, framework_id)
    if framework is None:
        raise NotFound("Framework not found.")
    header = header_for(framework)
    creator = "France compétences (RNCP), extraction Blason" if framework.source_type is SourceType.RNCP else None
    package = to_cfpackage(
        header,
        _records(session, framework.id),
        base_url,
        last_change=framework.imported_at,
        title=framework.title,
        creator=creator,
        document_key=document_key(framework.source_type.value, framework.source_key),
    )
    document = package["CFDocument"]
    document["officialSourceURL"] = framework.uri or framework_url(base_url, framework.id)
    if framework.version_label:
        document["version"] = framework.version_label
    return package


def _records(session: Session, framework_id: uuid.UUID) -> Iterator[CompetencyRecord | AssociationRecord]:
    for competency in session.scalars(
        select(Competency)
        .where(Competency.framework_id == framework_id)
        .order_by(Competency.parent_id.is_not(None), Competency.position, Competency.id)
        .execution_options(yield_per=2000)
    ):
        yield record_for(competency)
    for link in session.scalars(
        select(CompetencyAssociation)
        .where(CompetencyAssociation.framework_id == framework_id)
        .execution_options(yield_per=2000)
    ):
        if link.origin_key is None:
            continue
        meta = link.meta or {}
        yield AssociationRecord(
            link.association_type,
            link.origin_key,
            link.target_key,
            target_uri=link.target_uri,
            target_label=meta.get("target_label"),
            external=meta.get("external"),
            position=meta.get("position"),
        )
