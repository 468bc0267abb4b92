"""The issuer administrator's forms, read and checked: the issuer's profile, an achievement, its
image (drawn or uploaded) and its award rule. Each reader keeps what was typed, says in the page's
language what is wrong next to each field, and gives the services their data."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from flask import request
from werkzeug.datastructures import FileStorage

from app.services.issuing import badge_images
from app.services.recognition.scales import DEFAULT_SCALE
from app.web.i18n import Words, current_lang

# The achievement types offered, in the order people meet them (OB 3.0 achievementType terms).
TYPES = ("Badge", "Competency", "MicroCredential", "Certificate", "Award", "Achievement")
RULES = ("manual", "all", "at_least")
MODES = ("auto", "approval")
DEFAULT_COLOURS = {"fond": "#1b3a5c", "texte": "#ffffff"}
MAX_NAME = 200
MAX_TEXT = 10_000
MAX_DAYS = 36_500
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def words() -> Words:
    return Words(current_lang())


@dataclass
class Form:
    """What was typed (shown again as typed), what it means for the service, and what is wrong."""

    values: dict[str, Any]
    data: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def is_web_address(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and len(value) <= 2000 and " " not in value


def _text(form: Form, name: str, *, required: str | None = None, most: int = MAX_TEXT) -> str:
    value = form.values[name]
    if required and not value:
        form.errors[name] = words()(required)
    elif len(value) > most:
        form.errors[name] = words()("iss_error_too_long", n=f"{most:,}".replace(",", "\u202f"))
    return str(value)


# --- the issuer's profile -----------------------------------------------------------------------------


def profile_values(issuer: Any) -> Form:
    return Form(
        {
            "nom": issuer.name,
            "site": issuer.url,
            "courriel": issuer.email or "",
            "description": issuer.description or "",
            "identifiant": issuer.identifier.value,
            "version": str(issuer.version),
        }
    )


IDENTIFIERS = ("https", "did:web")


def read_profile() -> Form:
    names = ("nom", "site", "courriel", "description", "identifiant", "version")
    form = Form({n: request.form.get(n, "").strip() for n in names})
    name = _text(form, "nom", required="iss_error_name", most=MAX_NAME)
    url = form.values["site"]
    if not url or not is_web_address(url):
        form.errors["site"] = words().iss_error_url
    email = form.values["courriel"]
    if email and (len(email) > 320 or not _EMAIL.match(email)):
        form.errors["courriel"] = words().iss_error_email
    description = _text(form, "description")
    form.data = {"name": name, "url": url, "email": email or None, "description": description}
    if form.values["identifiant"]:  # absent from an older form: the choice stays as it is
        if form.values["identifiant"] in IDENTIFIERS:
            form.data["identifier"] = form.values["identifiant"]
        else:
            form.errors["identifiant"] = words().iss_ident_error
    return form


# --- an achievement -------------------------------------------------------------------------------------


def achievement_values(detail: Any = None, lock_version: int | None = None) -> Form:
    if detail is None:
        return Form(
            {"nom": "", "description": "", "criteres": "", "type": "Badge", "validite": "", "image": "dessin"}
            | {"forme": "circle", **DEFAULT_COLOURS}
        )
    return Form(
        {
            "nom": detail.name,
            "description": detail.description,
            "criteres": detail.criteria,
            "type": detail.achievement_type,
            "validite": str(detail.valid_for_days or ""),
            "version": str(lock_version or ""),
        }
    )


def read_achievement(*, with_image: bool) -> Form:
    names = ("nom", "description", "criteres", "type", "validite", "version")
    form = Form({n: request.form.get(n, "").strip() for n in names})
    name = _text(form, "nom", required="iss_error_name", most=MAX_NAME)
    description = _text(form, "description", required="iss_error_description")
    criteria = _text(form, "criteres", required="iss_error_criteria")
    kind = form.values["type"]
    if kind not in TYPES and not kind.startswith("ext:"):
        form.errors["type"] = words().iss_error_type
    days: int | None = None
    if form.values["validite"]:
        text = form.values["validite"].replace("\u202f", "").replace(" ", "")
        if not text.isdigit() or not 1 <= int(text) <= MAX_DAYS:
            form.errors["validite"] = words().iss_error_validity
        else:
            days = int(text)
    form.data = {
        "name": name,
        "description": description,
        "criteria": criteria,
        "achievement_type": kind,
        "valid_for_days": days,
    }
    if with_image:
        read_image_choice(form)
    return form


# --- the badge's image: drawn from colours, or uploaded --------------------------------------------------


def read_image_choice(form: Form) -> FileStorage | None:
    """Read the image part of a form into ``form`` (values, errors, ``data['image']``); the upload if any."""
    t = words()
    for name in ("image", "fond", "texte", "forme"):
        form.values[name] = request.form.get(name, "").strip()
    upload = request.files.get("fichier")
    upload = upload if upload is not None and upload.filename else None
    if form.values["image"] not in ("dessin", "fichier"):
        form.errors["image"] = t.iss_error_image_choice
    elif form.values["image"] == "fichier":
        if upload is None:
            form.errors["fichier"] = t.iss_error_file_missing
        form.data["image"] = {"upload": True}
    else:
        background = badge_images.parse_colour(form.values["fond"])
        foreground = badge_images.parse_colour(form.values["texte"])
        if background is None:
            form.errors["fond"] = t.iss_error_colour
        if foreground is None:
            form.errors["texte"] = t.iss_error_colour
        if background and foreground:
            ratio = badge_images.contrast_ratio(background, foreground)
            if ratio < badge_images.MIN_CONTRAST:
                shown = f"{ratio:.1f}".replace(".", ",") if current_lang() == "fr" else f"{ratio:.1f}"
                form.errors["texte"] = t.get("iss_error_contrast", ratio=shown)
        if form.values["forme"] not in badge_images.SHAPES:
            form.errors["forme"] = t.iss_error_shape
        form.data["image"] = {"background": background, "foreground": foreground, "shape": form.values["forme"]}
    return upload


# --- the award rule ------------------------------------------------------------------------------------------


def rule_values(detail: Any, lock_version: int) -> Form:
    rule = detail.award_rule or {}
    kind = rule.get("type", "manual")
    aligned = [a["competencyId"] for a in detail.alignments if a.get("competencyId")]
    chosen = rule.get("competencyIds") or aligned
    hours = rule.get("minHours")
    hours_text = (
        ""
        if hours is None
        else (f"{float(hours):g}".replace(".", ",") if current_lang() == "fr" else f"{float(hours):g}")
    )
    return Form(
        {
            "regle": kind if kind in RULES else "manual",
            "k": str(rule.get("k") or min(2, max(1, len(chosen)))),
            "competences": [str(c) for c in chosen],
            "niveau": rule.get("minLevel") or "acquis",
            "heures": hours_text,
            "mode": detail.award_mode if detail.award_mode in MODES else "auto",
            "version": str(lock_version),
        }
    )


def read_rule(aligned: list[str]) -> Form:
    t = words()
    form = Form(
        {n: request.form.get(n, "").strip() for n in ("regle", "k", "niveau", "heures", "mode", "version")}
        | {"competences": [c for c in request.form.getlist("competences") if c in aligned]}
    )
    kind = form.values["regle"]
    if kind not in RULES:
        form.errors["regle"] = t.iss_error_rule
        return form
    if kind == "manual":
        form.data = {"award_rule": {"type": "manual"}}
        return form
    chosen = form.values["competences"]
    rule: dict[str, Any] = {"type": kind, "competency_ids": chosen}
    if not chosen:
        form.errors["competences"] = t.iss_error_rule_competencies
    if kind == "at_least":
        k = form.values["k"]
        if not k.isdigit() or not 1 <= int(k) <= max(1, len(chosen)):
            form.errors["k"] = t.get("iss_error_k", n=max(1, len(chosen)))
        else:
            rule["k"] = int(k)
    if form.values["niveau"] and DEFAULT_SCALE.get(form.values["niveau"]) is None:
        form.errors["niveau"] = t.iss_error_level
    elif form.values["niveau"]:
        rule["min_level"] = form.values["niveau"]
    if form.values["heures"]:
        text = form.values["heures"].replace(",", ".").replace("\u202f", "").replace(" ", "")
        try:
            hours = float(text)
        except ValueError:
            hours = -1.0
        if not 0 <= hours <= 100_000:
            form.errors["heures"] = t.iss_error_hours
        else:
            rule["min_hours"] = hours
    if form.values["mode"] not in MODES:
        form.errors["mode"] = t.iss_error_mode
    form.data = {"award_rule": rule, "award_mode": form.values["mode"]}
    return form
