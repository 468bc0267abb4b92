"""CASE 1.0 CFPackage (JSON) importer.

Streams the package twice with ijson (bounded memory): a first pass reads the CFDocument and
indexes item identifiers and ``isChildOf`` edges (a few strings per item), a second pass
yields one record per CFItem and one per non-tree association. Accepts the pre-final shapes
seen in the wild (guide §3.2): ``CFPackageURI``/``CFDocumentURI`` as strings, singular
``educationalLevel``, ``CFDefinitions: []``, ``subject`` as a string, null dates, identifiers
that are URIs, a ``{"CFPackage": {...}}`` wrapper. Associations whose target lies outside the
package are kept as external :class:`AssociationRecord` (no referential-integrity failure).
Text is kept verbatim; suspicious characters (``two?-``, U+FFFD, mojibake) only raise warnings.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .errors import ImportFormatError
from .jsonstream import open_json, scan, top_level_keys
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
from .text import looks_garbled, natural_key, parse_iso_datetime
from .tree import break_cycles

_PARTS = {
    "CFDocument": "document",
    "CFItems.item": "item",
    "CFAssociations.item": "association",
    "CFDefinitions": "definitions",
    "CFRubrics.item": "rubric",
}


def link(value: Any) -> dict[str, str | None] | None:
    """Normalise a LinkURI/LinkGenURI given as an object or (pre-final) as a bare string."""
    if value is None:
        return None
    if isinstance(value, str):
        return {"identifier": value.rstrip("/").rsplit("/", 1)[-1], "uri": value, "title": None}
    if isinstance(value, dict):
        return {
            "identifier": _str(value.get("identifier")),
            "uri": _str(value.get("uri")),
            "title": _str(value.get("title")),
        }
    return None


def _str(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


@dataclass
class _Index:
    document: dict[str, Any] | None = None
    ids: set[str] = field(default_factory=set)
    by_uri: dict[str, str] = field(default_factory=dict)
    order: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    edges: dict[str, list[tuple[float, int, str | None]]] = field(default_factory=dict)
    item_types: dict[str, str] = field(default_factory=dict)
    rubrics: int = 0
    duplicates: list[str] = field(default_factory=list)
    broken_parents: set[str] = field(default_factory=set)  # items whose isChildOf names no target

    def resolve(self, ref: dict[str, str | None] | None) -> str | None:
        """Return the package identifier a node reference points to, if it is an item."""
        if not ref:
            return None
        if ref["identifier"] in self.ids:
            return ref["identifier"]
        return self.by_uri.get(ref["uri"] or "")  # None when the node is outside the package

    def is_document(self, ref: dict[str, str | None] | None) -> bool:
        """Tell whether a reference points to the CFDocument."""
        doc = self.document or {}
        return bool(ref) and (
            (ref or {}).get("identifier") == _str(doc.get("identifier"))
            or ((ref or {}).get("uri") is not None and (ref or {}).get("uri") == _str(doc.get("uri")))
        )


def parse_case(
    source: Input | ByteSource,
    filename: str | None = None,
    *,
    on_progress: ProgressCallback | None = None,
    progress_every: int = 1000,
) -> Iterator[StreamItem]:
    """Stream a CASE CFPackage: header (CFDocument), items, associations, warnings."""
    return tracked(_stream(as_source(source, filename)), on_progress, progress_every)


def _wanted(source: ByteSource, encoding: str) -> dict[str, str]:
    keys = top_level_keys(source, encoding)
    prefix = "CFPackage." if "CFPackage" in keys and "CFDocument" not in keys else ""
    return {prefix + k: v for k, v in _PARTS.items()}


def _stream(source: ByteSource) -> Iterator[StreamItem]:
    ensure_not_empty(source)
    encoding = detect_encoding(source)
    wanted = _wanted(source, encoding)
    index = _index(source, encoding, wanted)
    doc = index.document
    if doc is None:
        raise ImportFormatError(f"{source.name}: not a CASE package (no CFDocument)", field="CFDocument")
    parents, used, positions = _tree(index)
    detached = break_cycles(parents)
    yield _header(doc, source)
    if encoding not in ("utf-8", "utf-8-sig"):
        yield WarningRecord(f"file is not UTF-8; decoded as {encoding}", file=source.name)
    for missing in ("identifier", "uri", "title", "creator", "lastChangeDateTime"):
        if not _str(doc.get(missing)):
            yield WarningRecord(f"CFDocument has no {missing}", element="CFDocument", file=source.name)
    for key in index.duplicates:
        yield WarningRecord("duplicate CFItem identifier skipped", element="CFItems", source_key=key, file=source.name)
    for key in detached:
        yield WarningRecord(
            "isChildOf associations form a cycle; item detached",
            element="CFAssociations",
            source_key=key,
            file=source.name,
        )
    if index.rubrics:
        yield WarningRecord(f"{index.rubrics} CFRubric(s) not imported", element="CFRubrics", file=source.name)
    language = _str(doc.get("language"))
    emitted: set[str] = set()
    ordinal = -1
    with open_json(source, encoding) as stream:
        for kind, value in scan(stream, wanted, source):
            if kind == "item" and isinstance(value, dict):
                item_key = _str(value.get("identifier")) or _str(value.get("uri"))
                if item_key is None or item_key in emitted:
                    continue
                emitted.add(item_key)
                yield from _item(value, item_key, parents, positions, index, language, source.name)
            elif kind == "association":
                ordinal += 1
                if ordinal not in used and isinstance(value, dict):
                    yield from _association(value, ordinal, index, source.name)


def _index(source: ByteSource, encoding: str, wanted: dict[str, str]) -> _Index:
    index = _Index()
    associations: list[dict[str, Any]] = []
    with open_json(source, encoding) as stream:
        ordinal = -1
        for kind, value in scan(stream, wanted, source):
            if kind == "document" and isinstance(value, dict):
                index.document = value
            elif kind == "item" and isinstance(value, dict):
                key = _str(value.get("identifier")) or _str(value.get("uri"))
                if key is None:
                    continue
                if key in index.ids:
                    index.duplicates.append(key)
                    continue
                index.ids.add(key)
                if _str(value.get("uri")):
                    index.by_uri[str(value["uri"]).strip()] = key
                index.order[key] = (
                    natural_key(_str(value.get("listEnumeration"))),
                    natural_key(_str(value.get("humanCodingScheme"))),
                    len(index.order),
                )
            elif kind == "association" and isinstance(value, dict):
                ordinal += 1
                if value.get("associationType") == "isChildOf":
                    associations.append(
                        {
                            "ordinal": ordinal,
                            "origin": link(value.get("originNodeURI")),
                            "destination": link(value.get("destinationNodeURI")),
                            "sequence": value.get("sequenceNumber"),
                        }
                    )
            elif kind == "definitions" and isinstance(value, dict):
                for item_type in value.get("CFItemTypes") or []:
                    if isinstance(item_type, dict) and item_type.get("identifier"):
                        index.item_types[str(item_type["identifier"])] = str(item_type.get("title"))
            elif kind == "rubric":
                index.rubrics += 1
    for edge in associations:  # resolved once every item is known, whatever the file order
        origin = index.resolve(edge["origin"])
        if origin is None:
            continue
        if _missing(edge["destination"]):
            index.broken_parents.add(origin)  # reported with the association, not as "no parent"
            continue
        destination = index.resolve(edge["destination"])
        if destination is None and not index.is_document(edge["destination"]):
            continue  # points outside the package: an external association, not a tree edge
        sequence = edge["sequence"]
        rank = float(sequence) if isinstance(sequence, (int, float)) else float("inf")
        index.edges.setdefault(origin, []).append((rank, edge["ordinal"], destination))
    return index


def _tree(index: _Index) -> tuple[dict[str, str | None], set[int], dict[str, int]]:
    parents: dict[str, str | None] = {}
    used: set[int] = set()
    siblings: dict[str | None, list[tuple[Any, ...]]] = {}
    for key in index.ids:
        edges = sorted(index.edges.get(key, []), key=lambda e: (e[0], e[1]))
        parent = edges[0][2] if edges else None
        if edges:
            used.add(edges[0][1])
        parents[key] = parent if parent != key else None
        rank = edges[0][0] if edges else float("inf")
        siblings.setdefault(parents[key], []).append((rank, *index.order[key], key))
    positions: dict[str, int] = {}
    for group in siblings.values():
        for position, entry in enumerate(sorted(group)):
            positions[entry[-1]] = position
    return parents, used, positions


def _header(doc: dict[str, Any], source: ByteSource) -> FrameworkHeader:
    subject = doc.get("subject")
    metadata = {
        "identifier": _str(doc.get("identifier")),
        "uri": _str(doc.get("uri")),
        "creator": _str(doc.get("creator")),
        "publisher": _str(doc.get("publisher")),
        "description": _str(doc.get("description")),
        "subject": [subject] if isinstance(subject, str) else list(subject or []),
        "adoptionStatus": _str(doc.get("adoptionStatus")),
        "officialSourceURL": _str(doc.get("officialSourceURL")),
        "lastChangeDateTime": parse_iso_datetime(_str(doc.get("lastChangeDateTime"))),
        "statusStartDate": _str(doc.get("statusStartDate")),
        "statusEndDate": _str(doc.get("statusEndDate")),
        "CFPackageURI": link(doc.get("CFPackageURI")),
        "licenseURI": link(doc.get("licenseURI")),
        "notes": _str(doc.get("notes")),
        "file": source.name,
    }
    return FrameworkHeader(
        source_type="case",
        title=_str(doc.get("title")) or source.name,
        source_format="case-1.0-json",
        version=_str(doc.get("version")),
        language=_str(doc.get("language")),
        source_id=_str(doc.get("uri")) or _str(doc.get("identifier")),
        metadata={k: v for k, v in metadata.items() if v not in (None, [])},
    )


def _item(
    value: dict[str, Any],
    key: str,
    parents: dict[str, str | None],
    positions: dict[str, int],
    index: _Index,
    language: str | None,
    file: str,
) -> Iterator[StreamItem]:
    full = _str(value.get("fullStatement")) or ""
    abbreviated = _str(value.get("abbreviatedStatement"))
    notes = _str(value.get("notes"))
    type_link = link(value.get("CFItemTypeURI"))
    item_type = (
        _str(value.get("CFItemType"))
        or (type_link or {}).get("title")
        or index.item_types.get((type_link or {}).get("identifier") or "")
    )
    levels = value.get("educationLevel", value.get("educationalLevel"))
    if isinstance(levels, str):
        levels = [levels]
    keywords = value.get("conceptKeywords")
    if isinstance(keywords, str):
        keywords = [keywords]
    alternative = _str(value.get("alternativeLabel"))
    meta = {
        "identifier": _str(value.get("identifier")),
        "fullStatement": value.get("fullStatement"),
        "abbreviatedStatement": abbreviated,
        "humanCodingScheme": _str(value.get("humanCodingScheme")),
        "listEnumeration": _str(value.get("listEnumeration")),
        "CFItemType": item_type,
        "CFItemTypeURI": type_link,
        "conceptKeywords": list(keywords or []),
        "notes": notes,
        "educationLevel": [str(level) for level in levels or []],
        "lastChangeDateTime": parse_iso_datetime(_str(value.get("lastChangeDateTime"))),
        "statusStartDate": _str(value.get("statusStartDate")),
        "statusEndDate": _str(value.get("statusEndDate")),
        "licenseURI": link(value.get("licenseURI")),
        "CFDocumentURI": link(value.get("CFDocumentURI")),
    }
    if not full:
        yield WarningRecord("CFItem without fullStatement", element="fullStatement", source_key=key, file=file)
    for name, text in (("fullStatement", full), ("abbreviatedStatement", abbreviated), ("notes", notes)):
        if looks_garbled(text):
            yield WarningRecord(
                f"{name} has a lost or mis-decoded character (kept as is)", element=name, source_key=key, file=file
            )
    if key not in index.broken_parents and (key not in parents or (parents[key] is None and key not in index.edges)):
        yield WarningRecord(
            "CFItem has no isChildOf association; imported at the top level",
            element="CFAssociations",
            source_key=key,
            file=file,
        )
    yield CompetencyRecord(
        key=key,
        parent_key=parents.get(key),
        kind="item",
        label=abbreviated or full or key,
        code=_str(value.get("humanCodingScheme")),
        description=full if abbreviated else notes,
        uri=_str(value.get("uri")),
        alt_labels=(alternative,) if alternative else (),
        language=_str(value.get("language")) or language,
        position=positions.get(key, 0),
        metadata={k: v for k, v in meta.items() if v not in (None, [])},
    )


def _missing(ref: dict[str, str | None] | None) -> bool:
    """Tell whether a node reference names nothing (absent, null, or without identifier and URI)."""
    return ref is None or not (ref.get("identifier") or ref.get("uri"))


def _absent_end(value: dict[str, Any], name: str) -> str | None:
    """Describe a missing association end ("destinationNodeURI is null"), or None when it names a node."""
    if not _missing(link(value.get(name))):
        return None
    if name not in value:
        return f"{name} is missing"
    return f"{name} is null" if value[name] is None else f"{name} has neither identifier nor uri"


def _association(value: dict[str, Any], ordinal: int, index: _Index, file: str) -> Iterator[StreamItem]:
    kind = _str(value.get("associationType")) or "isRelatedTo"
    origin_ref = link(value.get("originNodeURI"))
    destination_ref = link(value.get("destinationNodeURI"))
    origin = index.resolve(origin_ref)
    destination = index.resolve(destination_ref)
    absent = [d for d in (_absent_end(value, "originNodeURI"), _absent_end(value, "destinationNodeURI")) if d]
    if absent:
        # Kept out of the tree and out of the associations: it names no node to link.
        named = _str(value.get("identifier")) or f"#{ordinal}"
        item = origin or destination
        about = f" of item {item}" if item else ""
        consequence = "; the item is imported at the top level" if kind == "isChildOf" and origin else ""
        yield WarningRecord(
            f"{kind} association {named}{about} skipped: {' and '.join(absent)}{consequence}",
            element="CFAssociations",
            source_key=item or named,
            file=file,
        )
        return
    meta: dict[str, Any] = {"ordinal": ordinal}
    grouping = link(value.get("CFAssociationGroupingURI"))
    if grouping:
        meta["CFAssociationGroupingURI"] = grouping
    identifier = _str(value.get("identifier"))
    sequence = value.get("sequenceNumber")
    position = int(sequence) if isinstance(sequence, (int, float)) else None
    if origin is not None:
        if index.is_document(destination_ref):
            return  # a second isChildOf to the document: nothing to keep
        yield AssociationRecord(
            kind,
            origin,
            destination,
            target_uri=(destination_ref or {}).get("uri"),
            target_label=(destination_ref or {}).get("title"),
            external=destination is None,
            identifier=identifier,
            position=position,
            metadata={**meta, "target_identifier": (destination_ref or {}).get("identifier")},
        )
    elif destination is not None:
        meta.update({"direction": "incoming", "origin_identifier": (origin_ref or {}).get("identifier")})
        yield AssociationRecord(
            kind,
            destination,
            None,
            target_uri=(origin_ref or {}).get("uri"),
            target_label=(origin_ref or {}).get("title"),
            external=True,
            identifier=identifier,
            position=position,
            metadata=meta,
        )
    else:
        yield WarningRecord(
            f"{kind} association between two nodes outside the package skipped",
            element="CFAssociations",
            source_key=identifier,
            file=file,
        )
