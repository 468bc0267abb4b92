"""Rating scales and review rules: which levels a decision may use, and who must agree.

A framework's own scale comes first (its levels define what its competencies mean), then the
territory's, then the platform default, then the built-in French scale.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Framework, RatingScale, Territory
from app.models.claims import ReviewSettings
from app.platform.errors import FieldError, InvalidInput, NotFound, PermissionDenied
from app.services.identity import access, audit
from app.services.identity.access import Grants


@dataclass(frozen=True)
class Level:
    code: str
    label_fr: str
    label_en: str
    proficient: bool

    def label(self, locale: str) -> str:
        return self.label_en if locale == "en" else self.label_fr


@dataclass(frozen=True)
class Scale:
    id: uuid.UUID | None
    name: str
    levels: tuple[Level, ...]

    def rank(self, code: str | None) -> int | None:
        for index, level in enumerate(self.levels):
            if level.code == code:
                return index
        return None

    def get(self, code: str | None) -> Level | None:
        rank = self.rank(code)
        return None if rank is None else self.levels[rank]

    def require(self, code: str, pointer: str) -> Level:
        """The level of this code, or a 422 naming the codes the scale has."""
        level = self.get(code)
        if level is None:
            codes = ", ".join(lv.code for lv in self.levels)
            raise InvalidInput(
                f"'{code}' is not a level of the scale {self.name!r} ({codes}).",
                errors=[FieldError(pointer, f"Not a level of the scale: use one of {codes}.")],
            )
        return level


DEFAULT_SCALE = Scale(
    None,
    "Échelle Blason",
    (
        Level("non_acquis", "non acquis", "not acquired", False),
        Level("en_cours", "en cours d'acquisition", "being acquired", False),
        Level("acquis", "acquis", "acquired", True),
        Level("maitrise", "maîtrisé", "mastered", True),
    ),
)


def _scale(row: RatingScale) -> Scale:
    return Scale(
        row.id,
        row.name,
        tuple(
            Level(
                lv["code"],
                lv.get("labelFr") or lv["code"],
                lv.get("labelEn") or lv.get("labelFr") or lv["code"],
                bool(lv.get("proficient")),
            )
            for lv in row.levels
        ),
    )


@dataclass(frozen=True)
class Rules:
    scale: Scale
    second_review: bool


def rules_for(
    session: Session, pairs: Iterable[tuple[Framework, uuid.UUID]]
) -> dict[tuple[uuid.UUID, uuid.UUID], Rules]:
    """Resolve the rules of many (framework, territory id) pairs in a fixed number of queries."""
    pairs = list(pairs)
    territory_ids = {t for _f, t in pairs}
    settings = (
        {
            s.territory_id: s
            for s in session.scalars(select(ReviewSettings).where(ReviewSettings.territory_id.in_(territory_ids)))
        }
        if territory_ids
        else {}
    )
    scale_ids = {f.rating_scale_id for f, _t in pairs if f.rating_scale_id}
    scale_ids |= {s.rating_scale_id for s in settings.values() if s.rating_scale_id}
    rows = (
        {r.id: r for r in session.scalars(select(RatingScale).where(RatingScale.id.in_(scale_ids)))}
        if scale_ids
        else {}
    )
    platform_default: Scale | None = None
    needs_default = any(
        not f.rating_scale_id and not getattr(settings.get(t), "rating_scale_id", None) for f, t in pairs
    )
    if needs_default:
        row = session.scalar(
            select(RatingScale)
            .where(RatingScale.territory_id.is_(None), RatingScale.is_default.is_(True))
            .order_by(RatingScale.created_at.desc())
            .limit(1)
        )
        platform_default = _scale(row) if row is not None else None
    out: dict[tuple[uuid.UUID, uuid.UUID], Rules] = {}
    for framework, territory_id in pairs:
        local = settings.get(territory_id)
        scale_id = framework.rating_scale_id or (local.rating_scale_id if local else None)
        scale = _scale(rows[scale_id]) if scale_id in rows else (platform_default or DEFAULT_SCALE)
        second = framework.requires_second_review or bool(local and local.requires_second_review)
        out[(framework.id, territory_id)] = Rules(scale, second)
    return out


def rules_of(session: Session, framework: Framework, territory_id: uuid.UUID) -> Rules:
    return rules_for(session, [(framework, territory_id)])[(framework.id, territory_id)]


def check_levels(levels: list[dict[str, Any]]) -> None:
    """A usable scale: 2 to 10 distinct codes, and once a level is proficient all above are too."""
    if not 2 <= len(levels) <= 10:
        raise InvalidInput("A scale has 2 to 10 levels.", errors=[FieldError("#/scale/levels", "2 to 10 levels.")])
    codes = [lv["code"] for lv in levels]
    if len(set(codes)) != len(codes):
        raise InvalidInput(
            "Level codes must be distinct.", errors=[FieldError("#/scale/levels", "Level codes must be distinct.")]
        )
    flags = [bool(lv.get("proficient")) for lv in levels]
    if True not in flags or flags[flags.index(True) :] != [True] * (len(flags) - flags.index(True)):
        raise InvalidInput(
            "Levels are ordered from lowest to highest: the proficient ones come last.",
            errors=[FieldError("#/scale/levels", "Proficient levels must be the highest ones.")],
        )


def _new_scale(session: Session, data: dict[str, Any], territory_id: uuid.UUID | None) -> RatingScale:
    check_levels(data["levels"])
    # A new row each time: decisions already taken keep naming the levels they were made with.
    row = RatingScale(
        name=data["name"],
        territory_id=territory_id,
        levels=[
            {
                "code": lv["code"],
                "labelFr": lv["label_fr"],
                "labelEn": lv.get("label_en") or lv["label_fr"],
                "proficient": bool(lv.get("proficient")),
            }
            for lv in data["levels"]
        ],
    )
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class ReviewRules:
    requires_second_review: bool
    scale: Scale


def get_territory_rules(session: Session, grants: Grants, territory_id: uuid.UUID) -> ReviewRules:
    """A territory's rules as they apply to frameworks without rules of their own."""
    visible = access.visible_territory_ids(session, grants)
    if session.get(Territory, territory_id) is None or (visible is not None and territory_id not in visible):
        raise NotFound("Territory not found.")
    settings = session.get(ReviewSettings, territory_id)
    scale = DEFAULT_SCALE
    if settings is not None and settings.rating_scale_id:
        row = session.get(RatingScale, settings.rating_scale_id)
        assert row is not None
        scale = _scale(row)
    return ReviewRules(bool(settings and settings.requires_second_review), scale)


