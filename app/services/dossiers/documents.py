"""The dossier's machine-readable forms: dossier.json (and its JSON Schema), synthese.csv, and the
CLR 2.0 bundling the related credentials with the hierarchy certification → blocs.
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import fields, is_dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

import badges
from app.models import Credential, Person
from app.platform.urls import Urls
from app.services.dossiers.build import STATES, DossierContent

CERTIFICATION_TYPE = "ext:RNCPCertification"
BLOC_TYPE = "ext:RNCPBlocCompetences"
_INTERNAL = frozenset({"text", "crc32"})  # annex fields that stay out of dossier.json
RNCP_FRAMEWORK = "Répertoire national des certifications professionnelles (France compétences)"


def _camel(value: Any, leave: frozenset[str] = frozenset()) -> Any:
    """JSON-ready data with camelCase keys, dataclasses included (one pass, nothing deep-copied)."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is list:
        return [_camel(v) for v in value]
    if kind is dict:
        return {_camel_key(k): _camel(v) for k, v in value.items()}
    names = _field_names(kind)
    if names is not None:
        return {_camel_key(n): _camel(getattr(value, n)) for n in names if n not in leave}
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


_SCALARS = frozenset({str, int, float, bool, type(None)})


_FIELDS: dict[type, tuple[str, ...] | None] = {}


def _field_names(kind: type) -> tuple[str, ...] | None:
    if kind not in _FIELDS:
        _FIELDS[kind] = tuple(f.name for f in fields(kind)) if is_dataclass(kind) else None
    return _FIELDS[kind]


