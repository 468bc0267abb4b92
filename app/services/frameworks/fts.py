"""The competency search index, on SQLite (FTS5) and PostgreSQL (tsvector), kept in step by the writer.

Migration ``e5f9a1b3c6d8`` creates it (replacing the FTS5 table of ``3c27a90a16cb`` on SQLite):

* SQLite: ``competencies_fts``, a contentless FTS5 table with three columns: ``label`` and
  ``body`` hold Snowball stems (``stems.index_words``) of the folded label and of the rest
  (code, description, other labels); ``tags`` holds ``current`` or ``old``, the source type,
  ``f<framework id>``, ``l<language>`` and ``k<kind>``, so every filter is answered by the index
  itself. ``competencies_fts_rows`` keeps, by FTS rowid, what ranking needs and the exact terms
  indexed (a contentless index can only forget a row when told the values it indexed).
* PostgreSQL: ``competencies_fts_vectors``, one row per competency with its ``tsvector``: the label
  weighted A, the rest B, through the text search configuration of its language
  (``blason_fr``, ``blason_en``, ``blason_es``: ``unaccent`` then the Snowball stemmer;
  ``blason_simple`` for any other language: no stems), a GIN index on it, and the filter columns.
  Migration ``f6a0b2c4d8e1`` splits it by a hash of the competency id into ``PARTITIONS`` parts,
  each with its own GIN index (see below).

Neither is a model: Alembic and the drift test leave them out (``is_fts_table``). The writer indexes a
framework version when it is written and re-tags the version it replaces (``retire``).

Search (``ranked``) costs the same whether a query has 50 or 60,000 hits: the index yields at most
``CANDIDATES`` rows whose label holds every word and as many with the words anywhere, only those are
ranked (BM25 on SQLite, ``ts_rank_cd`` on PostgreSQL, the label weighted above the rest), and the
total is counted up to ``MAX_COUNT``. A broad query thus ranks its first candidates in index order
(import order on SQLite, hash order on PostgreSQL) among those matching in the label: precise
queries are the ones ranked best.

What bounds the cost: FTS5 reads a word's postings lazily, so ``LIMIT`` stops it, but its
``bm25()`` first counts every row holding each query term: the candidates are scored in Python
instead (``_Bm25``, the same formula, a word's rows counted up to ``IDF_CAP``). A GIN index
does not stop at a LIMIT: its scan collects every posting of the query's words into a bitmap before the first row
comes out, so one index over 720,000 competencies made a query with 70,000 hits cost 4 to 20
times a rare word's. In parts, PostgreSQL reads one part after the other and the ``LIMIT`` stops
at the first that gives enough rows (a common word: one or two parts of 16); a rare word costs a
small probe per part.
"""

from __future__ import annotations

import math
import re
import uuid
import weakref
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from app.services.frameworks import stems
from app.services.frameworks.folding import fold

NAME = "competencies_fts"
VECTORS = f"{NAME}_vectors"
CHUNK = 500
CANDIDATES = 400
MAX_COUNT = 1_000
PARTITIONS = 16  # PostgreSQL: parts of the vectors table (migration f6a0b2c4d8e1)
LABEL_WEIGHT = 8.0
_enabled: weakref.WeakKeyDictionary[Engine, bool] = weakref.WeakKeyDictionary()

SQLITE_DDL = (
    f"CREATE VIRTUAL TABLE {NAME} USING fts5(label, body, tags, content = '', "
    "tokenize = 'unicode61 remove_diacritics 2', detail = 'full')",
    f"CREATE TABLE {NAME}_rows (id INTEGER PRIMARY KEY, competency_id CHAR(32) NOT NULL, "
    "framework_id CHAR(32) NOT NULL, search_label TEXT NOT NULL, code TEXT NOT NULL, "
    "label_terms TEXT NOT NULL, body_terms TEXT NOT NULL, more_tags TEXT NOT NULL)",
)
# PostgreSQL: the configuration of each stored language; the folded text goes through it.
PG_CONFIG = (
    "CASE lower(left(coalesce(c.language, ''), 2)) WHEN 'fr' THEN 'blason_fr'::regconfig "
    "WHEN 'en' THEN 'blason_en'::regconfig WHEN 'es' THEN 'blason_es'::regconfig "
    "ELSE 'blason_simple'::regconfig END"
)
PG_VECTOR = (
    f"setweight(to_tsvector({PG_CONFIG}, c.search_label), 'A') || setweight(to_tsvector({PG_CONFIG}, "
    "CASE WHEN left(c.search_text, length(c.search_label)) = c.search_label "
    "THEN substr(c.search_text, length(c.search_label) + 1) ELSE c.search_text END), 'B')"
)
PG_INSERT = (
    f"INSERT INTO {VECTORS} (competency_id, framework_id, source_type, current, language, kind, "
    "search_label, code, vector) "
    "SELECT c.id, c.framework_id, f.source_type, f.is_current, lower(left(coalesce(c.language, ''), 2)), c.kind, "
    f"c.search_label, lower(coalesce(c.code, '')), {PG_VECTOR} "
    "FROM competencies c JOIN frameworks f ON f.id = c.framework_id "
)


