"""Tableau de bord in a real headless Chromium at phone size (tests/browser_fixtures.py): Hélène,
coordinator of a territory, follows the link of her home page, reads the key figures, finds each chart
as an image with its words and its table beside it, and downloads a table as CSV. The territory's and
the platform's dashboards pass axe-core in French and English, light and dark, phone and desktop."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from app.models import (
    Achievement,
    AchievementVersion,
    Claim,
    ClaimStatus,
    Competency,
    Contribution,
    ContributionStatus,
    Credential,
    CredentialState,
    Framework,
    Issuer,
    Membership,
    Person,
    Project,
    Role,
    ScopeType,
    SourceType,
    Territory,
)
from tests.browser_fixtures import LiveServer, signed_in_at

pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed (pip install -e '.[test]')")
from playwright.sync_api import Page, expect

PROJECTS = (
    ("Jardin partagé des Glycines", ["se_nourrir", "produire"]),
    ("Repair café de la médiathèque", ["produire", "s_eduquer"]),
    ("Habitat participatif du Moulin", ["se_loger"]),
    ("Ateliers santé du quartier", ["se_soigner", "s_epanouir"]),
)


def helenes_territory(site: LiveServer) -> tuple[Territory, Person, Person]:
    """A territory with four projects, contributions over the last months, claims and badges; its
    coordinator Hélène and a platform administrator."""
    n = uuid.uuid4().hex[:6]
    now = datetime.now(UTC)
    with site.session() as session:
        territory = Territory(name=f"Pays de Bièvre {n}")
        framework = Framework(source_type=SourceType.CUSTOM, source_key=f"tiers-lieu-{n}", title="Animer un tiers-lieu")
        helene = Person(display_name="Hélène Martin", email=f"helene.{n}@demo.blason.fr")
        admin = Person(display_name="Paul Admin", email=f"paul.{n}@demo.blason.fr")
        lucie = Person(display_name="Lucie Perrin", email=f"lucie.{n}@demo.blason.fr")
        session.add_all([territory, framework, helene, admin, lucie])
        session.flush()
        session.add_all(
            [
                Membership(
                    person_id=helene.id, role=Role.COORDINATOR, scope_type=ScopeType.TERRITORY, scope_id=territory.id
                ),
                Membership(person_id=admin.id, role=Role.PLATFORM_ADMIN, scope_type=ScopeType.PLATFORM),
            ]
        )
        bloc = Competency(
            framework_id=framework.id, source_key="B1", kind="bloc", code="B1", label="Animer un collectif"
        )
        session.add(bloc)
        session.flush()
        leaves = [
            Competency(framework_id=framework.id, parent_id=bloc.id, source_key=k, kind="competence", code=k, label=k)
            for k in ("C1", "C2", "C3")
        ]
        projects = [Project(territory_id=territory.id, title=t, social_functions=f) for t, f in PROJECTS]
        session.add_all([*leaves, *projects])
        session.flush()
        contributions = []
        for i in range(40):
            project = projects[i % 4 if i % 3 else 0]
            when = now - timedelta(days=9 * i)
            contributions.append(
                Contribution(
                    project_id=project.id,
                    learner_id=lucie.id,
                    created_by_id=lucie.id,
                    title=f"Atelier {i}",
                    hours=Decimal("37.5") if i % 5 == 0 else Decimal("2.25"),
                    status=ContributionStatus.SUBMITTED,
                    submitted_at=when,
                )
            )
        session.add_all(contributions)
        session.flush()
        for i, c in enumerate(contributions[:30]):
            validated = i % 3 != 0
            asked = now - timedelta(days=9 * i)
            session.add(
                Claim(
                    contribution_id=c.id,
                    project_id=c.project_id,
                    competency_id=leaves[i % 3].id,
                    learner_id=lucie.id,
                    created_by_id=lucie.id,
                    justification="J'ai animé l'atelier.",
                    status=ClaimStatus.VALIDATED if validated else ClaimStatus.PENDING,
                    decided_at=asked + timedelta(days=2) if validated else None,
                    created_at=asked,
                )
            )
        issuer = Issuer(name="Pays de Bièvre", url="https://bievre.example.fr", territory_id=territory.id)
        session.add(issuer)
        session.flush()
        achievement = Achievement(issuer_id=issuer.id)
        session.add(achievement)
        session.flush()
        version = AchievementVersion(achievement_id=achievement.id, name="Animer un collectif", description="Badge.")
        session.add(version)
        session.flush()
        session.add_all(
            Credential(
                issuer_id=issuer.id,
                achievement_version_id=version.id,
                learner_id=lucie.id,
                state=CredentialState.ISSUED,
                short_code=f"{n}{i:04d}",
                awarded_at=now - timedelta(days=20 * i),
            )
            for i in range(8)
        )
        session.commit()
        return territory, helene, admin


def test_helene_opens_her_dashboard_from_home(
    live_server: LiveServer, page: Page, screenshot: Callable[[Page, str], Path]
) -> None:
    territory, helene, _admin = helenes_territory(live_server)
    signed_in_at(live_server, helene, "/")(page)
    page.get_by_role("link", name="Voir le tableau de bord du territoire").click()
    expect(page.get_by_role("heading", level=1, name="Tableau de bord")).to_be_visible()
    expect(page.get_by_text(f"Territoire : {territory.name}")).to_be_visible()
    expect(
        page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Tableau de bord")
    ).to_have_attribute("aria-current", "page")
    screenshot(page, "dashboard-journey-top-phone-fr")

    chart = page.get_by_role("img", name="Contributions par fonction sociale")
    expect(chart).to_be_visible()
    table = page.get_by_role("table", name="Contributions, heures et compétences validées par projet")
    expect(table.get_by_role("rowheader", name="Jardin partagé des Glycines")).to_be_visible()
    expect(table.get_by_role("columnheader", name="Heures")).to_be_visible()
    # The chart is not wider than the phone, and neither is the page.
    assert chart.bounding_box()["width"] <= 390  # type: ignore[index]
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390

    link = page.get_by_role("link", name="Télécharger le tableau « Par projet » (CSV)")
    answer = page.context.request.get(live_server.url(link.get_attribute("href") or ""))
    assert answer.status == 200 and answer.headers["content-type"].startswith("text/csv")
    assert "Jardin partagé des Glycines" in answer.text()
    page.get_by_role("heading", name="Demandes de validation en attente").scroll_into_view_if_needed()
    screenshot(page, "dashboard-journey-waiting-phone-fr")


def test_the_territory_dashboard_is_accessible(live_server: LiveServer, audit: Callable[..., list[Path]]) -> None:
    _territory, helene, _admin = helenes_territory(live_server)
    audit(signed_in_at(live_server, helene, "/tableau-de-bord"), "dashboard-territory")


def test_the_platform_dashboard_is_accessible(live_server: LiveServer, audit: Callable[..., list[Path]]) -> None:
    _territory, _helene, admin = helenes_territory(live_server)
    audit(signed_in_at(live_server, admin, "/tableau-de-bord"), "dashboard-platform")
