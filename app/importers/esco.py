"""ESCO CSV importer: skills (7- and 13-column), skill groups, broader relations, hierarchy.

Give it any mix of ESCO CSV files (or the downloaded zip); each file's role is recognised by
its header names, never by column position. Tree edges come from ``broaderRelationsSkillPillar``
(and the hierarchy file / collections' ``broaderConceptUri``): a concept's first broader concept
present in the import becomes ``parent_key``; every other broader relation becomes an
:class:`AssociationRecord` (``external`` when its target is not in the files).

Memory: one pass builds an index of concept URIs and broader links (a few MB for all of ESCO),
then a second pass streams the rows; descriptions are never held except the optional English
fallback (``fallback_descriptions``) that fills empty descriptions (v1.0 French has none).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from .csvfiles import CsvFile, CsvRow
from .errors import MissingColumnsError, UnknownFormatError
from .records import (
    AssociationRecord,
    CompetencyRecord,
    FrameworkHeader,
    ProgressCallback,
    StreamItem,
    WarningRecord,
    tracked,
)
from .sources import ByteSource, Input, as_source, is_zip, list_zip
from .text import parse_iso_datetime
from .tree import break_cycles

ROLES: dict[str, tuple[str, ...]] = {
    "skills": ("conceptType", "conceptUri", "skillType", "reuseLevel", "preferredLabel"),
    "groups": ("conceptType", "conceptUri", "preferredLabel"),
    "broader": ("conceptType", "conceptUri", "broaderType", "broaderUri"),
    "hierarchy": ("Level 0 URI", "Level 0 preferred term"),
    "relations": ("originalSkillUri", "relationType", "relatedSkillUri"),
}
_IGNORED_MARKERS = ("conceptSchemeUri", "iscoGroup", "occupationUri")
_LANG = re.compile(r"_([a-z]{2}(?:-[a-z]{2})?)(?=[._])", re.I)
# "ESCO dataset - v1.2.0 - classification - fr - csv.zip", "esco_v1.1.1_en": the official download names.
_RELEASE_IN_NAME = re.compile(r"(?<![A-Za-z0-9])v(\d+(?:\.\d+){1,2})(?![\d.]*\d)", re.I)
# Versioned concept addresses: ".../resource/skill?uri=...&selectedVersion=v1.2.0", ".../esco/v1.2.0/skill/...".
_RELEASE_IN_URI = re.compile(r"(?:selectedVersion=|/)v(\d+(?:\.\d+){1,2})(?=[/&#]|$)", re.I)


@dataclass
class _Index:
    known: set[str] = field(default_factory=set)
    release_in_uri: str | None = None
    modified: str | None = None  # the latest modifiedDate (YYYY-MM-DD) of the concepts
    broader: dict[str, list[str]] = field(default_factory=dict)
    hierarchy: dict[str, dict[str, str | int | None]] = field(default_factory=dict)
    fallback: dict[str, str] = field(default_factory=dict)

    def add_broader(self, uri: str, target: str) -> None:
        targets = self.broader.setdefault(uri, [])
        if target and target != uri and target not in targets:
            targets.append(target)


def classify(csv_file: CsvFile) -> str | None:
    """Return the ESCO role of a CSV file from its header, or None for ignorable ESCO files."""
    if any(csv_file.has(m) for m in _IGNORED_MARKERS):
        return None
    scores = {role: sum(csv_file.has(c) for c in cols) for role, cols in ROLES.items()}
    if csv_file.has("skillType") or csv_file.has("reuseLevel"):
        scores["groups"] = 0
    if csv_file.has("broaderUri"):
        scores["skills"] = scores["groups"] = 0
    role = max(scores, key=lambda r: (scores[r] == len(ROLES[r]), scores[r], -list(ROLES).index(r)))
    if scores[role] == 0:
        raise UnknownFormatError(
            f"{csv_file.source.name} is not an ESCO CSV file (header: {', '.join(csv_file.header[:6])})"
        )
    csv_file.require(ROLES[role])
    return role


def _multi(value: str, *, pipes: bool = False, commas: bool = False) -> list[str]:
    pattern = r"\s*\|\s*|\n" if pipes else (r",?\s*\n" if commas else r"\n")
    return [v.strip().rstrip(",").strip() for v in re.split(pattern, value or "") if v.strip()]


def _code(uri: str) -> str:
    return uri.rstrip("/").rsplit("/", 1)[-1]


def _expand(sources: Sequence[Input | ByteSource], names: list[str] | None = None) -> list[ByteSource]:
    """The CSV files of the sources (zips opened); ``names`` receives every file and member name."""
    expanded: list[ByteSource] = []
    for value in sources:
        source = as_source(value)
        if names is not None:
            names.append(source.name)
        if is_zip(source):
            members = list_zip(source)
            if names is not None:
                names.extend(m.name for m in members)
            expanded.extend(m for m in members if m.name.lower().endswith(".csv"))
        else:
            expanded.append(source)
    return expanded


def release_of(version: str | None, names: Sequence[str], index: _Index) -> tuple[str | None, str | None]:
    """Return the ESCO release and where it was read: the option, file names, concept URIs, modifiedDate."""
    if version:
        return version, "option"
    for name in names:
        match = _RELEASE_IN_NAME.search(name)
        if match:
            return match.group(1), "file name"
    if index.release_in_uri:
        return index.release_in_uri, "concept URI"
    if index.modified:
        return f"modified-{index.modified}", "modifiedDate"
    return None, None


def parse_esco(
    sources: Sequence[Input | ByteSource] | Input | ByteSource,
    *,
    language: str | None = None,
    version: str | None = None,
    fallback_descriptions: Input | ByteSource | None = None,
    on_progress: ProgressCallback | None = None,
    progress_every: int = 1000,
) -> Iterator[StreamItem]:
    """Stream ESCO CSV files as one framework: header, groups, skills, associations, warnings."""
    if isinstance(sources, (str, bytes, ByteSource)) or not isinstance(sources, Sequence):
        listed: list[Input | ByteSource] = [sources]  # type: ignore[list-item]
    else:
        listed = list(sources)  # type: ignore[arg-type]
    stream = _stream(listed, language, version, fallback_descriptions)
    return tracked(stream, on_progress, progress_every)


def _stream(
    sources: list[Input | ByteSource], language: str | None, version: str | None, fallback: Input | ByteSource | None
) -> Iterator[StreamItem]:
    files: dict[str, list[CsvFile]] = {role: [] for role in ROLES}
    ignored: list[str] = []
    names: list[str] = []
    for source in _expand(sources, names):
        csv_file = CsvFile(source)
        role = classify(csv_file)
        if role is None:
            ignored.append(source.name)
        else:
            files[role].append(csv_file)
    if not any(files[r] for r in ("skills", "groups", "hierarchy")):
        raise MissingColumnsError(
            ["conceptUri", "preferredLabel"], file="the ESCO files (no skills or skill groups file given)"
        )
    if language is None:
        for csv_file in files["skills"] + files["groups"]:
            match = _LANG.search(csv_file.source.name)
            if match:
                language = match.group(1).lower()
                break
    index = _build_index(files, fallback)
    release, release_from = release_of(version, names, index)
    parents = {uri: _choose_parent(uri, index) for uri in index.known}
    cycles = break_cycles(parents)
    all_files = [f for role in ROLES for f in files[role]]
    yield FrameworkHeader(
        source_type="esco",
        title=_title(release, release_from),
        source_format="esco-csv",
        version=release,
        language=language,
        source_id="http://data.europa.eu/esco",
        metadata={
            "release_from": release_from,
            "files": {role: [f.source.name for f in fs] for role, fs in files.items() if fs},
            "ignored_files": ignored,
            "columns": len(files["skills"][0].header) if files["skills"] else None,
        },
    )
    for csv_file in all_files:
        if csv_file.decoded_legacy:
            yield WarningRecord(f"file is not UTF-8; decoded as {csv_file.encoding}", file=csv_file.source.name)
    for name in ignored:
        yield WarningRecord("ESCO file not used by the importer (occupations/concept schemes)", file=name)
    if release is None:
        yield WarningRecord(
            "ESCO release unknown: no version option, and neither the file names, the concept URIs nor a "
            "modifiedDate state it; imported as the unversioned ESCO framework of its language",
            element="release",
        )
    for uri in cycles:
        yield WarningRecord("broader relations form a cycle; node detached", source_key=uri)
    emitted: set[str] = set()
    yield from _groups(files, index, parents, emitted, language, release)
    yield from _skills(files, index, parents, emitted, language, release)
    yield from _associations(files, index, parents)


def _title(release: str | None, release_from: str | None) -> str:
    if release is None:
        return "ESCO"
    if release_from == "modifiedDate":
        return f"ESCO ({release})"
    return f"ESCO v{release}"


def _build_index(files: dict[str, list[CsvFile]], fallback: Input | ByteSource | None) -> _Index:
    index = _Index()
    for csv_file in files["skills"] + files["groups"]:
        collection = csv_file.has("broaderConceptUri")
        dated = csv_file.has("modifiedDate")
        for row in csv_file.rows():
            uri = row.get("conceptUri").strip()
            if dated:
                day = row.get("modifiedDate").strip()[:10]
                if re.fullmatch(r"\d{4}-\d{2}-\d{2}", day) and (index.modified is None or day > index.modified):
                    index.modified = day
            if uri:
                index.known.add(uri)
                if index.release_in_uri is None and "v" in uri:
                    found = _RELEASE_IN_URI.search(uri)
                    if found:
                        index.release_in_uri = found.group(1)
                if collection:
                    for target in _multi(row.get("broaderConceptUri"), pipes=True):
                        index.add_broader(uri, target)
    for csv_file in files["hierarchy"]:
        for row in csv_file.rows():
            path = [(level, row.get(f"Level {level} URI").strip()) for level in range(4)]
            path = [(level, uri) for level, uri in path if uri]
            if not path:
                continue
            level, uri = path[-1]
            parent = path[-2][1] if len(path) > 1 else None
            index.known.add(uri)
            index.hierarchy.setdefault(
                uri,
                {
                    "level": level,
                    "parent": parent,
                    "label": row.get(f"Level {level} preferred term").strip(),
                    "code": row.get(f"Level {level} code").strip() or None,
                    "description": row.get("Description").strip() or None,
                    "scope_note": row.get("Scope note").strip() or None,
                    "line": row.line,
                },
            )
    for csv_file in files["broader"]:
        for row in csv_file.rows():
            index.add_broader(row.get("conceptUri").strip(), row.get("broaderUri").strip())
    if fallback is not None:
        fallback_file = CsvFile(as_source(fallback))
        fallback_file.require(["conceptUri", "description"])
        for row in fallback_file.rows():
            text = row.get("description").strip()
            if text:
                index.fallback[row.get("conceptUri").strip()] = text
    return index


def _choose_parent(uri: str, index: _Index) -> str | None:
    node = index.hierarchy.get(uri)
    if node and node["parent"] in index.known:
        return str(node["parent"])
    for target in index.broader.get(uri, ()):
        if target in index.known:
            return target
    return None


def _common(row: CsvRow, collection: bool, index: _Index) -> dict[str, Any]:
    uri = row.get("conceptUri").strip()
    description = row.get("description").strip()
    meta: dict[str, Any] = {"conceptType": row.get("conceptType").strip() or None}
    for column in ("status", "scopeNote", "definition"):
        value = row.get(column).strip()
        if value:
            meta[column] = value
    if row.get("modifiedDate").strip():
        meta["modifiedDate"] = parse_iso_datetime(row.get("modifiedDate")) or row.get("modifiedDate")
    for column in ("hiddenLabels",):
        values = _multi(row.get(column), pipes=collection)
        if values:
            meta[column] = values
    schemes = _multi(row.get("inScheme"), commas=True)
    if schemes:
        meta["inScheme"] = schemes
    broader = index.broader.get(uri)
    if broader:
        meta["broader"] = list(broader)
    if not description and uri in index.fallback:
        meta["description_language"] = "en"
        description = index.fallback[uri]
    meta["_description"] = description or None
    return meta


def _groups(
    files: dict[str, list[CsvFile]],
    index: _Index,
    parents: dict[str, str | None],
    emitted: set[str],
    language: str | None,
    version: str | None,
) -> Iterator[StreamItem]:
    position = 0
    for csv_file in files["groups"]:
        for row in csv_file.rows():
            uri = row.get("conceptUri").strip()
            if not uri or uri in emitted:
                if uri:
                    yield WarningRecord(
                        "duplicate concept skipped", line=row.line, source_key=uri, file=csv_file.source.name
                    )
                continue
            emitted.add(uri)
            meta = _common(row, False, index)
            description = meta.pop("_description")
            node = index.hierarchy.get(uri, {})
            code = row.get("code").strip() or (node.get("code") if node else None)
            if node:
                meta["hierarchy_level"] = node["level"]
                description = description or node.get("description")
            meta["esco_version"] = version
            status = meta.get("status")
            yield CompetencyRecord(
                key=uri,
                parent_key=parents.get(uri),
                kind="skill-group",
                label=row.get("preferredLabel").strip(),
                code=str(code) if code else None,
                description=description,
                uri=uri,
                alt_labels=tuple(_multi(row.get("altLabels"))),
                language=language,
                position=position,
                active=None if status is None else status == "released",
                metadata=meta,
                line=row.line,
            )
            position += 1
    for uri, node in index.hierarchy.items():
        if uri in emitted:
            continue
        emitted.add(uri)
        meta = {"hierarchy_level": node["level"], "esco_version": version, "scopeNote": node["scope_note"]}
        yield CompetencyRecord(
            key=uri,
            parent_key=parents.get(uri),
            kind="skill-group",
            label=str(node["label"]),
            code=str(node["code"]) if node["code"] else None,
            description=str(node["description"]) if node["description"] else None,
            uri=uri,
            language=language,
            position=position,
            metadata=meta,
            line=int(node["line"] or 0) or None,
        )
        position += 1


def _skills(
    files: dict[str, list[CsvFile]],
    index: _Index,
    parents: dict[str, str | None],
    emitted: set[str],
    language: str | None,
    version: str | None,
) -> Iterator[StreamItem]:
    position = 0
    for csv_file in files["skills"]:
        collection = csv_file.has("broaderConceptUri")
        for row in csv_file.rows():
            uri = row.get("conceptUri").strip()
            if not uri:
                yield WarningRecord("row without conceptUri skipped", line=row.line, file=csv_file.source.name)
                continue
            if uri in emitted:
                yield WarningRecord(
                    "duplicate concept skipped", line=row.line, source_key=uri, file=csv_file.source.name
                )
                continue
            emitted.add(uri)
            if row.short:
                yield WarningRecord(
                    "row has fewer cells than the header", line=row.line, source_key=uri, file=csv_file.source.name
                )
            meta = _common(row, collection, index)
            description = meta.pop("_description")
            meta.update(
                {
                    "skillType": row.get("skillType").strip() or None,
                    "reuseLevel": row.get("reuseLevel").strip() or None,
                    "esco_version": version,
                }
            )
            label = row.get("preferredLabel").strip()
            if not label:
                yield WarningRecord(
                    "skill without preferredLabel", line=row.line, source_key=uri, file=csv_file.source.name
                )
            status = meta.get("status")
            kind = "skill-group" if row.get("conceptType").strip() == "SkillGroup" else "skill"
            yield CompetencyRecord(
                key=uri,
                parent_key=parents.get(uri),
                kind=kind,
                label=label or _code(uri),
                code=_code(uri),
                description=description,
                uri=uri,
                alt_labels=tuple(_multi(row.get("altLabels"), pipes=collection)),
                language=language,
                position=position,
                active=None if status is None else status == "released",
                metadata=meta,
                line=row.line,
            )
            position += 1


def _associations(
    files: dict[str, list[CsvFile]], index: _Index, parents: dict[str, str | None]
) -> Iterator[StreamItem]:
    skipped_broader = 0
    for uri, targets in index.broader.items():
        if uri not in index.known:
            skipped_broader += len(targets)
            continue
        for target in targets:
            if target == parents.get(uri):
                continue
            yield AssociationRecord(
                "broader",
                uri,
                target if target in index.known else None,
                target_uri=target,
                external=target not in index.known,
            )
    if skipped_broader:
        yield WarningRecord(
            "broader relation skipped: its concept is not among the imported skills or skill groups",
            element="broaderUri",
            file=", ".join(f.source.name for f in files["broader"]) or None,
            count=skipped_broader,
        )
    for csv_file in files["relations"]:
        skipped = 0
        for row in csv_file.rows():
            origin = row.get("originalSkillUri").strip()
            target = row.get("relatedSkillUri").strip()
            if origin not in index.known:
                skipped += 1
                continue
            yield AssociationRecord(
                row.get("relationType").strip() or "related",
                origin,
                target if target in index.known else None,
                target_uri=target,
                external=target not in index.known,
                metadata={
                    "originalSkillType": row.get("originalSkillType").strip() or None,
                    "relatedSkillType": row.get("relatedSkillType").strip() or None,
                },
            )
        if skipped:
            yield WarningRecord(
                "skill relation row skipped: its originalSkillUri is not among the imported skills",
                element="originalSkillUri",
                file=csv_file.source.name,
                count=skipped,
            )
