"""The documented custom format (CSV and JSON) and its validation rules."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.importers import (
    AssociationRecord,
    ImportFormatError,
    MissingColumnsError,
    WarningRecord,
    detect_format,
    parse_custom,
)

from .conftest import header_of, records

CSV = """# title: Référentiel du tiers-lieu
# version: 2025
# language: fr
# identifier: https://territoire.example/referentiel
# owner: Commune de Test
key;parent_key;kind;code;label;description;alt_labels;active;position;meta.level
D1;;domain;D1;Coopérer;;;oui;;
D1.2;D1;competence;;Gérer un budget;;;non;;
D1.1;D1;competence;D1.1;Animer un collectif;Faire vivre un groupe;animer | faciliter;oui;0;2
"""


def _json(**overrides: Any) -> bytes:
    doc: dict[str, Any] = {
        "format": "blason-framework",
        "formatVersion": "1",
        "framework": {
            "title": "Compétences citoyennes",
            "version": "1",
            "language": "fr",
            "identifier": "https://territoire.example/cc",
            "metadata": {"owner": "PETR"},
        },
        "competencies": [
            {
                "key": "A",
                "label": "Agir",
                "kind": "domain",
                "children": [{"key": "A1", "label": "Agir localement", "altLabels": ["s'engager"]}],
            },
            {"key": "B", "parentKey": "A", "label": "Bâtir", "active": False, "metadata": {"x": 1}},
        ],
        "associations": [
            {"source": "A1", "target": "B", "type": "isRelatedTo"},
            {
                "source": "B",
                "type": "exactMatchOf",
                "targetUri": "http://data.europa.eu/esco/skill/x",
                "targetLabel": "x",
            },
        ],
    }
    doc.update(overrides)
    return json.dumps(doc).encode()


def test_csv_format() -> None:
    items = list(parse_custom(CSV.encode(), "ref.csv"))
    header = header_of(items)
    assert (header.title, header.version, header.language, header.source_id) == (
        "Référentiel du tiers-lieu",
        "2025",
        "fr",
        "https://territoire.example/referentiel",
    )
    assert header.metadata == {"owner": "Commune de Test"}
    nodes = {r.key: r for r in records(items)}
    assert nodes["D1.1"].alt_labels == ("animer", "faciliter")
    assert nodes["D1.1"].metadata == {"level": "2"} and nodes["D1.1"].position == 0
    assert nodes["D1.2"].position == 0 and nodes["D1.2"].active is False
    assert nodes["D1.1"].line == 9
    assert detect_format(CSV.encode(), "ref.csv") == "custom-csv"


def test_json_format_with_nesting_and_associations() -> None:
    items = list(parse_custom(_json(), "ref.json"))
    assert header_of(items).metadata == {"owner": "PETR"}
    nodes = {r.key: r for r in records(items)}
    assert nodes["A1"].parent_key == "A" and nodes["B"].parent_key == "A"
    assert (nodes["A1"].position, nodes["B"].position) == (0, 1)
    assert nodes["B"].active is False and nodes["A1"].alt_labels == ("s'engager",)
    links = [(a.source_key, a.target_key, a.external) for a in items if isinstance(a, AssociationRecord)]
    assert links == [("A1", "B", False), ("B", None, True)]
    assert detect_format(_json(), "x.json") == "custom-json"


@pytest.mark.parametrize(
    "text,message",
    [
        ("key;label\nA;Un\nA;Deux\n", "duplicate key"),
        ("key;parent_key;label\nA;Z;Un\n", "unknown parent"),
        ("key;parent_key;label\nA;B;Un\nB;A;Deux\n", "cycle"),
        ("key;label\nA;\n", "no label"),
        ("key;label;position\nA;Un;premier\n", "integer"),
    ],
)
def test_csv_rules_fail_before_any_record(text: str, message: str) -> None:
    stream = parse_custom(text.encode(), "bad.csv")
    with pytest.raises(ImportFormatError, match=message):
        next(stream)


def test_csv_missing_columns_are_named() -> None:
    with pytest.raises(MissingColumnsError) as caught:
        list(parse_custom(b"id;name\n1;x\n", "bad.csv"))
    assert caught.value.missing == ["key", "label"]


def test_json_rules() -> None:
    with pytest.raises(ImportFormatError, match="format"):
        list(parse_custom(_json(format="other")))
    with pytest.raises(ImportFormatError, match="title"):
        list(parse_custom(_json(framework={"language": "fr"})))
    with pytest.raises(ImportFormatError, match="unknown parent"):
        list(parse_custom(_json(competencies=[{"key": "A", "parentKey": "Q", "label": "x"}])))


def test_cp1252_csv_and_unknown_columns() -> None:
    text = "key;label;colour\nA;Élaborer un projet;bleu\n"
    items = list(parse_custom(text.encode("cp1252"), "legacy.csv"))
    assert records(items)[0].label == "Élaborer un projet"
    reasons = [w.reason for w in items if isinstance(w, WarningRecord)]
    assert any("cp1252" in r for r in reasons) and any("colour" in r for r in reasons)
