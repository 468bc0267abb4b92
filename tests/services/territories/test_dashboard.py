"""The dashboard's figures on a small world, counted by hand: a territory's, the platform's, who may
see them, the CSV tables, and a number of statements that does not grow with the data."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest

from app.models import ContributionStatus
from app.platform.errors import NotFound, PermissionDenied
from app.services.territories import dashboard
from tests.dashboard_fixtures import NOW, at


def figures(row: Any) -> tuple[int, Decimal, int]:
    return (row.contributions, row.hours, row.validated)


def test_a_territory_counted_by_project_and_social_function(session, small, grants_of):  # type: ignore[no-untyped-def]
    d = dashboard.territory_dashboard(session, grants_of(small.coordinator), small.territory.id, now=NOW)
    assert d.territory_name == small.territory.name
    assert d.totals == dashboard.Totals(contributions=4, hours=Decimal("10.75"), validated=3, waiting=3, badges=3)
    by_project = {r.label: figures(r) for r in d.by_project}
    assert by_project == {
        small.p1.title: (2, Decimal("6.50"), 2),
        "Jardin partagé": (2, Decimal("4.25"), 1),
        "Atelier vélo": (0, Decimal("0.00"), 0),
    }
    assert [r.key for r in d.by_function] == [
        "produire",
        "se_nourrir",
        "se_loger",
        "s_eduquer",
        "s_epanouir",
        "se_soigner",
    ]
    assert [figures(r) for r in d.by_function] == [
        (2, Decimal("6.50"), 2),
        (2, Decimal("4.25"), 1),
        (0, Decimal("0.00"), 0),
        (2, Decimal("4.25"), 1),  # the garden counts in both its functions
        (0, Decimal("0.00"), 0),
        (0, Decimal("0.00"), 0),
    ]
    assert d.by_territory == []


def test_a_territory_over_twelve_months(session, small, grants_of):  # type: ignore[no-untyped-def]
    d = dashboard.territory_dashboard(session, grants_of(small.coordinator), small.territory.id, now=NOW)
    months = [m.month for m in d.by_month]
    assert months[0] == "2025-07" and months[-1] == "2026-06" and len(months) == 12
    filled = {
        m.month: (m.contributions, m.hours, m.validated, m.badges) for m in d.by_month if any(figures(m)) or m.badges
    }
    assert filled == {
        "2026-03": (1, Decimal("3.25"), 0, 0),
        "2026-04": (0, Decimal("0.00"), 0, 1),
        "2026-05": (1, Decimal("2.50"), 1, 0),
        "2026-06": (1, Decimal("4.00"), 2, 1),
    }


def test_frameworks_blocs_and_waiting_claims(session, small, world, grants_of):  # type: ignore[no-untyped-def]
    d = dashboard.territory_dashboard(session, grants_of(small.coordinator), small.territory.id, now=NOW)
    assert [(f.label, f.code, f.validated) for f in d.frameworks] == [
        (world.framework.title, None, 2),
        ("Référentiel du jardin", "v2", 1),
    ]
    assert [(b.code, b.label, b.framework, b.validated) for b in d.blocs] == [
        ("B1", "Bloc 1 : animer", world.framework.title, 2)
    ]
    assert [(w.bucket, w.claims) for w in d.waiting] == [("under_7_days", 1), ("7_to_30_days", 1), ("over_30_days", 1)]


def test_the_platform_by_territory(session, small, grants_of):  # type: ignore[no-untyped-def]
    d = dashboard.platform_dashboard(session, grants_of(small.admin), now=NOW)
    assert d.territory_id is None and d.by_project == []
    assert d.totals == dashboard.Totals(contributions=5, hours=Decimal("110.75"), validated=4, waiting=4, badges=4)
    rows = {r.key: (r.label, *figures(r)) for r in d.by_territory}
    assert rows[str(small.other.id)] == ("Autre territoire", 1, Decimal("100.00"), 1)
    assert rows[str(small.territory.id)] == (small.territory.name, 4, Decimal("10.75"), 3)
    assert [r.key for r in d.by_territory][:1] == [str(small.territory.id)]  # the most contributions first
    produire = d.by_function[0]
    assert figures(produire) == (3, Decimal("106.50"), 3)
    assert d.by_month[-1].contributions == 2 and d.by_month[-1].badges == 2


def test_who_sees_which_dashboard(session, small, grants_of):  # type: ignore[no-untyped-def]
    t = small.territory.id
    with pytest.raises(NotFound):  # another territory's coordinator: it does not exist for them
        dashboard.territory_dashboard(session, grants_of(small.other_coordinator), t, now=NOW)
    with pytest.raises(PermissionDenied):  # the tutor sees the territory, not its figures
        dashboard.territory_dashboard(session, grants_of(small.tutor), t, now=NOW)
    with pytest.raises(NotFound):
        dashboard.territory_dashboard(session, grants_of(small.coordinator), uuid.uuid4(), now=NOW)
    with pytest.raises(PermissionDenied):
        dashboard.platform_dashboard(session, grants_of(small.coordinator), now=NOW)
    assert dashboard.territory_dashboard(session, grants_of(small.admin), t, now=NOW).totals.contributions == 4
    assert [c.id for c in dashboard.dashboard_territories(session, grants_of(small.coordinator))] == [t]
    assert dashboard.dashboard_territories(session, grants_of(small.tutor)) == []
    assert {c.id for c in dashboard.dashboard_territories(session, grants_of(small.admin))} >= {t, small.other.id}


def test_tables_as_csv(session, small, grants_of):  # type: ignore[no-untyped-def]
    d = dashboard.territory_dashboard(session, grants_of(small.coordinator), small.territory.id, now=NOW)
    assert dashboard.tables_of(d) == ("by_function", "by_project", "by_month", "frameworks", "blocs", "waiting")
    text = dashboard.table_csv(d, "by_project").decode()
    assert text.startswith("\ufeffprojet_id;projet;contributions;heures;competences_validees\r\n")
    assert f"{small.p2.id};Jardin partagé;2;4.25;1\r\n" in text
    waiting = dashboard.table_csv(d, "waiting").decode()
    assert waiting == "\ufeffanciennete;demandes_en_attente\r\nunder_7_days;1\r\n7_to_30_days;1\r\nover_30_days;1\r\n"
    with pytest.raises(dashboard.InvalidInput):
        dashboard.table_csv(d, "by_territory")  # the platform's table only


def test_a_fixed_number_of_statements(session, small, world, grants_of, make_project, make_contribution, count_queries):  # type: ignore[no-untyped-def]
    grants = grants_of(small.coordinator)
    session.expire_all()
    before = count_queries(lambda: dashboard.territory_dashboard(session, grants, small.territory.id, now=NOW))
    for n in range(5):
        project = make_project(small.territory, social_functions=["se_soigner"])
        for _ in range(3):
            make_contribution(
                world.learner, project, status=ContributionStatus.SUBMITTED, submitted_at=at(2026, 6, n + 1)
            )
    session.expire_all()
    after = count_queries(lambda: dashboard.territory_dashboard(session, grants, small.territory.id, now=NOW))
    assert before == after <= 12
