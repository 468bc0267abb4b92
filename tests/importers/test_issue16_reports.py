"""Issue 16, CASE and ESCO reports (items 8 to 11), on small files written here."""

from __future__ import annotations

import json

from sqlalchemy import select

from app.importers import AssociationRecord, CompetencyRecord, WarningRecord, parse_case, parse_esco
from app.models import CompetencyAssociation, Framework
from app.services.frameworks import search_competencies
from app.services.frameworks.imports import import_framework_file
from app.services.identity.access import Grants
from app.services.identity.audit import Actor

ADMIN = Grants(Actor(None), platform_admin=True)
DOC = {"identifier": "d1", "uri": "https://case.example/d1", "title": "Compétences du tiers-lieu"}


def _node(identifier: str) -> dict[str, str]:
    return {"identifier": identifier, "uri": f"https://case.example/{identifier}", "title": identifier}


def _package(document: dict, items: list[dict], associations: list[dict]) -> bytes:
    return json.dumps({"CFDocument": document, "CFItems": items, "CFAssociations": associations}).encode()


def _child(identifier: str, origin: str, destination: str) -> dict:
    return {
        "identifier": identifier,
        "associationType": "isChildOf",
        "originNodeURI": _node(origin),
        "destinationNodeURI": _node(destination),
    }


# -- item 8: a CASE document without language ---------------------------------------------------


def test_case_without_language_is_unknown_not_french_and_found_without_a_language_filter(session):
    """Shape: a CFDocument and its CFItems with no `language` anywhere."""
    data = _package(
        DOC, [{"identifier": "i1", "fullStatement": "Accueillir les usagers du tiers-lieu"}], [_child("a1", "i1", "d1")]
    )
    report = import_framework_file(session, ADMIN, data, "sans-langue.json")
    framework = session.get(Framework, report.frameworks[0].id)
    assert framework.language == "und"
    item = session.scalar(select(CompetencyAssociation).where(CompetencyAssociation.framework_id == framework.id))
    assert item is None  # the one isChildOf is the tree edge
    found = search_competencies(session, None, q="usagers")
    assert [h.competency.source_key for h in found.items] == ["i1"]
    assert found.items[0].competency.language is None
    assert search_competencies(session, None, q="usagers", lang="fr").total == 0


def test_case_language_is_what_the_file_says():
    """Shape: a Spanish document with one English item."""
    items = list(
        parse_case(
            _package(
                {**DOC, "language": "es"},
                [
                    {"identifier": "i1", "fullStatement": "Leer"},
                    {"identifier": "i2", "fullStatement": "Read", "language": "en"},
                ],
                [_child("a1", "i1", "d1"), _child("a2", "i2", "d1")],
            )
        )
    )
    assert items[0].language == "es"
    assert {r.key: r.language for r in items if isinstance(r, CompetencyRecord)} == {"i1": "es", "i2": "en"}


# -- item 9: associations whose target is missing or null ---------------------------------------


def test_associations_without_target_are_warned_with_the_item_and_kept_out(session):
    """Shape: an isChildOf with a null destination, an isRelatedTo without destination at all."""
    associations = [
        {"identifier": "a1", "associationType": "isChildOf", "originNodeURI": _node("i1"), "destinationNodeURI": None},
        {"identifier": "a2", "associationType": "isRelatedTo", "originNodeURI": _node("i2")},
        _child("a3", "i2", "d1"),
    ]
    data = _package(
        {**DOC, "language": "fr"},
        [{"identifier": "i1", "fullStatement": "Lire"}, {"identifier": "i2", "fullStatement": "Écrire"}],
        associations,
    )
    items = list(parse_case(data))
    assert not [a for a in items if isinstance(a, AssociationRecord)]
    warnings = {w.source_key: w.reason for w in items if isinstance(w, WarningRecord) and w.source_key}
    assert warnings["i1"].startswith("isChildOf association a1 of item i1 skipped: destinationNodeURI is null")
    assert "top level" in warnings["i1"]
    assert warnings["i2"] == "isRelatedTo association a2 of item i2 skipped: destinationNodeURI is missing"
    assert not any("has no isChildOf" in w.reason for w in items if isinstance(w, WarningRecord))
    report = import_framework_file(session, ADMIN, data, "p.json")
    assert (
        session.scalar(
            select(CompetencyAssociation).where(CompetencyAssociation.framework_id == report.frameworks[0].id)
        )
        is None
    )