def set_territory_rules(session: Session, grants: Grants, territory_id: uuid.UUID, data: dict[str, Any]) -> ReviewRules:
    """Set a territory's scale (None: back to the default) and second-review rule (coordinators)."""
    get_territory_rules(session, grants, territory_id)
    access.check_manage_territory(grants, territory_id)
    settings = session.get(ReviewSettings, territory_id)
    if settings is None:
        settings = ReviewSettings(territory_id=territory_id)
        session.add(settings)
    if "requires_second_review" in data:
        settings.requires_second_review = data["requires_second_review"]
    if "scale" in data:
        settings.rating_scale_id = _new_scale(session, data["scale"], territory_id).id if data["scale"] else None
    session.flush()
    audit.record(
        session,
        grants.actor,
        "review_rules.changed",
        "territory",
        territory_id,
        {
            "secondReview": settings.requires_second_review,
            "scale": str(settings.rating_scale_id) if settings.rating_scale_id else None,
        },
    )
    return get_territory_rules(session, grants, territory_id)


def set_framework_rules(session: Session, grants: Grants, framework_id: uuid.UUID, data: dict[str, Any]) -> ReviewRules:
    """Set a framework's own scale and second-review rule (platform administrators)."""
    framework = session.get(Framework, framework_id)
    if framework is None:
        raise NotFound("Framework not found.")
    if not grants.platform_admin:
        raise PermissionDenied("Only platform administrators change a framework's review rules.")
    if "requires_second_review" in data:
        framework.requires_second_review = data["requires_second_review"]
    if "scale" in data:
        framework.rating_scale_id = _new_scale(session, data["scale"], None).id if data["scale"] else None
    session.flush()
    audit.record(
        session,
        grants.actor,
        "review_rules.changed",
        "framework",
        framework.id,
        {
            "secondReview": framework.requires_second_review,
            "scale": str(framework.rating_scale_id) if framework.rating_scale_id else None,
        },
    )
    scale = DEFAULT_SCALE
    if framework.rating_scale_id:
        row = session.get(RatingScale, framework.rating_scale_id)
        assert row is not None
        scale = _scale(row)
    return ReviewRules(framework.requires_second_review, scale)