def is_fts_table(name: str | None) -> bool:
    """Whether a table belongs to the search index (FTS5, its shadow tables, its rows, the vectors)."""
    return bool(name) and (name == NAME or str(name).startswith(f"{NAME}_"))


def enabled(session: Session) -> bool:
    """Whether this database has the index (once migrated; SQLite needs FTS5 compiled in)."""
    engine = session.get_bind().engine
    known = _enabled.get(engine)
    if known is None:
        if engine.dialect.name == "sqlite":
            found = session.scalar(text("SELECT count(*) FROM sqlite_master WHERE name = :name"), {"name": NAME})
        else:
            found = session.scalar(text("SELECT count(*) FROM pg_class WHERE relname = :name"), {"name": VECTORS})
        known = found == 1
        _enabled[engine] = known
    return known


def _sqlite(session: Session | Connection) -> bool:
    bind = session.get_bind() if hasattr(session, "get_bind") else session
    return bind.dialect.name == "sqlite"


# -- writing --------------------------------------------------------------------------------------


def _tags(current: bool, source_type: str, framework_id: str, more: str) -> str:
    return f"{'current' if current else 'old'} {source_type} f{framework_id} {more}"


def _more_tags(language: str | None, kind: str | None) -> str:
    return f"l{stems.language_of(language) or 'xx'} k{fold(kind).replace(' ', '')}"


def _body(search_text: str, search_label: str) -> str:
    return search_text[len(search_label) :] if search_text.startswith(search_label) else search_text


def _index_sqlite(connection: Connection, rows: Sequence[Any], current: bool, source_type: str) -> None:
    first = connection.scalar(text(f"SELECT coalesce(max(id), 0) + 1 FROM {NAME}_rows"))
    entries = []
    for n, r in enumerate(rows):
        language = stems.language_of(r["language"])
        framework_id = uuid.UUID(str(r["framework_id"])).hex
        entries.append(
            {
                "id": first + n,
                "competency_id": uuid.UUID(str(r["id"])).hex,
                "framework_id": framework_id,
                "search_label": r["search_label"],
                "code": (r["code"] or "").lower(),
                "label_terms": stems.index_words(r["search_label"], language),
                "body_terms": stems.index_words(_body(r["search_text"], r["search_label"]), language),
                "more_tags": _more_tags(r["language"], r["kind"]),
                "tags": "",
            }
        )
        entries[-1]["tags"] = _tags(current, source_type, framework_id, entries[-1]["more_tags"])
    if not entries:
        return
    # Straight to the driver (executemany): every value is a str or an int already, and
    # SQLAlchemy's per-row parameter handling cost as much as SQLite's inserting (issue 18).
    connection.exec_driver_sql(
        f"INSERT INTO {NAME}_rows (id, competency_id, framework_id, search_label, code, label_terms, "
        "body_terms, more_tags) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                e["id"],
                e["competency_id"],
                e["framework_id"],
                e["search_label"],
                e["code"],
                e["label_terms"],
                e["body_terms"],
                e["more_tags"],
            )
            for e in entries
        ],
    )
    connection.exec_driver_sql(
        f"INSERT INTO {NAME} (rowid, label, body, tags) VALUES (?, ?, ?, ?)",
        [(e["id"], e["label_terms"], e["body_terms"], e["tags"]) for e in entries],
    )