def test_cli_prints_every_warning_with_its_item(runner, session, tmp_path, monkeypatch):
    """Shape: a CASE package with 60 items whose isChildOf has no destination (more than the report keeps)."""
    items = [{"identifier": f"i{n}", "fullStatement": f"Savoir {n}"} for n in range(60)]
    associations = [
        {
            "identifier": f"a{n}",
            "associationType": "isChildOf",
            "originNodeURI": _node(f"i{n}"),
            "destinationNodeURI": None,
        }
        for n in range(60)
    ]
    path = tmp_path / "p.json"
    path.write_bytes(_package({**DOC, "language": "fr"}, items, associations))
    result = runner.invoke(args=["blason", "import-framework", str(path)])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "destinationNodeURI is null" in line]
    assert len(lines) == 60
    assert "item i59" in lines[-1] and "file p.json" in lines[-1]


# -- item 10: ESCO rows whose concept is not in the import --------------------------------------

S = "http://data.europa.eu/esco/skill/"
SKILLS = (
    "conceptType,conceptUri,skillType,reuseLevel,preferredLabel,altLabels,description\n"
    f"KnowledgeSkillCompetence,{S}s1,skill/competence,cross-sector,gérer un projet,,\n"
    f"KnowledgeSkillCompetence,{S}s2,skill/competence,cross-sector,animer une équipe,,\n"
)
BROADER = (
    "conceptType,conceptUri,broaderType,broaderUri\n"
    f"KnowledgeSkillCompetence,{S}s1,KnowledgeSkillCompetence,{S}s2\n"
    f"KnowledgeSkillCompetence,{S}absent1,SkillGroup,{S}s2\n"
    f"KnowledgeSkillCompetence,{S}absent2,SkillGroup,{S}s2\n"
)
RELATIONS = (
    "originalSkillUri,originalSkillType,relationType,relatedSkillType,relatedSkillUri\n"
    f"{S}s1,skill/competence,optional,skill/competence,{S}s2\n"
    f"{S}absent3,skill/competence,optional,skill/competence,{S}s2\n"
)


def test_esco_rows_of_absent_concepts_are_counted_as_skipped(session, tmp_path):
    """Shape: a skills sample with the full broader and skill-relation files (rows of other skills)."""
    paths = []
    for name, text in (
        ("skills_fr.csv", SKILLS),
        ("broaderRelationsSkillPillar.csv", BROADER),
        ("skillSkillRelations_fr.csv", RELATIONS),
    ):
        (tmp_path / name).write_text(text, encoding="utf-8")
        paths.append(tmp_path / name)
    items = list(parse_esco(paths, version="1.2.0"))
    skipped = {w.element: w.count for w in items if isinstance(w, WarningRecord) and w.count}
    assert skipped == {"broaderUri": 2, "originalSkillUri": 1}
    report = import_framework_file(session, ADMIN, paths, options={"version": "1.2.0"})
    assert sorted(report.skipped.values()) == [1, 2]
    assert any("not among the imported skills" in reason for reason in report.skipped)


# -- item 11: the frameworks list gives each framework's kinds -----------------------------------


def test_frameworks_list_fills_kinds_like_the_single_framework(client, session, make_person, headers):
    """Shape: a custom CSV with one domain and two competencies."""
    text = "# title: Tiers-lieu\n# identifier: https://t.example/r\nkey;parent_key;kind;label\nD;;domain;Coopérer\nA;D;competence;Animer\nB;D;competence;Accueillir\n"
    import_framework_file(session, ADMIN, text.encode(), "r.csv")
    session.commit()
    auth = headers(make_person())
    listed = client.get("/api/v1/frameworks?sourceType=custom", headers=auth).json["items"]
    assert [item["kinds"] for item in listed] == [{"domain": 1, "competence": 2}]
    one = client.get(f"/api/v1/frameworks/{listed[0]['id']}", headers=auth).json
    assert one["kinds"] == listed[0]["kinds"]
