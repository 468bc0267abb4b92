"""Issue 16, RNCP compétence text (items 4 to 7): small texts in the shapes real exports contain.

Every text is written here; the shapes were seen in real RNCP and RS exports (see FORMATS.md).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.importers import CompetencyRecord, WarningRecord, parse_rncp_xml, split_competences
from app.models import Competency
from app.services.frameworks.imports import import_framework_file
from app.services.identity.access import Grants
from app.services.identity.audit import Actor

ADMIN = Grants(Actor(None), platform_admin=True)


def _fiche_file(numero: str, *, liste: str | None = None, capacites: str | None = None) -> bytes:
    """A one-fiche V4.1 export: an RNCP fiche with one bloc, or an RS fiche with CAPACITES_ATTESTEES."""
    blocs = ""
    if liste is not None:
        blocs = (
            f"<BLOCS_COMPETENCES><BLOC_COMPETENCES><CODE>{numero}BC01</CODE><LIBELLE>Bloc</LIBELLE>"
            f"<LISTE_COMPETENCES>{liste}</LISTE_COMPETENCES></BLOC_COMPETENCES></BLOCS_COMPETENCES>"
        )
    caps = f"<CAPACITES_ATTESTEES>{capacites}</CAPACITES_ATTESTEES>" if capacites is not None else ""
    return (
        "<?xml version='1.0' encoding='UTF-8'?><FICHES><VERSION_FLUX>4.1</VERSION_FLUX><FICHE>"
        f"<NUMERO_FICHE>{numero}</NUMERO_FICHE><INTITULE>Titre</INTITULE>{caps}{blocs}</FICHE></FICHES>"
    ).encode()


# -- item 4: runs of two spaces split; what cannot be split with confidence is low, with a warning --


def test_two_space_runs_split_four_competences():
    """Shape: a bloc's four compétences separated by exactly two spaces (no bullet, no line break)."""
    text = "Accueillir le public  Organiser un projet culturel  Animer un atelier  Évaluer une action"
    result = split_competences(text)
    assert [i.label for i in result.items] == [
        "Accueillir le public",
        "Organiser un projet culturel",
        "Animer un atelier",
        "Évaluer une action",
    ]
    assert result.shape == "spaced" and all(i.confidence == "high" for i in result.items)


def test_two_spaces_inside_a_sentence_merge_back_with_low_confidence():
    """Shape: a stray double space inside one compétence, before a lower-case word."""
    result = split_competences("Accueillir le public  en situation de handicap  Animer un atelier")
    assert [(i.label, i.confidence) for i in result.items] == [
        ("Accueillir le public en situation de handicap", "low"),
        ("Animer un atelier", "high"),
    ]
    assert any("low confidence" in note for note in result.notes)


def test_a_long_single_competence_is_never_high():
    """Shape: one paragraph of about three hundred characters, one sentence, no separator."""
    text = (
        "Concevoir et mettre en œuvre un projet d'animation territoriale en lien avec les acteurs "
        "locaux, les habitants et les élus, en tenant compte des moyens humains et financiers "
        "disponibles, des contraintes réglementaires applicables et des attentes des publics "
        "accueillis dans la structure"
    )
    assert len(text) > 250
    result = split_competences(text)
    assert [i.confidence for i in result.items] == ["low"] and result.notes


def test_low_confidence_reaches_the_import_warnings():
    """Shape: a fiche whose bloc holds a long unsplittable paragraph."""
    items = list(parse_rncp_xml(_fiche_file("RNCP90100", liste="Concevoir " + "et conduire un projet " * 15)))
    warnings = [w for w in items if isinstance(w, WarningRecord) and w.element == "LISTE_COMPETENCES"]
    assert warnings and warnings[0].source_key == "RNCP90100BC01"


# -- item 5: numbering, letter-digit codes, introductory clause, human code --------------------


def test_multi_level_numbers_keep_hierarchy_and_number():
    """Shape: numbered compétences 3.1 / 3.1.1 / 3.1.2. / 3.2 on one line, separated by two spaces."""
    text = "3.1 Gérer un projet  3.1.1 Planifier les tâches  3.1.2. Suivre le budget  3.2 Animer une équipe"
    result = split_competences(text)
    assert [(i.depth, i.code, i.label) for i in result.items] == [
        (1, "3.1", "Gérer un projet"),
        (2, "3.1.1", "Planifier les tâches"),
        (2, "3.1.2", "Suivre le budget"),
        (1, "3.2", "Animer une équipe"),
    ]