def add_rows(session: Session, rows: Sequence[dict[str, Any]], source_type: str) -> None:
    """Index rows the writer has just inserted for current framework versions."""
    if not rows:
        return
    connection = session.connection()
    if _sqlite(connection):
        # The import holds SQLite's write lock since its first insert: the rowids stay ours.
        _index_sqlite(connection, rows, True, source_type)
        return
    ids = [r["id"] for r in rows]
    for start in range(0, len(ids), CHUNK * 4):
        connection.execute(text(PG_INSERT + "WHERE c.id = ANY(:ids)"), {"ids": ids[start : start + CHUNK * 4]})


def add_frameworks(session: Session, framework_ids: Sequence[uuid.UUID], source_type: str) -> None:
    """Index every competency of these (current) framework versions, read back from the table."""
    connection = session.connection()
    for start in range(0, len(framework_ids), CHUNK):
        ids = list(framework_ids[start : start + CHUNK])
        if not _sqlite(connection):
            connection.execute(text(PG_INSERT + "WHERE c.framework_id = ANY(:ids)"), {"ids": ids})
            continue
        holders = ", ".join(f":f{n}" for n in range(len(ids)))
        found = connection.execute(
            text(
                "SELECT id, framework_id, search_label, search_text, code, language, kind FROM competencies "
                f"WHERE framework_id IN ({holders}) ORDER BY id"
            ),
            {f"f{n}": i.hex for n, i in enumerate(ids)},
        ).mappings()
        batch: list[Any] = []
        for row in found:
            batch.append(row)
            if len(batch) >= 2000:
                _index_sqlite(connection, batch, True, source_type)
                batch = []
        _index_sqlite(connection, batch, True, source_type)


def retire(session: Session, framework_ids: Sequence[uuid.UUID], source_type: str) -> None:
    """Re-tag the rows of framework versions that stopped being current as ``old``."""
    connection = session.connection()
    for start in range(0, len(framework_ids), CHUNK):
        ids = list(framework_ids[start : start + CHUNK])
        if not _sqlite(connection):
            connection.execute(
                text(f"UPDATE {VECTORS} SET current = false WHERE framework_id = ANY(:ids)"), {"ids": ids}
            )
            continue
        holders = ", ".join(f":f{n}" for n in range(len(ids)))
        found = connection.execute(
            text(
                f"SELECT id, framework_id, label_terms, body_terms, more_tags FROM {NAME}_rows "
                f"WHERE framework_id IN ({holders})"
            ),
            {f"f{n}": i.hex for n, i in enumerate(ids)},
        ).all()
        if not found:
            continue
        old = [
            {
                "id": row.id,
                "label": row.label_terms,
                "body": row.body_terms,
                "was": _tags(True, source_type, row.framework_id, row.more_tags),
                "now": _tags(False, source_type, row.framework_id, row.more_tags),
            }
            for row in found
        ]
        connection.execute(
            text(f"INSERT INTO {NAME} ({NAME}, rowid, label, body, tags) VALUES ('delete', :id, :label, :body, :was)"),
            old,
        )
        connection.execute(
            text(f"INSERT INTO {NAME} (rowid, label, body, tags) VALUES (:id, :label, :body, :now)"), old
        )


def rebuild(connection: Connection) -> None:
    """Index every stored competency (the migration fills the index with this)."""
    if not _sqlite(connection):
        connection.execute(text(PG_INSERT))
        return
    found = connection.execute(
        text(
            "SELECT c.id, c.framework_id, c.search_label, c.search_text, c.code, c.language, c.kind, "
            "f.is_current, f.source_type FROM competencies c JOIN frameworks f ON f.id = c.framework_id "
            "ORDER BY c.id"
        )
    ).mappings()
    batch: list[Any] = []
    for row in found:
        batch.append(row)
        if len(batch) >= 2000:
            _rebuild_batch(connection, batch)
            batch = []
    _rebuild_batch(connection, batch)


def _rebuild_batch(connection: Connection, batch: list[Any]) -> None:
    for (current, source_type), _ in {(bool(r["is_current"]), r["source_type"]): 0 for r in batch}.items():
        rows = [r for r in batch if bool(r["is_current"]) == current and r["source_type"] == source_type]
        _index_sqlite(connection, rows, current, str(source_type).lower())


# -- searching ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """What a search keeps: current versions only, a source type, framework versions, a language, a kind."""

    current: bool = True
    source_type: str | None = None
    framework_ids: tuple[uuid.UUID, ...] = ()
    language: str | None = None
    kind: str | None = None


@dataclass(frozen=True)
class Candidate:
    """A ranked hit: the competency, whether every word is in its label, and its score (lower is better)."""

    competency_id: uuid.UUID
    exact: bool
    starts: bool
    in_label: bool
    score: float
    matched: int = 0


