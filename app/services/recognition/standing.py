"""Standings: a learner's current level on each competency, derived from every final review.

The standing is the highest level any tutor validated (the latest one on a tie), so a later,
narrower observation elsewhere never takes away what was shown; every review stays visible
beside it. Each change writes a ``standing.changed`` domain event in the same transaction, for
the awarding rules to consume.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from operator import itemgetter
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import UserDefinedType

from app.db import utcnow
from app.models import (
    Claim,
    ClaimStatus,
    Competency,
    Contribution,
    Decision,
    DomainEvent,
    Evidence,
    Framework,
    Person,
    Project,
    Review,
    Standing,
)
from app.platform.errors import Conflict, NotFound
from app.platform.pagination import Page
from app.services.contributions import evidence
from app.services.identity import access
from app.services.identity.access import Grants
from app.services.recognition.scales import Level, rules_for

STANDING_CHANGED = "standing.changed"


def _rank(review: Review) -> tuple[bool, int]:
    return bool(review.proficient), review.level_rank if review.level_rank is not None else -1


def _choose(rows: Sequence[Any]) -> tuple[Any, Any]:
    """The review a standing rests on, and the best validation (None if none), from final
    reviews oldest first: the highest validated level, the latest one on a tie."""
    best = None
    for review in rows:
        if review.decision is Decision.VALIDATED and (best is None or _rank(review) >= _rank(best)):
            best = review
    return best or rows[-1], best


def recompute_standing(
    session: Session, claim: Claim, latest: Review, *, framework_id: uuid.UUID, clock: Callable[[], datetime] = utcnow
) -> Standing:
    """Derive the standing of the claim's learner on its competency; record a change as an event."""
    rows = list(
        session.scalars(
            select(Review)
            .join(Claim, Claim.id == Review.claim_id)
            .where(
                Claim.learner_id == claim.learner_id,
                Claim.competency_id == claim.competency_id,
                Review.final.is_(True),
                Review.id != latest.id,
            )
            .order_by(Review.created_at, Review.id)
        )
    )
    rows.append(latest)  # the decision being taken is the newest, whatever the clock says
    chosen, best = _choose(rows)
    state = Decision.VALIDATED.value if best else chosen.decision.value
    level = best.level if best else None
    proficient = bool(best and best.proficient)

    standing = session.scalar(
        select(Standing).where(Standing.learner_id == claim.learner_id, Standing.competency_id == claim.competency_id)
    )
    before = (standing.level, standing.state, standing.proficient) if standing else None
    if standing is None:
        standing = Standing(learner_id=claim.learner_id, competency_id=claim.competency_id, state=state)
        try:
            with session.begin_nested():
                session.add(standing)
        except IntegrityError:
            raise Conflict("Another decision on this competency was recorded at the same moment; try again.") from None
    standing.level, standing.state, standing.proficient = level, state, proficient
    standing.decided_at, standing.decided_by_id, standing.review_id = (chosen.created_at, chosen.reviewer_id, chosen.id)
    standing.updated_at = clock()
    session.flush()
    if before != (level, state, proficient):
        session.add(
            DomainEvent(
                kind=STANDING_CHANGED,
                created_at=clock(),
                payload={
                    "learner": str(claim.learner_id),
                    "competency": str(claim.competency_id),
                    "framework": str(framework_id),
                    "standing": str(standing.id),
                    "review": str(chosen.id),
                    "level": level,
                    "proficient": proficient,
                    "state": state,
                    "previous": None
                    if before is None
                    else {"level": before[0], "state": before[1], "proficient": before[2]},
                },
            )
        )
        session.flush()
    return standing


def check_can_view_learner(session: Session, grants: Grants, learner_id: uuid.UUID) -> None:
    """The learner, platform admins, and tutors or coordinators of a project they claimed in."""
    access.require_login(grants)
    if learner_id == grants.actor.id or grants.platform_admin:
        if session.get(Person, learner_id) is None:
            raise NotFound("Learner not found.")
        return
    followed = select(Project.id).where(
        Project.territory_id.in_(grants.coordinator_of) | Project.id.in_(grants.tutor_of)
    )
    if not session.scalar(select(exists().where(Claim.learner_id == learner_id, Claim.project_id.in_(followed)))):
        raise NotFound("Learner not found.")


