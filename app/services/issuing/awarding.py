"""Awarding: award rules, the consumer of standing events, manual awards and approvals.

Every award goes through the same idempotency key (achievement version + learner), unique per
issuer in the database: a learner receives one credential per achievement version, whether it
comes from a rule, an issuer admin, or a file sent twice. A second manual award of the same
version is refused with 409 naming the existing credential.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import badges
from app.models import (
    Achievement,
    AchievementAlignment,
    AchievementVersion,
    AwardMode,
    AwardRuleCompetency,
    Claim,
    ClaimStatus,
    Contribution,
    Credential,
    CredentialState,
    DomainEvent,
    Evidence,
    EvidenceKind,
    Issuer,
    Person,
    Project,
    Standing,
    Visibility,
)
from app.platform.errors import Conflict, FieldError, InvalidInput, NotFound, PermissionDenied, ServiceError
from app.platform.pagination import Page, paginate
from app.platform.urls import Urls
from app.services.identity import audit
from app.services.identity.access import Grants
from app.services.issuing import achievements as achievement_service, award_scope, validations
from app.services.issuing.keys import check_issuer_admin, require_caller
from app.services.issuing.signing import Issuance, IssuingSettings, new_credential
from app.services.recognition.scales import DEFAULT_SCALE
from app.services.recognition.standing import ScopedStanding, standings_within

log = logging.getLogger(__name__)

STANDING_CHANGED = "standing.changed"  # written by app.services.recognition.standing
MAX_EVIDENCE = 40


# ---------------------------------------------------------------------------------------------
# Rules


@dataclass
class RuleOutcome:
    satisfied: bool
    level: str | None = None  # the lowest level among the competencies that count
    hours: float = 0.0
    competency_ids: list[uuid.UUID] = field(default_factory=list)


def _level_ok(standing: Standing | ScopedStanding, min_level: str | None) -> bool:
    if standing.state != "validated":
        return False
    if min_level is None:
        return bool(standing.proficient)
    wanted, got = DEFAULT_SCALE.rank(min_level), DEFAULT_SCALE.rank(standing.level)
    if wanted is None:
        return bool(standing.proficient)
    if got is None:  # a level of another scale: only its proficiency can be compared
        level = DEFAULT_SCALE.get(min_level)
        return bool(standing.proficient) and (level is None or level.proficient)
    return got >= wanted


def _hours(
    session: Session,
    learner_id: uuid.UUID,
    competency_ids: Iterable[uuid.UUID],
    territories: set[uuid.UUID] | None = None,
) -> float:
    """Hours of the distinct contributions behind the learner's validated claims on these competencies."""
    behind = select(Claim.contribution_id).where(
        Claim.learner_id == learner_id,
        Claim.competency_id.in_(list(competency_ids)),
        Claim.status == ClaimStatus.VALIDATED,
    )
    if territories is not None:
        behind = behind.where(Claim.project_id.in_(award_scope.projects_in(territories)))
    total = session.scalar(select(func.sum(Contribution.hours)).where(Contribution.id.in_(behind)))
    return float(total or Decimal(0))


def evaluate_rule(
    session: Session, rule: dict[str, Any], learner_id: uuid.UUID, *, territories: set[uuid.UUID] | None = None
) -> RuleOutcome:
    """Whether the learner's standings satisfy an award rule (manual rules never do).

    With ``territories``, only the standings as those territories' reviews make them count.
    """
    if rule.get("type") not in ("all", "at_least"):
        return RuleOutcome(False)
    ids = [uuid.UUID(i) for i in rule.get("competencyIds") or []]
    standings: list[Standing | ScopedStanding]
    if territories is None:
        standings = list(
            session.scalars(select(Standing).where(Standing.learner_id == learner_id, Standing.competency_id.in_(ids)))
        )
    else:
        standings = list(standings_within(session, learner_id, territories, competency_ids=ids).values())
    counting = [s for s in standings if _level_ok(s, rule.get("minLevel"))]
    needed = len(ids) if rule["type"] == "all" else int(rule.get("k") or len(ids))
    if len(counting) < needed:
        return RuleOutcome(False)
    hours = _hours(session, learner_id, [s.competency_id for s in counting], territories)
    if rule.get("minHours") is not None and hours < float(rule["minHours"]):
        return RuleOutcome(False, hours=hours)
    ranked = [(DEFAULT_SCALE.rank(s.level), s.level) for s in counting]
    known = [r for r in ranked if r[0] is not None]
    level = min(known)[1] if known else (counting[0].level if counting else None)
    return RuleOutcome(True, level, hours, [s.competency_id for s in counting])


