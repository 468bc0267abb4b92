"""RNCP CSV export importer (``export-fiches-csv-YYYY-MM-DD.zip``): fiches and blocs only.

The export is a zip of ten ``;``-separated files in long format (one row per fiche and value).
Satellite files (certificateurs, NSF, ROME, voies d'accès, …) are grouped by ``Numero_Fiche``
in a temporary SQLite file rather than in memory, so memory stays bounded whatever the export
size. The CSV export carries no compétences and no modalités: use the XML flux for those.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import closing
from typing import Any

from .csvfiles import CsvFile
from .errors import ImportFormatError
from .records import CompetencyRecord, FrameworkHeader, ProgressCallback, StreamItem, WarningRecord, tracked
from .rncp_xml import RNCP_TITLE, fiche_url, replacement_links
from .sources import ByteSource, Input, as_source, list_zip
from .text import ascii_fold, parse_french_date, parse_yes_no

PARTS: dict[str, tuple[str, ...]] = {  # folded file-name fragment -> required columns
    "standard": ("Numero_Fiche", "Intitule"),
    "blocs_de_competences": ("Numero_Fiche", "Bloc_Competences_Code", "Bloc_Competences_Libelle"),
    "certificateurs": ("Numero_Fiche", "Siret_Certificateur", "Nom_Certificateur"),
    "partenaires": ("Numero_Fiche", "Nom_Partenaire", "Siret_Partenaire"),
    "nsf": ("Numero_Fiche", "Nsf_Code", "Nsf_Intitule"),
    "formacode": ("Numero_Fiche", "Formacode_Code", "Formacode_Libelle"),
    "rome": ("Numero_Fiche", "Codes_Rome_Code", "Codes_Rome_Libelle"),
    "voixdacces": ("Numero_Fiche", "Si_Jury"),
    "ccn": ("Numero_Fiche",),
    "ancienne_nouvelle_certification": ("Numero_Fiche", "Ancienne_Certification", "Nouvelle_Certification"),
}
SATELLITES = [p for p in PARTS if p not in ("standard", "blocs_de_competences")]
_ROUTES = (
    ("experience", "VAE"),
    ("candidature", "CL"),
    ("apprentissage", "CA"),
    ("professionnalisation", "CQ"),
    ("continue", "FC"),
    ("eleve", "FI"),
    ("etudiant", "FI"),
)
_EXPORT_DATE = re.compile(r"(20\d{2})[-_](\d{2})[-_](\d{2})")


def _part(name: str) -> str | None:
    folded = ascii_fold(os.path.basename(name))
    for part in sorted(PARTS, key=len, reverse=True):
        if f"_{part}_" in folded or folded.startswith(f"{part}_") or folded == f"{part}.csv":
            return part
    return None


def _cell(value: str) -> str:
    """Trim Excel guards (``"\\t1100…"``) and whitespace."""
    return value.strip().strip("\t").strip()


def _code_label(code: str, label: str) -> dict[str, str | None]:
    code, label = _cell(code), _cell(label).replace("''", "'")
    if code and label.startswith(code):
        label = re.sub(r"^\s*:\s*", "", label[len(code) :])
    return {"code": code or None, "label": label or None}


def jury_route(label: str) -> str | None:
    """Map a ``VoixdAccès`` label to the XML ``SI_JURY_*`` suffix."""
    folded = ascii_fold(label)
    for needle, route in _ROUTES:
        if needle in folded:
            return route
    return None


def parse_rncp_csv(
    source: Input | ByteSource,
    filename: str | None = None,
    *,
    on_progress: ProgressCallback | None = None,
    progress_every: int = 1000,
) -> Iterator[StreamItem]:
    """Stream an RNCP CSV export zip: header, fiches (with grouped satellites), blocs."""
    return tracked(_stream(as_source(source, filename)), on_progress, progress_every)


def _stream(archive: ByteSource) -> Iterator[StreamItem]:
    files: dict[str, CsvFile] = {}
    unknown: list[str] = []
    for member in list_zip(archive):
        part = _part(member.name) if member.name.lower().endswith(".csv") else None
        if part is None:
            unknown.append(member.name)
            continue
        csv_file = CsvFile(member, delimiter=";")
        csv_file.require(PARTS[part])
        files[part] = csv_file
    if "standard" not in files:
        raise ImportFormatError(f"{archive.name}: no export_fiches_CSV_Standard file in the zip")
    date = _EXPORT_DATE.search(archive.name) or _EXPORT_DATE.search(files["standard"].source.name)
    yield FrameworkHeader(
        source_type="rncp",
        title=RNCP_TITLE,
        source_format="rncp-csv",
        version=None,
        language="fr",
        source_id=archive.name,
        metadata={
            "file": archive.name,
            "export_date": "-".join(date.groups()) if date else None,
            "members": sorted(f.source.name for f in files.values()),
        },
    )
    for name in unknown:
        yield WarningRecord("file not recognised in the RNCP CSV export; ignored", file=name)
    for part in ("blocs_de_competences", *SATELLITES):
        if part not in files:
            yield WarningRecord(f"no {part} file in the export", file=archive.name)
    for csv_file in files.values():
        if csv_file.decoded_legacy:
            yield WarningRecord(f"file is not UTF-8; decoded as {csv_file.encoding}", file=csv_file.source.name)
    with tempfile.TemporaryDirectory(prefix="blason-rncp-") as tmp:
        with closing(sqlite3.connect(os.path.join(tmp, "satellites.db"))) as db:
            _load_satellites(db, files)
            yield from _fiches(db, files["standard"])
            if "blocs_de_competences" in files:
                yield from _blocs(db, files["blocs_de_competences"])


def _load_satellites(db: sqlite3.Connection, files: dict[str, CsvFile]) -> None:
    db.execute("CREATE TABLE sat (fiche TEXT, part TEXT, row TEXT)")
    db.execute("CREATE TABLE fiche (numero TEXT PRIMARY KEY, title TEXT, short TEXT)")
    for part in SATELLITES:
        if part not in files:
            continue
        batch: list[tuple[str, str, str]] = []
        for row in files[part].rows():
            batch.append((_cell(row.get("Numero_Fiche")).upper(), part, json.dumps(row.values, ensure_ascii=False)))
            if len(batch) >= 5000:
                db.executemany("INSERT INTO sat VALUES (?, ?, ?)", batch)
                batch.clear()
        db.executemany("INSERT INTO sat VALUES (?, ?, ?)", batch)
    db.execute("CREATE INDEX sat_fiche ON sat (fiche)")
    db.commit()


def _satellite_metadata(db: sqlite3.Connection, numero: str) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "certificateurs": [],
        "partenaires": [],
        "nsf": [],
        "formacodes": [],
        "rome": [],
        "jury_routes": {},
        "ccn": [],
        "old_fiches": [],
        "new_fiches": [],
    }
    for part, raw in db.execute("SELECT part, row FROM sat WHERE fiche = ? ORDER BY rowid", (numero,)):
        row: dict[str, str] = json.loads(raw)
        get = lambda name: _cell(row.get(name.casefold(), ""))  # noqa: E731, B023 - used within this iteration
        if part == "certificateurs":
            meta["certificateurs"].append(
                {
                    "siret": re.sub(r"\s+", "", get("Siret_Certificateur")) or None,
                    "name": get("Nom_Certificateur") or None,
                }
            )
        elif part == "partenaires":
            meta["partenaires"].append(
                {
                    "siret": re.sub(r"\s+", "", get("Siret_Partenaire")) or None,
                    "name": get("Nom_Partenaire") or None,
                    "habilitation": get("Habilitation_Partenaire") or None,
                }
            )
        elif part == "nsf":
            meta["nsf"].append(_code_label(get("Nsf_Code"), get("Nsf_Intitule")))
        elif part == "formacode":
            meta["formacodes"].append(_code_label(get("Formacode_Code"), get("Formacode_Libelle")))
        elif part == "rome":
            meta["rome"].append(_code_label(get("Codes_Rome_Code"), get("Codes_Rome_Libelle")))
        elif part == "voixdacces":
            label = get("Si_Jury")
            route = jury_route(label) or label
            meta["jury_routes"][route] = {"active": True, "label": label}
        elif part == "ccn":
            for n in (1, 2, 3):
                if get(f"Ccn_{n}_Numero"):
                    meta["ccn"].append({"code": get(f"Ccn_{n}_Numero"), "label": get(f"Ccn_{n}_Libelle") or None})
        elif part == "ancienne_nouvelle_certification":
            if get("Ancienne_Certification"):
                meta["old_fiches"].append(get("Ancienne_Certification").upper())
            if get("Nouvelle_Certification"):
                meta["new_fiches"].append(get("Nouvelle_Certification").upper())
    meta["vae"] = "VAE" in meta["jury_routes"] if meta["jury_routes"] else None
    return meta


def _fiches(db: sqlite3.Connection, standard: CsvFile) -> Iterator[StreamItem]:
    seen: set[str] = set()
    for row in standard.rows():
        numero = _cell(row.get("Numero_Fiche")).upper()
        if not numero:
            yield WarningRecord("row without Numero_Fiche skipped", line=row.line, file=standard.source.name)
            continue
        if numero in seen:
            yield WarningRecord(
                f"duplicate fiche {numero} skipped", line=row.line, source_key=numero, file=standard.source.name
            )
            continue
        seen.add(numero)
        level = _cell(row.get("Nomenclature_Europe_Niveau"))
        eqf = re.match(r"^NIV(\d)$", level)
        meta = _satellite_metadata(db, numero)
        meta.update(
            {
                "id_fiche": _cell(row.get("Id_Fiche")) or None,
                "abrege": {
                    "code": _cell(row.get("Abrege_Libelle")) or None,
                    "label": _cell(row.get("Abrege_Intitule")) or None,
                },
                "level": {
                    "code": level or None,
                    "label": _cell(row.get("Nomenclature_Europe_Intitule")) or None,
                    "eqf": int(eqf.group(1)) if eqf else None,
                },
                "accessible_nouvelle_caledonie": parse_yes_no(row.get("Accessible_Nouvelle_Caledonie")),
                "accessible_polynesie_francaise": parse_yes_no(row.get("Accessible_Polynesie_Francaise")),
                "type_enregistrement": _cell(row.get("Type_Enregistrement")) or None,
                "validation_partielle": parse_yes_no(row.get("Validation_Partielle")),
                "public_url": fiche_url(numero),
            }
        )
        for column in ("Date_dernier_jo", "Date_Decision", "Date_Fin_Enregistrement", "Date_Effet"):
            value = _cell(row.get(column))
            if value:
                meta[column.lower()] = parse_french_date(value) or value
        title = _cell(row.get("Intitule"))
        db.execute("INSERT INTO fiche VALUES (?, ?, ?)", (numero, title, meta["abrege"]["code"]))
        yield CompetencyRecord(
            key=numero,
            parent_key=None,
            kind="fiche",
            label=title or numero,
            code=numero,
            uri=fiche_url(numero),
            language="fr",
            active=parse_yes_no(row.get("Actif")),
            metadata=meta,
            line=row.line,
        )
        yield from replacement_links(numero, meta["old_fiches"], meta["new_fiches"])


def _blocs(db: sqlite3.Connection, blocs: CsvFile) -> Iterator[StreamItem]:
    positions: dict[str, int] = {}
    seen: set[str] = set()
    for row in blocs.rows():
        numero = _cell(row.get("Numero_Fiche")).upper()
        code = _cell(row.get("Bloc_Competences_Code")).upper()
        fiche = db.execute("SELECT title, short FROM fiche WHERE numero = ?", (numero,)).fetchone()
        if fiche is None:
            yield WarningRecord(
                f"bloc {code} of unknown fiche {numero} skipped",
                line=row.line,
                source_key=code or None,
                file=blocs.source.name,
            )
            continue
        if not code or code in seen:
            yield WarningRecord(
                "bloc without code or duplicated; skipped",
                line=row.line,
                source_key=code or None,
                file=blocs.source.name,
            )
            continue
        seen.add(code)
        position = positions.get(numero, 0)
        positions[numero] = position + 1
        label = _cell(row.get("Bloc_Competences_Libelle"))
        yield CompetencyRecord(
            key=code,
            parent_key=numero,
            kind="bloc",
            label=label or code,
            code=code,
            uri=fiche_url(numero),
            language="fr",
            position=position,
            metadata={"fiche_code": numero, "fiche_title": fiche[0], "fiche_short_title": fiche[1]},
            line=row.line,
        )


__all__ = ["parse_rncp_csv", "jury_route"]
