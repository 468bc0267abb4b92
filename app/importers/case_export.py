"""Export imported records as a CASE 1.0 CFPackage, so RNCP compétences become alignable CFItems.

Identifiers are UUIDv5 derived from the framework and each record's key, so re-exporting the
same framework (even from a newer RNCP export) gives the same CFItem URIs. The tree becomes
``isChildOf`` associations (child → parent, top level → CFDocument); a record with a source URI
of its own also gets an ``exactMatchOf`` to it. The package is built in memory: export one
framework or one fiche at a time.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from .records import AssociationRecord, CompetencyRecord, FrameworkHeader, StreamItem

CASE_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://blason.example/ns/case")
CASE_ASSOCIATION_TYPES = {
    "isChildOf",
    "isPeerOf",
    "isPartOf",
    "exactMatchOf",
    "precedes",
    "isRelatedTo",
    "replacedBy",
    "exemplar",
    "hasSkillLevel",
}
ITEM_TYPES = {
    "fiche": "Certification RNCP",
    "bloc": "Bloc de compétences",
    "competence": "Compétence",
    "skill": "ESCO skill",
    "skill-group": "ESCO skill group",
}


def framework_namespace(header: FrameworkHeader) -> str:
    """Return the stable name identifiers derive from (RNCP and ESCO keys are global)."""
    if header.source_type in ("rncp", "esco"):
        return header.source_type
    return f"{header.source_type}:{header.source_id or header.title}"


def case_identifier(header: FrameworkHeader, key: str) -> str:
    """Return the CASE identifier (UUIDv5) of a record key, or of ``"#document"``."""
    return str(uuid.uuid5(CASE_NAMESPACE, f"{framework_namespace(header)}|{key}"))


def case_uri(base_url: str, collection: str, identifier: str) -> str:
    """Return a CASE REST URI such as ``{base}/ims/case/v1p0/CFItems/{id}``."""
    return f"{base_url.rstrip('/')}/ims/case/v1p0/{collection}/{identifier}"


def to_cfpackage(
    header: FrameworkHeader,
    records: Iterable[StreamItem],
    base_url: str,
    *,
    last_change: datetime | None = None,
    creator: str | None = None,
    title: str | None = None,
    document_key: str = "#document",
) -> dict[str, Any]:
    """Build a CFPackage (CFDocument, CFItems, CFAssociations) from a framework's records.

    ``document_key`` names the CFDocument when one namespace holds several documents (RNCP
    keys are global, so each fiche exported alone needs its own, e.g. ``#document|RNCP40792``).
    """
    stamp = (last_change or datetime.now(UTC)).astimezone(UTC)
    changed = stamp.replace(microsecond=0).isoformat().replace("+00:00", "Z")
    doc_id = case_identifier(header, document_key)
    doc_title = title or header.title
    doc_link = {"title": doc_title, "identifier": doc_id, "uri": case_uri(base_url, "CFDocuments", doc_id)}
    document: dict[str, Any] = {
        "identifier": doc_id,
        "uri": doc_link["uri"],
        "creator": creator or str(header.metadata.get("creator") or "Blason"),
        "title": doc_title,
        "lastChangeDateTime": changed,
        "CFPackageURI": {"title": doc_title, "identifier": doc_id, "uri": case_uri(base_url, "CFPackages", doc_id)},
        "notes": f"Exported by Blason from {header.source_format}",
    }
    if header.language:
        document["language"] = header.language
    if header.version:
        document["version"] = header.version
    items: list[dict[str, Any]] = []
    associations: list[dict[str, Any]] = []
    nodes: dict[str, dict[str, str]] = {}
    pending: list[CompetencyRecord] = []
    relations: list[AssociationRecord] = []
    for record in records:
        if isinstance(record, CompetencyRecord):
            identifier = case_identifier(header, record.key)
            nodes[record.key] = {
                "title": record.code or record.label[:60],
                "identifier": identifier,
                "uri": case_uri(base_url, "CFItems", identifier),
            }
            pending.append(record)
        elif isinstance(record, AssociationRecord):
            relations.append(record)
    for record in pending:
        node = nodes[record.key]
        item: dict[str, Any] = {
            "identifier": node["identifier"],
            "uri": node["uri"],
            "fullStatement": str(record.metadata.get("fullStatement") or record.label),
            "lastChangeDateTime": changed,
            "CFDocumentURI": doc_link,
            "CFItemType": str(record.metadata.get("CFItemType") or ITEM_TYPES.get(record.kind, record.kind)),
            "listEnumeration": str(record.position + 1),
        }
        if record.code:
            item["humanCodingScheme"] = record.code
        if record.metadata.get("abbreviatedStatement"):
            item["abbreviatedStatement"] = str(record.metadata["abbreviatedStatement"])
        if record.description and record.description != item["fullStatement"]:
            item["notes"] = record.description
        if record.alt_labels:
            item["alternativeLabel"] = record.alt_labels[0]
        if record.language:
            item["language"] = record.language
        items.append(item)
        parent = nodes.get(record.parent_key or "", doc_link)
        associations.append(
            _association(
                header, base_url, doc_link, "isChildOf", record.key, node, parent, changed, record.position + 1
            )
        )
        if record.uri and record.kind != "bloc" and header.source_type != "custom":
            source_node = {"title": record.code or record.label[:60], "identifier": record.uri, "uri": record.uri}
            associations.append(
                _association(header, base_url, doc_link, "exactMatchOf", record.key, node, source_node, changed, None)
            )
    for relation in relations:
        if relation.kind not in CASE_ASSOCIATION_TYPES or relation.source_key not in nodes:
            continue
        target = nodes.get(relation.target_key or "")
        if target is None and relation.target_uri:
            target = {
                "title": relation.target_label or relation.target_key or relation.target_uri,
                "identifier": relation.target_key or relation.target_uri,
                "uri": relation.target_uri,
            }
        if target is not None:
            associations.append(
                _association(
                    header,
                    base_url,
                    doc_link,
                    relation.kind,
                    f"{relation.source_key}>{relation.target_key or relation.target_uri}",
                    nodes[relation.source_key],
                    target,
                    changed,
                    relation.position,
                )
            )
    return {
        "CFDocument": document,
        "CFItems": items,
        "CFAssociations": associations,
        "CFDefinitions": {
            "CFConcepts": [],
            "CFSubjects": [],
            "CFLicenses": [],
            "CFItemTypes": [],
            "CFAssociationGroupings": [],
        },
    }


def _association(
    header: FrameworkHeader,
    base_url: str,
    doc_link: dict[str, str],
    kind: str,
    name: str,
    origin: dict[str, str],
    destination: dict[str, str],
    changed: str,
    sequence: int | None,
) -> dict[str, Any]:
    identifier = case_identifier(header, f"#{kind}|{name}")
    association: dict[str, Any] = {
        "identifier": identifier,
        "uri": case_uri(base_url, "CFAssociations", identifier),
        "lastChangeDateTime": changed,
        "CFDocumentURI": doc_link,
        "associationType": kind,
        "originNodeURI": origin,
        "destinationNodeURI": destination,
    }
    if sequence is not None:
        association["sequenceNumber"] = sequence
    return association