# ---------------------------------------------------------------------------------------------
# Evidence and result


def gather_award_data(
    session: Session,
    learner_id: uuid.UUID,
    competency_ids: Iterable[uuid.UUID],
    urls: Urls,
    *,
    evidence_url: str | None = None,
    narrative: str | None = None,
    level: str | None = None,
    territories: set[uuid.UUID] | None = None,
) -> dict[str, Any]:
    """The credential's evidence (contributions and their public evidence), result (level) and validations.

    With ``territories``, only the contributions made in those territories' projects.
    """
    ids = list(competency_ids)
    evidence: list[dict[str, Any]] = []
    if ids:
        behind = select(Claim.contribution_id).where(
            Claim.learner_id == learner_id, Claim.competency_id.in_(ids), Claim.status == ClaimStatus.VALIDATED
        )
        if territories is not None:
            behind = behind.where(Claim.project_id.in_(award_scope.projects_in(territories)))
        contributions = list(
            session.scalars(
                select(Contribution)
                .where(Contribution.id.in_(behind))
                .order_by(Contribution.created_at, Contribution.id)
            )
        )
        projects = (
            {
                p.id: p
                for p in session.scalars(select(Project).where(Project.id.in_({c.project_id for c in contributions})))
            }
            if contributions
            else {}
        )
        for contribution in contributions:
            # The contribution's first-person narrative stays private: title, project, role and
            # hours say what was done without publishing the learner's own words.
            parts = [f"Projet : {projects[contribution.project_id].title}"]
            if contribution.role:
                parts.append(f"rôle : {contribution.role}")
            if contribution.hours:
                parts.append(f"{contribution.hours.normalize():f} h")
            evidence.append({"name": contribution.title, "description": ", ".join(parts), "genre": "Contribution"})
        for item in session.scalars(
            select(Evidence)
            .where(
                Evidence.contribution_id.in_([c.id for c in contributions]), Evidence.visibility == Visibility.PUBLIC
            )
            .order_by(Evidence.created_at, Evidence.id)
        ):
            if item.kind is EvidenceKind.LINK and item.url:
                evidence.append({"id": item.url, "name": item.title, "genre": "Lien"})
            elif item.kind is EvidenceKind.FILE:
                evidence.append({"id": urls.evidence(item.id), "name": item.title, "genre": "Fichier"})
            elif item.kind is EvidenceKind.TEXT and item.text:
                evidence.append({"name": item.title, "narrative": item.text[:4000], "genre": "Texte"})
    if evidence_url:
        evidence.append({"id": evidence_url, "name": "Preuve"})
    out: dict[str, Any] = {"evidence": evidence[:MAX_EVIDENCE]}
    # Who validated each competency, as of now: the public page shows it, unchanged by later reviews.
    out["validations"] = validations.validations(session, learner_id, ids, territories=territories)
    if level:
        out["result"] = achievement_service.level_label(level)
        out["level"] = level
    if narrative:
        out["narrative"] = narrative
    return out


def _competencies_for(session: Session, version: AchievementVersion) -> list[uuid.UUID]:
    """The rule's competencies, or the aligned ones for manual achievements."""
    ids = [
        c
        for c in session.scalars(
            select(AwardRuleCompetency.competency_id).where(AwardRuleCompetency.achievement_version_id == version.id)
        )
    ]
    if ids:
        return ids
    return [
        c
        for c in session.scalars(
            select(AchievementAlignment.competency_id).where(AchievementAlignment.achievement_version_id == version.id)
        )
        if c is not None
    ]


def _existing(session: Session, issuer_id: uuid.UUID, key: str) -> Credential | None:
    return session.scalar(
        select(Credential).where(Credential.issuer_id == issuer_id, Credential.idempotency_key == key)
    )


def _save(session: Session, credential: Credential) -> None:
    """Insert the award; a concurrent award of the same version to the same learner is a 409."""
    try:
        with session.begin_nested():
            session.add(credential)
    except IntegrityError:
        raise Conflict("This achievement version was just awarded to this learner.") from None


