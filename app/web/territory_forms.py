"""The coordinator's forms (:mod:`app.web.territory`): read what was typed, keep it as typed, say in the
reader's language what is wrong next to each field, and give the services their plain data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from werkzeug.datastructures import MultiDict

from app.platform.filenames import slug
from app.web.i18n import Words, current_lang
from schemas.vocab import ExperimentationLevels, ProjectStatuses, SocialFunctions

SIREN = re.compile(r"^\d{9}$")
INSEE = re.compile(r"^(\d{5}|2[AB]\d{3})$")
MAX_LEVELS = 10
LABEL_CHARS = 100


@dataclass
class Form:
    """What was typed (shown again as typed), what it means for the service, and what is wrong."""

    values: dict[str, Any]
    data: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def _words() -> Words:
    return Words(current_lang())


def _text(form: Form, name: str, key: str, limit: int, *, required: bool = False) -> None:
    t = _words()
    value = form.values[name]
    if required and not value:
        form.errors[name] = t(f"terr_error_{name}_missing")
    elif len(value) > limit:
        form.errors[name] = t.get("terr_error_too_long", n=f"{limit:,}".replace(",", "\u202f"))
    else:
        form.data[key] = value


def version_of(values: dict[str, Any]) -> int | None:
    text = str(values.get("version", ""))
    return int(text) if text.isdigit() else None


# --- the territory ---------------------------------------------------------------------------------


def territory_values(territory: Any) -> Form:
    level = territory.experimentation_level
    return Form(
        {
            "nom": territory.name,
            "description": territory.description,
            "niveau": level.value if level else "",
            "siren": territory.siren or "",
            "insee": territory.insee_code or "",
            "version": str(territory.version),
        }
    )


def read_territory(sent: MultiDict[str, str]) -> Form:
    t = _words()
    names = ("nom", "description", "niveau", "siren", "insee", "version")
    form = Form({n: sent.get(n, "").strip() for n in names})
    form.values["siren"] = re.sub(r"\s", "", form.values["siren"])
    form.values["insee"] = re.sub(r"\s", "", form.values["insee"]).upper()
    _text(form, "nom", "name", 200, required=True)
    _text(form, "description", "description", 10000)
    level = form.values["niveau"]
    if level and level not in ExperimentationLevels:
        form.errors["niveau"] = t.terr_error_niveau
    else:
        form.data["experimentation_level"] = level or None
    siren, insee = form.values["siren"], form.values["insee"]
    if siren and not SIREN.match(siren):
        form.errors["siren"] = t.terr_error_siren
    else:
        form.data["siren"] = siren or None
    if insee and not INSEE.match(insee):
        form.errors["insee"] = t.terr_error_insee
    else:
        form.data["insee_code"] = insee or None
    return form


# --- a project -------------------------------------------------------------------------------------


def project_values(project: Any) -> Form:
    return Form(
        {
            "titre": project.title,
            "description": project.description,
            "fonctions": list(project.social_functions),
            "debut": project.start_date.isoformat() if project.start_date else "",
            "fin": project.end_date.isoformat() if project.end_date else "",
            "etat": project.status.value,
            "version": str(project.version),
        }
    )


def new_project_values() -> Form:
    return Form({"titre": "", "description": "", "fonctions": [], "debut": "", "fin": "", "etat": "active"})


def _date(form: Form, name: str, key: str) -> None:
    text = form.values[name]
    try:
        form.data[key] = date.fromisoformat(text) if text else None
    except ValueError:
        form.errors[name] = _words().terr_error_date


def read_project(sent: MultiDict[str, str], *, with_status: bool) -> Form:
    t = _words()
    names = ("titre", "description", "debut", "fin", "etat", "version")
    form = Form({n: sent.get(n, "").strip() for n in names})
    form.values["fonctions"] = [f for f in sent.getlist("fonctions") if f in SocialFunctions]
    _text(form, "titre", "title", 200, required=True)
    _text(form, "description", "description", 10000)
    if not form.values["fonctions"]:
        form.errors["fonctions"] = t.terr_error_fonctions
    else:
        form.data["social_functions"] = form.values["fonctions"]
    _date(form, "debut", "start_date")
    _date(form, "fin", "end_date")
    start, end = form.data.get("start_date"), form.data.get("end_date")
    if start and end and end < start:
        form.errors["fin"] = t.terr_error_end_before_start
    if with_status:
        if form.values["etat"] not in ProjectStatuses:
            form.errors["etat"] = t.terr_error_etat
        else:
            form.data["status"] = form.values["etat"]
    return form


# --- review rules and rating scale -----------------------------------------------------------------


@dataclass
class LevelRow:
    code: str
    fr: str
    en: str
    proficient: bool


def rules_values(rules: Any, *, spare: int = 2) -> Form:
    rows = [LevelRow(lv.code, lv.label_fr, lv.label_en, lv.proficient) for lv in rules.scale.levels]
    return Form({"second": rules.requires_second_review, "levels": _padded(rows, spare)})


def _padded(rows: list[LevelRow], spare: int) -> list[LevelRow]:
    free = max(0, min(spare, MAX_LEVELS - len(rows)))
    return rows + [LevelRow("", "", "", False) for _ in range(free)]


def read_rules(sent: MultiDict[str, str]) -> Form:
    """The second-review choice and the scale's levels, lowest first; empty rows are left out."""
    t = _words()
    rows = []
    for i in range(1, MAX_LEVELS + 1):
        row = LevelRow(
            sent.get(f"niveau-{i}-code", "").strip(),
            sent.get(f"niveau-{i}-fr", "").strip(),
            sent.get(f"niveau-{i}-en", "").strip(),
            sent.get(f"niveau-{i}-acquis") == "oui",
        )
        rows.append(row)
    form = Form({"second": sent.get("second") == "oui", "levels": rows})
    form.data["requires_second_review"] = form.values["second"]
    filled = []
    seen: set[str] = set()
    for i, row in enumerate(rows, start=1):
        if not row.fr:
            if row.en or row.proficient:
                form.errors[f"niveau-{i}-fr"] = t.terr_error_level_label
            continue
        if len(row.fr) > LABEL_CHARS or len(row.en) > LABEL_CHARS:
            form.errors[f"niveau-{i}-fr"] = t.get("terr_error_too_long", n=LABEL_CHARS)
        elif row.fr.lower() in seen:
            form.errors[f"niveau-{i}-fr"] = t.terr_error_level_twice
        seen.add(row.fr.lower())
        filled.append(row)
    if not 2 <= len(filled) <= MAX_LEVELS:
        form.errors["niveaux"] = t.terr_error_level_count
    else:
        flags = [r.proficient for r in filled]
        first = flags.index(True) if True in flags else -1
        if first < 0 or not all(flags[first:]):
            form.errors["niveaux"] = t.terr_error_level_order
    if not form.errors:
        form.data["levels"] = [
            {"code": code, "label_fr": r.fr, "label_en": r.en or r.fr, "proficient": r.proficient}
            for r, code in zip(filled, _codes(filled), strict=True)
        ]
    used = [i for i, r in enumerate(rows) if r.fr or r.en or r.proficient]
    # Shown again as sent, in the same places (an error names its row by number), with room to add.
    form.values["levels"] = _padded(rows[: used[-1] + 1] if used else [], 2)
    return form


def _codes(rows: list[LevelRow]) -> list[str]:
    """A level keeps the code it had (decisions name it); a new one is named after its French label."""
    taken = {r.code for r in rows if r.code}
    codes = []
    for r in rows:
        code = r.code
        if not code:
            base = slug(r.fr, fallback="niveau", limit=40).replace("-", "_")
            code, n = base, 2
            while code in taken:
                code, n = f"{base}_{n}", n + 1
            taken.add(code)
        codes.append(code)
    return codes


def levels_changed(scale: Any, levels: list[dict[str, Any]]) -> bool:
    """Whether the levels sent differ from the scale in force (saving the same again makes no new scale)."""
    now = [(lv.code, lv.label_fr, lv.label_en, lv.proficient) for lv in scale.levels]
    return now != [(lv["code"], lv["label_fr"], lv["label_en"], lv["proficient"]) for lv in levels]
