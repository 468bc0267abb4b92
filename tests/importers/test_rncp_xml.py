"""RNCP XML flux: the shared sample and the shapes it does not show."""

from __future__ import annotations

from collections import Counter

import pytest

from app.importers import (
    AssociationRecord,
    ImportFormatError,
    TruncatedInputError,
    UnsafeInputError,
    WarningRecord,
    count_stream,
    parse_rncp_xml,
)

from .conftest import header_of, make_zip, records, sample

SAMPLE = ("rncp", "export-fiches-rncp-v4-1_extract_RNCP35340_RNCP40792.xml")


def _fiche(numero: str, blocs: str, extra: str = "") -> str:
    return (
        f"<FICHE><NUMERO_FICHE>{numero}</NUMERO_FICHE><INTITULE>Titre {numero}</INTITULE>"
        f"{extra}<BLOCS_COMPETENCES>{blocs}</BLOCS_COMPETENCES><ACTIF>Oui</ACTIF></FICHE>"
    )


def _bloc(code: str, liste: str, label: str = "Bloc") -> str:
    return (
        f"<BLOC_COMPETENCES><CODE>{code}</CODE><LIBELLE>{label}</LIBELLE>"
        f"<LISTE_COMPETENCES>{liste}</LISTE_COMPETENCES>"
        "<MODALITES_EVALUATION>Étude de cas      Entretien</MODALITES_EVALUATION></BLOC_COMPETENCES>"
    )


def _export(*fiches: str, version: str = "4.1") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<FICHES><VERSION_FLUX>{version}</VERSION_FLUX>'
        + "".join(fiches)
        + "</FICHES>"
    ).encode()


@pytest.mark.shared
def test_sample_counts_and_tree() -> None:
    items = list(parse_rncp_xml(sample(*SAMPLE)))
    header = header_of(items)
    assert (header.source_type, header.version, header.language) == ("rncp", "4.1", "fr")
    nodes = records(items)
    kinds = Counter(r.kind for r in nodes)
    assert kinds == {"fiche": 2, "bloc": 10, "competence": 145}
    by_key = {r.key: r for r in nodes}
    assert len(by_key) == len(nodes)
    blocs = [r for r in nodes if r.kind == "bloc"]
    assert Counter(b.parent_key for b in blocs) == {"RNCP35340": 5, "RNCP40792": 5}
    per_bloc = Counter(r.metadata["bloc_code"] for r in nodes if r.kind == "competence")
    assert [per_bloc[f"RNCP35340BC0{n}"] for n in range(1, 6)] == [6, 3, 5, 3, 5]
    assert [per_bloc[f"RNCP40792BC0{n}"] for n in range(1, 6)] == [28, 20, 23, 26, 26]
    top = [r for r in nodes if r.kind == "competence" and r.metadata["depth"] == 1]
    assert len(top) == 22 + 22
    assert all(r.parent_key in by_key for r in nodes if r.parent_key)
    assert all(r.confidence == "high" for r in nodes if r.kind == "competence")
    assert not [i for i in items if isinstance(i, WarningRecord)]


