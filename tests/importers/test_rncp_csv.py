"""RNCP CSV export zip: fiches, blocs and grouped satellite files."""

from __future__ import annotations

import pytest

from app.importers import AssociationRecord, MissingColumnsError, WarningRecord, detect_format, parse_rncp_csv

from .conftest import header_of, make_zip, records

D = "2025_03_01"
STANDARD = (
    "Id_Fiche;Numero_Fiche;Intitule;Abrege_Libelle;Abrege_Intitule;Nomenclature_Europe_Niveau;"
    "Nomenclature_Europe_Intitule;Accessible_Nouvelle_Caledonie;Accessible_Polynesie_Francaise;"
    "Date_dernier_jo;Date_Decision;Date_Fin_Enregistrement;Date_Effet;Type_Enregistrement;"
    "Validation_Partielle;Actif\r\n"
    '"28178";"RNCP40792";"Services informatiques aux organisations";"BTS";"Brevet de technicien supérieur";'
    '"NIV5";"Niveau 5";"Oui";"Oui";;;"31/08/2028";"01/09/2025";"Enregistrement de droit";"Oui";"ACTIVE"\r\n'
    '"1";"RS5000";"Certificat « CléA »";;;;;"Non";"Non";;;"31/12/2026";;"Enregistrement sur demande";;"INACTIVE"\r\n'
)
BLOCS = (
    "Numero_Fiche;Bloc_Competences_Code;Bloc_Competences_Libelle\r\n"
    '"RNCP40792";"RNCP40792BC01";"Support et mise à disposition"\r\n'
    '"RNCP40792";"RNCP40792BC02";"Administration des systèmes"\r\n'
    '"RNCP99999";"RNCP99999BC01";"Orphelin"\r\n'
)
CERTIF = (
    "Numero_Fiche;Siret_Certificateur;Nom_Certificateur\r\n"
    '"RNCP40792";"\t11004401300040";"MINISTERE DE L\'ENSEIGNEMENT SUPERIEUR"\r\n'
    '"RNCP40792";"\t19753471200017";"CONSERVATOIRE NATIONAL DES ARTS ET METIERS"\r\n'
)
ROME = (
    "Numero_Fiche;Codes_Rome_Code;Codes_Rome_Libelle\r\n"
    '"RNCP40792";"M1805";"Management et ingénierie d\'\'affaires"\r\n'
)
NSF = 'Numero_Fiche;Nsf_Code;Nsf_Intitule\r\n"RNCP40792";"326";"326 : Informatique"\r\n'
VOIES = 'Numero_Fiche;Si_Jury\r\n"RNCP40792";"Par expérience"\r\n"RNCP40792";"En contrat d’apprentissage"\r\n'
LINKS = (
    'Numero_Fiche;Ancienne_Certification;Nouvelle_Certification\r\n"RNCP40792";"RNCP35340";\r\n"RS5000";;"RS6117"\r\n'
)


def _export(**overrides: str) -> bytes:
    members = {
        f"export_fiches_CSV_Standard_{D}.csv": STANDARD,
        f"export_fiches_CSV_Blocs_De_CompXXtences_{D}.csv": BLOCS,
        f"export_fiches_CSV_Certificateurs_{D}.csv": CERTIF,
        f"export_fiches_CSV_Rome_{D}.csv": ROME,
        f"export_fiches_CSV_Nsf_{D}.csv": NSF,
        f"export_fiches_CSV_VoixdAccXXs_{D}.csv": VOIES,
        f"export_fiches_CSV_Ancienne_Nouvelle_Certification_{D}.csv": LINKS,
    }
    members.update(overrides)
    return make_zip(
        {k: v.encode() for k, v in members.items()},
        raw_names={"CompXXtences": "Compétences".encode(), "VoixdAccXXs": "VoixdAccès".encode()},
    )


def test_fiches_blocs_and_satellites() -> None:
    items = list(parse_rncp_csv(_export(), "export-fiches-csv-2025-03-01.zip"))
    header = header_of(items)
    assert header.source_format == "rncp-csv" and header.metadata["export_date"] == "2025-03-01"
    nodes = {r.key: r for r in records(items)}
    assert [r.kind for r in nodes.values()] == ["fiche", "fiche", "bloc", "bloc"]
    fiche = nodes["RNCP40792"]
    assert fiche.active is True and nodes["RS5000"].active is False
    assert nodes["RS5000"].uri.endswith("/recherche/rs/5000/")
    assert [c["siret"] for c in fiche.metadata["certificateurs"]] == ["11004401300040", "19753471200017"]
    assert fiche.metadata["rome"] == [{"code": "M1805", "label": "Management et ingénierie d'affaires"}]
    assert fiche.metadata["nsf"] == [{"code": "326", "label": "Informatique"}]
    assert set(fiche.metadata["jury_routes"]) == {"VAE", "CA"} and fiche.metadata["vae"] is True
    assert fiche.metadata["level"]["eqf"] == 5
    assert fiche.metadata["date_fin_enregistrement"] == "2028-08-31"
    assert nodes["RNCP40792BC02"].parent_key == "RNCP40792"
    assert nodes["RNCP40792BC02"].metadata["fiche_title"] == "Services informatiques aux organisations"
    links = {(a.source_key, a.kind, a.target_key) for a in items if isinstance(a, AssociationRecord)}
    # Each fiche keeps the links it states (issue 16 item 2): RNCP40792 names its old fiche.
    assert links == {("RNCP40792", "replaces", "RNCP35340"), ("RS5000", "replacedBy", "RS6117")}
    reasons = " ".join(w.reason for w in items if isinstance(w, WarningRecord))
    assert "RNCP99999" in reasons


def test_detected_as_rncp_csv() -> None:
    assert detect_format(_export(), "export.zip") == "rncp-csv"


def test_wrong_header_names_missing_columns() -> None:
    bad = {f"export_fiches_CSV_Standard_{D}.csv": 'Id;Numero;Titre\r\n"1";"RNCP1";"x"\r\n'}
    with pytest.raises(MissingColumnsError) as caught:
        list(parse_rncp_csv(_export(**bad)))
    assert caught.value.missing == ["Numero_Fiche", "Intitule"]
    assert "Numero_Fiche" in str(caught.value)


def test_cp1252_satellite_is_decoded() -> None:
    members = {f"export_fiches_CSV_Standard_{D}.csv": STANDARD.encode("cp1252", errors="replace")}
    items = list(parse_rncp_csv(make_zip(members)))
    assert records(items)[1].label == "Certificat « CléA »"
    assert any("cp1252" in w.reason for w in items if isinstance(w, WarningRecord))
