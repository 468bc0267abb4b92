"""LISTE_COMPETENCES splitting: every shape of guide §1.4, and nothing dropped silently."""

from __future__ import annotations

import pytest

from app.importers import split_competences


def _labels(text: str) -> list[tuple[int, str]]:
    return [(i.depth, i.label) for i in split_competences(text).items]


def test_flattened_bullets_make_two_levels() -> None:
    text = "    * Gérer le parc            o Recenser les ressources            o Gérer des sauvegardes      * Travailler en mode projet            o Planifier"
    assert _labels(text) == [
        (1, "Gérer le parc"),
        (2, "Recenser les ressources"),
        (2, "Gérer des sauvegardes"),
        (1, "Travailler en mode projet"),
        (2, "Planifier"),
    ]
    assert split_competences(text).shape == "bullets"


def test_runs_of_spaces_without_bullets() -> None:
    result = split_competences("Gérer le parc      Répondre aux incidents      Travailler en mode projet    ")
    assert result.shape == "spaced"
    assert [i.label for i in result.items] == ["Gérer le parc", "Répondre aux incidents", "Travailler en mode projet"]
    assert all(i.confidence == "high" for i in result.items)


def test_html_fragments_with_codes() -> None:
    result = split_competences(
        "<p>C1.3A Analyser la demande</p><p>   <br>C2.4 <strong>Concevoir</strong> <ins>le plan</ins></p>"
    )
    assert result.shape == "html"
    assert [(i.code, i.label) for i in result.items] == [
        ("C1.3A", "Analyser la demande"),
        ("C2.4", "Concevoir le plan"),
    ]


def test_html_list_items() -> None:
    assert [label for _, label in _labels("<ul><li>Accueillir</li><li>Orienter</li></ul>")] == [
        "Accueillir",
        "Orienter",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "A1.2 – Concevoir un plan\r\n\r\nA1.3 – Réaliser le plan",
        "1 - Concevoir un plan 2 - Réaliser le plan",
        "1. Concevoir un plan\n2. Réaliser le plan",
        "- Concevoir un plan ; - Réaliser le plan",
        "Concevoir un plan * Réaliser le plan",
        "* Concevoir un plan\n* Réaliser le plan",
    ],
)
def test_separators_seen_in_the_api(text: str) -> None:
    assert [label for _, label in _labels(text)] == ["Concevoir un plan", "Réaliser le plan"]


def test_noise_headings_are_ignored_but_reported() -> None:
    result = split_competences(
        "BLOC DE COMPETENCES 1A\nCompétences de niveau 4 du référentiel :\n- Accueillir\n- Vendre"
    )
    assert [i.label for i in result.items] == ["Accueillir", "Vendre"]
    assert len(result.ignored) == 2 and result.notes


def test_wrapped_line_is_merged_with_low_confidence() -> None:
    result = split_competences("- Gérer le patrimoine\n  informatique de l'organisation\n- Répondre aux incidents")
    assert [(i.label, i.confidence) for i in result.items] == [
        ("Gérer le patrimoine informatique de l'organisation", "low"),
        ("Répondre aux incidents", "high"),
    ]


def test_unsplittable_text_is_kept_whole() -> None:
    text = (
        "Le titulaire conduit un diagnostic partagé. Il propose des actions. Il les met en "
        "œuvre avec les habitants et les élus du territoire en tenant compte des moyens, des "
        "délais et des contraintes réglementaires et financières qui s'appliquent à chacune "
        "des parties prenantes, puis il en évalue les effets et rend compte aux financeurs."
    )
    result = split_competences(text)
    assert result.shape == "unsplit" and len(result.items) == 1
    assert result.items[0].confidence == "low" and result.items[0].label == text
    assert result.notes


def test_nothing_is_dropped() -> None:
    text = "    * Gérer          o Recenser    BLOC DE COMPETENCES 2\nEvaluation : oral"
    result = split_competences(text)
    kept = " ".join(i.raw for i in result.items) + " ".join(result.ignored) + (result.evaluation_text or "")
    for word in ("Gérer", "Recenser", "BLOC", "oral"):
        assert word in kept


def test_empty_text() -> None:
    assert split_competences("   ").items == () and split_competences(None).shape == "empty"
