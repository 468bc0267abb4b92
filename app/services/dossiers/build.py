"""What a jury dossier says, gathered once from the database: bloc → compétence → evidence.

State of each compétence (France VAE's YES / PARTIALLY / NO), derived from the learner's standing:

* ``acquis`` — the standing is proficient (validated at *acquis* or above on the scale in force);
* ``partiellement`` — a standing exists but is not proficient (validated below proficiency, e.g.
  *en cours d'acquisition*, or claims still under review with a decision asking for evidence);
* ``non`` — no standing, or only rejections.

A bloc whose compétences could not be parsed from the RNCP text (it has no children) counts as
one compétence itself, so its published text still reaches the jury. Only evidence whose
visibility is ``jury`` or ``public`` is included (never ``private`` nor ``tutors``); each gets an
annex number (A001, A002…) in order of first appearance.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import (
    AchievementAlignment,
    AchievementVersion,
    Claim,
    ClaimStatus,
    Competency,
    Contribution,
    Credential,
    CredentialState,
    Decision,
    Dossier,
    Evidence,
    EvidenceKind,
    Framework,
    Issuer,
    Person,
    Project,
    Review,
    Standing,
    StoredFile,
    Territory,
    Visibility,
)
from app.platform.filenames import slug
from app.platform.storage import Storage
from app.platform.urls import Urls
from app.services.recognition.scales import DEFAULT_SCALE

JURY_VISIBLE = (Visibility.JURY, Visibility.PUBLIC)
_T = TypeVar("_T")
STATES = ("acquis", "partiellement", "non")
EXTENSIONS = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/gif": "gif",
    "image/webp": "webp",
    "application/pdf": "pdf",
    "text/plain": "txt",
    "video/mp4": "mp4",
    "audio/mpeg": "mp3",
    "audio/ogg": "ogg",
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/vnd.oasis.opendocument.presentation": "odp",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
}


@dataclass
class Annex:
    number: str
    evidence_id: uuid.UUID
    contribution_id: uuid.UUID
    title: str
    kind: str
    visibility: str
    media_type: str | None = None
    size: int | None = None
    sha256: str | None = None
    filename: str | None = None
    url: str | None = None
    text: str | None = None
    path: str | None = None  # inside the ZIP; None for links
    missing: bool = False
    crc32: int | None = None  # of the stored file, recorded at upload (None: not known)


@dataclass
class Validation:
    reviewer: str
    decided_at: datetime
    decision: str
    level: str | None
    level_label: str | None
    comment: str


@dataclass
class Support:
    contribution_id: uuid.UUID
    title: str
    project: str
    territory: str
    role: str
    start_date: date | None
    end_date: date | None
    hours: float | None
    narrative: str
    claim_status: str
    justification: str
    self_assessment: str | None
    annexes: list[str] = field(default_factory=list)
    validations: list[Validation] = field(default_factory=list)


@dataclass
class BadgeRef:
    credential_id: uuid.UUID
    name: str
    issuer: str
    awarded_at: datetime
    verification_url: str
    short_url: str


@dataclass
class CompetenceEntry:
    id: uuid.UUID
    code: str | None
    label: str
    raw_text: str | None
    depth: int
    state: str
    level: str | None
    level_label: str | None
    supports: list[Support] = field(default_factory=list)
    badges: list[BadgeRef] = field(default_factory=list)


@dataclass
class BlocEntry:
    id: uuid.UUID
    code: str | None
    label: str
    raw_text: str | None
    evaluation: str | None
    competences: list[CompetenceEntry] = field(default_factory=list)
    badges: list[BadgeRef] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(STATES, 0)
        for competence in self.competences:
            out[competence.state] += 1
        return out


@dataclass
class Certification:
    id: uuid.UUID
    code: str | None
    title: str
    level: str | None
    level_label: str | None
    framework_id: uuid.UUID
    framework_version: int
    version_label: str | None
    url: str | None


@dataclass
class DossierContent:
    dossier_id: uuid.UUID
    generated_at: datetime
    candidate_id: uuid.UUID
    candidate_name: str
    certification: Certification
    partial: bool
    blocs: list[BlocEntry]
    certification_badges: list[BadgeRef]
    annexes: list[Annex]
    credential_ids: list[uuid.UUID]

    @property
    def gaps(self) -> list[Annex]:
        return [a for a in self.annexes if a.missing]


def state_of(standing: Standing | None) -> str:
    if standing is None or standing.state == Decision.REJECTED.value:
        return "non"
    return "acquis" if standing.proficient else "partiellement"


def level_label(code: str | None) -> str | None:
    level = DEFAULT_SCALE.get(code) if code else None
    return level.label_fr if level else code


def annex_name(title: str) -> str:
    """The file-name part of an annex or evidence item in a dossier archive."""
    return slug(title, fallback="piece", limit=40)


def fiche_tree(session: Session, fiche: Competency) -> tuple[list[Competency], dict[uuid.UUID, list[Competency]]]:
    """The fiche's blocs (in order) and every node's children (in order), in one query."""
    nodes = list(session.scalars(select(Competency).where(Competency.framework_id == fiche.framework_id)))
    children: dict[uuid.UUID, list[Competency]] = {}
    for node in nodes:
        if node.parent_id is not None:
            children.setdefault(node.parent_id, []).append(node)
    for items in children.values():
        items.sort(key=lambda c: (c.position, c.code or "", str(c.id)))
    blocs = [c for c in children.get(fiche.id, []) if c.kind == "bloc"]
    return blocs, children


def competences_of(bloc: Competency, children: dict[uuid.UUID, list[Competency]]) -> list[tuple[Competency, int]]:
    """A bloc's compétences in reading order, with their depth; the bloc itself when it has none."""
    out: list[tuple[Competency, int]] = []

    def walk(node: Competency, depth: int) -> None:
        for child in children.get(node.id, []):
            out.append((child, depth))
            walk(child, depth + 1)

    walk(bloc, 0)
    return out or [(bloc, 0)]