# ---------------------------------------------------------------------------------------------
# Manual award, approval


@dataclass
class CredentialView:
    """A credential row with its public URLs (attributes of the row read through)."""

    credential: Credential
    verification_url: str
    short_url: str
    ob2_assertion_url: str

    def __getattr__(self, name: str) -> Any:
        return getattr(self.credential, name)


def view(credential: Credential, urls: Urls) -> CredentialView:
    return CredentialView(
        credential, urls.credential(credential.id), urls.short(credential.short_code), urls.ob2_assertion(credential.id)
    )


def find_learner(
    session: Session, data: dict[str, Any], pointer: str = "#", *, reach: Callable[[Person], bool] | None = None
) -> Person:
    """The learner named by id or e-mail address; an unknown one is a 422 naming the field.

    A person out of ``reach`` gets the very same answer as an unknown one.
    """
    learner = None
    if data.get("learner_id"):
        learner = session.get(Person, data["learner_id"])
        field_name = "learnerId"
    elif data.get("email"):
        learner = session.scalar(select(Person).where(func.lower(Person.email) == str(data["email"]).strip().lower()))
        field_name = "email"
    else:
        raise InvalidInput(
            "Name the learner.", errors=[FieldError(f"{pointer}/learnerId", "learnerId or email is required.")]
        )
    if learner is None or not learner.is_active or (reach is not None and not reach(learner)):
        raise InvalidInput(
            "Unknown learner.", errors=[FieldError(f"{pointer}/{field_name}", "No active person has it.")]
        )
    return learner


def award(
    session: Session, grants: Grants, achievement_id: uuid.UUID, data: dict[str, Any], *, settings: IssuingSettings
) -> Credential:
    """An issuer admin awards the current version to a learner, issued at once in every format."""
    achievement = session.get(Achievement, achievement_id)
    if achievement is None:
        raise NotFound("Achievement not found.")
    check_issuer_admin(grants, achievement.issuer_id)
    if achievement.is_archived:
        raise Conflict("This achievement is archived.")
    version = achievement_service.current_version(session, achievement)
    issuer = session.get(Issuer, achievement.issuer_id)
    assert issuer is not None
    learner = find_learner(
        session, data, reach=lambda person: bool(award_scope.reachable(session, grants, issuer, [person.id]))
    )
    territories = award_scope.award_territories(session, issuer, grants)
    level = data.get("result_level")
    if level is not None:
        DEFAULT_SCALE.require(level, "#/resultLevel")
    key = achievement_service.idempotency_key(version.id, learner.id)
    existing = _existing(session, achievement.issuer_id, key)
    if existing is not None:
        raise Conflict(
            f"This learner already has this achievement version (credential {existing.id}, {existing.state.value})."
        )
    competencies = _competencies_for(session, version)
    if level is None and competencies:
        level = evaluate_rule(
            session,
            {"type": "at_least", "k": 1, "competencyIds": [str(c) for c in competencies]},
            learner.id,
            territories=territories,
        ).level
    award_data = gather_award_data(
        session,
        learner.id,
        competencies,
        settings.urls,
        evidence_url=data.get("evidence_url"),
        narrative=data.get("narrative"),
        level=level,
        territories=territories,
    )
    credential = new_credential(
        issuer_id=achievement.issuer_id,
        version=version,
        learner=learner,
        origin="manual",
        award_data=award_data,
        created_by_id=grants.actor.author_id,
    )
    issuance = Issuance.for_issuer(session, achievement.issuer_id, settings)
    issuance.issue(credential, learner, version)
    _save(session, credential)
    issuance.finish()
    audit.record(
        session,
        grants.actor,
        "credential.issued",
        "credential",
        credential.id,
        {
            "achievement": str(achievement.id),
            "version": version.version,
            "learner": str(learner.id),
            "origin": "manual",
        },
        clock=settings.clock,
    )
    return credential


def get_credential(session: Session, grants: Grants, credential_id: uuid.UUID) -> Credential:
    """A credential, for its issuer's admins and its learner (or their facilitator)."""
    require_caller(grants)
    credential = session.get(Credential, credential_id)
    if credential is None or not (
        grants.platform_admin
        or credential.issuer_id in grants.issuer_admin_of
        or credential.learner_id == grants.actor.id
    ):
        raise NotFound("Credential not found.")
    return credential