Groups = Sequence[Sequence[stems.Term]]


def _fts_group(group: Sequence[stems.Term]) -> str:
    return "(" + " OR ".join(f'"{t.text}"' + ("*" if t.prefix else "") for t in group) + ")"


def _fts_match(groups: Groups, any_word: bool, columns: str) -> str:
    return "{" + columns + "} : (" + (" OR " if any_word else " AND ").join(_fts_group(g) for g in groups) + ")"


def _fts_filters(filters: Filters) -> str:
    parts = []
    if filters.framework_ids:
        parts.append("tags : (" + " OR ".join(f'"f{i.hex}"' for i in filters.framework_ids) + ")")
    if filters.source_type and not filters.framework_ids:
        parts.append(f'tags : "{fold(filters.source_type)}"')
    if filters.language:
        parts.append(f'tags : "l{stems.language_of(filters.language) or fold(filters.language)[:8]}"')
    if filters.kind:
        parts.append(f'tags : "k{fold(filters.kind).replace(" ", "")}"')
    # "NOT old", not "AND current": old versions are the few, and every row would be read for "current".
    old = " NOT tags : old" if filters.current and not filters.framework_ids else ""
    return "".join(f" AND {p}" for p in parts) + old


def _ts_term(term: stems.Term, weight: str) -> str:
    suffix = ("*" if term.prefix else "") + weight
    return f"'{term.text}'" + (f":{suffix}" if suffix else "")


def _tsquery(groups: Groups, any_word: bool, weight: str = "") -> str:
    parts = ["(" + " | ".join(_ts_term(t, weight) for t in g) + ")" for g in groups]
    return (" | " if any_word else " & ").join(parts)


def _pg_filters(filters: Filters) -> tuple[str, dict[str, Any]]:
    sql: list[str] = []
    values: dict[str, Any] = {}
    if filters.framework_ids:
        sql.append("framework_id = ANY(:framework_ids)")
        values["framework_ids"] = list(filters.framework_ids)
    elif filters.current:
        sql.append("current")
    if filters.source_type and not filters.framework_ids:
        sql.append("source_type = :source_type")
        values["source_type"] = filters.source_type.lower()
    if filters.language:
        sql.append("language = :language")
        values["language"] = filters.language.lower()[:2]
    if filters.kind:
        sql.append("kind = :kind")
        values["kind"] = filters.kind
    return "".join(f" AND {s}" for s in sql), values


_TERM = re.compile(r"[^a-z0-9]")


@contextmanager
def by_index(session: Session) -> Iterator[None]:
    """PostgreSQL: read the vectors through their GIN indexes only, for all the queries of one search.

    With LIMIT, the planner prefers reading the table in order until enough rows matched, which is
    right for a frequent word and reads every row (hundreds of ms) for a rare one or a code; it
    cannot tell them apart for prefixes. The table exists for its index: always use it. Nested
    uses set nothing more (a search makes up to four queries; each setting is a round trip).
    """
    if _sqlite(session) or session.info.get(_BY_INDEX):
        yield
        return
    session.execute(text("SET LOCAL enable_seqscan = off"))
    session.info[_BY_INDEX] = True
    try:
        yield
    finally:
        session.info.pop(_BY_INDEX, None)
        session.execute(text("SET LOCAL enable_seqscan = on"))


_BY_INDEX = "blason.fts.by_index"


# -- SQLite: BM25 over the candidates -----------------------------------------------------------------

K1 = 1.2
B = 0.75
IDF_CAP = 2_000


def _varints(data: bytes) -> Iterator[int]:
    """The SQLite varints of a record (FTS5's averages record is a list of them)."""
    n = 0
    while n < len(data):
        value = 0
        for k in range(9):
            byte = data[n]
            n += 1
            if k == 8:
                value = (value << 8) | byte
                break
            value = (value << 7) | (byte & 0x7F)
            if byte < 0x80:
                break
        yield value


