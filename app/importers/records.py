"""Plain records produced by the importers, and progress counting.

These types carry no behaviour tied to storage: the persisting service maps them to rows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

SourceType = Literal["rncp", "esco", "case", "custom"]
Confidence = Literal["high", "low"]


@dataclass(frozen=True)
class FrameworkHeader:
    """What the imported framework is; always the first item of a stream."""

    source_type: SourceType
    title: str
    source_format: str
    version: str | None = None
    language: str | None = None
    source_id: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CompetencyRecord:
    """One node of the framework tree.

    ``key`` is unique within the framework; ``parent_key`` names another record of the same
    stream (possibly yielded later) or is ``None`` for a root. ``raw_text`` holds source text
    verbatim where the node was parsed out of free text (then ``confidence`` is set).
    """

    key: str
    parent_key: str | None
    kind: str
    label: str
    code: str | None = None
    description: str | None = None
    uri: str | None = None
    raw_text: str | None = None
    confidence: Confidence | None = None
    alt_labels: tuple[str, ...] = ()
    language: str | None = None
    position: int = 0
    active: bool | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    line: int | None = None


@dataclass(frozen=True)
class AssociationRecord:
    """A relation that is not the tree edge: cross-links, extra parents, external targets.

    ``external`` is True when the target is known to be outside the framework, False when it
    is a record of the same stream, None when the importer cannot know (resolve by key).
    """

    kind: str
    source_key: str
    target_key: str | None
    target_uri: str | None = None
    target_label: str | None = None
    external: bool | None = None
    identifier: str | None = None
    position: int | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WarningRecord:
    """Something suspicious that did not stop the import (kept for the import report).

    ``count`` is set when the warning stands for that many skipped rows (the report adds them up
    under ``skipped``, by reason).
    """

    reason: str
    line: int | None = None
    element: str | None = None
    source_key: str | None = None
    file: str | None = None
    count: int | None = None


Record: TypeAlias = CompetencyRecord | AssociationRecord | WarningRecord
StreamItem: TypeAlias = FrameworkHeader | Record


@dataclass(frozen=True)
class Counts:
    """How many things a stream has produced so far."""

    fiches: int = 0
    blocs: int = 0
    competences: int = 0
    skill_groups: int = 0
    skills: int = 0
    items: int = 0
    associations: int = 0
    warnings: int = 0
    done: bool = False

    @property
    def records(self) -> int:
        """Return the number of competency records."""
        return self.fiches + self.blocs + self.competences + self.skill_groups + self.skills + self.items


ProgressCallback: TypeAlias = Callable[[Counts], None]

_KIND_FIELD = {
    "fiche": "fiches",
    "bloc": "blocs",
    "competence": "competences",
    "skill-group": "skill_groups",
    "skill": "skills",
}


def count_field(item: StreamItem) -> str | None:
    """Return the :class:`Counts` field an item increments."""
    if isinstance(item, CompetencyRecord):
        return _KIND_FIELD.get(item.kind, "items")
    if isinstance(item, AssociationRecord):
        return "associations"
    if isinstance(item, WarningRecord):
        return "warnings"
    return None


def tracked(
    stream: Iterable[StreamItem], on_progress: ProgressCallback | None, every: int = 1000
) -> Iterator[StreamItem]:
    """Count items of ``stream`` and report to ``on_progress`` every ``every`` records and at the end."""
    tally: dict[str, int] = {f.name: 0 for f in dataclasses.fields(Counts) if f.name != "done"}
    since = 0
    for item in stream:
        name = count_field(item)
        if name is not None:
            tally[name] += 1
            since += 1
        yield item
        if on_progress is not None and since >= every:
            since = 0
            on_progress(Counts(**tally))  # type: ignore[arg-type]
    if on_progress is not None:
        on_progress(Counts(**tally, done=True))  # type: ignore[arg-type]


def count_stream(stream: Iterable[StreamItem]) -> Counts:
    """Consume a stream and return its final counts (handy in tests and dry runs)."""
    final: list[Counts] = []
    for _ in tracked(stream, final.append, every=1 << 62):
        pass
    return final[-1]