@pytest.mark.shared
def test_sample_fiche_metadata() -> None:
    nodes = {r.key: r for r in records(parse_rncp_xml(sample(*SAMPLE)))}
    old, new = nodes["RNCP35340"], nodes["RNCP40792"]
    assert (old.active, new.active) == (False, True)
    assert new.uri == "https://www.francecompetences.fr/recherche/rncp/40792/"
    assert new.metadata["level"] == {"code": "NIV5", "label": "Niveau 5", "eqf": 5}
    assert new.metadata["nsf"][0]["code"] == "326"
    assert [r["code"] for r in new.metadata["rome"]] == ["M1810", "M1801", "M1805"]
    assert new.metadata["certificateurs"][0]["siret"] == "11004401300040"
    assert set(new.metadata["jury_routes"]) == {"FI", "CA", "FC", "CQ", "CL", "VAE"}
    assert new.metadata["vae"] is True
    assert new.metadata["date_limite_delivrance"] == "2031-08-31"
    assert "date_limite_delivrance" not in old.metadata
    assert old.metadata["new_fiches"] == ["RNCP40792"]
    assert old.metadata["old_fiches"] == ["RNCP17108"]
    assert new.metadata["old_fiches"] == ["RNCP35340"]
    assert len(old.metadata["urls"]) == 2
    bloc = nodes["RNCP40792BC01"]
    assert bloc.raw_text is not None and bloc.raw_text.startswith("    * Gérer le patrimoine")
    assert bloc.metadata["modalites_evaluation"].startswith("Scolaires")
    assert nodes["RNCP35340BC03"].metadata["option"] == "A"
    first = nodes["RNCP40792BC01-C01"]
    assert first.label == "Gérer le patrimoine informatique"
    assert nodes["RNCP40792BC01-C01.01"].label == "Recenser et identifier les ressources numériques"
    assert nodes["RNCP40792BC01-C01.01"].parent_key == "RNCP40792BC01-C01"
    evaluation_words = ("Ponctuelle", "CCF", "Scolaires")
    assert not any(w in r.label for r in nodes.values() if r.kind == "competence" for w in evaluation_words)


@pytest.mark.shared
def test_sample_replacement_links_stay_with_the_fiche_that_states_them() -> None:
    links = [i for i in parse_rncp_xml(sample(*SAMPLE)) if isinstance(i, AssociationRecord)]
    assert [(a.source_key, a.kind, a.target_key) for a in links] == [
        ("RNCP35340", "replaces", "RNCP17108"),
        ("RNCP35340", "replacedBy", "RNCP40792"),
        ("RNCP40792", "replaces", "RNCP35340"),
    ]


@pytest.mark.shared
def test_sample_inside_zip_streams_the_same() -> None:
    data = sample(*SAMPLE).read_bytes()
    archive = make_zip({"export_fiches_RNCP_V4_1_2026-09-29.xml": data})
    items = list(parse_rncp_xml(archive, "export-fiches-rncp-v4-1-2026-09-29.zip"))
    assert header_of(items).metadata["export_date"] == "2026-09-29"
    assert count_stream(iter(items)).competences == 145


def test_html_rs_fiche_and_unsplittable_text() -> None:
    long_text = (
        "Le titulaire sait conduire un diagnostic. Il sait rédiger un rapport. Il sait "
        "animer une réunion de restitution avec les parties prenantes du territoire "
        "concerné, en tenant compte des contraintes réglementaires, budgétaires et "
        "humaines qui pèsent sur chacun des acteurs impliqués dans le projet local."
    )
    data = _export(
        _fiche(
            "RS5000",
            _bloc(
                "RS5000BC01",
                "&lt;p&gt;C2.B1 Analyser un besoin&lt;/p&gt;&lt;p&gt;   &lt;br&gt;C2.4 Concevoir une réponse&lt;/p&gt;",
            ),
        ),
        _fiche("RNCP1", _bloc("RNCP1BC01", long_text) + _bloc("", "Gérer le stock")),
    )
    items = list(parse_rncp_xml(data, "x.xml"))
    nodes = {r.key: r for r in records(items)}
    assert nodes["RS5000"].uri == "https://www.francecompetences.fr/recherche/rs/5000/"
    assert nodes["RS5000BC01-C01"].label == "Analyser un besoin"
    assert nodes["RS5000BC01-C01"].metadata["source_code"] == "C2.B1"
    assert nodes["RS5000BC01"].raw_text.startswith("<p>C2.B1")
    whole = nodes["RNCP1BC01-C01"]
    assert whole.confidence == "low" and whole.label == long_text
    assert "RNCP1-BLOC02" in nodes
    reasons = [w.reason for w in items if isinstance(w, WarningRecord)]
    assert any("could not be split" in r for r in reasons)
    assert any("without CODE" in r for r in reasons)


