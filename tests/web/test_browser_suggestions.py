"""The suggested competencies on the claim form, in a real headless Chromium at phone size (issue 16).

A learner with a submitted contribution about a wash-house opens the claim form: before typing
anything, it lists the competencies its title and narrative match (a framework of unique words, so
other tests' frameworks do not crowd it), each with its framework and a link that chooses it. The
page passes axe-core in French and English at both widths."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from app.models import Competency, Framework, Person, Project, Territory
from app.services.frameworks.imports import import_framework_file
from tests.browser_fixtures import LiveServer, in_project, signed_in_at, submitted_contribution

pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed (pip install -e '.[test]')")
from playwright.sync_api import Page, expect

FRAMEWORK = """# title: Lavoirs et fontaines {n}
# language: fr
key;parent_key;kind;code;label;description
F{n};;bloc;F{n};Entretenir les lavoirs{n};
F{n}.1;F{n};competence;F{n}.1;Restaurer un lavoir{n} communal;Nettoyer le bassin{n} et réparer la toiture.
F{n}.2;F{n};competence;F{n}.2;Raconter l'histoire d'un lavoir{n};
"""


def test_the_claim_form_suggests_competencies(
    live_server: LiveServer, audit: Callable[..., list[Path]], page: Page, screenshot: Callable[[Page, str], Path]
) -> None:
    n = uuid.uuid4().hex[:6]
    with live_server.session() as session:
        path = live_server.folder / f"lavoirs-{n}.csv"
        path.write_text(FRAMEWORK.format(n=n), encoding="utf-8")
        import_framework_file(session, live_server.system, path, path.name)
        framework = session.scalar(select(Framework).where(Framework.title == f"Lavoirs et fontaines {n}"))
        assert framework is not None
        restore = session.scalar(
            select(Competency).where(Competency.framework_id == framework.id, Competency.code == f"F{n}.1")
        )
        assert restore is not None
        territory = Territory(name=f"Territoire {n}")
        session.add(territory)
        session.flush()
        project = Project(territory_id=territory.id, title="Les lavoirs du bourg", social_functions=["produire"])
        learner = Person(display_name="Inès Martin", email=f"ines.{n}@demo.blason.fr")
        session.add_all([project, learner])
        session.flush()
        session.add_all(in_project(project, learners=[learner]))
        contribution = submitted_contribution(
            session, project, learner, f"Remise en eau du lavoir{n}", f"Nous avons nettoyé le bassin{n} du lavoir{n}."
        )
        session.commit()
    start = f"/mes-contributions/{contribution.id}/revendiquer"
    signed_in_at(live_server, learner, start, fresh=True)(page)
    heading = page.get_by_role("heading", name="Compétences suggérées pour cette contribution")
    expect(heading).to_be_visible()
    first = page.locator("#suggested ~ ul.cards li").first
    expect(first.get_by_role("heading", level=3)).to_have_text(f"F{n}.1 — Restaurer un lavoir{n} communal")
    screenshot(page, "suggestions-claim-form-phone-fr")
    first.get_by_role("link").click()
    expect(page.get_by_role("heading", name="La compétence choisie")).to_be_visible()
    assert f"competence={restore.id}" in page.url
    audit(signed_in_at(live_server, learner, start, fresh=True), "suggestions-claim-form")
