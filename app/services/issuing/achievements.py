"""Achievements (badge classes): creation, editing as versions, images, alignments, award rules.

An achievement's content lives in versions. Until the first award the current version is
edited in place; after it, any change creates the next version, and credentials already
issued keep pointing at theirs (their signed documents embed it).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

import badges
from app.db import utcnow
from app.importers.alignment import alignment_for
from app.importers.records import CompetencyRecord, FrameworkHeader
from app.models import (
    Achievement,
    AchievementAlignment,
    AchievementVersion,
    AwardMode,
    AwardRuleCompetency,
    Competency,
    Framework,
    Issuer,
)
from app.platform import images
from app.platform.errors import FieldError, InvalidInput, NotFound, check_version, flush_versioned
from app.platform.pagination import Page, paginate
from app.platform.storage import Storage
from app.platform.urls import Urls
from app.services.identity import audit
from app.services.identity.access import Grants
from app.services.issuing.keys import check_issuer_admin, require_caller
from app.services.recognition.scales import DEFAULT_SCALE

RULE_TYPES = ("all", "at_least", "manual")
# Fields whose change after the first award makes a new version (they are signed into credentials
# or decide who earns it).
VERSIONED_FIELDS = (
    "name",
    "description",
    "criteria_narrative",
    "achievement_type",
    "tags",
    "result_descriptions",
    "award_rule",
    "valid_for_days",
    "image_sha256",
)


# ---------------------------------------------------------------------------------------------
# Alignments


def competency_alignment(competency: Competency, framework: Framework, urls: Urls) -> dict[str, Any]:
    """The OB 3.0 Alignment of an imported competency, mapped as the frameworks guide says."""
    meta = dict(competency.meta or {})
    if framework.source_type.value == "rncp":
        meta.setdefault("fiche_code", framework.source_key)
        meta.setdefault("fiche_title", framework.title)
    header = FrameworkHeader(
        source_type=framework.source_type.value,
        title=framework.title,
        source_format="database",
        version=framework.version_label,
        language=framework.language,
        source_id=framework.source_key,
        metadata=framework.meta or {},
    )
    record = CompetencyRecord(
        key=competency.source_key,
        parent_key=None,
        kind=competency.kind,
        label=competency.label,
        code=competency.code,
        description=competency.description,
        uri=competency.uri,
        metadata=meta,
    )
    public_url = f"{urls.base}/competencies/{competency.id}"
    try:
        return alignment_for(record, header, public_url)
    except ValueError:
        # A node without a usable official URL aligns to its page in Blason.
        return {
            "type": ["Alignment"],
            "targetName": competency.label,
            "targetUrl": public_url,
            **({"targetCode": competency.code} if competency.code else {}),
            "targetFramework": framework.title,
            "targetType": "ext:CustomCompetency",
        }


def to_badges_alignment(alignment: dict[str, Any]) -> badges.Alignment:
    return badges.Alignment(
        target_name=alignment["targetName"],
        target_url=alignment["targetUrl"],
        target_description=alignment.get("targetDescription"),
        target_framework=alignment.get("targetFramework"),
        target_code=alignment.get("targetCode"),
        target_type=alignment.get("targetType"),
    )


def _competencies(session: Session, ids: Iterable[Any], pointer: str) -> list[tuple[Competency, Framework]]:
    wanted: list[uuid.UUID] = []
    for raw in ids:
        try:
            value = raw if isinstance(raw, uuid.UUID) else uuid.UUID(str(raw))
        except ValueError:
            raise InvalidInput(
                "Unknown competency.", errors=[FieldError(pointer, f"Not a competency id: {raw}.")]
            ) from None
        if value not in wanted:
            wanted.append(value)
    if not wanted:
        return []
    rows = {
        c.id: (c, f)
        for c, f in session.execute(
            select(Competency, Framework)
            .join(Framework, Framework.id == Competency.framework_id)
            .where(Competency.id.in_(wanted))
        )
    }
    missing = [str(i) for i in wanted if i not in rows]
    if missing:
        raise InvalidInput(
            "Unknown competency.", errors=[FieldError(pointer, f"Unknown competency: {m}.") for m in missing]
        )
    return [rows[i] for i in wanted]


# ---------------------------------------------------------------------------------------------
# Rules and result descriptions


def _rule(data: dict[str, Any] | None) -> dict[str, Any]:
    """Normalise and check an award rule."""
    rule = dict(data or {"type": "manual"})
    kind = rule.get("type", "manual")
    if kind not in RULE_TYPES:
        raise InvalidInput(
            "Unknown award rule.", errors=[FieldError("#/awardRule/type", "Use all, at_least or manual.")]
        )
    if kind == "manual":
        return {"type": "manual"}
    ids = [str(i) for i in rule.get("competency_ids") or rule.get("competencyIds") or []]
    if not ids:
        raise InvalidInput(
            "A rule needs competencies.",
            errors=[FieldError("#/awardRule/competencyIds", "Name at least one competency.")],
        )
    out: dict[str, Any] = {"type": kind, "competencyIds": list(dict.fromkeys(ids))}
    if kind == "at_least":
        k = rule.get("k")
        if not isinstance(k, int) or not 1 <= k <= len(out["competencyIds"]):
            raise InvalidInput(
                "k is out of range.",
                errors=[FieldError("#/awardRule/k", f"Between 1 and {len(out['competencyIds'])}.")],
            )
        out["k"] = k
    level = rule.get("min_level") or rule.get("minLevel")
    if level is not None:
        DEFAULT_SCALE.require(level, "#/awardRule/minLevel")
        out["minLevel"] = level
    hours = rule.get("min_hours") if "min_hours" in rule else rule.get("minHours")
    if hours is not None:
        if float(hours) < 0:
            raise InvalidInput("Hours are not negative.", errors=[FieldError("#/awardRule/minHours", "Not negative.")])
        out["minHours"] = float(hours)
    return out


def _result_descriptions(data: dict[str, Any] | None, rule: dict[str, Any]) -> list[dict[str, Any]]:
    """The level reached, as one ResultDescription (given, or the default scale's levels)."""
    if data:
        values = [str(v) for v in data.get("allowed_value") or data.get("allowedValue") or []]
        result_type = data.get("result_type") or data.get("resultType") or "PerformanceLevel"
        if result_type not in badges.credentials.RESULT_TYPES and not str(result_type).startswith("ext:"):
            raise InvalidInput(
                "Unknown result type.",
                errors=[FieldError("#/resultDescription/resultType", "An OB 3.0 resultType or an ext: term.")],
            )
        return [{"name": data["name"], "resultType": result_type, "allowedValue": values}]
    return [
        {
            "name": "Niveau atteint",
            "resultType": "PerformanceLevel",
            "allowedValue": [level.label_fr for level in DEFAULT_SCALE.levels],
        }
    ]


def level_label(code: str | None) -> str | None:
    level = DEFAULT_SCALE.get(code)
    return level.label_fr if level else code


# ---------------------------------------------------------------------------------------------
# Reading


@dataclass
class AchievementDetail:
    """An achievement with its current (or a given) version, as the API shows it."""

    id: uuid.UUID
    issuer_id: uuid.UUID
    current_version: int
    award_mode: str
    is_archived: bool
    version: int
    name: str
    description: str
    criteria: str
    achievement_type: str
    tags: list[Any]
    award_rule: dict[str, Any]
    result_descriptions: list[Any]
    valid_for_days: int | None
    image_sha256: str | None
    first_awarded_at: datetime | None
    alignments: list[dict[str, Any]]
    url: str
    image_url: str


def detail(
    session: Session, achievement: Achievement, urls: Urls, version: AchievementVersion | None = None
) -> AchievementDetail:
    row = version or current_version(session, achievement)
    return AchievementDetail(
        achievement.id,
        achievement.issuer_id,
        achievement.current_version,
        achievement.award_mode.value,
        achievement.is_archived,
        row.version,
        row.name,
        row.description,
        row.criteria_narrative,
        row.achievement_type,
        list(row.tags or []),
        dict(row.award_rule or {}),
        list(row.result_descriptions or []),
        row.valid_for_days,
        row.image_sha256,
        row.first_awarded_at,
        [
            a.alignment | {"competencyId": str(a.competency_id) if a.competency_id else None}
            for a in alignments_of(session, row.id)
        ],
        urls.achievement(achievement.id, row.version),
        urls.achievement_image(achievement.id, row.version),
    )


def get_achievement(session: Session, grants: Grants, achievement_id: uuid.UUID) -> Achievement:
    require_caller(grants)
    achievement = session.get(Achievement, achievement_id)
    if achievement is None:
        raise NotFound("Achievement not found.")
    return achievement


def current_version(session: Session, achievement: Achievement) -> AchievementVersion:
    version = session.scalar(
        select(AchievementVersion).where(
            AchievementVersion.achievement_id == achievement.id,
            AchievementVersion.version == achievement.current_version,
        )
    )
    assert version is not None
    return version


def alignments_of(session: Session, version_id: uuid.UUID) -> list[AchievementAlignment]:
    return list(
        session.scalars(
            select(AchievementAlignment)
            .where(AchievementAlignment.achievement_version_id == version_id)
            .order_by(AchievementAlignment.id)
        )
    )


def list_achievements(
    session: Session,
    grants: Grants,
    *,
    urls: Urls,
    issuer_id: uuid.UUID | None = None,
    page: int = 1,
    per_page: int = 20,
) -> Page[AchievementDetail]:
    require_caller(grants)
    stmt = (
        select(Achievement)
        .where(Achievement.is_archived.is_(False))
        .order_by(Achievement.created_at.desc(), Achievement.id)
    )
    if issuer_id:
        stmt = stmt.where(Achievement.issuer_id == issuer_id)
    found = paginate(session, stmt, page, per_page)
    return Page([detail(session, a, urls) for a in found.items], found.total, found.page, found.per_page)


def get_detail(session: Session, grants: Grants, achievement_id: uuid.UUID, *, urls: Urls) -> AchievementDetail:
    return detail(session, get_achievement(session, grants, achievement_id), urls)


def list_versions(
    session: Session, grants: Grants, achievement_id: uuid.UUID, *, urls: Urls, page: int = 1, per_page: int = 20
) -> Page[AchievementDetail]:
    """Every version, oldest first."""
    achievement = get_achievement(session, grants, achievement_id)
    versions = paginate(
        session,
        select(AchievementVersion)
        .where(AchievementVersion.achievement_id == achievement.id)
        .order_by(AchievementVersion.version),
        page,
        per_page,
    )
    return Page(
        [detail(session, achievement, urls, version) for version in versions.items], versions.total, page, per_page
    )


def ob3_achievement(
    achievement: Achievement, version: AchievementVersion, alignments: Iterable[AchievementAlignment], urls: Urls
) -> badges.Achievement:
    """The OB 3.0 Achievement of one version, exactly as credentials embed it."""
    achievement_url = urls.achievement(achievement.id, version.version)
    descriptions = tuple(
        badges.ResultDescription(
            id=urls.result_description(achievement.id, version.version),
            name=item["name"],
            result_type=item["resultType"],
            allowed_value=tuple(item.get("allowedValue") or ()),
        )
        for item in version.result_descriptions[:1]
    )
    return badges.Achievement(
        id=achievement_url,
        name=version.name,
        description=version.description,
        criteria=badges.Criteria(
            narrative=version.criteria_narrative or None, id=None if version.criteria_narrative else achievement_url
        ),
        achievement_type=version.achievement_type,
        alignments=tuple(to_badges_alignment(a.alignment) for a in alignments),
        result_descriptions=descriptions,
        image=badges.Image(urls.achievement_image(achievement.id, version.version)) if version.image_sha256 else None,
        tags=tuple(version.tags or ()),
        version=str(version.version),
        in_language="fr",
    )


# ---------------------------------------------------------------------------------------------
# Writing


def _check_type(value: str) -> str:
    if value not in badges.credentials.ACHIEVEMENT_TYPES and not value.startswith("ext:"):
        raise InvalidInput(
            "Unknown achievement type.",
            errors=[
                FieldError(
                    "#/achievementType", "An OB 3.0 achievementType (Badge, Competency, Certificate…) or an ext: term."
                )
            ],
        )
    return value


def _set_alignments(session: Session, version: AchievementVersion, competency_ids: list[Any], urls: Urls) -> None:
    for row in alignments_of(session, version.id):
        session.delete(row)
    for competency, framework in _competencies(session, competency_ids, "#/competencyIds"):
        session.add(
            AchievementAlignment(
                achievement_version_id=version.id,
                competency_id=competency.id,
                alignment=competency_alignment(competency, framework, urls),
            )
        )


def _set_rule_competencies(session: Session, version: AchievementVersion) -> None:
    for row in session.scalars(
        select(AwardRuleCompetency).where(AwardRuleCompetency.achievement_version_id == version.id)
    ):
        session.delete(row)
    session.flush()
    ids = version.award_rule.get("competencyIds") or []
    for competency, _framework in _competencies(session, ids, "#/awardRule/competencyIds"):
        session.add(AwardRuleCompetency(achievement_version_id=version.id, competency_id=competency.id))


def _mode(rule: dict[str, Any], requested: str | None, current: AwardMode | None = None) -> AwardMode:
    if rule["type"] == "manual":
        return AwardMode.MANUAL
    if requested is not None:
        if requested not in ("auto", "approval"):
            raise InvalidInput("Unknown award mode.", errors=[FieldError("#/awardMode", "Use auto or approval.")])
        return AwardMode(requested)
    return current if current not in (None, AwardMode.MANUAL) else AwardMode.APPROVAL


def create_achievement(
    session: Session,
    grants: Grants,
    issuer_id: uuid.UUID,
    data: dict[str, Any],
    *,
    storage: Storage,
    urls: Urls,
    clock: Callable[[], datetime] = utcnow,
) -> Achievement:
    """Create a badge class (version 1) with a generated image unless one is uploaded later."""
    issuer = session.get(Issuer, issuer_id)
    if issuer is None:
        raise InvalidInput("Unknown issuer.", errors=[FieldError("#/issuerId", "Unknown issuer.")])
    check_issuer_admin(grants, issuer.id)
    rule = _rule(data.get("award_rule"))
    achievement = Achievement(
        issuer_id=issuer.id, current_version=1, award_mode=_mode(rule, data.get("award_mode")), created_at=clock()
    )
    session.add(achievement)
    session.flush()
    image = images.store_image(
        session, storage, images.CheckedImage(images.default_badge_svg(data["name"], issuer.name), "image/svg+xml")
    )
    version = AchievementVersion(
        achievement_id=achievement.id,
        version=1,
        name=data["name"],
        description=data["description"],
        criteria_narrative=data.get("criteria") or "",
        achievement_type=_check_type(data.get("achievement_type") or "Badge"),
        tags=list(dict.fromkeys(data.get("tags") or [])),
        award_rule=rule,
        result_descriptions=_result_descriptions(data.get("result_description"), rule),
        valid_for_days=data.get("valid_for_days"),
        image_sha256=image,
        created_at=clock(),
    )
    if not version.criteria_narrative:
        raise InvalidInput("Say how the badge is earned.", errors=[FieldError("#/criteria", "Required.")])
    session.add(version)
    session.flush()
    _set_alignments(session, version, data.get("competency_ids") or [], urls)
    _set_rule_competencies(session, version)
    session.flush()
    audit.record(
        session,
        grants.actor,
        "achievement.created",
        "achievement",
        achievement.id,
        {"issuer": str(issuer.id), "name": version.name},
        clock=clock,
    )
    return achievement


def _next_version(
    session: Session, achievement: Achievement, version: AchievementVersion, clock: Callable[[], datetime]
) -> AchievementVersion:
    """The version to edit: the current one until it is awarded, then a copy numbered next."""
    if version.first_awarded_at is None:
        return version
    copy = AchievementVersion(
        achievement_id=achievement.id,
        version=version.version + 1,
        created_at=clock(),
        **{f: getattr(version, f) for f in VERSIONED_FIELDS},
    )
    session.add(copy)
    session.flush()
    for row in alignments_of(session, version.id):
        session.add(
            AchievementAlignment(
                achievement_version_id=copy.id, competency_id=row.competency_id, alignment=row.alignment
            )
        )
    for rule_row in session.scalars(
        select(AwardRuleCompetency).where(AwardRuleCompetency.achievement_version_id == version.id)
    ):
        session.add(AwardRuleCompetency(achievement_version_id=copy.id, competency_id=rule_row.competency_id))
    achievement.current_version = copy.version
    session.flush()
    return copy


def update_achievement(
    session: Session,
    grants: Grants,
    achievement_id: uuid.UUID,
    data: dict[str, Any],
    *,
    expected_version: int | None,
    urls: Urls,
    clock: Callable[[], datetime] = utcnow,
) -> Achievement:
    """Edit a badge class; after its first award the edit becomes a new version."""
    achievement = get_achievement(session, grants, achievement_id)
    check_issuer_admin(grants, achievement.issuer_id)
    check_version(achievement.lock_version, expected_version, "achievement")
    before = current_version(session, achievement)
    content = {k: v for k, v in data.items() if k not in ("award_mode", "is_archived")}
    if "award_mode" in data or "award_rule" in data:
        rule = _rule(data["award_rule"]) if "award_rule" in data else before.award_rule
        achievement.award_mode = _mode(rule, data.get("award_mode"), achievement.award_mode)
    if "is_archived" in data:
        achievement.is_archived = bool(data["is_archived"])
    if content:
        version = _next_version(session, achievement, before, clock)
        for name in ("name", "description"):
            if name in content:
                setattr(version, name, content[name])
        if "criteria" in content:
            version.criteria_narrative = content["criteria"]
        if "achievement_type" in content:
            version.achievement_type = _check_type(content["achievement_type"])
        if "tags" in content:
            version.tags = list(dict.fromkeys(content["tags"] or []))
        if "valid_for_days" in content:
            version.valid_for_days = content["valid_for_days"]
        if "award_rule" in content:
            version.award_rule = _rule(content["award_rule"])
            _set_rule_competencies(session, version)
        if "result_description" in content:
            version.result_descriptions = _result_descriptions(content["result_description"], version.award_rule)
        elif "award_rule" in content and not version.result_descriptions:
            version.result_descriptions = _result_descriptions(None, version.award_rule)
        if "competency_ids" in content:
            _set_alignments(session, version, content["competency_ids"] or [], urls)
    # Every edit moves the lock, even one that only rewrote the current version's row.
    flag_modified(achievement, "current_version")
    flush_versioned(session, "achievement")
    audit.record(
        session,
        grants.actor,
        "achievement.updated",
        "achievement",
        achievement.id,
        {"version": achievement.current_version, "fields": sorted(data)},
        clock=clock,
    )
    return achievement


def set_image(
    session: Session,
    grants: Grants,
    achievement_id: uuid.UUID,
    stream: BinaryIO,
    *,
    storage: Storage,
    max_bytes: int,
    clock: Callable[[], datetime] = utcnow,
) -> Achievement:
    """Replace the badge image with an uploaded PNG or SVG (checked defensively)."""
    achievement = get_achievement(session, grants, achievement_id)
    check_issuer_admin(grants, achievement.issuer_id)
    checked = images.check_image(stream, max_bytes)
    sha = images.store_image(session, storage, checked)
    version = _next_version(session, achievement, current_version(session, achievement), clock)
    version.image_sha256 = sha
    session.flush()
    audit.record(
        session,
        grants.actor,
        "achievement.image_set",
        "achievement",
        achievement.id,
        {"version": version.version, "sha256": sha, "mediaType": checked.media_type},
        clock=clock,
    )
    return achievement


def idempotency_key(version_id: uuid.UUID, learner_id: uuid.UUID) -> str:
    """One award per (achievement version, learner): re-sent requests and files award nobody twice."""
    return hashlib.sha256(f"{version_id}:{learner_id}".encode()).hexdigest()
