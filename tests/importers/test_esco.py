"""ESCO CSV: the shared v1.0 French sample and the v1.2 shapes it lacks."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from app.importers import (
    AssociationRecord,
    CompetencyRecord,
    ImportFormatError,
    MissingColumnsError,
    TruncatedInputError,
    WarningRecord,
    count_stream,
    parse_esco,
)

from .conftest import header_of, make_zip, records, sample

S = "http://data.europa.eu/esco/skill/"
SKILLS_13 = (
    "conceptType,conceptUri,skillType,reuseLevel,preferredLabel,altLabels,hiddenLabels,status,"
    "modifiedDate,scopeNote,definition,inScheme,description\n"
    f"KnowledgeSkillCompetence,{S}aaa,skill/competence,transversal,faire preuve d’initiative,"
    f'"prendre des initiatives\nêtre proactif","initiative",released,2023-12-01T09:53:54.54Z,,,'
    f'"{S}s1,\n{S}s2","Prendre l\'initiative.\n  "\n'
    f"KnowledgeSkillCompetence,{S}bbb,knowledge,cross-sector,Haskell,,,released,2023-12-01T19:41:34Z,,,{S}s1,\n"
)
GROUPS_12 = (
    "conceptType,conceptUri,preferredLabel,altLabels,hiddenLabels,status,modifiedDate,scopeNote,"
    "inScheme,description,code\n"
    f'SkillGroup,{S}grp,attitudes,"valeurs\ncomportements",,released,,,"{S}s1\n{S}s2","Les attitudes.\n\t",T2.2\n'
)
BROADER = (
    "conceptType,conceptUri,broaderType,broaderUri\n"
    f"KnowledgeSkillCompetence,{S}aaa,SkillGroup,{S}grp\n"
    f"KnowledgeSkillCompetence,{S}aaa,SkillGroup,{S}outside\n"
    f"KnowledgeSkillCompetence,{S}bbb,KnowledgeSkillCompetence,{S}aaa\n"
)
HIERARCHY = (
    "Level 0 URI,Level 0 preferred term,Level 1 URI,Level 1 preferred term,Level 2 URI,"
    "Level 2 preferred term,Level 3 URI,Level 3 preferred term,Description,Scope note,"
    "Level 0 code,Level 1 code,Level 2 code,Level 3 code\n"
    f"{S}top,transversal skills,,,,,,,Top group,,T\n"
    f"{S}top,transversal skills,{S}grp,attitudes,,,,,Attitudes,,T,T2\n"
)
COLLECTION = (
    "conceptType,conceptUri,preferredLabel,status,skillType,reuseLevel,altLabels,description,"
    "broaderConceptUri,broaderConceptPT\n"
    f"KnowledgeSkillCompetence,{S}ccc,utiliser un tableur,released,skill/competence,cross-sector,"
    f'"tableur | feuille de calcul",,"{S}grp | {S}elsewhere","attitudes | ailleurs"\n'
)


def _write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.shared
def test_shared_sample_counts_and_tree() -> None:
    files = [
        sample("esco", n)
        for n in ("skills_fr.first300.csv", "skillGroups_fr.csv", "broaderRelationsSkillPillar.sample.csv")
    ]
    items = list(parse_esco(files, version="1.0.8"))
    header = header_of(items)
    assert (header.language, header.title, header.metadata["columns"]) == ("fr", "ESCO v1.0.8", 7)
    nodes = records(items)
    assert Counter(r.kind for r in nodes) == {"skill": 300, "skill-group": 17}
    assert Counter(r.metadata["skillType"] for r in nodes if r.kind == "skill") == {
        "skill/competence": 245,
        "knowledge": 55,
    }
    known = {r.key for r in nodes}
    assert sum(1 for r in nodes if r.parent_key) == 25
    assert all(r.parent_key in known for r in nodes if r.parent_key)
    broader = [a for a in items if isinstance(a, AssociationRecord)]
    assert len(broader) == 162 and all(a.external and a.kind == "broader" for a in broader)
    multi = [r for r in nodes if len(r.alt_labels) > 1]
    assert len(multi) == 9 + 2 and all("\n" not in label for r in multi for label in r.alt_labels)
    # The only warning counts the broader rows of concepts outside the sample (issue 16, item 10).
    warnings = [i for i in items if isinstance(i, WarningRecord)]
    assert [(w.element, w.count) for w in warnings] == [("broaderUri", 118)]


@pytest.mark.shared
def test_shared_skills_alone() -> None:
    counts = count_stream(parse_esco(sample("esco", "skills_fr.first300.csv")))
    assert (counts.skills, counts.skill_groups, counts.associations) == (300, 0, 0)


def test_thirteen_columns_groups_and_broader(tmp_path: Path) -> None:
    files = [
        _write(tmp_path, "skills_en.csv", SKILLS_13),
        _write(tmp_path, "skillGroups_en.csv", GROUPS_12),
        _write(tmp_path, "broaderRelationsSkillPillar_en.csv", BROADER),
    ]
    items = list(parse_esco(files, version="1.2.0"))
    nodes = {r.key: r for r in records(items)}
    skill = nodes[f"{S}aaa"]
    assert skill.alt_labels == ("prendre des initiatives", "être proactif")
    assert skill.metadata["hiddenLabels"] == ["initiative"]
    assert skill.metadata["inScheme"] == [f"{S}s1", f"{S}s2"]
    assert skill.metadata["modifiedDate"] == "2023-12-01T09:53:54.540000Z"
    assert skill.description == "Prendre l'initiative."
    assert skill.active is True and skill.code == "aaa"
    assert skill.parent_key == f"{S}grp"
    assert nodes[f"{S}bbb"].parent_key == f"{S}aaa"
    group = nodes[f"{S}grp"]
    assert (group.code, group.description, group.alt_labels) == ("T2.2", "Les attitudes.", ("valeurs", "comportements"))
    assert group.metadata["inScheme"] == [f"{S}s1", f"{S}s2"]
    external = [a for a in items if isinstance(a, AssociationRecord)]
    assert [(a.source_key, a.target_uri, a.external) for a in external] == [(f"{S}aaa", f"{S}outside", True)]


def test_hierarchy_file_collection_and_fallback(tmp_path: Path) -> None:
    english = _write(tmp_path, "skills_en.csv", SKILLS_13)
    french = SKILLS_13.replace("Prendre l'initiative.\n  ", "")
    files = [
        _write(tmp_path, "skills_fr.csv", french),
        _write(tmp_path, "skillsHierarchy_fr.csv", HIERARCHY),
        _write(tmp_path, "transversalSkillsCollection_fr.csv", COLLECTION),
    ]
    items = list(parse_esco(files, fallback_descriptions=english))
    nodes = {r.key: r for r in records(items)}
    assert nodes[f"{S}grp"].parent_key == f"{S}top" and nodes[f"{S}grp"].code == "T2"
    assert nodes[f"{S}top"].code == "T" and nodes[f"{S}top"].parent_key is None
    collected = nodes[f"{S}ccc"]
    assert collected.alt_labels == ("tableur", "feuille de calcul")
    assert collected.parent_key == f"{S}grp"
    assert nodes[f"{S}aaa"].description == "Prendre l'initiative."
    assert nodes[f"{S}aaa"].metadata["description_language"] == "en"
    assert header_of(items).language == "fr"


def test_ragged_hierarchy_rows_and_lf_only(tmp_path: Path) -> None:
    ragged = HIERARCHY.replace(",,T\n", ",,T\n", 1).replace(",Top group,,T\n", ",Top group,\n")
    items = list(parse_esco([_write(tmp_path, "skillsHierarchy_en.csv", ragged)]))
    assert {r.label for r in records(items)} == {"transversal skills", "attitudes"}


def test_cp1252_file_is_decoded(tmp_path: Path) -> None:
    text = SKILLS_13.replace("’", "'")
    items = list(parse_esco([_write(tmp_path, "skills_fr.csv", text, "cp1252")]))
    assert any(r.label == "faire preuve d'initiative" for r in records(items))
    assert any("cp1252" in w.reason for w in items if isinstance(w, WarningRecord))


def test_wrong_header_names_the_missing_columns(tmp_path: Path) -> None:
    bad = SKILLS_13.replace("conceptUri", "concept_uri", 1)
    with pytest.raises(MissingColumnsError) as caught:
        list(parse_esco([_write(tmp_path, "skills_en.csv", bad)]))
    assert caught.value.missing == ["conceptUri"]


def test_truncated_csv_is_an_error(tmp_path: Path) -> None:
    cut = SKILLS_13[: SKILLS_13.index("être proactif")]
    with pytest.raises(ImportFormatError):
        list(parse_esco([_write(tmp_path, "skills_en.csv", cut)]))
    short = SKILLS_13.rstrip("\n").rsplit(",", 4)[0]
    with pytest.raises(TruncatedInputError):
        list(parse_esco([_write(tmp_path, "skills_en.csv", short)]))


def test_zip_download_is_accepted(tmp_path: Path) -> None:
    archive = make_zip(
        {
            "skills_en.csv": SKILLS_13.encode(),
            "skillGroups_en.csv": GROUPS_12.encode(),
            "conceptSchemes_en.csv": b"conceptType,conceptSchemeUri,preferredLabel\n",
        }
    )
    items = list(parse_esco([archive]))
    assert len(records(items)) == 3
    assert any("not used" in w.reason for w in items if isinstance(w, WarningRecord))


def test_records_are_frozen() -> None:
    record = CompetencyRecord("k", None, "skill", "label")
    with pytest.raises(AttributeError):
        record.label = "other"  # type: ignore[misc]
