"""Browse and search imported frameworks: lists, versions, trees, one competency, ranked search.

Framework content is public (the public pages show it without login); the API still asks for a
logged-in caller, which the ``grants`` argument checks. ``grants=None`` is the public reader.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, Text, and_, case, func, literal, select
from sqlalchemy.orm import Session

from app.models import Competency, CompetencyAssociation, Framework, SourceType
from app.platform.errors import FieldError, InvalidInput, NotFound
from app.platform.pagination import LIKE_ESCAPE, Page, contains_pattern
from app.services.frameworks import fts as frameworks_fts, stems
from app.services.frameworks.folding import fold
from app.services.identity import access
from app.services.identity.access import Grants

MAX_TOKENS = 8
MAX_DEPTH = 5
MAX_NODES_PER_LEVEL = 2000
MAX_CHILDREN = 500


def tokens(query: str) -> list[str]:
    """Split a query the way ``search_text`` was folded; repeats dropped, at most eight kept."""
    seen: list[str] = []
    for token in fold(query).split():
        if token not in seen:
            seen.append(token)
    return seen[:MAX_TOKENS]


def framework_url(base_url: str, framework_id: uuid.UUID) -> str:
    """Return the public page of a framework version."""
    return f"{base_url.rstrip('/')}/frameworks/{framework_id}"


def competency_url(base_url: str, competency_id: uuid.UUID) -> str:
    """Return the public page of a competency."""
    return f"{base_url.rstrip('/')}/competencies/{competency_id}"


def _reader(grants: Grants | None) -> None:
    if grants is not None:
        access.require_login(grants)


# -- frameworks ---------------------------------------------------------------------------------


@dataclass
class FrameworkView:
    """A framework with its other versions and its size by kind."""

    framework: Framework
    versions: list[Framework] = field(default_factory=list)
    kinds: dict[str, int] = field(default_factory=dict)
    base_url: str = ""

    @property
    def url(self) -> str:
        return framework_url(self.base_url, self.framework.id)


def list_frameworks(
    session: Session,
    grants: Grants | None,
    *,
    source_type: str | None = None,
    q: str | None = None,
    current: bool = True,
    page: int = 1,
    per_page: int = 20,
    base_url: str = "",
) -> Page[FrameworkView]:
    """Frameworks (current versions by default), each with its list of versions."""
    _reader(grants)
    stmt = select(Framework)
    if current:
        stmt = stmt.where(Framework.is_current.is_(True))
    if source_type:
        stmt = stmt.where(Framework.source_type == SourceType(source_type))
    if q:
        for token in q.lower().split()[:MAX_TOKENS]:
            stmt = stmt.where(
                func.lower(Framework.title + " " + Framework.source_key).like(
                    contains_pattern(token), escape=LIKE_ESCAPE
                )
            )
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = list(
        session.scalars(
            stmt.order_by(Framework.source_type, Framework.title, Framework.source_key, Framework.version.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    versions = _versions(session, rows)
    items = [FrameworkView(f, versions.get((f.source_type, f.source_key), [f]), base_url=base_url) for f in rows]
    return Page(items, total, page, per_page)


def _versions(session: Session, frameworks: list[Framework]) -> dict[tuple[Any, str], list[Framework]]:
    out: dict[tuple[Any, str], list[Framework]] = {}
    if not frameworks:
        return out
    keys = {(f.source_type, f.source_key) for f in frameworks}
    stmt = select(Framework).where(Framework.source_key.in_({k for _, k in keys})).order_by(Framework.version.desc())
    for framework in session.scalars(stmt):
        if (framework.source_type, framework.source_key) in keys:
            out.setdefault((framework.source_type, framework.source_key), []).append(framework)
    return out


def get_framework(
    session: Session, grants: Grants | None, framework_id: uuid.UUID, *, base_url: str = ""
) -> FrameworkView:
    """One framework version, its sibling versions and how many nodes of each kind it has."""
    _reader(grants)
    framework = session.get(Framework, framework_id)
    if framework is None:
        raise NotFound("Framework not found.")
    kinds = dict(
        session.execute(
            select(Competency.kind, func.count())
            .where(Competency.framework_id == framework.id)
            .group_by(Competency.kind)
        ).all()
    )
    return FrameworkView(
        framework, _versions(session, [framework])[(framework.source_type, framework.source_key)], kinds, base_url
    )


# -- tree and nodes -----------------------------------------------------------------------------


@dataclass
class Node:
    """A competency in a tree listing, with how many children it has and those loaded."""

    competency: Competency
    children_count: int
    children: list[Node] = field(default_factory=list)
    base_url: str = ""

    @property
    def url(self) -> str:
        return competency_url(self.base_url, self.competency.id)


def _ordered(stmt: Select[Any]) -> Select[Any]:
    return stmt.order_by(Competency.position, Competency.code, Competency.label, Competency.id)


def _children_counts(session: Session, framework_id: uuid.UUID, ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    if not ids:
        return {}
    return dict(
        session.execute(  # type: ignore[arg-type]
            select(Competency.parent_id, func.count())
            .where(Competency.framework_id == framework_id, Competency.parent_id.in_(ids))
            .group_by(Competency.parent_id)
        ).all()
    )


def framework_tree(
    session: Session,
    grants: Grants | None,
    framework_id: uuid.UUID,
    *,
    parent_id: uuid.UUID | None = None,
    depth: int = 3,
    page: int = 1,
    per_page: int = 50,
    base_url: str = "",
) -> Page[Node]:
    """One page of a level of the tree (the roots, or a node's children), ``depth`` levels deep."""
    _reader(grants)
    if session.get(Framework, framework_id) is None:
        raise NotFound("Framework not found.")
    depth = max(1, min(depth, MAX_DEPTH))
    level = select(Competency).where(Competency.framework_id == framework_id)
    level = level.where(Competency.parent_id == parent_id if parent_id else Competency.parent_id.is_(None))
    total = session.scalar(select(func.count()).select_from(level.subquery())) or 0
    top = list(session.scalars(_ordered(level).limit(per_page).offset((page - 1) * per_page)))
    nodes = _nodes(session, framework_id, top, base_url)
    frontier = nodes
    for _ in range(depth - 1):
        parents = {n.competency.id: n for n in frontier if n.children_count}
        if not parents:
            break
        children = list(
            session.scalars(
                _ordered(
                    select(Competency).where(
                        Competency.framework_id == framework_id, Competency.parent_id.in_(list(parents))
                    )
                ).limit(MAX_NODES_PER_LEVEL)
            )
        )
        frontier = _nodes(session, framework_id, children, base_url)
        for node in frontier:
            parents[node.competency.parent_id].children.append(node)  # type: ignore[index]
    return Page(nodes, total, page, per_page)


def _nodes(session: Session, framework_id: uuid.UUID, competencies: list[Competency], base_url: str) -> list[Node]:
    counts = _children_counts(session, framework_id, [c.id for c in competencies])
    return [Node(c, counts.get(c.id, 0), base_url=base_url) for c in competencies]


@dataclass
class CompetencyView:
    """A competency with its framework, ancestors (root first), children and relations."""

    competency: Competency
    framework: Framework
    parents: list[Competency]
    children: list[Node]
    children_count: int
    associations: list[CompetencyAssociation]
    replaced_by: list[Framework] = field(default_factory=list)
    base_url: str = ""
    alignments: list[dict[str, Any]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return competency_url(self.base_url, self.competency.id)

    @property
    def framework_url(self) -> str:
        return framework_url(self.base_url, self.framework.id)

    @property
    def parent_nodes(self) -> list[Node]:
        return [Node(p, 1, base_url=self.base_url) for p in self.parents]


def get_competency(
    session: Session, grants: Grants | None, competency_id: uuid.UUID, *, base_url: str = ""
) -> CompetencyView:
    """One competency, its ancestors, its children (first 500) and its relations."""
    _reader(grants)
    competency = session.get(Competency, competency_id)
    if competency is None:
        raise NotFound("Competency not found.")
    framework = session.get(Framework, competency.framework_id)
    assert framework is not None
    parents: list[Competency] = []
    cursor = competency
    while cursor.parent_id is not None and len(parents) < 50:
        parent = session.get(Competency, cursor.parent_id)
        if parent is None:
            break
        parents.insert(0, parent)
        cursor = parent
    count = _children_counts(session, framework.id, [competency.id]).get(competency.id, 0)
    children = list(
        session.scalars(
            _ordered(
                select(Competency).where(Competency.framework_id == framework.id, Competency.parent_id == competency.id)
            ).limit(MAX_CHILDREN)
        )
    )
    associations = list(
        session.scalars(
            select(CompetencyAssociation)
            .where(CompetencyAssociation.origin_id == competency.id)
            .order_by(CompetencyAssociation.association_type, CompetencyAssociation.target_key)
            .limit(MAX_CHILDREN)
        )
    )
    replaced_by: list[Framework] = []
    if framework.source_type is SourceType.RNCP and competency.parent_id is None:
        # Fiche links name other fiches, which are frameworks of their own.
        successors = {a.target_key for a in associations if a.association_type == "replacedBy" and a.target_key}
        if successors:
            replaced_by = list(
                session.scalars(
                    select(Framework).where(
                        Framework.source_type == SourceType.RNCP,
                        Framework.source_key.in_(successors),
                        Framework.is_current.is_(True),
                    )
                )
            )
    return CompetencyView(
        competency,
        framework,
        parents,
        _nodes(session, framework.id, children, base_url),
        count,
        associations,
        replaced_by,
        base_url,
    )


# -- search -------------------------------------------------------------------------------------


@dataclass
class Hit:
    """A search result: the competency, its framework, and why it ranked where it did."""

    competency: Competency
    framework: Framework
    rank: int
    base_url: str = ""

    @property
    def url(self) -> str:
        return competency_url(self.base_url, self.competency.id)


def search_competencies(
    session: Session,
    grants: Grants | None,
    *,
    q: str,
    lang: str | None = None,
    source_type: str | None = None,
    framework_id: uuid.UUID | None = None,
    kind: str | None = None,
    include_old: bool = False,
    page: int = 1,
    per_page: int = 20,
    base_url: str = "",
) -> Page[Hit]:
    """Competencies matching every word of ``q`` (by stem, start, accent-less form or synonym), best first.

    Stop words are ignored. Rank: the label or code is the query > every word is in the label > the
    rest, each by BM25 (SQLite) or ``ts_rank_cd`` (PostgreSQL) with the label weighted above the
    description; then shorter labels. When fewer than a page hold every word, the list goes on with
    the competencies holding some of them (``ANY_WORD_RANK``), most words first, then the rarest
    (``fts.ranked_any``); ``total`` then counts every competency holding any word. See ``stems``
    and ``fts``. The total is counted up to ``fts.MAX_COUNT``. A database without the index (SQLite
    without FTS5) matches word starts.
    """
    _reader(grants)
    words = tokens(q)
    if not words:
        raise InvalidInput(
            "Give at least one word to search for.", errors=[FieldError("#/q", "No letter or digit in the query.")]
        )
    if not frameworks_fts.enabled(session):
        return _search_by_word_starts(
            session, words, lang, source_type, framework_id, kind, include_old, page, per_page, base_url
        )
    languages = [stems.language_of(lang)] if stems.language_of(lang) else list(stems.LANGUAGES)
    groups = _word_groups(stems.words_of(" ".join(words)), [x for x in languages if x])
    filters = frameworks_fts.Filters(
        current=not include_old,
        source_type=source_type,
        framework_ids=(framework_id,) if framework_id else (),
        language=lang,
        kind=kind,
    )
    offset = (page - 1) * per_page
    with frameworks_fts.by_index(session):
        ranks, total = _ranked_page(session, groups, filters, " ".join(words), offset, page, per_page)
    return Page(_hits(session, ranks, base_url), total, page, per_page)


def _ranked_page(
    session: Session,
    groups: list[list[stems.Term]],
    filters: frameworks_fts.Filters,
    phrase: str,
    offset: int,
    page: int,
    per_page: int,
) -> tuple[list[tuple[uuid.UUID, int]], int]:
    """One page of ranked ids with their rank tier, and the total (see ``search_competencies``)."""
    found = frameworks_fts.ranked(session, groups, filters, phrase=phrase, limit=per_page, offset=offset)
    if page == 1 and len(found) < per_page:
        every = len(found)  # every all-words hit is on this page: no count to make
    else:
        every = frameworks_fts.count(session, groups, filters)
    total = max(every, offset + len(found) if found else 0)
    ranks = [(c.competency_id, _rank(c)) for c in found]
    if every < per_page and len(groups) > 1:
        # Fewer all-words hits than a page: the list goes on with the hits holding some of the words.
        some = frameworks_fts.ranked_any(
            session, groups, filters, limit=per_page - len(found), offset=max(0, offset - every), partial_only=True
        )
        ranks += [(c.competency_id, ANY_WORD_RANK) for c in some]
        if page == 1 and len(ranks) < per_page:
            total = len(ranks)
        else:
            counted = frameworks_fts.count(session, groups, filters, any_word=True)
            total = max(counted, offset + len(ranks) if ranks else 0)
    return ranks, total


ANY_WORD_RANK = 4


def _word_groups(words: list[str], languages: list[str]) -> list[list[stems.Term]]:
    """The alternatives of each query word; words of one synonym group, or one stem, count once."""
    groups: dict[frozenset[str], list[stems.Term]] = {}
    for word in words:
        key = frozenset(stems.stem(w, "fr") for w in (word, *stems.synonyms(word)))
        if key not in groups:
            groups[key] = stems.alternatives(word, languages)
    return list(groups.values())


def _rank(candidate: frameworks_fts.Candidate) -> int:
    return 0 if candidate.exact else 1 if candidate.starts else 2 if candidate.in_label else 3


def _hits(session: Session, ranked: list[tuple[uuid.UUID, int]], base_url: str) -> list[Hit]:
    ids = [i for i, _ in ranked]
    loaded = {c.id: c for c in session.scalars(select(Competency).where(Competency.id.in_(ids)))} if ids else {}
    frameworks_by_id = (
        {
            f.id: f
            for f in session.scalars(
                select(Framework).where(Framework.id.in_({c.framework_id for c in loaded.values()}))
            )
        }
        if loaded
        else {}
    )
    return [
        Hit(loaded[i], frameworks_by_id[loaded[i].framework_id], rank, base_url) for i, rank in ranked if i in loaded
    ]


MAX_SUGGESTION_WORDS = 10
SUGGESTION_CANDIDATES = 1500


def suggest_competencies(
    session: Session,
    framework_ids: list[uuid.UUID] | None,
    title: str,
    narrative: str,
    *,
    limit: int = 10,
    base_url: str = "",
) -> list[Hit]:
    """The competencies of these framework versions (every current one when None) closest to a text.

    The title and the narrative become one query of their ``MAX_SUGGESTION_WORDS`` most informative
    words (``stems.informative_words``, the title counting three times); a competency needs one of
    them and ranks by how many it has, how rare they are, and whether they are in its label.
    Authorisation is the caller's (``recognition.suggestions``).
    """
    weighted = stems.informative_words([(title, 3), (narrative, 1)], MAX_SUGGESTION_WORDS)
    words = [w for w, _ in weighted]
    if not words or not frameworks_fts.enabled(session):
        return []
    groups = [stems.alternatives(w, with_synonyms=False) for w in words]
    filters = frameworks_fts.Filters(current=framework_ids is None, framework_ids=tuple(framework_ids or ()))
    if framework_ids == []:
        return []
    with frameworks_fts.by_index(session):
        found = frameworks_fts.ranked_any(
            session,
            groups,
            filters,
            limit=limit,
            candidates=SUGGESTION_CANDIDATES,
            by_matches=False,
            weights=[1 + math.log(n) for _, n in weighted],
        )
    return _hits(session, [(c.competency_id, _rank(c)) for c in found], base_url)


def _search_by_word_starts(
    session: Session,
    words: list[str],
    lang: str | None,
    source_type: str | None,
    framework_id: uuid.UUID | None,
    kind: str | None,
    include_old: bool,
    page: int,
    per_page: int,
    base_url: str,
) -> Page[Hit]:
    """Without the index: every word starts a word of ``search_text`` (LIKE, the pg_trgm index on PostgreSQL)."""
    phrase = " ".join(words)
    label, code = Competency.search_label, func.lower(Competency.code)
    conditions = [
        *[and_(Competency.search_text.like(f"%{w}%"), _has_word(Competency.search_text, w)) for w in words],
        *_in_frameworks(Competency.framework_id, framework_id, source_type, include_old),
    ]
    if lang:
        conditions.append(Competency.language == lang.lower()[:8])
    if kind:
        conditions.append(Competency.kind == kind)
    where = and_(*conditions)
    rank = case(
        (label == phrase, 0),
        (code == phrase, 0),
        (label.like(f"{phrase}%"), 1),
        (and_(*[_has_word(label, w) for w in words]), 2),
        else_=3,
    )
    page_query = (
        select(Competency.id.label("id"), rank.label("rank"))
        .where(where)
        .order_by(rank, func.length(label), label, Competency.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    page_rows = session.execute(page_query.add_columns(func.count().over().label("total"))).all()
    total = (
        page_rows[0].total
        if page_rows
        else ((session.scalar(select(func.count()).select_from(Competency).where(where)) or 0) if page > 1 else 0)
    )
    return Page(_hits(session, [(row.id, row.rank) for row in page_rows], base_url), total, page, per_page)


def _has_word(column: Any, word: str) -> ColumnElement[bool]:
    """A word of the folded text (words are separated by single spaces) starts with ``word``.

    Written on an expression, not the column, so PostgreSQL does not also take it to the trigram
    index: one index scan for LIKE '%word%' is cheaper than the two this would add.
    """
    return (literal(" ", Text) + column).like(f"% {word}%")


def _in_frameworks(
    column: Any, framework_id: uuid.UUID | None, source_type: str | None, include_old: bool
) -> list[ColumnElement[bool]]:
    if framework_id is not None:
        return [column == framework_id]
    if include_old and not source_type:
        return []
    if not source_type:
        # Old versions are the few: PostgreSQL probes a hash of their ids while it reads the
        # matches, where "IN current versions" became a nested loop over every match.
        return [column.not_in(select(Framework.id).where(Framework.is_current.is_(False)))]
    frameworks = select(Framework.id)
    if not include_old:
        frameworks = frameworks.where(Framework.is_current.is_(True))
    if source_type:
        frameworks = frameworks.where(Framework.source_type == SourceType(source_type))
    return [column.in_(frameworks)]


# -- for the claim pages ------------------------------------------------------------------------


def loosen_plurals(query: str) -> str:
    """The query with French plural endings dropped (projets → projet, travaux → trava).

    Words match by their start, so the shortened word still finds the plural it came from, and
    now the singular too: "chantiers collectifs" finds "Organiser un chantier collectif".
    """
    words = []
    for word in tokens(query):
        if len(word) > 4 and word.endswith("aux"):
            word = word[:-2]
        elif len(word) > 3 and word[-1] in "sx" and not word.endswith("ss"):
            word = word[:-1]
        words.append(word)
    return " ".join(words)


@dataclass(frozen=True)
class Place:
    """Where a competency sits: its framework and the node above it (a bloc in an RNCP fiche)."""

    competency: Competency
    framework: Framework
    parent: Competency | None


def places_of(session: Session, competency_ids: list[uuid.UUID]) -> dict[uuid.UUID, Place]:
    """The framework and parent of each competency, by id, in three queries whatever the count."""
    if not competency_ids:
        return {}
    found = {c.id: c for c in session.scalars(select(Competency).where(Competency.id.in_(competency_ids)))}
    parent_ids = {c.parent_id for c in found.values() if c.parent_id}
    parents = (
        {c.id: c for c in session.scalars(select(Competency).where(Competency.id.in_(parent_ids)))}
        if parent_ids
        else {}
    )
    frameworks = {
        f.id: f
        for f in session.scalars(select(Framework).where(Framework.id.in_({c.framework_id for c in found.values()})))
    }
    return {
        c.id: Place(c, frameworks[c.framework_id], parents.get(c.parent_id) if c.parent_id else None)
        for c in found.values()
    }