@dataclass
class _Rows:
    """What the dossier is made of, loaded in a fixed number of queries, indexed for assembly."""

    standings: dict[uuid.UUID, Standing]
    claims: dict[uuid.UUID, list[Claim]]  # by compétence
    contributions: dict[uuid.UUID, Contribution]
    projects: dict[uuid.UUID, Project]
    territories: dict[uuid.UUID, Territory]
    reviews: dict[uuid.UUID, list[Review]]  # final reviews, by claim
    people: dict[uuid.UUID, str]
    evidence: dict[uuid.UUID, list[Evidence]]  # jury-visible, by contribution
    badges: dict[uuid.UUID, list[BadgeRef]]
    checksums: dict[str, int | None] = field(default_factory=dict)  # CRC-32 of stored files, by SHA-256
    annexes: dict[uuid.UUID, Annex] = field(default_factory=dict)


def build_content(session: Session, dossier: Dossier, *, storage: Storage, urls: Urls, now: datetime) -> DossierContent:
    """Gather everything the dossier shows, in a fixed number of queries."""
    fiche = session.get(Competency, dossier.certification_id)
    learner = session.get(Person, dossier.learner_id)
    assert fiche is not None and learner is not None
    framework = session.get(Framework, fiche.framework_id)
    assert framework is not None
    all_blocs, children = fiche_tree(session, fiche)
    wanted = {str(b) for b in dossier.bloc_ids or []}
    blocs = [b for b in all_blocs if not wanted or str(b.id) in wanted]
    competences = {b.id: competences_of(b, children) for b in blocs}
    ids = {c.id for pairs in competences.values() for c, _ in pairs}
    rows = _load(session, learner.id, ids)
    rows.badges = _badges(session, learner.id, ids | {b.id for b in blocs} | {fiche.id}, urls)
    entries = [_bloc_entry(bloc, competences[bloc.id], rows, storage) for bloc in blocs]
    nomenclature: dict[str, Any] = (fiche.meta or {}).get("level") or {}
    certification = Certification(
        fiche.id,
        fiche.code,
        fiche.label,
        nomenclature.get("code"),
        nomenclature.get("label"),
        framework.id,
        framework.version,
        framework.version_label,
        fiche.uri or framework.uri,
    )
    credential_ids = sorted({b.credential_id for refs in rows.badges.values() for b in refs}, key=str)
    return DossierContent(
        dossier.id,
        now,
        learner.id,
        learner.display_name,
        certification,
        len(blocs) < len(all_blocs),
        entries,
        rows.badges.get(fiche.id, []),
        list(rows.annexes.values()),
        credential_ids,
    )  # numbered in insertion order