class _Bm25:
    """FTS5's ``bm25(label 8, body 1, tags 0)`` computed in Python for the candidates only.

    FTS5's own function first counts, for each term of the query, every row holding it (its inverse
    document frequency) before scoring the first row: for a word in 70,000 rows that pass cost more
    than the search. Here a word's rows are counted up to ``IDF_CAP`` (a word at least that common
    weighs as little as one that common), one count per word (its alternatives together), and the
    row count and mean row length come from the index's averages record. Otherwise the formula
    is FTS5's: the label counts ``LABEL_WEIGHT`` times, k1 = 1.2, b = 0.75; lower is better.
    """

    def __init__(self, session: Session, groups: Groups, known: Sequence[int | None] = ()) -> None:
        self.groups = [list(g) for g in groups]
        # Whether an indexed word is one of a query word's alternatives, remembered per word.
        self.known: list[dict[str, bool]] = [{} for _ in self.groups]
        self.scores: dict[tuple[str, str, int | None], float] = {}
        self.exact = [frozenset(t.text for t in g if not t.prefix) for g in self.groups]
        self.starts = [tuple(t.text for t in g if t.prefix) for g in self.groups]
        block = session.scalar(text(f"SELECT block FROM {NAME}_data WHERE id = 1"))
        numbers = list(_varints(bytes(block or b"")))
        self.rows = max(numbers[0] if numbers else 1, 1)
        self.mean = max(sum(numbers[1:]) / self.rows, 1.0)
        hits = list(known) + [None] * (len(self.groups) - len(known))
        missing = [n for n, h in enumerate(hits) if h is None]
        if missing:
            counts = session.execute(
                text(
                    "SELECT "
                    + ", ".join(
                        f"(SELECT count(*) FROM (SELECT 1 FROM {NAME} WHERE {NAME} MATCH :q{n} LIMIT :cap))"
                        for n in missing
                    )
                ),
                {"cap": IDF_CAP, **{f"q{n}": _fts_match([self.groups[n]], False, "label body") for n in missing}},
            ).one()
            for n, found in zip(missing, counts, strict=True):
                hits[n] = int(found or 0)
        self.idf = [max(math.log((self.rows - h + 0.5) / (h + 0.5)), 1e-6) for h in (int(h or 0) for h in hits)]

    def score(self, label_terms: str, body_terms: str, only: int | None = None) -> float:
        """The (negative) BM25 of a row for every word, or for word ``only``."""
        key = (label_terms, body_terms, only)
        found = self.scores.get(key)
        if found is None:
            found = self.scores[key] = self._score(label_terms, body_terms, only)
        return found

    def _score(self, label_terms: str, body_terms: str, only: int | None) -> float:
        label, body = label_terms.split(), body_terms.split()
        size = len(label) + len(body) + TAG_WORDS
        norm = K1 * (1 - B + B * size / self.mean)
        total = 0.0
        for n in range(len(self.groups)) if only is None else (only,):
            freq = LABEL_WEIGHT * self._frequency(n, label) + self._frequency(n, body)
            if freq:
                total += self.idf[n] * freq * (K1 + 1) / (freq + norm)
        return -total

    def _frequency(self, n: int, words: Iterable[str]) -> int:
        known, count = self.known[n], 0
        for word in words:
            held = known.get(word)
            if held is None:
                held = known[word] = word in self.exact[n] or word.startswith(self.starts[n])
            count += held
        return count

    def matched(self, label_terms: str, body_terms: str) -> int:
        """How many of the query's words a row holds (whole, or by its start)."""
        words = set(label_terms.split()) | set(body_terms.split())
        return len([n for n in range(len(self.groups)) if self._holds(n, words)])

    def _holds(self, n: int, words: Iterable[str]) -> bool:
        known = self.known[n]
        for word in words:
            held = known.get(word)
            if held is None:
                held = known[word] = word in self.exact[n] or word.startswith(self.starts[n])
            if held:
                return True
        return False


TAG_WORDS = 5  # current/old, source type, framework, language, kind: counted in a row's length as FTS5 does