def test_evaluation_inside_liste_is_kept_as_metadata() -> None:
    data = _export(
        _fiche(
            "RNCP2",
            _bloc("RNCP2BC01", "- Accueillir le public\n- Tenir la caisse\nEvaluation : mise en situation de 2 heures"),
        )
    )
    nodes = {r.key: r for r in records(parse_rncp_xml(data))}
    assert [r.label for r in nodes.values() if r.kind == "competence"] == ["Accueillir le public", "Tenir la caisse"]
    assert nodes["RNCP2BC01"].metadata["evaluation_in_liste_competences"].startswith("Evaluation")


def test_missing_numero_and_version_are_warnings() -> None:
    data = b"<FICHES><FICHE><INTITULE>Sans numero</INTITULE></FICHE>" + _fiche("RNCP3", "").encode() + b"</FICHES>"
    items = list(parse_rncp_xml(data))
    assert header_of(items).version is None
    assert [r.key for r in records(items)] == ["RNCP3"]
    reasons = [w.reason for w in items if isinstance(w, WarningRecord)]
    assert any("VERSION_FLUX" in r for r in reasons) and any("NUMERO_FICHE" in r for r in reasons)


def test_malformed_xml_reports_line_and_column() -> None:
    data = b'<?xml version="1.0"?>\n<FICHES>\n  <FICHE><NUMERO_FICHE>RNCP1</NUMERO_FICHE>\n  <INTITULE>a < b</INTITULE>\n</FICHE></FICHES>'
    with pytest.raises(ImportFormatError) as caught:
        list(parse_rncp_xml(data))
    assert (caught.value.line, caught.value.column) == (4, 16)
    assert "line 4" in str(caught.value) and "column 16" in str(caught.value)


def test_truncated_xml_is_an_error_after_records() -> None:
    data = _export(_fiche("RNCP1", _bloc("RNCP1BC01", "Gérer")), _fiche("RNCP2", ""))[:-40]
    stream = parse_rncp_xml(data)
    seen = []
    with pytest.raises(TruncatedInputError):
        for item in stream:
            seen.append(item)
    assert any(getattr(i, "key", None) == "RNCP1" for i in seen)


def test_wrong_root_is_refused() -> None:
    with pytest.raises(ImportFormatError, match="FICHES"):
        list(parse_rncp_xml(b"<ROOT><FICHE/></ROOT>"))


def test_billion_laughs_is_refused() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE FICHES [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
        b"<FICHES><FICHE><NUMERO_FICHE>&c;</NUMERO_FICHE></FICHE></FICHES>"
    )
    with pytest.raises(UnsafeInputError):
        list(parse_rncp_xml(bomb))


def test_external_entity_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    xxe = (
        f'<?xml version="1.0"?><!DOCTYPE FICHES [<!ENTITY x SYSTEM "file://{secret}">]>'
        "<FICHES><FICHE><NUMERO_FICHE>RNCP1</NUMERO_FICHE><INTITULE>&x;</INTITULE></FICHE></FICHES>"
    )
    with pytest.raises(UnsafeInputError):
        list(parse_rncp_xml(xxe.encode()))


def test_cp1252_without_declaration_is_decoded() -> None:
    data = (
        "<FICHES><VERSION_FLUX>4.1</VERSION_FLUX>" + _fiche("RNCP4", _bloc("RNCP4BC01", "Gérer l’équipe")) + "</FICHES>"
    )
    items = list(parse_rncp_xml(data.encode("cp1252")))
    nodes = {r.key: r for r in records(items)}
    assert nodes["RNCP4BC01-C01"].label == "Gérer l’équipe"
    assert any("cp1252" in w.reason for w in items if isinstance(w, WarningRecord))


def test_declared_latin1_is_honoured() -> None:
    data = (
        '<?xml version="1.0" encoding="ISO-8859-1"?><FICHES>'
        + _fiche("RNCP5", _bloc("RNCP5BC01", "Gérer"))
        + "</FICHES>"
    ).encode("latin-1")
    nodes = {r.key: r for r in records(parse_rncp_xml(data))}
    assert nodes["RNCP5BC01-C01"].label == "Gérer"


def test_empty_file_is_a_clear_error() -> None:
    with pytest.raises(ImportFormatError, match="empty"):
        list(parse_rncp_xml(b"  \n"))