def reading_scope(session: Session, grants: Grants, learner_id: uuid.UUID) -> set[uuid.UUID] | None:
    """Territories whose reviews of this learner the caller reads; None: all of them (the learner,
    a platform admin). A facilitator acting for the learner reads the territories lent to them."""
    if learner_id == grants.actor.id:
        return access.lent_territory_ids(session, grants)
    return access.served_territory_ids(session, grants)


@dataclass(frozen=True)
class ScopedStanding:
    """A standing as the reviews given in some territories alone make it."""

    competency_id: uuid.UUID
    level: str | None
    state: str
    proficient: bool
    decided_at: datetime | None
    decided_by_id: uuid.UUID | None
    review_id: uuid.UUID | None


def standings_within(
    session: Session,
    learner_id: uuid.UUID,
    territory_ids: set[uuid.UUID],
    *,
    competency_ids: Sequence[uuid.UUID] | None = None,
) -> dict[uuid.UUID, ScopedStanding]:
    """The learner's standings seen from these territories, by competency id.

    A standing no review from elsewhere went into is the stored one. Otherwise it is derived
    again, as recompute_standing does, from the final reviews given in these territories, and
    dropped when there are none: another territory's level, reviewer or decision never shows.
    """
    stored_stmt = select(Standing).where(Standing.learner_id == learner_id)
    reviews_stmt = (
        select(
            Claim.competency_id,
            Project.territory_id,
            Review.id,
            Review.reviewer_id,
            Review.decision,
            Review.level,
            Review.level_rank,
            Review.proficient,
            Review.created_at,
        )
        .join(Claim, Claim.id == Review.claim_id)
        .join(Project, Project.id == Claim.project_id)
        .where(Claim.learner_id == learner_id, Review.final.is_(True))
        .order_by(Review.created_at, Review.id)
    )
    if competency_ids is not None:
        stored_stmt = stored_stmt.where(Standing.competency_id.in_(list(competency_ids)))
        reviews_stmt = reviews_stmt.where(Claim.competency_id.in_(list(competency_ids)))
    stored = list(session.scalars(stored_stmt))
    seen: dict[uuid.UUID, list[Any]] = {}
    foreign: set[uuid.UUID] = set()
    for row in session.execute(reviews_stmt):
        if row.territory_id in territory_ids:
            seen.setdefault(row.competency_id, []).append(row)
        else:
            foreign.add(row.competency_id)
    out: dict[uuid.UUID, ScopedStanding] = {}
    for s in stored:
        if s.competency_id not in foreign:
            out[s.competency_id] = ScopedStanding(
                s.competency_id, s.level, s.state, s.proficient, s.decided_at, s.decided_by_id, s.review_id
            )
        elif s.competency_id in seen:
            chosen, best = _choose(seen[s.competency_id])
            out[s.competency_id] = ScopedStanding(
                s.competency_id,
                best.level if best else None,
                Decision.VALIDATED.value if best else chosen.decision.value,
                bool(best and best.proficient),
                chosen.created_at,
                chosen.reviewer_id,
                chosen.id,
            )
    return out


@dataclass
class StandingEntry:
    competency_id: uuid.UUID
    framework_id: uuid.UUID
    code: str | None
    label: str
    level: str | None
    state: str
    proficient: bool
    decided_at: datetime | None
    decided_by_id: uuid.UUID | None
    review_id: uuid.UUID | None


def list_standings(
    session: Session,
    grants: Grants,
    learner_id: uuid.UUID,
    *,
    framework_id: uuid.UUID | None = None,
    proficient: bool | None = None,
    page: int = 1,
    per_page: int = 20,
) -> Page[StandingEntry]:
    """A learner's standings as a flat list, by framework and code."""
    check_can_view_learner(session, grants, learner_id)
    scope = reading_scope(session, grants, learner_id)
    if scope is not None:
        return _list_scoped(
            session, learner_id, scope, framework_id=framework_id, proficient=proficient, page=page, per_page=per_page
        )
    stmt = (
        select(Standing, Competency)
        .join(Competency, Competency.id == Standing.competency_id)
        .where(Standing.learner_id == learner_id)
        .order_by(Competency.framework_id, Competency.code, Competency.id)
    )
    if framework_id:
        stmt = stmt.where(Competency.framework_id == framework_id)
    if proficient is not None:
        stmt = stmt.where(Standing.proficient.is_(proficient))
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = session.execute(stmt.limit(per_page).offset((page - 1) * per_page))
    items = [
        StandingEntry(
            c.id,
            c.framework_id,
            c.code,
            c.label,
            s.level,
            s.state,
            s.proficient,
            s.decided_at,
            s.decided_by_id,
            s.review_id,
        )
        for s, c in rows
    ]
    return Page(items, total, page, per_page)