def ranked(
    session: Session,
    groups: Groups,
    filters: Filters,
    *,
    phrase: str = "",
    any_word: bool = False,
    limit: int = 20,
    offset: int = 0,
    candidates: int = CANDIDATES,
    ordered_by_score: bool = False,
) -> list[Candidate]:
    """The best hits of a query (each group: the alternatives of one word), best first.

    ``any_word``: a hit needs one word only (suggestions), else every word. At most ``candidates``
    hits with every word in the label and as many with them anywhere are ranked.
    """
    assert all(not _TERM.search(t.text) for g in groups for t in g), "terms are folded words"
    wanted = max(candidates, offset + limit)
    label_first = not ordered_by_score
    tiers = "" if ordered_by_score else "exact DESC, starts DESC, in_label DESC, "
    if _sqlite(session):
        filters_sql = _fts_filters(filters)
        rows = session.execute(
            text(
                "SELECT r.competency_id, (r.search_label = :phrase OR r.code = :phrase) AS exact, "
                "r.search_label LIKE :starts AS starts, m.in_label, r.search_label, r.label_terms, r.body_terms, "
                "r.id FROM (SELECT id, max(in_label) AS in_label FROM ("
                + (
                    f"SELECT * FROM (SELECT rowid AS id, 1 AS in_label FROM {NAME} WHERE {NAME} MATCH :in_label "
                    "LIMIT :n) UNION ALL "
                    if label_first
                    else ""
                )
                + f"SELECT * FROM (SELECT rowid AS id, 0 AS in_label FROM {NAME} WHERE {NAME} MATCH :anywhere "
                f"LIMIT :n)) GROUP BY id) m JOIN {NAME}_rows r ON r.id = m.id"
            ),
            {
                "phrase": phrase,
                "starts": f"{phrase}%",
                "in_label": _fts_match(groups, any_word, "label") + filters_sql,
                "anywhere": _fts_match(groups, any_word, "label body") + filters_sql,
                "n": wanted,
            },
        ).all()
        if not rows:
            return []
        bm25 = _Bm25(session, groups)
        # (tiers, score, label length, label, rowid): the order; the competency id is made for the page only.
        keyed = [
            (
                () if ordered_by_score else (not r[1], not r[2], not r[3]),
                bm25.score(r[5], r[6]),
                len(r[4]),
                r[4],
                r[7],
                r,
            )
            for r in rows
        ]
        keyed.sort(key=lambda k: k[:5])
        return [
            Candidate(uuid.UUID(r[0]), bool(r[1]), bool(r[2]), bool(r[3]), score)
            for _, score, _, _, _, r in keyed[offset : offset + limit]
        ]
    filters_sql, values = _pg_filters(filters)
    with by_index(session):
        rows = _pg_ranked(
            session,
            groups,
            filters_sql,
            values,
            phrase,
            any_word,
            wanted,
            limit,
            offset,
            tiers,
            label_first,
            ordered_by_score,
        )
    return [Candidate(r[0], bool(r[1]), bool(r[2]), bool(r[3]), float(r[4])) for r in rows]


def _pg_ranked(
    session: Session,
    groups: Groups,
    filters_sql: str,
    values: dict[str, Any],
    phrase: str,
    any_word: bool,
    wanted: int,
    limit: int,
    offset: int,
    tiers: str,
    label_first: bool,
    ordered_by_score: bool,
) -> Sequence[Any]:
    return session.execute(
        text(
            "WITH found AS ("
            + (
                f"(SELECT competency_id, search_label, code, vector, 1 AS in_label FROM {VECTORS} "
                f"WHERE vector @@ CAST(:in_label AS tsquery){filters_sql} LIMIT :n) UNION ALL "
                if label_first
                else ""
            )
            + f"(SELECT competency_id, search_label, code, vector, 0 AS in_label FROM {VECTORS} "
            f"WHERE vector @@ CAST(:anywhere AS tsquery){filters_sql} LIMIT :n)), "
            "best AS (SELECT DISTINCT ON (competency_id) * FROM found ORDER BY competency_id, in_label DESC) "
            "SELECT competency_id, (search_label = :phrase OR code = :phrase) AS exact, "
            "search_label LIKE :starts AS starts, in_label, "
            f"-{'ts_rank' if ordered_by_score else 'ts_rank_cd'}('{{0.1, 0.1, 0.25, 1.0}}', vector, "
            "CAST(:anywhere AS tsquery), 1) AS score FROM best "
            f"ORDER BY {tiers}score, length(search_label), search_label, competency_id "
            "LIMIT :limit OFFSET :offset"
        ),
        {
            **values,
            "phrase": phrase,
            "starts": f"{phrase}%",
            "in_label": _tsquery(groups, any_word, "A"),
            "anywhere": _tsquery(groups, any_word),
            "n": wanted,
            "limit": limit,
            "offset": offset,
        },
    ).all()