def test_multi_level_numbers_after_single_spaces():
    """Shape: siblings 3.1.1 and 3.1.2 written one after the other with a single space."""
    result = split_competences("3.1.1 Planifier les tâches 3.1.2 Suivre le budget")
    assert [(i.code, i.label) for i in result.items] == [
        ("3.1.1", "Planifier les tâches"),
        ("3.1.2", "Suivre le budget"),
    ]


@pytest.mark.parametrize(
    "text",
    ["A1C1. Accueillir le public\nA1C2. Orienter le public", "A5.C1. Accueillir le public\nA5.C2. Orienter le public"],
    ids=["A1C1", "A5.C1"],
)
def test_letter_digit_codes_are_handled_one_way(text):
    """Shape: activity-compétence codes, with or without a dot between the two parts."""
    result = split_competences(text)
    assert [(i.depth, i.label) for i in result.items] == [(1, "Accueillir le public"), (1, "Orienter le public")]
    assert [i.code for i in result.items] == [line.split(". ")[0] for line in text.split("\n")]


def test_introductory_clause_is_the_blocs_introduction():
    """Shape: "En mobilisant … :" then bullets; the bullets are the compétences, at the top level."""
    text = "En mobilisant les ressources de la structure :  - Accueillir le public  - Orienter le public"
    result = split_competences(text)
    assert result.introduction == "En mobilisant les ressources de la structure :"
    assert [(i.depth, i.label) for i in result.items] == [(1, "Accueillir le public"), (1, "Orienter le public")]


def test_human_code_is_stored_in_code_and_the_key_stays():
    """Shape: a bloc with letter-digit codes and an introduction, imported."""
    liste = "Pour cela :\nA1C1. Accueillir le public\nA1C2. Orienter le public"
    nodes = {r.key: r for r in parse_rncp_xml(_fiche_file("RNCP90200", liste=liste)) if isinstance(r, CompetencyRecord)}
    assert nodes["RNCP90200BC01-C01"].code == "A1C1" and nodes["RNCP90200BC01-C02"].code == "A1C2"
    assert nodes["RNCP90200BC01"].metadata["introduction"] == "Pour cela :"
    assert "RNCP90200BC01-C03" not in nodes


# -- item 6: raw text is the exact source text ---------------------------------------------------


def test_raw_text_keeps_the_source_spacing():
    """Shape: a wrapped compétence (continuation line) and CRLF line ends; raws are exact slices."""
    text = "- Gérer le patrimoine\r\n    informatique   de l'organisation\r\n- Répondre  aux incidents"
    result = split_competences(text)
    assert [i.raw for i in result.items] == [
        "- Gérer le patrimoine\r\n    informatique   de l'organisation",
        "- Répondre  aux incidents",
    ]
    assert result.items[0].label == "Gérer le patrimoine informatique de l'organisation"
    assert all(i.raw in text for i in result.items)


# -- item 7: RS fiches: CAPACITES_ATTESTEES become compétences ----------------------------------


def test_rs_fiche_capacites_become_competences(session):
    """Shape: an RS fiche (no blocs) whose CAPACITES_ATTESTEES list three capacities on lines."""
    capacites = "Identifier les besoins du client\nRédiger une proposition commerciale\nNégocier un contrat"
    report = import_framework_file(session, ADMIN, _fiche_file("RS9001", capacites=capacites), "rs.xml")
    assert (report.counts.fiches, report.counts.competences) == (1, 3)
    rows = session.scalars(select(Competency).where(Competency.kind == "competence").order_by(Competency.position))
    fiche = session.scalar(select(Competency).where(Competency.source_key == "RS9001"))
    assert [(r.source_key, r.label, r.confidence.value, r.parent_id) for r in rows] == [
        ("RS9001-C01", "Identifier les besoins du client", "high", fiche.id),
        ("RS9001-C02", "Rédiger une proposition commerciale", "high", fiche.id),
        ("RS9001-C03", "Négocier un contrat", "high", fiche.id),
    ]


def test_rs_fiche_unsplittable_capacites_are_low_with_a_warning():
    """Shape: an RS fiche whose CAPACITES_ATTESTEES are one long paragraph."""
    items = list(parse_rncp_xml(_fiche_file("RS9002", capacites="Le candidat sait " + "conduire un entretien " * 15)))
    competences = [r for r in items if isinstance(r, CompetencyRecord) and r.kind == "competence"]
    assert [r.confidence for r in competences] == ["low"]
    assert any(isinstance(w, WarningRecord) and w.element == "CAPACITES_ATTESTEES" for w in items)