def _list_scoped(
    session: Session,
    learner_id: uuid.UUID,
    scope: set[uuid.UUID],
    *,
    framework_id: uuid.UUID | None,
    proficient: bool | None,
    page: int,
    per_page: int,
) -> Page[StandingEntry]:
    """list_standings for a caller who reads the learner's reviews of some territories only."""
    held = standings_within(session, learner_id, scope)
    ids = [c for c, s in held.items() if proficient is None or s.proficient is proficient]
    stmt = (
        select(Competency)
        .where(Competency.id.in_(ids))
        .order_by(Competency.framework_id, Competency.code, Competency.id)
    )
    if framework_id:
        stmt = stmt.where(Competency.framework_id == framework_id)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    items = []
    for c in session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)):
        s = held[c.id]
        items.append(
            StandingEntry(
                c.id,
                c.framework_id,
                c.code,
                c.label,
                s.level,
                s.state,
                s.proficient,
                s.decided_at,
                s.decided_by_id,
                s.review_id,
            )
        )
    return Page(items, total, page, per_page)


# The portfolio is sent whole: for 2,000 standings, some 24,000 nested objects. It is written
# straight from plain rows as the JSON document the API returns (schemas.claims.PortfolioSchema
# documents it): building objects, then dumping them through nested schemas, took most of the
# request, and so many live objects set off full garbage collections. Standings, reviews and
# evidence are dicts of text, numbers and booleans only, which the collector does not track;
# arrays are tuples. Ids are read as text (see _UuidText), times written as ISO 8601.
Document = dict[str, Any]


class _DashedHex(UserDefinedType[str]):
    """Text read back as str(uuid) writes it: SQLAlchemy's Uuid keeps 32 hex digits where the
    database has no uuid type (SQLite); elsewhere _UuidText has the database write the text."""

    cache_ok = True

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        return None if dialect.supports_native_uuid else _dashed


def _dashed(value: str | None) -> str | None:
    if value is None or len(value) != 32:
        return value
    return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"


class _UuidText(FunctionElement[str]):
    """A UUID column read as text, never as a uuid.UUID: building one per id of thousands, only
    to print it, was a third of the portfolio's time on SQLite."""

    type = _DashedHex()
    name = "uuid_text"
    inherit_cache = True


