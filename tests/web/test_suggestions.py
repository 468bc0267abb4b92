"""Competencies suggested from a contribution's title and narrative (issue 16): API, claim page, permissions.

Two imported frameworks (so the search index has them): the project's, in which a claim is already
made, and another whose competency matches the narrative as well; the project's frameworks alone
are suggested. A project without claims gets suggestions from every current framework.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from app.models import Competency, ContributionStatus, Framework
from app.services.frameworks.imports import import_framework_file
from app.services.identity.access import Grants
from app.services.identity.audit import Actor
from app.services.recognition import claims, suggestions
from tests.web.page_support import page_text, sign_in_as

SYSTEM = Grants(Actor(None), platform_admin=True)
OURS = """# title: Chantiers participatifs du bourg
# language: fr
key;parent_key;kind;code;label;description
L;;bloc;L;Prendre soin des lieux communs;
L1;L;competence;L1;Restaurer un lavoir communal;Nettoyer le bassin et réparer la toiture.
L2;L;competence;L2;Raconter l'histoire d'un lieu;
L3;L;competence;L3;Organiser un chantier de bénévoles;Accueillir et encadrer les volontaires.
"""
OTHER = """# title: Métiers de la couverture
# language: fr
key;parent_key;kind;code;label;description
T;;bloc;T;Couverture;
T1;T;competence;T1;Réparer une toiture en tuiles;
"""
NARRATIVE = (
    "Avec les voisins, nous avons nettoyé le bassin du lavoir et réparé sa toiture pendant trois matinées de "
    "chantier ; j'ai accueilli les bénévoles."
)


def _import(session, tmp_path: Path, name: str, content: str) -> dict[str, Competency]:  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    import_framework_file(session, SYSTEM, path, name)
    session.commit()
    title = content.split("\n", 1)[0].removeprefix("# title: ")
    framework = session.scalar(select(Framework).where(Framework.title == title))
    return {c.code: c for c in session.scalars(select(Competency).where(Competency.framework_id == framework.id))}


@pytest.fixture()
def lavoir(session, tmp_path, world, make_contribution, grants_of):  # type: ignore[no-untyped-def]
    ours = _import(session, tmp_path, "ours.csv", OURS)
    other = _import(session, tmp_path, "other.csv", OTHER)
    contribution = make_contribution(
        world.learner,
        world.project,
        title="Remise en eau du lavoir",
        narrative=NARRATIVE,
        status=ContributionStatus.SUBMITTED,
    )
    return contribution, ours, other


def test_without_claims_every_current_framework_is_searched(session, world, lavoir, grants_of):  # type: ignore[no-untyped-def]
    contribution, ours, other = lavoir
    found = [h.competency.id for h in suggestions.suggestions_for(session, grants_of(world.learner), contribution.id)]
    assert set(found[:2]) == {ours["L1"].id, ours["L3"].id} and other["T1"].id in found and len(found) <= 10


def test_the_projects_frameworks_only_once_one_is_claimed(session, world, lavoir, grants_of):  # type: ignore[no-untyped-def]
    contribution, ours, other = lavoir
    data = {"contribution_id": contribution.id, "competency_id": ours["L2"].id, "justification": "J'ai raconté."}
    claims.create_claim(session, grants_of(world.learner), data)
    session.commit()
    assert suggestions.frameworks_in_use(session, world.project.id) == [ours["L2"].framework_id]
    found = [h.competency.id for h in suggestions.suggestions_for(session, grants_of(world.learner), contribution.id)]
    assert set(found[:2]) == {ours["L1"].id, ours["L3"].id} and other["T1"].id not in found


def test_api_answers_who_may_read_the_contribution(client, session, world, lavoir, headers, make_person):  # type: ignore[no-untyped-def]
    contribution, ours, _other = lavoir
    url = f"/api/v1/contributions/{contribution.id}/suggested-competencies"
    body = client.get(url, headers=headers(world.learner)).json
    assert {hit["label"] for hit in body["items"][:2]} == {
        "Restaurer un lavoir communal",
        "Organiser un chantier de bénévoles",
    }
    assert body["items"][0]["framework"]["title"] == "Chantiers participatifs du bourg"
    assert client.get(url, headers=headers(world.tutor)).status_code == 200
    assert client.get(url, headers=headers(make_person())).status_code == 404  # not theirs: not found
    assert client.get(url).status_code == 401


def test_the_claim_page_lists_the_suggestions(client, app, session, world, lavoir):  # type: ignore[no-untyped-def]
    contribution, ours, _other = lavoir
    sign_in_as(client, app, world.learner)
    page = client.get(f"/mes-contributions/{contribution.id}/revendiquer")
    words = page_text(page)
    assert page.status_code == 200 and "Compétences suggérées pour cette contribution" in words
    assert "Restaurer un lavoir communal" in words
    assert f"?competence={ours['L1'].id}" in page.get_data(as_text=True)
    searched = page_text(
        client.get(f"/mes-contributions/{contribution.id}/revendiquer", query_string={"q": "histoire"})
    )
    assert "Compétences suggérées" not in searched  # a search replaces them
