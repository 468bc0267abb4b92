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

import csv
import io
import re
import unicodedata
import uuid
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import badges
from app.models import (AchievementAlignment, AchievementVersion, Claim, ClaimStatus, Competency, Contribution,
                        Credential, CredentialState, Decision, Dossier, Evidence, EvidenceKind, Framework, Issuer,
                        Person, Project, Review, Standing, Territory, Visibility)
from app.services.scales import DEFAULT_SCALE
from app.services.urls import Urls
from app.storage import Storage

JURY_VISIBLE = (Visibility.JURY, Visibility.PUBLIC)
STATES = ("acquis", "partiellement", "non")
STATE_LABELS = {"acquis": "Acquis", "partiellement": "Partiellement acquis", "non": "Non acquis"}
CLAIM_LABELS = {"validated": "validée", "pending": "en attente de décision",
                "needs_evidence": "complément de preuve demandé"}
DECISION_LABELS = {"validated": "Validé", "rejected": "Refusé", "needs_evidence": "Complément demandé"}
EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp",
              "application/pdf": "pdf", "text/plain": "txt", "video/mp4": "mp4", "audio/mpeg": "mp3",
              "audio/ogg": "ogg", "application/vnd.oasis.opendocument.text": "odt",
              "application/vnd.oasis.opendocument.spreadsheet": "ods",
              "application/vnd.oasis.opendocument.presentation": "odp",
              "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx"}
CERTIFICATION_TYPE = "ext:RNCPCertification"
BLOC_TYPE = "ext:RNCPBlocCompetences"
RNCP_FRAMEWORK = "Répertoire national des certifications professionnelles (France compétences)"


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