@compiles(_UuidText)
def _compile_uuid_text(element: _UuidText, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    # PostgreSQL prints its uuid type as str(uuid) does. SQLite's 32 hex digits are dashed in
    # Python (_DashedHex), twice as fast as with substr() in SQL.
    return f"CAST({column} AS VARCHAR)" if compiler.dialect.supports_native_uuid else column


def _text(column: Any) -> Any:
    return _UuidText(column).label(column.key)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def portfolio(
    session: Session, grants: Grants, learner_id: uuid.UUID, *, framework_id: uuid.UUID | None = None
) -> Document:
    """The framework trees of the competencies the learner has standings in, with the reviews
    and the evidence (as the caller may see it) behind each validated node, as the API's
    JSON document.

    A fixed number of queries whatever the size: the ancestors come from one recursive query.
    """
    check_can_view_learner(session, grants, learner_id)
    scope = reading_scope(session, grants, learner_id)
    held: Any
    if scope is None:
        stmt = select(
            _text(Standing.competency_id),
            Standing.level,
            Standing.state,
            Standing.proficient,
            Standing.decided_at,
            _text(Standing.decided_by_id),
            _text(Standing.review_id),
        ).where(Standing.learner_id == learner_id)
        if framework_id:
            stmt = stmt.join(Competency, Competency.id == Standing.competency_id).where(
                Competency.framework_id == framework_id
            )
        standings = {
            competency_id: {
                "level": level,
                "state": state,
                "proficient": proficient,
                "decidedAt": _iso(decided_at),
                "decidedById": decided_by_id,
                "reviewId": review_id,
            }
            for competency_id, level, state, proficient, decided_at, decided_by_id, review_id in session.execute(stmt)
        }
        held = select(Standing.competency_id).where(Standing.learner_id == learner_id)
    else:
        standings, held = _scoped_documents(session, learner_id, scope, framework_id)
    if not standings:
        return {"learnerId": str(learner_id), "standings": 0, "frameworks": ()}

    # The session has flushed (autoflush, above). The big results are read from its connection,
    # row by row: through the ORM, every row of a result is alive at once, thousands more objects
    # for the collector to visit.
    connection = session.connection()
    tree = select(Competency.id, Competency.parent_id).where(Competency.id.in_(held)).cte("tree", recursive=True)
    tree = tree.union(select(Competency.id, Competency.parent_id).join(tree, Competency.id == tree.c.parent_id))
    # id -> (id, parent id, framework id, code, label, kind, position), as plain tuples
    competencies: dict[str, tuple[Any, ...]] = {
        row[0]: tuple(row)
        for row in connection.execute(
            select(
                _text(Competency.id),
                _text(Competency.parent_id),
                _text(Competency.framework_id),
                Competency.code,
                Competency.label,
                Competency.kind,
                Competency.position,
            ).where(Competency.id.in_(select(tree.c.id)))
        )
    }
    framework_ids = {c[2] for c in competencies.values()}
    if framework_id:
        framework_ids &= {str(framework_id)}
    frameworks = connection.execute(
        select(_text(Framework.id), Framework.title, Framework.source_type, Framework.version, Framework.version_label)
        .where(Framework.id.in_([uuid.UUID(f) for f in framework_ids]))
        .order_by(Framework.title, Framework.id)
    ).all()
    reviews = _reviews(connection, learner_id, scope)
    evidence_of = _evidence(connection, _visible_evidence(session, grants, learner_id), learner_id)

    roots: dict[str, list[str]] = {f: [] for f in framework_ids}
    children: dict[str, list[str]] = {}
    for id_, parent_id, framework, _code, _label, _kind, _position in competencies.values():
        if framework not in roots:
            continue
        if parent_id in competencies:
            children.setdefault(parent_id, []).append(id_)
        else:
            roots[framework].append(id_)

    def order(id_: str) -> tuple[int, str, str]:
        _id, _parent, _framework, code, _label, _kind, position = competencies[id_]
        return position, code or "", id_

    def node(id_: str) -> Document:
        _id, _parent, _framework, code, label, kind, _position = competencies[id_]
        below = children.get(id_)
        return {
            "id": id_,
            "code": code,
            "label": label,
            "kind": kind,
            "standing": standings.get(id_),
            "reviews": reviews.get(id_, ()),
            "evidence": evidence_of.get(id_, ()),
            "children": tuple(node(c) for c in sorted(below, key=order)) if below else (),
        }

    return {
        "learnerId": str(learner_id),
        "standings": len(standings),
        "frameworks": tuple(
            {
                "id": id_,
                "title": title,
                "sourceType": source_type.value,
                "version": version,
                "versionLabel": version_label,
                "nodes": tuple(node(r) for r in sorted(roots[id_], key=order)),
            }
            for id_, title, source_type, version, version_label in frameworks
        ),
    }


def _scoped_documents(
    session: Session, learner_id: uuid.UUID, scope: set[uuid.UUID], framework_id: uuid.UUID | None
) -> tuple[dict[str, Document], list[uuid.UUID]]:
    """The standings documents (by competency id as text) and the competencies held, as seen from
    the territories of ``scope`` (see standings_within)."""
    held = standings_within(session, learner_id, scope)
    shown = list(held)
    if framework_id:
        shown = list(
            session.scalars(
                select(Competency.id).where(Competency.id.in_(shown), Competency.framework_id == framework_id)
            )
        )
    documents = {}
    for competency_id in shown:
        s = held[competency_id]
        documents[str(competency_id)] = {
            "level": s.level,
            "state": s.state,
            "proficient": s.proficient,
            "decidedAt": _iso(s.decided_at),
            "decidedById": None if s.decided_by_id is None else str(s.decided_by_id),
            "reviewId": None if s.review_id is None else str(s.review_id),
        }
    return documents, list(held)


def _reviews(
    connection: Connection, learner_id: uuid.UUID, scope: set[uuid.UUID] | None
) -> dict[str, tuple[Document, ...]]:
    """Every review of the learner's claims (given in the territories of ``scope``, if not None),
    oldest first, by competency id."""
    stmt = (
        select(
            _text(Claim.competency_id),
            _text(Review.id),
            _text(Review.claim_id),
            _text(Review.reviewer_id),
            func.coalesce(Person.display_name, ""),
            Review.decision,
            Review.level,
            Review.proficient,
            Review.comment,
            Review.round,
            Review.final,
            Review.created_at,
        )
        .join(Claim, Claim.id == Review.claim_id)
        .outerjoin(Person, Person.id == Review.reviewer_id)
        .where(Claim.learner_id == learner_id)
        .order_by(Claim.competency_id, Review.created_at, Review.id)
    )
    if scope is not None:
        stmt = stmt.where(Claim.project_id.in_(select(Project.id).where(Project.territory_id.in_(scope))))
    rows = connection.execute(stmt)
    # The reviewer's name comes with the review: "" if the person is gone, as in review_entries.
    return {
        competency_id: tuple(
            {
                "id": id_,
                "claimId": claim_id,
                "reviewerId": reviewer_id,
                "reviewerName": name,
                "decision": decision.value,
                "level": level,
                "proficient": proficient,
                "comment": comment,
                "round": round_,
                "final": final,
                "createdAt": _iso(created_at),
            }
            for _c, id_, claim_id, reviewer_id, name, decision, level, proficient, comment, round_, final, created_at in group
        )
        for competency_id, group in groupby(rows, key=itemgetter(0))
    }


def _evidence(
    connection: Connection, visible: dict[str, tuple[Document, ...]], learner_id: uuid.UUID
) -> dict[str, tuple[Document, ...]]:
    """The visible evidence behind each competency the learner had validated, by competency id."""
    out: dict[str, tuple[Document, ...]] = {}
    for competency_id, contribution_id in connection.execute(
        select(_text(Claim.competency_id), _text(Claim.contribution_id)).where(
            Claim.learner_id == learner_id, Claim.status == ClaimStatus.VALIDATED
        )
    ):
        found = visible.get(contribution_id)
        if not found:
            continue
        known = out.get(competency_id)
        if known is None:
            out[competency_id] = found  # one validated claim per competency, the common case (shared)
        else:
            ids = {e["id"] for e in known}
            out[competency_id] = known + tuple(e for e in found if e["id"] not in ids)
    return out


def _visible_evidence(session: Session, grants: Grants, learner_id: uuid.UUID) -> dict[str, tuple[Document, ...]]:
    """Evidence of the learner's validated contributions that the caller may read, by contribution id."""
    behind = select(Claim.contribution_id).where(Claim.learner_id == learner_id, Claim.status == ClaimStatus.VALIDATED)
    contributions = {c.id: c for c in session.scalars(select(Contribution).where(Contribution.id.in_(behind)))}
    projects = (
        {
            p.id: p
            for p in session.scalars(
                select(Project).where(Project.id.in_({c.project_id for c in contributions.values()}))
            )
        }
        if contributions
        else {}
    )
    out: dict[str, list[Document]] = {}
    for item in session.scalars(
        select(Evidence).where(Evidence.contribution_id.in_(behind)).order_by(Evidence.created_at, Evidence.id)
    ):
        contribution = contributions[item.contribution_id]
        if evidence.can_read(grants, item, contribution, projects[contribution.project_id]):
            out.setdefault(str(item.contribution_id), []).append(
                {
                    "id": str(item.id),
                    "contributionId": str(item.contribution_id),
                    "kind": item.kind.value,
                    "title": item.title,
                }
            )
    return {contribution_id: tuple(items) for contribution_id, items in out.items()}


# -- the portfolio page (Mes compétences) -------------------------------------------------------


@dataclass(frozen=True)
class ValidatedEntry:
    """A competency validated for the learner, as their portfolio page shows it."""

    competency_id: uuid.UUID
    code: str | None
    label: str
    framework_id: uuid.UUID
    framework_title: str
    level: Level | None  # on the scale the tutor decided with
    decided_at: datetime | None
    reviewer_name: str
    comment: str


def _validated_held(
    session: Session, grants: Grants, learner_id: uuid.UUID
) -> tuple[Any, dict[uuid.UUID, ScopedStanding] | None]:
    """A condition on Competency.id: the competencies validated for the learner as the caller
    reads them; and, when the caller reads some territories only, the standings seen from them."""
    check_can_view_learner(session, grants, learner_id)
    scope = reading_scope(session, grants, learner_id)
    if scope is None:
        held = select(Standing.competency_id).where(
            Standing.learner_id == learner_id, Standing.state == Decision.VALIDATED.value
        )
        return Competency.id.in_(held), None
    seen = {
        c: s for c, s in standings_within(session, learner_id, scope).items() if s.state == Decision.VALIDATED.value
    }
    return Competency.id.in_(list(seen)), seen


def validated_frameworks(session: Session, grants: Grants, learner_id: uuid.UUID) -> list[tuple[uuid.UUID, str, int]]:
    """The frameworks of the learner's validated competencies: (id, title, how many), by title."""
    condition, _seen = _validated_held(session, grants, learner_id)
    rows = session.execute(
        select(Framework.id, Framework.title, func.count())
        .join(Competency, Competency.framework_id == Framework.id)
        .where(condition)
        .group_by(Framework.id, Framework.title)
        .order_by(Framework.title, Framework.id)
    )
    return [(id_, title, count) for id_, title, count in rows]


def validated_competencies(
    session: Session,
    grants: Grants,
    learner_id: uuid.UUID,
    *,
    framework_id: uuid.UUID | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Page[ValidatedEntry]:
    """The learner's validated competencies by framework title and code, with the level, the tutor
    who validated it, when and their comment: one page, in a fixed number of queries."""
    condition, seen = _validated_held(session, grants, learner_id)
    stmt = select(Competency, Framework.title).join(Framework, Framework.id == Competency.framework_id).where(condition)
    if framework_id is not None:
        stmt = stmt.where(Competency.framework_id == framework_id)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = session.execute(
        stmt.order_by(Framework.title, Framework.id, Competency.code, Competency.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    ids = [c.id for c, _t in rows]
    standings: dict[uuid.UUID, tuple[str | None, datetime | None, uuid.UUID | None]] = {}
    if seen is not None:
        standings = {c: (seen[c].level, seen[c].decided_at, seen[c].review_id) for c in ids}
    elif ids:
        standings = {
            s.competency_id: (s.level, s.decided_at, s.review_id)
            for s in session.scalars(
                select(Standing).where(Standing.learner_id == learner_id, Standing.competency_id.in_(ids))
            )
        }
    review_ids = {r for _l, _d, r in standings.values() if r}
    notes = (
        {
            row.id: row
            for row in session.execute(
                select(
                    Review.id,
                    Review.comment,
                    Project.territory_id,
                    func.coalesce(Person.display_name, "").label("name"),
                )
                .join(Claim, Claim.id == Review.claim_id)
                .join(Project, Project.id == Claim.project_id)
                .outerjoin(Person, Person.id == Review.reviewer_id)
                .where(Review.id.in_(review_ids))
            )
        }
        if review_ids
        else {}
    )
    frameworks = (
        {
            f.id: f
            for f in session.scalars(select(Framework).where(Framework.id.in_({c.framework_id for c, _t in rows})))
        }
        if rows
        else {}
    )
    rules = rules_for(
        session,
        {
            (frameworks[c.framework_id], notes[standings[c.id][2]].territory_id)
            for c, _t in rows
            if standings.get(c.id, (None, None, None))[2] in notes
        },
    )
    items = []
    for competency, title in rows:
        level_code, decided_at, review_id = standings.get(competency.id, (None, None, None))
        note = notes.get(review_id) if review_id else None
        scale = rules[(competency.framework_id, note.territory_id)].scale if note is not None else None
        level = (scale.get(level_code) if scale else None) or (
            Level(level_code, level_code, level_code, False) if level_code else None
        )
        items.append(
            ValidatedEntry(
                competency.id,
                competency.code,
                competency.label,
                competency.framework_id,
                title,
                level,
                decided_at,
                note.name if note is not None else "",
                note.comment if note is not None else "",
            )
        )
    return Page(items, total, page, per_page)