def count(session: Session, groups: Groups, filters: Filters, *, any_word: bool = False) -> int:
    """How many competencies match, counted up to ``MAX_COUNT``."""
    if _sqlite(session):
        return int(
            session.scalar(
                text(f"SELECT count(*) FROM (SELECT 1 FROM {NAME} WHERE {NAME} MATCH :q LIMIT :cap)"),
                {"q": _fts_match(groups, any_word, "label body") + _fts_filters(filters), "cap": MAX_COUNT},
            )
            or 0
        )
    filters_sql, values = _pg_filters(filters)
    with by_index(session):
        return _pg_count(session, groups, filters_sql, values, any_word)


def _pg_count(session: Session, groups: Groups, filters_sql: str, values: dict[str, Any], any_word: bool) -> int:
    return int(
        session.scalar(
            text(
                f"SELECT count(*) FROM (SELECT 1 FROM {VECTORS} WHERE vector @@ CAST(:q AS tsquery){filters_sql} "
                "LIMIT :cap) AS counted"
            ),
            {**values, "q": _tsquery(groups, any_word), "cap": MAX_COUNT},
        )
        or 0
    )


# -- any word ---------------------------------------------------------------------------------------


def ranked_any(
    session: Session,
    groups: Groups,
    filters: Filters,
    *,
    limit: int,
    offset: int = 0,
    candidates: int = CANDIDATES,
    partial_only: bool = False,
    by_matches: bool = True,
    weights: Sequence[float] = (),
) -> list[Candidate]:
    """The best hits holding any of the words (each group: one word's alternatives), best first.

    Each word brings at most ``candidates // len(groups)`` hits (index order) with it anywhere, and
    for a search (``by_matches``) on PostgreSQL as many with it in the label, so a rare word is not crowded out by a common one and
    the cost stays bounded. ``matched`` is how many of the words a hit holds (exactly, not only those whose
    list brought it); ``by_matches`` ranks by it first, then by score: on SQLite the BM25 of each
    word summed; on PostgreSQL, whose ``ts_rank`` has no inverse document frequency, each word's
    rarity (BM25's, from how many candidates hold it against how many competencies are searched)
    times a label part (short labels more) plus a rest part (short texts more). ``in_label`` is not
    set (these hits rank after the all-words ones anyway). ``partial_only`` leaves out the hits
    holding every word (the all-words search lists them). ``weights``: how much each word counts
    (how often a narrative says it), 1 each by default.
    """
    assert all(not _TERM.search(t.text) for g in groups for t in g), "terms are folded words"
    if not groups:
        return []
    per = max(candidates // len(groups), 50)
    factors = [float(w) for w in weights] or [1.0] * len(groups)
    if _sqlite(session):
        found = _sqlite_any(session, groups, filters, per, factors)
    else:
        size = _pg_size(session, filters)
        with by_index(session):
            # A search's few words also bring hits by their label; a narrative's ten do not need to.
            found = _pg_any(session, groups, filters, per, factors, size, label_lists=by_matches)
    if partial_only:
        found = [f for f in found if f[0].matched < len(groups)]
    if by_matches:
        found.sort(key=lambda f: (-f[0].matched, f[0].score, len(f[1]), f[1], f[0].competency_id))
    else:
        found.sort(key=lambda f: (f[0].score, len(f[1]), f[1], f[0].competency_id))
    return [c for c, _ in found[offset : offset + limit]]


def _sqlite_any(
    session: Session, groups: Groups, filters: Filters, per: int, factors: Sequence[float]
) -> list[tuple[Candidate, str]]:
    filters_sql = _fts_filters(filters)
    selects: list[str] = []
    values: dict[str, Any] = {"n": per}
    for n, group in enumerate(groups):
        # One list per word: BM25 weighs the label 8 times the rest.
        values[f"q{n}"] = _fts_match([group], False, "label body") + filters_sql
        selects.append(f"SELECT * FROM (SELECT rowid AS id, {n} AS g FROM {NAME} WHERE {NAME} MATCH :q{n} LIMIT :n)")
    rows = session.execute(
        text(
            "SELECT r.competency_id, r.search_label, r.label_terms, r.body_terms, m.g FROM ("
            "SELECT DISTINCT id, g FROM (" + " UNION ALL ".join(selects) + ")) m "
            f"JOIN {NAME}_rows r ON r.id = m.id"
        ),
        values,
    ).all()
    if not rows:
        return []
    # A word whose list is not full brought every row holding it (within the filters): its count is known.
    listed = [0] * len(groups)
    for row in rows:
        listed[row.g] += 1
    bm25 = _Bm25(session, groups, [n if n < per else None for n in listed])
    scores: dict[str, float] = {}
    rest: dict[str, Any] = {}
    for row in rows:
        score = bm25.score(row.label_terms, row.body_terms, only=row.g)
        scores[row.competency_id] = scores.get(row.competency_id, 0.0) + factors[row.g] * score
        rest[row.competency_id] = row
    out = []
    for competency_id, row in rest.items():
        matched = bm25.matched(row.label_terms, row.body_terms)
        candidate = Candidate(uuid.UUID(competency_id), False, False, False, scores[competency_id], matched)
        out.append((candidate, row.search_label))
    return out


SIZE_CAP = 10_000


def _pg_size(session: Session, filters: Filters) -> int:
    """How many competencies a search looks through, for word rarities: the frameworks' size, else
    the planner's estimate of the index's parts (counted up to ``SIZE_CAP`` before they are analysed)."""
    if filters.framework_ids:
        return int(
            session.scalar(
                text(f"SELECT count(*) FROM {VECTORS} WHERE framework_id = ANY(:ids)"),
                {"ids": list(filters.framework_ids)},
            )
            or 0
        )
    # The parts' estimates (a partitioned table has its own only once analysed as a whole); a table
    # without parts, its own. By oid: the search reads without sequential scans, catalogs included.
    estimate = session.scalar(
        text(
            "SELECT coalesce((SELECT sum(greatest(reltuples, 0)) FROM pg_class WHERE oid IN "
            "(SELECT inhrelid FROM pg_inherits WHERE inhparent = CAST(:name AS regclass))), "
            "(SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = CAST(:name AS regclass)))"
        ),
        {"name": VECTORS},
    )
    if estimate and estimate >= 1:
        return int(estimate)
    return int(session.scalar(text(f"SELECT count(*) FROM (SELECT 1 FROM {VECTORS} LIMIT {SIZE_CAP}) AS counted")) or 0)


def _pg_any(
    session: Session, groups: Groups, filters: Filters, per: int, factors: Sequence[float], size: int, label_lists: bool
) -> list[tuple[Candidate, str]]:
    filters_sql, values = _pg_filters(filters)
    values = {**values, "n": per}
    selects, columns = [], []
    for n, group in enumerate(groups):
        values[f"a{n}"] = _tsquery([group], False)
        values[f"l{n}"] = _tsquery([group], False, "A")
        values[f"b{n}"] = _tsquery([group], False, "B")
        for key in (f"l{n}", f"a{n}") if label_lists else (f"a{n}",):
            selects.append(
                f"(SELECT competency_id, search_label, vector FROM {VECTORS} "
                f"WHERE vector @@ CAST(:{key} AS tsquery){filters_sql} LIMIT :n)"
            )
        columns.append(f"vector @@ CAST(:l{n} AS tsquery), vector @@ CAST(:b{n} AS tsquery)")
    rows = session.execute(
        text(
            "WITH found AS (" + " UNION ALL ".join(selects) + "), "
            "best AS (SELECT DISTINCT ON (competency_id) * FROM found) "
            "SELECT competency_id, search_label, length(vector), " + ", ".join(columns) + " FROM best"
        ),
        values,
    ).all()
    if not rows:
        return []
    # Rarity: how many candidates hold each word (every hit of a word that has fewer than ``per``),
    # against how many competencies the search looks through: BM25's inverse document frequency.
    held = [sum(1 for r in rows if r[3 + 2 * n] or r[4 + 2 * n]) for n in range(len(groups))]
    size = max(len(rows), size)
    idf = [math.log(1 + (size - h + 0.5) / (h + 0.5)) for h in held]
    out = []
    for row in rows:
        flags = [(bool(row[3 + 2 * n]), bool(row[4 + 2 * n])) for n in range(len(groups))]
        # Each word weighs its rarity, in the label (short labels more) and in the rest (short texts more).
        label_part = LABEL_WEIGHT / (1 + math.log(1 + len(row[1].split())))
        body_part = 1 / (1 + math.log(1 + row[2]))
        score = -sum(
            factors[n] * idf[n] * (label_part * in_label + body_part * in_body)
            for n, (in_label, in_body) in enumerate(flags)
        )
        matched = sum(1 for in_label, in_body in flags if in_label or in_body)
        out.append((Candidate(row[0], False, False, False, score, matched), row[1]))
    return out