def slug(text: str, limit: int = 40) -> str:
    """An ASCII file-name fragment from a title (the title itself is never a path)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:limit].strip("-") or "piece"


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


def build_content(session: Session, dossier: Dossier, *, storage: Storage, urls: Urls,
                  now: datetime) -> DossierContent:
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

    standings = {s.competency_id: s for s in session.scalars(select(Standing).where(
        Standing.learner_id == learner.id, Standing.competency_id.in_(ids)))} if ids else {}
    claims = list(session.scalars(select(Claim).where(
        Claim.learner_id == learner.id, Claim.competency_id.in_(ids),
        Claim.status.in_((ClaimStatus.VALIDATED, ClaimStatus.PENDING, ClaimStatus.NEEDS_EVIDENCE)))
        .order_by(Claim.created_at, Claim.id))) if ids else []
    contribution_ids = {c.contribution_id for c in claims}
    contributions = {c.id: c for c in session.scalars(select(Contribution).where(
        Contribution.id.in_(contribution_ids)))} if contribution_ids else {}
    projects = {p.id: p for p in session.scalars(select(Project).where(
        Project.id.in_({c.project_id for c in contributions.values()})))} if contributions else {}
    territories = {t.id: t for t in session.scalars(select(Territory).where(
        Territory.id.in_({p.territory_id for p in projects.values()})))} if projects else {}
    reviews: dict[uuid.UUID, list[Review]] = {}
    if claims:
        for review in session.scalars(select(Review).where(
                Review.claim_id.in_([c.id for c in claims]), Review.final.is_(True))
                .order_by(Review.created_at, Review.id)):
            reviews.setdefault(review.claim_id, []).append(review)
    people = {p.id: p.display_name for p in session.scalars(select(Person).where(
        Person.id.in_({r.reviewer_id for rs in reviews.values() for r in rs})))} if reviews else {}
    evidence_by_contribution: dict[uuid.UUID, list[Evidence]] = {}
    if contribution_ids:
        for piece in session.scalars(select(Evidence).where(
                Evidence.contribution_id.in_(contribution_ids), Evidence.visibility.in_(JURY_VISIBLE))
                .order_by(Evidence.created_at, Evidence.id)):
            evidence_by_contribution.setdefault(piece.contribution_id, []).append(piece)
    badge_index = _badges(session, learner.id, ids | {b.id for b in blocs} | {fiche.id}, urls)

    annexes: dict[uuid.UUID, Annex] = {}

    def annex_numbers(contribution_id: uuid.UUID) -> list[str]:
        numbers = []
        for piece in evidence_by_contribution.get(contribution_id, []):
            if piece.id not in annexes:
                annexes[piece.id] = _annex(piece, len(annexes) + 1, storage)
            numbers.append(annexes[piece.id].number)
        return numbers

    claims_by_competency: dict[uuid.UUID, list[Claim]] = {}
    for claim in claims:
        claims_by_competency.setdefault(claim.competency_id, []).append(claim)
    bloc_entries = []
    for bloc in blocs:
        entry = BlocEntry(bloc.id, bloc.code, bloc.label, bloc.raw_text,
                          (bloc.meta or {}).get("modalites_evaluation"), badges=badge_index.get(bloc.id, []))
        for competency, depth in competences[bloc.id]:
            standing = standings.get(competency.id)
            held = standing.level if standing else None
            item = CompetenceEntry(competency.id, competency.code, competency.label,
                                   competency.raw_text if competency.id != bloc.id else None, depth,
                                   state_of(standing), held, level_label(held),
                                   badges=badge_index.get(competency.id, []) if competency.id != bloc.id else [])
            for claim in claims_by_competency.get(competency.id, []):
                contribution = contributions[claim.contribution_id]
                project = projects[contribution.project_id]
                territory = territories.get(project.territory_id)
                item.supports.append(Support(
                    contribution.id, contribution.title, project.title, territory.name if territory else "",
                    contribution.role, contribution.start_date, contribution.end_date,
                    float(contribution.hours) if isinstance(contribution.hours, Decimal) else contribution.hours,
                    contribution.narrative, claim.status.value, claim.justification, claim.self_assessment,
                    annex_numbers(contribution.id),
                    [Validation(people.get(r.reviewer_id, "?"), r.created_at, r.decision.value, r.level,
                                level_label(r.level), r.comment) for r in reviews.get(claim.id, [])]))
            entry.competences.append(item)
        bloc_entries.append(entry)

    nomenclature: dict[str, Any] = (fiche.meta or {}).get("level") or {}
    certification = Certification(fiche.id, fiche.code, fiche.label, nomenclature.get("code"),
                                  nomenclature.get("label"),
                                  framework.id, framework.version, framework.version_label,
                                  fiche.uri or framework.uri)
    credential_ids = sorted({b.credential_id for refs in badge_index.values() for b in refs}, key=str)
    return DossierContent(dossier.id, now, learner.id, learner.display_name, certification,
                          len(blocs) < len(all_blocs), bloc_entries, badge_index.get(fiche.id, []),
                          sorted(annexes.values(), key=lambda a: a.number), credential_ids)


def _annex(item: Evidence, index: int, storage: Storage) -> Annex:
    number = f"A{index:03d}"
    annex = Annex(number, item.id, item.contribution_id, item.title, item.kind.value, item.visibility.value,
                  media_type=item.media_type, size=item.size, sha256=item.file_sha256, filename=item.filename,
                  url=item.url, text=item.text)
    if item.kind is EvidenceKind.FILE:
        annex.path = f"annexes/{number}-{slug(item.title)}.{EXTENSIONS.get(item.media_type or '', 'bin')}"
        annex.missing = not item.file_sha256 or not storage.exists(item.file_sha256)
    elif item.kind is EvidenceKind.TEXT:
        annex.path = f"annexes/{number}-{slug(item.title)}.txt"
        annex.media_type, annex.size = "text/plain", len((item.text or "").encode())
    return annex


def _badges(session: Session, learner_id: uuid.UUID, competency_ids: set[uuid.UUID],
            urls: Urls) -> dict[uuid.UUID, list[BadgeRef]]:
    """The learner's issued credentials whose achievement version is aligned to these nodes."""
    rows = session.execute(
        select(AchievementAlignment.competency_id, Credential, AchievementVersion.name, Issuer.name)
        .join(AchievementVersion, AchievementVersion.id == AchievementAlignment.achievement_version_id)
        .join(Credential, Credential.achievement_version_id == AchievementVersion.id)
        .join(Issuer, Issuer.id == Credential.issuer_id)
        .where(AchievementAlignment.competency_id.in_(competency_ids), Credential.learner_id == learner_id,
               Credential.state == CredentialState.ISSUED)
        .order_by(Credential.awarded_at, Credential.id))
    out: dict[uuid.UUID, list[BadgeRef]] = {}
    for competency_id, credential, name, issuer in rows:
        if competency_id is None:
            continue
        out.setdefault(competency_id, []).append(BadgeRef(
            credential.id, name, issuer, credential.awarded_at, urls.credential(credential.id),
            urls.short(credential.short_code)))
    return out


