"""CASE 1.0 CFPackage: the OpenSALT sample, pre-final shapes, external associations."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from app.importers import (
    AssociationRecord,
    ImportFormatError,
    TruncatedInputError,
    WarningRecord,
    count_stream,
    parse_case,
)

from .conftest import header_of, records, sample

SAMPLE = ("case", "opensalt_tests_Ordering_ACT-Holistic-Math.json")
BASE = "http://example.org/ims/case/v1p0"


@pytest.mark.shared
def test_sample_counts_and_tree() -> None:
    items = list(parse_case(sample(*SAMPLE)))
    header = header_of(items)
    assert header.title == "ACT Holistic Framework, Math"
    assert header.metadata["creator"] == "ACT, Inc."
    nodes = records(items)
    assert len(nodes) == 28
    roots = [r for r in nodes if r.parent_key is None]
    assert [r.code for r in roots] == ["H.A.MATH.GM"]
    depth: dict[str, int] = {}
    by_key = {r.key: r for r in nodes}

    def level(key: str) -> int:
        parent = by_key[key].parent_key
        return 0 if parent is None else 1 + level(parent)

    depth = Counter(level(r.key) for r in nodes)
    assert depth == {0: 1, 1: 1, 2: 1, 3: 1, 4: 24}
    leaves = sorted((r for r in nodes if level(r.key) == 4), key=lambda r: r.position)
    assert [r.code.rsplit(".", 1)[1] for r in leaves][:12] == [str(n) for n in range(1, 13)]
    assert roots[0].label == "Geometry and Measurement"
    assert roots[0].description.startswith("Properties and measurements")
    assert "two?-" in roots[0].metadata["fullStatement"]
    warnings = [w for w in items if isinstance(w, WarningRecord)]
    assert len(warnings) == 1 and "kept as is" in warnings[0].reason
    assert not [a for a in items if isinstance(a, AssociationRecord)]


def _prefinal() -> dict[str, Any]:
    doc_uri = f"{BASE}/CFDocuments/doc-1"

    def item(ident: str, code: str, **extra: Any) -> dict[str, Any]:
        return {
            "identifier": ident,
            "uri": f"{BASE}/CFItems/{ident}",
            "fullStatement": f"Statement {code}",
            "humanCodingScheme": code,
            "CFDocumentURI": doc_uri,
            "lastChangeDateTime": "2017-01-01T00:00:00+00:00",
            **extra,
        }

    def assoc(
        ident: str, kind: str, origin: str, dest: str, dest_uri: str | None = None, **extra: Any
    ) -> dict[str, Any]:
        return {
            "identifier": ident,
            "uri": f"{BASE}/CFAssociations/{ident}",
            "associationType": kind,
            "originNodeURI": {"title": "Origin", "identifier": origin, "uri": f"{BASE}/CFItems/{origin}"},
            "destinationNodeURI": {
                "title": "Destination",
                "identifier": dest,
                "uri": dest_uri or f"{BASE}/CFItems/{dest}",
            },
            "CFItemAssociationURI": "legacy",
            **extra,
        }

    return {
        "CFDocument": {
            "identifier": "doc-1",
            "uri": doc_uri,
            "title": "Référentiel pré-final",
            "creator": "Test",
            "lastChangeDateTime": "2017-01-01T00:00:00Z",
            "CFPackageURI": f"{BASE}/CFPackages/doc-1",
            "subject": "Math",
            "statusStartDate": None,
            "language": "fr",
            "version": "0.9",
        },
        "CFItems": [
            item("http://psi.udir.no/kl06/SAF01-04", "B", educationalLevel="06"),
            item("i-a", "A", educationLevel=["05", "06"], abbreviatedStatement="Alpha", CFItemType="Domain"),
            item("i-a2", "A.2"),
            item("i-a10", "A.10"),
            item("i-a1", "A.1"),
            item("i-orphan", "Z"),
        ],
        "CFAssociations": [
            assoc("x1", "isChildOf", "i-a", "doc-1", doc_uri),
            assoc("x2", "isChildOf", "http://psi.udir.no/kl06/SAF01-04", "doc-1", doc_uri),
            assoc("x3", "isChildOf", "i-a2", "i-a"),
            assoc("x4", "isChildOf", "i-a10", "i-a"),
            assoc("x5", "isChildOf", "i-a1", "i-a"),
            assoc("x6", "exactMatchOf", "i-a1", "ext-99", "http://other.example/CFItems/ext-99"),
            assoc("x7", "isChildOf", "i-a1", "http://psi.udir.no/kl06/SAF01-04"),
            assoc("x8", "precedes", "ext-1", "i-a2", None),
            assoc("x9", "exemplar", "ext-1", "ext-2"),
        ],
        "CFDefinitions": [],
    }


def test_prefinal_shapes_and_external_associations() -> None:
    data = json.dumps(_prefinal()).encode()
    items = list(parse_case(data, "prefinal.json"))
    header = header_of(items)
    assert (header.version, header.language, header.metadata["subject"]) == ("0.9", "fr", ["Math"])
    assert header.metadata["CFPackageURI"]["uri"].endswith("/CFPackages/doc-1")
    nodes = {r.key: r for r in records(items)}
    assert nodes["http://psi.udir.no/kl06/SAF01-04"].metadata["educationLevel"] == ["06"]
    assert nodes["i-a"].metadata["educationLevel"] == ["05", "06"]
    assert nodes["i-a"].label == "Alpha" and nodes["i-a"].metadata["CFItemType"] == "Domain"
    assert [k for k in sorted(nodes, key=lambda k: nodes[k].position) if nodes[k].parent_key == "i-a"] == [
        "i-a1",
        "i-a2",
        "i-a10",
    ]
    assert nodes["i-orphan"].parent_key is None
    links = [(a.kind, a.source_key, a.target_key, a.external) for a in items if isinstance(a, AssociationRecord)]
    assert ("exactMatchOf", "i-a1", None, True) in links
    assert ("isChildOf", "i-a1", "http://psi.udir.no/kl06/SAF01-04", False) in links
    assert ("precedes", "i-a2", None, True) in links
    reasons = " ".join(w.reason for w in items if isinstance(w, WarningRecord))
    assert "outside the package" in reasons and "top level" in reasons


def test_sequence_number_orders_siblings_and_cycles_are_broken() -> None:
    package = _prefinal()
    for assoc in package["CFAssociations"]:
        if assoc["identifier"] in ("x3", "x4", "x5"):
            assoc["sequenceNumber"] = {"x3": 1, "x4": 2, "x5": 3}[assoc["identifier"]]
    package["CFAssociations"].append(
        {
            "identifier": "loop",
            "uri": f"{BASE}/CFAssociations/loop",
            "associationType": "isChildOf",
            "sequenceNumber": 0,
            "originNodeURI": {"title": "", "identifier": "i-a", "uri": "u"},
            "destinationNodeURI": {"title": "", "identifier": "i-a2", "uri": "v"},
        }
    )
    items = list(parse_case(json.dumps(package).encode()))
    nodes = {r.key: r for r in records(items)}
    assert [nodes[k].position for k in ("i-a2", "i-a10", "i-a1")] == [0, 1, 2]
    assert any("cycle" in w.reason for w in items if isinstance(w, WarningRecord))


def test_wrapped_package_and_definitions_object() -> None:
    package = _prefinal()
    package["CFDefinitions"] = {"CFItemTypes": [{"identifier": "t1", "title": "Standard"}]}
    package["CFItems"][2]["CFItemTypeURI"] = {"identifier": "t1", "uri": "u", "title": ""}
    items = list(parse_case(json.dumps({"CFPackage": package}).encode()))
    nodes = {r.key: r for r in records(items)}
    assert nodes["i-a2"].metadata["CFItemType"] == "Standard"
    assert count_stream(iter(items)).items == 6


def test_truncated_and_malformed_json() -> None:
    data = json.dumps(_prefinal(), indent=1).encode()
    with pytest.raises(TruncatedInputError):
        list(parse_case(data[: len(data) // 2]))
    broken = data.replace(b'"title": "R', b'"title" "R', 1)
    with pytest.raises(ImportFormatError) as caught:
        list(parse_case(broken))
    assert caught.value.line is not None and caught.value.column is not None


def test_missing_document_is_an_error() -> None:
    with pytest.raises(ImportFormatError, match="CFDocument"):
        list(parse_case(b'{"CFItems": []}'))


def test_cp1252_json_is_decoded() -> None:
    package = _prefinal()
    items = list(parse_case(json.dumps(package, ensure_ascii=False).encode("cp1252")))
    assert header_of(items).title == "Référentiel pré-final"
    assert any("cp1252" in w.reason for w in items if isinstance(w, WarningRecord))