def managed_credential(session: Session, grants: Grants, credential_id: uuid.UUID) -> Credential:
    """A credential the caller administers (issuer admin), locked for the decision."""
    require_caller(grants)
    credential = session.scalar(select(Credential).where(Credential.id == credential_id).with_for_update())
    if credential is None or not (
        grants.platform_admin
        or credential.issuer_id in grants.issuer_admin_of
        or credential.learner_id == grants.actor.id
    ):
        raise NotFound("Credential not found.")
    check_issuer_admin(grants, credential.issuer_id)
    return credential


def approve(session: Session, grants: Grants, credential_id: uuid.UUID, *, settings: IssuingSettings) -> Credential:
    """Issue a proposed award, with the evidence and result it was proposed with."""
    credential = managed_credential(session, grants, credential_id)
    if credential.state is not CredentialState.PROPOSED:
        raise Conflict(f"Only a proposed award can be approved (this one is {credential.state.value}).")
    version = session.get(AchievementVersion, credential.achievement_version_id)
    learner = session.get(Person, credential.learner_id)
    assert version is not None and learner is not None
    issuance = Issuance.for_issuer(session, credential.issuer_id, settings)
    issuance.issue(credential, learner, version)
    issuance.finish()
    audit.record(
        session,
        grants.actor,
        "credential.issued",
        "credential",
        credential.id,
        {"learner": str(learner.id), "origin": credential.origin, "approved": True},
        clock=settings.clock,
    )
    return credential


def decline(
    session: Session, grants: Grants, credential_id: uuid.UUID, reason: str, *, settings: IssuingSettings
) -> Credential:
    """Turn a proposal down; the learner is not proposed this version again."""
    credential = managed_credential(session, grants, credential_id)
    if credential.state is not CredentialState.PROPOSED:
        raise Conflict(f"Only a proposed award can be declined (this one is {credential.state.value}).")
    credential.state, credential.status_reason = CredentialState.DECLINED, reason
    session.flush()
    audit.record(
        session,
        grants.actor,
        "credential.declined",
        "credential",
        credential.id,
        {"reason": reason},
        clock=settings.clock,
    )
    return credential


def list_credentials(
    session: Session,
    grants: Grants,
    *,
    issuer_id: uuid.UUID | None = None,
    achievement_id: uuid.UUID | None = None,
    state: str | None = None,
    learner_id: uuid.UUID | None = None,
    page: int = 1,
    per_page: int = 20,
    urls: Urls,
) -> Page[CredentialView]:
    """Credentials of the issuers the caller administers (all for platform admins)."""
    require_caller(grants)
    stmt = select(Credential).order_by(Credential.awarded_at.desc(), Credential.id)
    if not grants.platform_admin:
        stmt = stmt.where(Credential.issuer_id.in_(grants.issuer_admin_of))
    if issuer_id:
        stmt = stmt.where(Credential.issuer_id == issuer_id)
    if achievement_id:
        stmt = stmt.where(
            Credential.achievement_version_id.in_(
                select(AchievementVersion.id).where(AchievementVersion.achievement_id == achievement_id)
            )
        )
    if state:
        stmt = stmt.where(Credential.state == CredentialState(state))
    if learner_id:
        stmt = stmt.where(Credential.learner_id == learner_id)
    found = paginate(session, stmt, page, per_page)
    return Page([view(c, urls) for c in found.items], found.total, found.page, found.per_page)


# ---------------------------------------------------------------------------------------------
# The consumer of standing events


@dataclass
class EventReport:
    """What one batch of standing events led to."""

    events: int = 0
    processed: int = 0
    failed: int = 0
    issued: list[uuid.UUID] = field(default_factory=list)
    proposed: list[uuid.UUID] = field(default_factory=list)


def _candidates(session: Session, competency_id: uuid.UUID) -> list[tuple[Achievement, AchievementVersion]]:
    """Current versions of automatic achievements whose rule looks at this competency."""
    rows = session.execute(
        select(Achievement, AchievementVersion)
        .join(
            AchievementVersion,
            (AchievementVersion.achievement_id == Achievement.id)
            & (AchievementVersion.version == Achievement.current_version),
        )
        .join(AwardRuleCompetency, AwardRuleCompetency.achievement_version_id == AchievementVersion.id)
        .where(
            AwardRuleCompetency.competency_id == competency_id,
            Achievement.award_mode != AwardMode.MANUAL,
            Achievement.is_archived.is_(False),
        )
        .order_by(Achievement.created_at, Achievement.id)
    )
    return [(a, v) for a, v in rows]