# --- machine-readable forms ------------------------------------------------------------------

def _camel(value: Any) -> Any:
    if isinstance(value, dict):
        return {_camel_key(k): _camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel(v) for v in value]
    if isinstance(value, (uuid.UUID,)):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def _camel_key(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def content_json(content: DossierContent) -> dict[str, Any]:
    """dossier.json: the PDF's content, described by dossier.schema.json."""
    blocs = []
    for bloc in content.blocs:
        data = asdict(bloc)
        data["counts"] = bloc.counts
        blocs.append(data)
    return _camel({
        "type": "BlasonJuryDossier", "schema_version": 1, "dossier_id": content.dossier_id,
        "generated_at": content.generated_at,
        "candidate": {"id": content.candidate_id, "name": content.candidate_name},
        "certification": asdict(content.certification), "partial": content.partial,
        "state_mapping": {"acquis": "standing proficient", "partiellement": "standing not proficient",
                          "non": "no standing, or rejected"},
        "certification_badges": [asdict(b) for b in content.certification_badges],
        "blocs": blocs,
        "annexes": [{k: v for k, v in asdict(a).items() if k != "text"} for a in content.annexes],
        "gaps": [{"annex": a.number, "evidence_id": a.evidence_id, "title": a.title,
                  "reason": "file missing from storage"} for a in content.gaps],
        "credentials": [f"credentials/{c}.json" for c in content.credential_ids],
    })


def synthese_csv(content: DossierContent) -> bytes:
    """One row per compétence; ';' and a BOM so that spreadsheet software in French opens it as is."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["bloc_code", "bloc_intitule", "competence_code", "competence_intitule", "etat", "niveau",
                     "contributions", "heures", "annexes", "badges", "derniere_validation"])
    for bloc in content.blocs:
        for comp in bloc.competences:
            hours = sum(s.hours or 0 for s in comp.supports)
            last = max((v for s in comp.supports for v in s.validations if v.decision == "validated"),
                       key=lambda v: v.decided_at, default=None)
            writer.writerow([bloc.code or "", bloc.label, comp.code or "", comp.label, comp.state,
                             comp.level_label or "", len(comp.supports), f"{hours:g}",
                             " ".join(sorted({n for s in comp.supports for n in s.annexes})),
                             " ".join(b.short_url for b in comp.badges),
                             f"{last.reviewer} {last.decided_at.date().isoformat()}" if last else ""])
    return ("\ufeff" + out.getvalue()).encode()


def platform_profile(urls: Urls) -> badges.Profile:
    return badges.Profile(id=platform_id(urls), name="Blason — plateforme de reconnaissance des compétences",
                          url=urls.base)


def platform_id(urls: Urls) -> str:
    """The platform's identity as a signer: it serves the controller document listing its key."""
    return f"{urls.base}/api/v1/platform"


def clr_document(content: DossierContent, credentials: list[Credential], learner: Person,
                 key: badges.SigningKey, urls: Urls) -> dict[str, Any] | None:
    """A signed CLR 2.0 bundling the related credentials with the hierarchy certification → blocs.

    None when the learner holds no related credential (a CLR bundles at least one).
    """
    documents = tuple(c.ob3_credential for c in credentials if c.ob3_credential)
    if not documents:
        return None
    cert = content.certification
    number = (cert.code or "").removeprefix("RNCP")
    fiche_url = cert.url or f"https://www.francecompetences.fr/recherche/rncp/{number}/"
    cert_id = f"urn:uuid:{cert.id}"
    achievements = [badges.Achievement(
        id=cert_id, name=cert.title, description=f"Certification {cert.code or ''} : {cert.title}".strip(),
        criteria=badges.Criteria(narrative="Référentiel publié au RNCP par France compétences."),
        achievement_type="ext:RNCPCertification", human_code=cert.code,
        alignments=(badges.Alignment(target_name=cert.title, target_url=fiche_url, target_code=cert.code,
                                     target_framework=RNCP_FRAMEWORK, target_type=CERTIFICATION_TYPE),))]
    associations = []
    for bloc in content.blocs:
        bloc_id = f"urn:uuid:{bloc.id}"
        achievements.append(badges.Achievement(
            id=bloc_id, name=bloc.label, description=bloc.raw_text or bloc.label,
            criteria=badges.Criteria(narrative=bloc.evaluation or "Modalités d'évaluation du certificateur."),
            achievement_type="ext:BlocDeCompetences", human_code=bloc.code,
            alignments=(badges.Alignment(target_name=bloc.label, target_url=fiche_url, target_code=bloc.code,
                                         target_framework=f"{cert.code} {cert.title}", target_type=BLOC_TYPE),)))
        associations.append(badges.Association("isChildOf", bloc_id, cert_id))
        associations.append(badges.Association("isParentOf", cert_id, bloc_id))
    subject = next((c.ob3_credential.get("credentialSubject", {}).get("id") for c in credentials
                    if c.ob3_credential), None)
    record = badges.ClrRecord(
        id=f"urn:uuid:{content.dossier_id}", issuer=platform_profile(urls),
        recipient=badges.Recipient(did=subject or f"urn:uuid:{learner.id}"),
        name=f"Dossier de validation — {cert.code or ''} {cert.title}".strip(),
        description=f"Badges de {content.candidate_name} liés à la certification {cert.code or cert.title}.",
        valid_from=content.generated_at.replace(microsecond=0), credentials=documents,
        achievements=tuple(achievements), associations=tuple(associations), partial=content.partial)
    document = badges.build_clr_credential(record)
    method = f"{platform_id(urls)}#{key.public.multibase()}"
    return badges.sign_data_integrity(document, key, method, created=content.generated_at.replace(microsecond=0))


_ID = {"type": "string", "format": "uuid"}
_TEXT = {"type": ["string", "null"]}
_BADGE = {"type": "object", "required": ["credentialId", "name", "issuer", "awardedAt", "verificationUrl", "shortUrl"],
          "properties": {"credentialId": _ID, "name": {"type": "string"}, "issuer": {"type": "string"},
                         "awardedAt": {"type": "string", "format": "date-time"},
                         "verificationUrl": {"type": "string", "format": "uri"},
                         "shortUrl": {"type": "string", "format": "uri"}}}
_VALIDATION = {"type": "object", "required": ["reviewer", "decidedAt", "decision", "comment"],
               "properties": {"reviewer": {"type": "string"}, "decidedAt": {"type": "string", "format": "date-time"},
                              "decision": {"enum": ["validated", "rejected", "needs_evidence"]},
                              "level": _TEXT, "levelLabel": _TEXT, "comment": {"type": "string"}}}
_SUPPORT = {"type": "object", "required": ["contributionId", "title", "project", "narrative", "annexes",
                                           "validations", "claimStatus"],
            "properties": {"contributionId": _ID, "title": {"type": "string"}, "project": {"type": "string"},
                           "territory": {"type": "string"}, "role": {"type": "string"},
                           "startDate": {"type": ["string", "null"], "format": "date"},
                           "endDate": {"type": ["string", "null"], "format": "date"},
                           "hours": {"type": ["number", "null"]}, "narrative": {"type": "string"},
                           "claimStatus": {"enum": ["validated", "pending", "needs_evidence"]},
                           "justification": {"type": "string"}, "selfAssessment": _TEXT,
                           "annexes": {"type": "array", "items": {"type": "string", "pattern": "^A[0-9]{3,}$"}},
                           "validations": {"type": "array", "items": _VALIDATION}}}
_COMPETENCE = {"type": "object", "required": ["id", "label", "state", "supports", "badges"],
               "properties": {"id": _ID, "code": _TEXT, "label": {"type": "string", "description": "verbatim"},
                              "rawText": _TEXT, "depth": {"type": "integer", "minimum": 0},
                              "state": {"enum": list(STATES)}, "level": _TEXT, "levelLabel": _TEXT,
                              "supports": {"type": "array", "items": _SUPPORT},
                              "badges": {"type": "array", "items": _BADGE}}}
_COUNTS = {"type": "object", "required": list(STATES),
           "properties": {s: {"type": "integer", "minimum": 0} for s in STATES}}
DOSSIER_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://blason.example/schemas/dossier-1.json",
    "title": "Blason jury (VAE) dossier",
    "description": "The content of dossier.pdf, machine-readable: certification → blocs → compétences → "
                   "contributions, evidence (annexes), validations and badges.",
    "type": "object",
    "required": ["type", "schemaVersion", "dossierId", "generatedAt", "candidate", "certification", "partial",
                 "blocs", "annexes", "gaps", "credentials"],
    "properties": {
        "type": {"const": "BlasonJuryDossier"}, "schemaVersion": {"const": 1}, "dossierId": _ID,
        "generatedAt": {"type": "string", "format": "date-time"},
        "candidate": {"type": "object", "required": ["id", "name"],
                      "properties": {"id": _ID, "name": {"type": "string"}}},
        "certification": {"type": "object", "required": ["id", "code", "title", "frameworkVersion"],
                          "properties": {"id": _ID, "code": _TEXT, "title": {"type": "string"}, "level": _TEXT,
                                         "levelLabel": _TEXT, "frameworkId": _ID,
                                         "frameworkVersion": {"type": "integer"}, "versionLabel": _TEXT,
                                         "url": _TEXT}},
        "partial": {"type": "boolean", "description": "true when only some blocs are requested"},
        "stateMapping": {"type": "object"},
        "certificationBadges": {"type": "array", "items": _BADGE},
        "blocs": {"type": "array", "items": {
            "type": "object", "required": ["id", "code", "label", "competences", "counts"],
            "properties": {"id": _ID, "code": _TEXT, "label": {"type": "string"},
                           "rawText": {"type": ["string", "null"], "description": "LISTE_COMPETENCES verbatim"},
                           "evaluation": _TEXT, "competences": {"type": "array", "items": _COMPETENCE},
                           "badges": {"type": "array", "items": _BADGE}, "counts": _COUNTS}}},
        "annexes": {"type": "array", "items": {
            "type": "object", "required": ["number", "evidenceId", "title", "kind", "missing"],
            "properties": {"number": {"type": "string"}, "evidenceId": _ID, "contributionId": _ID,
                           "title": {"type": "string"}, "kind": {"enum": ["file", "link", "text"]},
                           "visibility": {"enum": ["jury", "public"]}, "mediaType": _TEXT,
                           "size": {"type": ["integer", "null"]}, "sha256": _TEXT, "filename": _TEXT,
                           "url": _TEXT, "path": {"type": ["string", "null"], "description": "inside the ZIP"},
                           "missing": {"type": "boolean"}}}},
        "gaps": {"type": "array", "items": {"type": "object", "required": ["annex", "evidenceId", "reason"]}},
        "credentials": {"type": "array", "items": {"type": "string"}},
    },
}