@lru_cache(maxsize=256)
def _camel_key(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def content_json(content: DossierContent) -> dict[str, Any]:
    """dossier.json: the PDF's content, described by dossier.schema.json."""
    blocs = []
    for bloc in content.blocs:
        data = _camel(bloc)
        data["counts"] = bloc.counts
        blocs.append(data)
    return _camel(
        {
            "type": "BlasonJuryDossier",
            "schema_version": 1,
            "dossier_id": content.dossier_id,
            "generated_at": content.generated_at,
            "candidate": {"id": content.candidate_id, "name": content.candidate_name},
            "certification": content.certification,
            "partial": content.partial,
            "state_mapping": {
                "acquis": "standing proficient",
                "partiellement": "standing not proficient",
                "non": "no standing, or rejected",
            },
            "certification_badges": content.certification_badges,
            "blocs": blocs,
            "annexes": [_camel(a, _INTERNAL) for a in content.annexes],
            "gaps": [
                {
                    "annex": a.number,
                    "evidence_id": a.evidence_id,
                    "title": a.title,
                    "reason": "file missing from storage",
                }
                for a in content.gaps
            ],
            "credentials": [f"credentials/{c}.json" for c in content.credential_ids],
        }
    )


def synthese_csv(content: DossierContent) -> bytes:
    """One row per compétence; ';' and a BOM so that spreadsheet software in French opens it as is."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(
        [
            "bloc_code",
            "bloc_intitule",
            "competence_code",
            "competence_intitule",
            "etat",
            "niveau",
            "contributions",
            "heures",
            "annexes",
            "badges",
            "derniere_validation",
        ]
    )
    for bloc in content.blocs:
        for comp in bloc.competences:
            hours = sum(s.hours or 0 for s in comp.supports)
            last = max(
                (v for s in comp.supports for v in s.validations if v.decision == "validated"),
                key=lambda v: v.decided_at,
                default=None,
            )
            writer.writerow(
                [
                    bloc.code or "",
                    bloc.label,
                    comp.code or "",
                    comp.label,
                    comp.state,
                    comp.level_label or "",
                    len(comp.supports),
                    f"{hours:g}",
                    " ".join(sorted({n for s in comp.supports for n in s.annexes})),
                    " ".join(b.short_url for b in comp.badges),
                    f"{last.reviewer} {last.decided_at.date().isoformat()}" if last else "",
                ]
            )
    return ("\ufeff" + out.getvalue()).encode()


def platform_profile(urls: Urls) -> badges.Profile:
    return badges.Profile(
        id=platform_id(urls), name="Blason — plateforme de reconnaissance des compétences", url=urls.base
    )


def platform_id(urls: Urls) -> str:
    """The platform's identity as a signer: it serves the controller document listing its key."""
    return f"{urls.base}/api/v1/platform"


def clr_document(
    content: DossierContent, credentials: list[Credential], learner: Person, key: badges.SigningKey, urls: Urls
) -> dict[str, Any] | None:
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
    achievements = [
        badges.Achievement(
            id=cert_id,
            name=cert.title,
            description=f"Certification {cert.code or ''} : {cert.title}".strip(),
            criteria=badges.Criteria(narrative="Référentiel publié au RNCP par France compétences."),
            achievement_type="ext:RNCPCertification",
            human_code=cert.code,
            alignments=(
                badges.Alignment(
                    target_name=cert.title,
                    target_url=fiche_url,
                    target_code=cert.code,
                    target_framework=RNCP_FRAMEWORK,
                    target_type=CERTIFICATION_TYPE,
                ),
            ),
        )
    ]
    associations = []
    for bloc in content.blocs:
        bloc_id = f"urn:uuid:{bloc.id}"
        achievements.append(
            badges.Achievement(
                id=bloc_id,
                name=bloc.label,
                description=bloc.raw_text or bloc.label,
                criteria=badges.Criteria(narrative=bloc.evaluation or "Modalités d'évaluation du certificateur."),
                achievement_type="ext:BlocDeCompetences",
                human_code=bloc.code,
                alignments=(
                    badges.Alignment(
                        target_name=bloc.label,
                        target_url=fiche_url,
                        target_code=bloc.code,
                        target_framework=f"{cert.code} {cert.title}",
                        target_type=BLOC_TYPE,
                    ),
                ),
            )
        )
        associations.append(badges.Association("isChildOf", bloc_id, cert_id))
        associations.append(badges.Association("isParentOf", cert_id, bloc_id))
    subject = next(
        (c.ob3_credential.get("credentialSubject", {}).get("id") for c in credentials if c.ob3_credential), None
    )
    record = badges.ClrRecord(
        id=f"urn:uuid:{content.dossier_id}",
        issuer=platform_profile(urls),
        recipient=badges.Recipient(did=subject or f"urn:uuid:{learner.id}"),
        name=f"Dossier de validation — {cert.code or ''} {cert.title}".strip(),
        description=f"Badges de {content.candidate_name} liés à la certification {cert.code or cert.title}.",
        valid_from=content.generated_at.replace(microsecond=0),
        credentials=documents,
        achievements=tuple(achievements),
        associations=tuple(associations),
        partial=content.partial,
    )
    document = badges.build_clr_credential(record)
    method = f"{platform_id(urls)}#{key.public.multibase()}"
    return badges.sign_data_integrity(document, key, method, created=content.generated_at.replace(microsecond=0))


_ID = {"type": "string", "format": "uuid"}
_TEXT = {"type": ["string", "null"]}
_BADGE = {
    "type": "object",
    "required": ["credentialId", "name", "issuer", "awardedAt", "verificationUrl", "shortUrl"],
    "properties": {
        "credentialId": _ID,
        "name": {"type": "string"},
        "issuer": {"type": "string"},
        "awardedAt": {"type": "string", "format": "date-time"},
        "verificationUrl": {"type": "string", "format": "uri"},
        "shortUrl": {"type": "string", "format": "uri"},
    },
}
_VALIDATION = {
    "type": "object",
    "required": ["reviewer", "decidedAt", "decision", "comment"],
    "properties": {
        "reviewer": {"type": "string"},
        "decidedAt": {"type": "string", "format": "date-time"},
        "decision": {"enum": ["validated", "rejected", "needs_evidence"]},
        "level": _TEXT,
        "levelLabel": _TEXT,
        "comment": {"type": "string"},
    },
}
_SUPPORT = {
    "type": "object",
    "required": ["contributionId", "title", "project", "narrative", "annexes", "validations", "claimStatus"],
    "properties": {
        "contributionId": _ID,
        "title": {"type": "string"},
        "project": {"type": "string"},
        "territory": {"type": "string"},
        "role": {"type": "string"},
        "startDate": {"type": ["string", "null"], "format": "date"},
        "endDate": {"type": ["string", "null"], "format": "date"},
        "hours": {"type": ["number", "null"]},
        "narrative": {"type": "string"},
        "claimStatus": {"enum": ["validated", "pending", "needs_evidence"]},
        "justification": {"type": "string"},
        "selfAssessment": _TEXT,
        "annexes": {"type": "array", "items": {"type": "string", "pattern": "^A[0-9]{3,}$"}},
        "validations": {"type": "array", "items": _VALIDATION},
    },
}
_COMPETENCE = {
    "type": "object",
    "required": ["id", "label", "state", "supports", "badges"],
    "properties": {
        "id": _ID,
        "code": _TEXT,
        "label": {"type": "string", "description": "verbatim"},
        "rawText": _TEXT,
        "depth": {"type": "integer", "minimum": 0},
        "state": {"enum": list(STATES)},
        "level": _TEXT,
        "levelLabel": _TEXT,
        "supports": {"type": "array", "items": _SUPPORT},
        "badges": {"type": "array", "items": _BADGE},
    },
}
_COUNTS = {
    "type": "object",
    "required": list(STATES),
    "properties": {s: {"type": "integer", "minimum": 0} for s in STATES},
}
DOSSIER_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://blason.example/schemas/dossier-1.json",
    "title": "Blason jury (VAE) dossier",
    "description": "The content of dossier.pdf, machine-readable: certification → blocs → compétences → "
    "contributions, evidence (annexes), validations and badges.",
    "type": "object",
    "required": [
        "type",
        "schemaVersion",
        "dossierId",
        "generatedAt",
        "candidate",
        "certification",
        "partial",
        "blocs",
        "annexes",
        "gaps",
        "credentials",
    ],
    "properties": {
        "type": {"const": "BlasonJuryDossier"},
        "schemaVersion": {"const": 1},
        "dossierId": _ID,
        "generatedAt": {"type": "string", "format": "date-time"},
        "candidate": {
            "type": "object",
            "required": ["id", "name"],
            "properties": {"id": _ID, "name": {"type": "string"}},
        },
        "certification": {
            "type": "object",
            "required": ["id", "code", "title", "frameworkVersion"],
            "properties": {
                "id": _ID,
                "code": _TEXT,
                "title": {"type": "string"},
                "level": _TEXT,
                "levelLabel": _TEXT,
                "frameworkId": _ID,
                "frameworkVersion": {"type": "integer"},
                "versionLabel": _TEXT,
                "url": _TEXT,
            },
        },
        "partial": {"type": "boolean", "description": "true when only some blocs are requested"},
        "stateMapping": {"type": "object"},
        "certificationBadges": {"type": "array", "items": _BADGE},
        "blocs": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "code", "label", "competences", "counts"],
                "properties": {
                    "id": _ID,
                    "code": _TEXT,
                    "label": {"type": "string"},
                    "rawText": {"type": ["string", "null"], "description": "LISTE_COMPETENCES verbatim"},
                    "evaluation": _TEXT,
                    "competences": {"type": "array", "items": _COMPETENCE},
                    "badges": {"type": "array", "items": _BADGE},
                    "counts": _COUNTS,
                },
            },
        },
        "annexes": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["number", "evidenceId", "title", "kind", "missing"],
                "properties": {
                    "number": {"type": "string"},
                    "evidenceId": _ID,
                    "contributionId": _ID,
                    "title": {"type": "string"},
                    "kind": {"enum": ["file", "link", "text"]},
                    "visibility": {"enum": ["jury", "public"]},
                    "mediaType": _TEXT,
                    "size": {"type": ["integer", "null"]},
                    "sha256": _TEXT,
                    "filename": _TEXT,
                    "url": _TEXT,
                    "path": {"type": ["string", "null"], "description": "inside the ZIP"},
                    "missing": {"type": "boolean"},
                },
            },
        },
        "gaps": {"type": "array", "items": {"type": "object", "required": ["annex", "evidenceId", "reason"]}},
        "credentials": {"type": "array", "items": {"type": "string"}},
    },
}
