"""The dashboard of a territory (its coordinators) or of the whole platform (administrators).

Every figure is counted by the database (GROUP BY), in a fixed number of statements whatever the
territory's size: projects, contributions and validations per project, three monthly series, the
frameworks and blocs most validated, the waiting claims by age. Per-project rows are folded into
social functions here, because a project's functions are a small JSON list (a project with two
functions counts in both).

What counts: a *contribution* is a submitted one (drafts stay the learner's own); a *validated
competency* is a claim whose final decision validated it (by the month it was decided); a *claim
waiting* is a pending claim, aged from when it was asked; a *badge issued* is a credential of the
territory's issuers that was issued (revoked or suspended since included), by its award month.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, String, and_, case, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from app.models import (
    Claim,
    ClaimStatus,
    Competency,
    Contribution,
    ContributionStatus,
    Credential,
    CredentialState,
    Framework,
    Issuer,
    Project,
    SocialFunction,
    Territory,
)
from app.platform.errors import FieldError, InvalidInput, NotFound, PermissionDenied
from app.services.identity import access
from app.services.identity.access import Grants

_S = TypeVar("_S", bound=Select[*tuple[Any, ...]])
MONTHS = 12  # the window of the monthly series, ending with the current month
TOP = 10  # frameworks and blocs listed
WAITING_BUCKETS = ("under_7_days", "7_to_30_days", "over_30_days")
ISSUED = (CredentialState.ISSUED, CredentialState.REVOKED, CredentialState.SUSPENDED)
TABLES = ("by_function", "by_project", "by_territory", "by_month", "frameworks", "blocs", "waiting")


class month_of(FunctionElement[str]):  # noqa: N801 - a SQL function, named as one
    """``YYYY-MM`` of a UTC timestamp column, on SQLite and PostgreSQL alike."""

    type = String()
    inherit_cache = True


@compiles(month_of)
def _month_sqlite(element: month_of, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite's qmark parameters: a literal % needs no escaping.
    return f"strftime('%Y-%m', {compiler.process(element.clauses, **kw)})"


@compiles(month_of, "postgresql")
def _month_postgresql(element: month_of, compiler: SQLCompiler, **kw: Any) -> str:
    # Stored as timestamptz; read in UTC whatever the session's time zone.
    return f"to_char(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'UTC', 'YYYY-MM')"


@dataclass(frozen=True)
class Row:
    """One line of a table by social function, project or territory."""

    key: str  # the social function's code, or the project's or territory's id
    label: str
    contributions: int
    hours: Decimal
    validated: int


@dataclass(frozen=True)
class MonthRow:
    month: str  # YYYY-MM
    contributions: int
    hours: Decimal
    validated: int
    badges: int


@dataclass(frozen=True)
class Ranked:
    """A framework or a bloc, with how many competencies were validated in it."""

    id: uuid.UUID
    code: str | None
    label: str
    framework: str
    validated: int


@dataclass(frozen=True)
class WaitingRow:
    bucket: str  # one of WAITING_BUCKETS
    claims: int


@dataclass(frozen=True)
class Totals:
    contributions: int
    hours: Decimal
    validated: int
    waiting: int
    badges: int


@dataclass(frozen=True)
class Dashboard:
    """The figures of one territory (``territory`` set) or of the platform (``territory`` None)."""

    territory_id: uuid.UUID | None
    territory_name: str | None
    computed_at: datetime
    totals: Totals
    by_function: list[Row]
    by_project: list[Row]  # a territory's dashboard
    by_territory: list[Row]  # the platform's dashboard
    by_month: list[MonthRow]
    frameworks: list[Ranked]
    blocs: list[Ranked]
    waiting: list[WaitingRow]


@dataclass(frozen=True)
class Choice:
    id: uuid.UUID
    name: str


def dashboard_territories(session: Session, grants: Grants) -> list[Choice]:
    """The territories whose dashboard the caller may open, by name (all of them for administrators)."""
    stmt = select(Territory.id, Territory.name).order_by(Territory.name, Territory.id)
    if not grants.platform_admin:
        if not grants.coordinator_of:
            return []
        stmt = stmt.where(Territory.id.in_(grants.coordinator_of))
    return [Choice(i, name) for i, name in session.execute(stmt)]


def may_see_dashboards(grants: Grants) -> bool:
    """Whether the caller has any dashboard: coordinators and platform administrators."""
    return grants.platform_admin or bool(grants.coordinator_of and not grants.actor.acting_for)


def territory_dashboard(session: Session, grants: Grants, territory_id: uuid.UUID, *, now: datetime) -> Dashboard:
    """The figures of a territory, for its coordinators and platform administrators."""
    access.require_login(grants)
    visible = access.visible_territory_ids(session, grants)
    territory = session.get(Territory, territory_id)
    if territory is None or (visible is not None and territory_id not in visible):
        raise NotFound("Territory not found.")
    if not (grants.platform_admin or territory_id in grants.coordinator_of):
        raise PermissionDenied("Only the territory's coordinators see its dashboard.")
    return _dashboard(session, territory, now=now)


def platform_dashboard(session: Session, grants: Grants, *, now: datetime) -> Dashboard:
    """The figures of the whole platform, by territory (platform administrators)."""
    access.require_login(grants)
    if not grants.platform_admin:
        raise PermissionDenied("Only platform administrators see the platform's dashboard.")
    return _dashboard(session, None, now=now)


def _in_scope(project_id: Any, territory: Territory | None) -> ColumnElement[bool] | None:
    if territory is None:
        return None
    return project_id.in_(select(Project.id).where(Project.territory_id == territory.id))


def _where(stmt: _S, *conditions: ColumnElement[bool] | None) -> _S:
    kept = [c for c in conditions if c is not None]
    return stmt.where(*kept) if kept else stmt


def _hours(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def _months(now: datetime) -> list[str]:
    year, month = now.year, now.month
    out = []
    for _ in range(MONTHS):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]


def _dashboard(session: Session, territory: Territory | None, *, now: datetime) -> Dashboard:
    projects = _projects(session, territory)
    per_project = _per_project(session, territory)
    months = _months(now)
    by_month = _by_month(session, territory, months)
    badges_total = by_month.pop("total")
    rows = [_row(str(p.id), p.title, per_project.get(p.id)) for p in projects]
    waiting = _waiting(session, territory, now)
    totals = Totals(
        contributions=sum(r.contributions for r in rows),
        hours=sum((r.hours for r in rows), Decimal("0.00")),
        validated=sum(r.validated for r in rows),
        waiting=sum(w.claims for w in waiting),
        badges=badges_total,
    )
    return Dashboard(
        territory_id=territory.id if territory else None,
        territory_name=territory.name if territory else None,
        computed_at=now,
        totals=totals,
        by_function=_by_function(projects, rows),
        by_project=rows if territory else [],
        by_territory=[] if territory else _by_territory(session, projects, rows),
        by_month=[by_month[m] for m in months],
        frameworks=_ranked(session, territory, blocs=False),
        blocs=_ranked(session, territory, blocs=True),
        waiting=waiting,
    )


@dataclass(frozen=True)
class _Project:
    id: uuid.UUID
    territory_id: uuid.UUID
    title: str
    functions: tuple[str, ...]


def _projects(session: Session, territory: Territory | None) -> list[_Project]:
    stmt = select(Project.id, Project.territory_id, Project.title, Project.social_functions).order_by(
        Project.title, Project.id
    )
    if territory is not None:
        stmt = stmt.where(Project.territory_id == territory.id)
    return [_Project(i, t, title, tuple(fns or ())) for i, t, title, fns in session.execute(stmt)]


def _per_project(session: Session, territory: Territory | None) -> dict[uuid.UUID, tuple[int, Decimal, int]]:
    """Per project: submitted contributions, their hours, validated competencies (two grouped statements)."""
    contributions = _where(
        select(Contribution.project_id, func.count(), func.sum(Contribution.hours)).group_by(Contribution.project_id),
        Contribution.status == ContributionStatus.SUBMITTED,
        _in_scope(Contribution.project_id, territory),
    )
    validated = _where(
        select(Claim.project_id, func.count()).group_by(Claim.project_id),
        Claim.status == ClaimStatus.VALIDATED,
        _in_scope(Claim.project_id, territory),
    )
    found: dict[uuid.UUID, tuple[int, Decimal, int]] = {}
    for project_id, n, hours in session.execute(contributions):
        found[project_id] = (n, _hours(hours), 0)
    for project_id, n in session.execute(validated):
        count, hours, _ = found.get(project_id, (0, Decimal("0.00"), 0))
        found[project_id] = (count, hours, n)
    return found


def _row(key: str, label: str, figures: tuple[int, Decimal, int] | None) -> Row:
    n, hours, validated = figures or (0, Decimal("0.00"), 0)
    return Row(key, label, n, hours, validated)


def _sum_rows(key: str, label: str, rows: Iterable[Row]) -> Row:
    n, hours, validated = 0, Decimal("0.00"), 0
    for r in rows:
        n, hours, validated = n + r.contributions, hours + r.hours, validated + r.validated
    return Row(key, label, n, hours, validated)


def _by_function(projects: list[_Project], rows: list[Row]) -> list[Row]:
    """The six social functions, in their usual order; a project counts in each of its functions."""
    return [
        _sum_rows(f.value, f.value, (r for p, r in zip(projects, rows, strict=True) if f.value in p.functions))
        for f in SocialFunction
    ]


def _by_territory(session: Session, projects: list[_Project], rows: list[Row]) -> list[Row]:
    names: dict[uuid.UUID, str] = {i: name for i, name in session.execute(select(Territory.id, Territory.name))}
    grouped: dict[uuid.UUID, list[Row]] = {t: [] for t in names}
    for p, r in zip(projects, rows, strict=True):
        grouped.setdefault(p.territory_id, []).append(r)
    out = [_sum_rows(str(t), names.get(t, ""), rs) for t, rs in grouped.items()]
    return sorted(out, key=lambda r: (-r.contributions, r.label.casefold(), r.key))


def _by_month(session: Session, territory: Territory | None, months: list[str]) -> dict[str, Any]:
    """The monthly series over the window (zeros filled in) and, under "total", every badge issued."""
    # Compared as timestamps (not as month strings), so rows before the window are never formatted.
    start = datetime(int(months[0][:4]), int(months[0][5:]), 1, tzinfo=UTC)
    submitted = func.coalesce(Contribution.submitted_at, Contribution.created_at)
    c_month = month_of(submitted)
    contributions = _where(
        select(c_month, func.count(), func.sum(Contribution.hours)).group_by(c_month),
        Contribution.status == ContributionStatus.SUBMITTED,
        submitted >= start,
        _in_scope(Contribution.project_id, territory),
    )
    v_month = month_of(Claim.decided_at)
    validated = _where(
        select(v_month, func.count()).group_by(v_month),
        Claim.status == ClaimStatus.VALIDATED,
        Claim.decided_at >= start,
        _in_scope(Claim.project_id, territory),
    )
    b_month = month_of(Credential.awarded_at)
    badges = _where(
        select(b_month, func.count()).join(Issuer, Issuer.id == Credential.issuer_id).group_by(b_month),
        Credential.state.in_(ISSUED),
        Issuer.territory_id == territory.id if territory is not None else None,
    )
    figures: dict[str, list[Any]] = {m: [0, Decimal("0.00"), 0, 0] for m in months}
    for month, n, hours in session.execute(contributions):
        if month in figures:
            figures[month][0:2] = [n, _hours(hours)]
    for month, n in session.execute(validated):
        if month in figures:
            figures[month][2] = n
    total = 0
    for month, n in session.execute(badges):  # every month: the total comes with the series
        total += n
        if month in figures:
            figures[month][3] = n
    out: dict[str, Any] = {m: MonthRow(m, *f) for m, f in figures.items()}
    out["total"] = total
    return out


def _ranked(session: Session, territory: Territory | None, *, blocs: bool) -> list[Ranked]:
    """The frameworks (or blocs) with the most validated competencies, most first."""
    # Claims are counted per competency first (one pass over the claims), then the few competency
    # rows are joined to their framework or bloc: the joins never meet every claim.
    per_competency = _where(
        select(Claim.competency_id.label("competency_id"), func.count().label("n")).group_by(Claim.competency_id),
        Claim.status == ClaimStatus.VALIDATED,
        _in_scope(Claim.project_id, territory),
    ).subquery()
    competency = aliased(Competency)
    n = func.sum(per_competency.c.n).label("n")
    if blocs:
        bloc = aliased(Competency)
        stmt = (
            select(bloc.id, bloc.code, bloc.label, Framework.title, n)
            .select_from(per_competency)
            .join(competency, competency.id == per_competency.c.competency_id)
            .join(bloc, and_(bloc.id == competency.parent_id, bloc.kind == "bloc"))
            .join(Framework, Framework.id == bloc.framework_id)
            .group_by(bloc.id, bloc.code, bloc.label, Framework.title)
            .order_by(n.desc(), bloc.code, bloc.label, bloc.id)
        )
    else:
        stmt = (
            select(Framework.id, Framework.version_label, Framework.title, Framework.title, n)
            .select_from(per_competency)
            .join(competency, competency.id == per_competency.c.competency_id)
            .join(Framework, Framework.id == competency.framework_id)
            .group_by(Framework.id, Framework.version_label, Framework.title)
            .order_by(n.desc(), Framework.title, Framework.id)
        )
    return [Ranked(i, code, label, fw, int(count)) for i, code, label, fw, count in session.execute(stmt.limit(TOP))]


def _waiting(session: Session, territory: Territory | None, now: datetime) -> list[WaitingRow]:
    """Pending claims by how long ago they were asked: under 7 days, 7 to 30, over 30."""
    week, month = now - timedelta(days=7), now - timedelta(days=30)
    asked = Claim.created_at
    stmt = _where(
        select(
            func.count(case((asked > week, 1))),
            func.count(case((and_(asked <= week, asked > month), 1))),
            func.count(case((asked <= month, 1))),
        ),
        Claim.status == ClaimStatus.PENDING,
        _in_scope(Claim.project_id, territory),
    )
    counts = session.execute(stmt).one()
    return [WaitingRow(bucket, n or 0) for bucket, n in zip(WAITING_BUCKETS, counts, strict=True)]


# --- CSV --------------------------------------------------------------------------------------------

_HEADERS = {
    "by_function": ["fonction_sociale", "contributions", "heures", "competences_validees"],
    "by_project": ["projet_id", "projet", "contributions", "heures", "competences_validees"],
    "by_territory": ["territoire_id", "territoire", "contributions", "heures", "competences_validees"],
    "by_month": ["mois", "contributions", "heures", "competences_validees", "badges_delivres"],
    "frameworks": ["referentiel_id", "referentiel", "version", "competences_validees"],
    "blocs": ["bloc_id", "code", "bloc", "referentiel", "competences_validees"],
    "waiting": ["anciennete", "demandes_en_attente"],
}


def tables_of(dashboard: Dashboard) -> tuple[str, ...]:
    """The tables this dashboard has (by project for a territory, by territory for the platform)."""
    skipped = "by_territory" if dashboard.territory_id else "by_project"
    return tuple(t for t in TABLES if t != skipped)


def table_csv(dashboard: Dashboard, table: str) -> bytes:
    """One table of the dashboard as CSV (semicolons, UTF-8 with BOM: opens as is in a French spreadsheet)."""
    if table not in tables_of(dashboard):
        choices = ", ".join(tables_of(dashboard))
        raise InvalidInput("Name the table to download.", errors=[FieldError("table", f"One of: {choices}.")])
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(_HEADERS[table])
    writer.writerows(_csv_rows(dashboard, table))
    return ("\ufeff" + out.getvalue()).encode()


def _csv_rows(d: Dashboard, table: str) -> list[list[Any]]:
    if table == "by_function":
        return [[r.key, r.contributions, r.hours, r.validated] for r in d.by_function]
    if table in ("by_project", "by_territory"):
        rows = d.by_project if table == "by_project" else d.by_territory
        return [[r.key, r.label, r.contributions, r.hours, r.validated] for r in rows]
    if table == "by_month":
        return [[m.month, m.contributions, m.hours, m.validated, m.badges] for m in d.by_month]
    if table == "frameworks":
        return [[f.id, f.label, f.code or "", f.validated] for f in d.frameworks]
    if table == "blocs":
        return [[b.id, b.code or "", b.label, b.framework, b.validated] for b in d.blocs]
    return [[w.bucket, w.claims] for w in d.waiting]