def _load(session: Session, learner_id: uuid.UUID, ids: set[uuid.UUID]) -> _Rows:
    if not ids:
        return _Rows({}, {}, {}, {}, {}, {}, {}, {}, {})
    standings = {
        s.competency_id: s
        for s in session.scalars(
            select(Standing).where(Standing.learner_id == learner_id, Standing.competency_id.in_(ids))
        )
    }
    claims = list(
        session.scalars(
            select(Claim)
            .where(
                Claim.learner_id == learner_id,
                Claim.competency_id.in_(ids),
                Claim.status.in_((ClaimStatus.VALIDATED, ClaimStatus.PENDING, ClaimStatus.NEEDS_EVIDENCE)),
            )
            .order_by(Claim.created_at, Claim.id)
        )
    )
    contribution_ids = {c.contribution_id for c in claims}
    contributions = (
        {c.id: c for c in session.scalars(select(Contribution).where(Contribution.id.in_(contribution_ids)))}
        if contribution_ids
        else {}
    )
    projects = (
        {
            p.id: p
            for p in session.scalars(
                select(Project).where(Project.id.in_({c.project_id for c in contributions.values()}))
            )
        }
        if contributions
        else {}
    )
    territories = (
        {
            t.id: t
            for t in session.scalars(
                select(Territory).where(Territory.id.in_({p.territory_id for p in projects.values()}))
            )
        }
        if projects
        else {}
    )
    reviews = (
        _group(
            session.scalars(
                select(Review)
                .where(Review.claim_id.in_([c.id for c in claims]), Review.final.is_(True))
                .order_by(Review.created_at, Review.id)
            ),
            "claim_id",
        )
        if claims
        else {}
    )
    people = (
        {
            p.id: p.display_name
            for p in session.scalars(
                select(Person).where(Person.id.in_({r.reviewer_id for rs in reviews.values() for r in rs}))
            )
        }
        if reviews
        else {}
    )
    evidence = (
        _group(
            session.scalars(
                select(Evidence)
                .where(Evidence.contribution_id.in_(contribution_ids), Evidence.visibility.in_(JURY_VISIBLE))
                .order_by(Evidence.created_at, Evidence.id)
            ),
            "contribution_id",
        )
        if contribution_ids
        else {}
    )
    shas = {e.file_sha256 for pieces in evidence.values() for e in pieces if e.file_sha256}
    checksums = (
        dict(session.execute(select(StoredFile.sha256, StoredFile.crc32).where(StoredFile.sha256.in_(shas))).all())
        if shas
        else {}
    )
    return _Rows(
        standings,
        _group(claims, "competency_id"),
        contributions,
        projects,
        territories,
        reviews,
        people,
        evidence,
        {},
        checksums,
    )


def _group(items: Iterable[_T], key: str) -> dict[uuid.UUID, list[_T]]:
    out: dict[uuid.UUID, list[_T]] = {}
    for item in items:
        out.setdefault(getattr(item, key), []).append(item)
    return out


def _bloc_entry(
    bloc: Competency, competences: list[tuple[Competency, int]], rows: _Rows, storage: Storage
) -> BlocEntry:
    entry = BlocEntry(
        bloc.id,
        bloc.code,
        bloc.label,
        bloc.raw_text,
        (bloc.meta or {}).get("modalites_evaluation"),
        badges=rows.badges.get(bloc.id, []),
    )
    for competency, depth in competences:
        standing = rows.standings.get(competency.id)
        held = standing.level if standing else None
        itself = competency.id == bloc.id  # a bloc without parsed compétences stands for itself
        item = CompetenceEntry(
            competency.id,
            competency.code,
            competency.label,
            None if itself else competency.raw_text,
            depth,
            state_of(standing),
            held,
            level_label(held),
            badges=[] if itself else rows.badges.get(competency.id, []),
        )
        item.supports = [_support(claim, rows, storage) for claim in rows.claims.get(competency.id, [])]
        entry.competences.append(item)
    return entry