def _handle(
    session: Session,
    event: DomainEvent,
    issuances: dict[uuid.UUID, Issuance],
    settings: IssuingSettings,
    report: EventReport,
) -> None:
    payload = event.payload or {}
    try:
        learner_id, competency_id = uuid.UUID(payload["learner"]), uuid.UUID(payload["competency"])
    except (KeyError, ValueError, TypeError):
        log.warning("standing event %s has no usable learner/competency; skipped", event.id)
        return
    if payload.get("state") not in (None, "validated"):
        return  # a rejection or a request for evidence awards nothing
    learner = session.get(Person, learner_id)
    if learner is None or not learner.is_active:
        return
    for achievement, version in _candidates(session, competency_id):
        key = achievement_service.idempotency_key(version.id, learner.id)
        if _existing(session, achievement.issuer_id, key) is not None:
            continue
        issuer = session.get(Issuer, achievement.issuer_id)
        assert issuer is not None
        # A territory's issuer counts only what was validated in its territory.
        territories = award_scope.award_territories(session, issuer, None)
        outcome = evaluate_rule(session, version.award_rule, learner.id, territories=territories)
        if not outcome.satisfied:
            continue
        data = gather_award_data(
            session, learner.id, outcome.competency_ids, settings.urls, level=outcome.level, territories=territories
        )
        credential = new_credential(
            issuer_id=achievement.issuer_id,
            version=version,
            learner=learner,
            origin="auto",
            award_data=data,
            created_by_id=None,
        )
        if achievement.award_mode is AwardMode.AUTO:
            issuance = issuances.get(achievement.issuer_id)
            if issuance is None:
                issuance = issuances[achievement.issuer_id] = Issuance.for_issuer(
                    session, achievement.issuer_id, settings
                )
            issuance.issue(credential, learner, version)
        session.add(credential)
        session.flush()
        action = "credential.issued" if credential.state is CredentialState.ISSUED else "credential.proposed"
        audit.record(
            session,
            None,
            action,
            "credential",
            credential.id,
            {
                "achievement": str(achievement.id),
                "version": version.version,
                "learner": str(learner.id),
                "origin": "auto",
                "event": event.id,
            },
            clock=settings.clock,
        )
        (report.issued if credential.state is CredentialState.ISSUED else report.proposed).append(credential.id)


def run_award_events(session: Session, grants: Grants, *, settings: IssuingSettings, limit: int = 100) -> EventReport:
    """Process a batch on request (platform admins; the CLI and the review hook call the function below)."""
    require_caller(grants)
    if not grants.platform_admin:
        raise PermissionDenied("Only platform administrators run the award queue by hand.")
    return process_award_events(session, settings=settings, limit=limit)


def process_award_events(session: Session, *, settings: IssuingSettings, limit: int = 100) -> EventReport:
    """Consume one batch of unprocessed ``standing.changed`` events, oldest first.

    Events are read in id order and locked (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
    several workers share the queue without taking the same event); each is handled in a
    savepoint and marked processed in the same transaction as the awards it led to, so a
    committed batch misses none and awards none twice. An event whose handling fails stays
    unprocessed and is retried by the next run. Flushes, never commits: commit per batch.
    """
    stmt = (
        select(DomainEvent)
        .where(DomainEvent.kind == STANDING_CHANGED, DomainEvent.processed_at.is_(None))
        .order_by(DomainEvent.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    events = list(session.scalars(stmt))
    report = EventReport(events=len(events))
    issuances: dict[uuid.UUID, Issuance] = {}
    now = settings.clock()
    for event in events:
        try:
            with session.begin_nested():
                _handle(session, event, issuances, settings, report)
        except (ServiceError, badges.BadgeError, IntegrityError) as exc:
            log.warning("standing event %s not processed (%s); it will be retried", event.id, type(exc).__name__)
            report.failed += 1
            continue
        event.processed_at = now
        report.processed += 1
    for issuance in issuances.values():
        issuance.finish()
    session.flush()
    return report
