"""OB 3.0 alignments per the guide's tables, and the CASE CFPackage export."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import jsonschema
import pytest

from app.importers import (
    CompetencyRecord,
    FrameworkHeader,
    alignment_for,
    case_identifier,
    extra_alignments_for,
    parse_case,
    parse_rncp_xml,
    split_header,
    to_cfpackage,
)

from .conftest import records, sample

RNCP = FrameworkHeader("rncp", "RNCP", "rncp-xml-4.1", "4.1", "fr", "x.xml", {"export_date": "2026-09-29"})
FICHE = CompetencyRecord(
    "RNCP40792",
    None,
    "fiche",
    "Services informatiques aux organisations",
    code="RNCP40792",
    uri="https://www.francecompetences.fr/recherche/rncp/40792/",
    metadata={"level": {"code": "NIV5", "eqf": 5}, "rome": [{"code": "M1805", "label": "Études"}]},
)
BLOC = CompetencyRecord(
    "RNCP40792BC01",
    "RNCP40792",
    "bloc",
    "Support et mise à disposition",
    code="RNCP40792BC01",
    metadata={"fiche_code": "RNCP40792", "fiche_title": "BTS SIO"},
)
COMPETENCE = CompetencyRecord(
    "RNCP40792BC01-C03",
    "RNCP40792BC01",
    "competence",
    "Travailler en mode projet",
    code="RNCP40792BC01-C03",
    confidence="high",
    metadata={"fiche_code": "RNCP40792", "bloc_code": "RNCP40792BC01"},
)


def test_rncp_fiche_bloc_competence() -> None:
    assert alignment_for(FICHE, RNCP) == {
        "type": ["Alignment"],
        "targetName": "Services informatiques aux organisations",
        "targetUrl": "https://www.francecompetences.fr/recherche/rncp/40792/",
        "targetCode": "RNCP40792",
        "targetFramework": "RNCP (France compétences), export du 2026-09-29",
        "targetType": "ext:RNCPCertification",
    }
    bloc = alignment_for(BLOC, RNCP)
    assert bloc["targetUrl"] == "https://www.francecompetences.fr/recherche/rncp/40792/"
    assert (bloc["targetCode"], bloc["targetType"], bloc["targetFramework"]) == (
        "RNCP40792BC01",
        "ext:RNCPBlocCompetences",
        "RNCP40792 BTS SIO",
    )
    local = alignment_for(COMPETENCE, RNCP, "https://blason.example/competencies/42")
    assert (local["targetType"], local["targetUrl"], local["targetCode"]) == (
        "ext:RNCPCompetence",
        "https://blason.example/competencies/42",
        "RNCP40792BC01-C03",
    )
    assert local["targetFramework"] == "RNCP40792 référentiel (extraction Blason)"
    published = alignment_for(COMPETENCE, RNCP, case_base_url="https://blason.example")
    identifier = case_identifier(RNCP, COMPETENCE.key)
    assert published["targetType"] == "CFItem"
    assert published["targetUrl"] == f"https://blason.example/ims/case/v1p0/CFItems/{identifier}"
    with pytest.raises(ValueError, match="targetUrl"):
        alignment_for(COMPETENCE, RNCP)


def test_extra_fiche_alignments() -> None:
    extra = extra_alignments_for(FICHE)
    assert extra[0] == {
        "type": ["Alignment"],
        "targetName": "EQF 5",
        "targetUrl": "http://data.europa.eu/snb/eqf/5",
        "targetCode": "5",
        "targetFramework": "EQF",
        "targetType": "ext:EQFLevel",
    }
    assert extra[1]["targetType"] == "ext:ROME" and extra[1]["targetCode"] == "M1805"
    assert extra_alignments_for(BLOC) == []


def test_esco_alignment() -> None:
    header = FrameworkHeader("esco", "ESCO v1.2.1", "esco-csv", "1.2.1", "fr")
    uri = "http://data.europa.eu/esco/skill/001115fb-569f-4ee6-8381-c6807ef2527f"
    skill = CompetencyRecord(
        uri,
        None,
        "skill",
        "faire preuve d’initiative",
        code="001115fb-569f-4ee6-8381-c6807ef2527f",
        uri=uri,
        description="Se montrer proactif.",
    )
    assert alignment_for(skill, header) == {
        "type": ["Alignment"],
        "targetName": "faire preuve d’initiative",
        "targetUrl": uri,
        "targetCode": "001115fb-569f-4ee6-8381-c6807ef2527f",
        "targetDescription": "Se montrer proactif.",
        "targetFramework": "ESCO v1.2.1",
        "targetType": "ext:ESCOSkill",
    }
    group = CompetencyRecord(
        "g", None, "skill-group", "attitudes", code="T2.2", uri="http://data.europa.eu/esco/skill/g"
    )
    assert alignment_for(group, header)["targetCode"] == "T2.2"


@pytest.mark.shared
def test_case_alignment_from_the_sample() -> None:
    header, rest = split_header(parse_case(sample("case", "opensalt_tests_Ordering_ACT-Holistic-Math.json")))
    root = next(r for r in records(rest) if r.parent_key is None)
    alignment = alignment_for(root, header)
    assert alignment["targetType"] == "CFItem" and alignment["targetCode"] == "H.A.MATH.GM"
    assert alignment["targetName"] == "Geometry and Measurement"
    assert alignment["targetDescription"].startswith("Properties and measurements")
    assert alignment["targetUrl"] == root.uri
    assert alignment["targetFramework"] == "ACT Holistic Framework, Math"


def test_custom_alignment_needs_a_url() -> None:
    header = FrameworkHeader("custom", "Compétences citoyennes", "custom-csv", "2")
    record = CompetencyRecord("A", None, "competence", "Agir", code="A")
    aligned = alignment_for(record, header, "https://blason.example/c/A")
    assert (aligned["targetType"], aligned["targetFramework"]) == ("ext:CustomCompetency", "Compétences citoyennes 2")


@pytest.mark.shared
def test_cfpackage_export_validates_and_is_stable() -> None:
    schema_path = sample("case", "opensalt_case-v1p0-cfpackage-schema.json")
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    header, rest = split_header(
        parse_rncp_xml(sample("rncp", "export-fiches-rncp-v4-1_extract_RNCP35340_RNCP40792.xml"))
    )
    items = list(rest)
    when = datetime(2026, 1, 1, tzinfo=UTC)
    package = to_cfpackage(header, items, "https://blason.example", last_change=when)
    jsonschema.validate(package, schema)
    assert len(package["CFItems"]) == 157
    kinds = [a["associationType"] for a in package["CFAssociations"]]
    assert kinds.count("isChildOf") == 157 and kinds.count("replacedBy") == 1
    by_code = {i["humanCodingScheme"]: i for i in package["CFItems"]}
    child = next(
        a
        for a in package["CFAssociations"]
        if a["associationType"] == "isChildOf"
        and a["originNodeURI"]["identifier"] == by_code["RNCP40792BC01-C01"]["identifier"]
    )
    assert child["destinationNodeURI"]["identifier"] == by_code["RNCP40792BC01"]["identifier"]
    top = [
        a
        for a in package["CFAssociations"]
        if a["associationType"] == "isChildOf"
        and a["destinationNodeURI"]["identifier"] == package["CFDocument"]["identifier"]
    ]
    assert len(top) == 2
    again = to_cfpackage(header, items, "https://blason.example", last_change=when)
    assert again == package
    roundtrip = records(parse_case(json.dumps(package).encode()))
    assert len(roundtrip) == 157 and sum(1 for r in roundtrip if r.parent_key is None) == 2


def test_cfpackage_of_a_custom_framework_validates_without_shared() -> None:
    header = FrameworkHeader("custom", "Réf", "custom-json", language="fr")
    items = [
        CompetencyRecord("A", None, "domain", "Agir"),
        CompetencyRecord("A1", "A", "competence", "Agir ici", alt_labels=("ici",)),
    ]
    package = to_cfpackage(header, items, "https://b.example/")
    assert package["CFItems"][1]["alternativeLabel"] == "ici"
    assert package["CFDocument"]["uri"].startswith("https://b.example/ims/case/v1p0/CFDocuments/")