def _support(claim: Claim, rows: _Rows, storage: Storage) -> Support:
    contribution = rows.contributions[claim.contribution_id]
    project = rows.projects[contribution.project_id]
    territory = rows.territories.get(project.territory_id)
    hours = contribution.hours
    return Support(
        contribution.id,
        contribution.title,
        project.title,
        territory.name if territory else "",
        contribution.role,
        contribution.start_date,
        contribution.end_date,
        float(hours) if isinstance(hours, Decimal) else hours,
        contribution.narrative,
        claim.status.value,
        claim.justification,
        claim.self_assessment,
        _annex_numbers(contribution.id, rows, storage),
        [
            Validation(
                rows.people.get(r.reviewer_id, "?"),
                r.created_at,
                r.decision.value,
                r.level,
                level_label(r.level),
                r.comment,
            )
            for r in rows.reviews.get(claim.id, [])
        ],
    )


def _annex_numbers(contribution_id: uuid.UUID, rows: _Rows, storage: Storage) -> list[str]:
    """Number evidence in order of first appearance (A001, A002…)."""
    numbers = []
    for piece in rows.evidence.get(contribution_id, []):
        if piece.id not in rows.annexes:
            rows.annexes[piece.id] = _annex(piece, len(rows.annexes) + 1, storage)
            rows.annexes[piece.id].crc32 = rows.checksums.get(piece.file_sha256 or "")
        numbers.append(rows.annexes[piece.id].number)
    return numbers


def _annex(item: Evidence, index: int, storage: Storage) -> Annex:
    number = f"A{index:03d}"
    annex = Annex(
        number,
        item.id,
        item.contribution_id,
        item.title,
        item.kind.value,
        item.visibility.value,
        media_type=item.media_type,
        size=item.size,
        sha256=item.file_sha256,
        filename=item.filename,
        url=item.url,
        text=item.text,
    )
    if item.kind is EvidenceKind.FILE:
        annex.path = f"annexes/{number}-{annex_name(item.title)}.{EXTENSIONS.get(item.media_type or '', 'bin')}"
        annex.missing = not item.file_sha256 or not storage.exists(item.file_sha256)
    elif item.kind is EvidenceKind.TEXT:
        annex.path = f"annexes/{number}-{annex_name(item.title)}.txt"
        annex.media_type, annex.size = "text/plain", len((item.text or "").encode())
    return annex


def _badges(
    session: Session, learner_id: uuid.UUID, competency_ids: set[uuid.UUID], urls: Urls
) -> dict[uuid.UUID, list[BadgeRef]]:
    """The learner's issued credentials whose achievement version is aligned to these nodes."""
    rows = session.execute(
        select(AchievementAlignment.competency_id, Credential, AchievementVersion.name, Issuer.name)
        .join(AchievementVersion, AchievementVersion.id == AchievementAlignment.achievement_version_id)
        .join(Credential, Credential.achievement_version_id == AchievementVersion.id)
        .join(Issuer, Issuer.id == Credential.issuer_id)
        .where(
            AchievementAlignment.competency_id.in_(competency_ids),
            Credential.learner_id == learner_id,
            Credential.state == CredentialState.ISSUED,
        )
        .order_by(Credential.awarded_at, Credential.id)
    )
    out: dict[uuid.UUID, list[BadgeRef]] = {}
    for competency_id, credential, name, issuer in rows:
        if competency_id is None:
            continue
        out.setdefault(competency_id, []).append(
            BadgeRef(
                credential.id,
                name,
                issuer,
                credential.awarded_at,
                urls.credential(credential.id),
                urls.short(credential.short_code),
            )
        )
    return out
