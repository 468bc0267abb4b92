"""Fixtures of the dossier tests (no tests here): an imported RNCP fiche, a learner with
contributions, evidence of every visibility, reviews, standings and a badge, and a jury officer.

A plugin registered in tests/conftest.py: tests ask for ``vae`` by name and import the helpers
(``Vae``, ``make_fiche``, ``rewrite_zip``, ...).
"""

from __future__ import annotations

import io
import uuid
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from app.models import (
    Claim,
    ClaimStatus,
    Competency,
    Contribution,
    ContributionStatus,
    Decision,
    Evidence,
    EvidenceKind,
    Framework,
    Person,
    Review,
    SourceType,
    Standing,
    StoredFile,
    Territory,
    Visibility,
)
from app.platform.urls import Urls
from app.runtime import runtime
from app.services.dossiers.lifecycle import DossierSettings
from app.services.identity import access
from app.services.issuing import awarding
from tests.api.support import png_bytes

BASE = "https://blason.test"
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
PDF = b"%PDF-1.4\n% pi\xc3\xa8ce jointe\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
BLOC1_TEXT = (
    "    * Gérer le patrimoine informatique            o Recenser et identifier les ressources "
    "numériques            o Exploiter des référentiels, normes et standards adoptés par le "
    "prestataire informatique    * Répondre aux incidents et aux demandes d’assistance et "
    "d’évolution    * Développer la présence en ligne de l’organisation « grand public »"
)


@dataclass
class Vae:
    framework: Framework
    fiche: Competency
    blocs: list[Competency]
    competences: list[Competency]
    learner: Person
    officer: Person
    tutor: Person
    missing_evidence: Evidence
    private_evidence: Evidence
    tutors_evidence: Evidence
    credential_id: uuid.UUID | None


def dossier_settings(app: Any, **overrides: Any) -> DossierSettings:
    rt = runtime(app)
    values: dict[str, Any] = {
        "urls": Urls(BASE),
        "storage": rt.storage,
        "platform_key": rt.platform_key,
        "link_secret": "test-secret",
        "link_ttl": 600,
    }
    values.update(overrides)
    return DossierSettings(**values)


def make_fiche(
    session: Any, version: int = 1, key: str = "RNCP40792"
) -> tuple[Framework, Competency, list[Competency], list[Competency]]:
    framework = Framework(
        source_type=SourceType.RNCP,
        source_key=key,
        version=version,
        version_label=f"export du {10 + version}/01/2026",
        title="BTS Services informatiques aux organisations",
    )
    session.add(framework)
    session.flush()
    fiche = Competency(
        framework_id=framework.id,
        source_key=key,
        kind="fiche",
        code=key,
        label="BTS Services informatiques aux organisations – option « SISR »",
        uri=f"https://www.francecompetences.fr/recherche/rncp/{key[4:]}/",
        meta={"level": {"code": "NIV5", "label": "Niveau 5", "eqf": 5}},
    )
    session.add(fiche)
    session.flush()
    bloc1 = Competency(
        framework_id=framework.id,
        parent_id=fiche.id,
        source_key=f"{key}BC01",
        kind="bloc",
        code=f"{key}BC01",
        label="Support et mise à disposition de services informatiques",
        raw_text=BLOC1_TEXT,
        position=0,
        meta={"modalites_evaluation": "Épreuve E5 : oral de 40 minutes appuyé sur le portefeuille."},
    )
    bloc2 = Competency(
        framework_id=framework.id,
        parent_id=fiche.id,
        source_key=f"{key}BC02",
        kind="bloc",
        code=f"{key}BC02",
        label="Administration des systèmes et des réseaux (option « SISR »)",
        raw_text="Concevoir une solution d’infrastructure réseau",
        position=1,
    )
    session.add_all([bloc1, bloc2])
    session.flush()
    labels = [
        (bloc1, "Gérer le patrimoine informatique"),
        (bloc1, "Répondre aux incidents et aux demandes d’assistance et d’évolution"),
        (bloc1, "Développer la présence en ligne de l’organisation « grand public »"),
        (bloc2, "Concevoir une solution d’infrastructure réseau"),
    ]
    competences = []
    for position, (bloc, label) in enumerate(labels):
        c = Competency(
            framework_id=framework.id,
            parent_id=bloc.id,
            source_key=f"{bloc.code}-C{position + 1:02d}",
            kind="competence",
            code=f"{bloc.code}-C{position + 1:02d}",
            label=label,
            raw_text=label,
            position=position,
        )
        session.add(c)
        competences.append(c)
    session.flush()
    return framework, fiche, [bloc1, bloc2], competences


def _store(app: Any, session: Any, data: bytes, media_type: str) -> str:
    blob = runtime(app).storage.put(io.BytesIO(data), 10**8)
    if session.get(StoredFile, blob.sha256) is None:
        session.add(StoredFile(sha256=blob.sha256, size=blob.size, crc32=blob.crc32, media_type=media_type))
        session.flush()
    return blob.sha256


@pytest.fixture()
def vae(app, session, make_person, make_project, grant, make_issuer, make_achievement, settings) -> Vae:  # type: ignore[no-untyped-def]
    framework, fiche, blocs, competences = make_fiche(session)
    territory = Territory(name="Communauté de communes du Val de Brenne")
    session.add(territory)
    session.flush()
    project = make_project(territory, title="Tiers-lieu numérique « La Fabrique » de Saint-Aignan")
    learner = make_person(display_name="Zoé Lefèvre-Œuvrard")
    tutor = make_person(display_name="Théo Tuteur")
    officer = make_person(display_name="Agnès Jury (Cnam)")
    grant(learner, "learner", project)
    grant(tutor, "tutor", project)
    grant(officer, "jury_officer", fiche)

    def contribution(title: str, narrative: str, hours: str, start: date) -> Contribution:
        c = Contribution(
            project_id=project.id,
            learner_id=learner.id,
            created_by_id=learner.id,
            title=title,
            narrative=narrative,
            role="animatrice du parc informatique",
            hours=Decimal(hours),
            start_date=start,
            end_date=start + timedelta(days=120),
            status=ContributionStatus.SUBMITTED,
            submitted_at=T0,
        )
        session.add(c)
        session.flush()
        return c

    c1 = contribution(
        "Inventaire du parc informatique de la médiathèque",
        "J’ai recensé les 42 postes et imprimantes de la médiathèque, puis j’ai mis en place "
        "un inventaire partagé avec l’équipe : « chaque poste a sa fiche ».",
        "35.5",
        date(2025, 9, 1),
    )
    c2 = contribution(
        "Permanence d’assistance numérique",
        "Chaque mardi, j’ai tenu la permanence d’aide aux habitants ; j’ai résolu 120 demandes "
        "et rédigé un guide « pas à pas ».",
        "80",
        date(2025, 10, 6),
    )

    def evidence(
        c: Contribution,
        title: str,
        visibility: Visibility,
        data: bytes | None = None,
        media_type: str = "application/pdf",
        **extra: Any,
    ) -> Evidence:
        values: dict[str, Any] = {"kind": EvidenceKind.FILE, **extra}
        if data is not None:
            sha = _store(app, session, data, media_type)
            values.update(file_sha256=sha, media_type=media_type, size=len(data), filename=f"{title}.pdf")
        e = Evidence(contribution_id=c.id, title=title, visibility=visibility, created_by_id=learner.id, **values)
        session.add(e)
        session.flush()
        return e

    evidence(c1, "Tableau d’inventaire", Visibility.JURY, PDF)
    evidence(c1, "Photo de l’atelier", Visibility.PUBLIC, png_bytes(4, 4, seed=3), "image/png")
    private = evidence(c1, "Notes personnelles", Visibility.PRIVATE, PDF + b"private")
    tutors = evidence(c1, "Échanges avec le tuteur", Visibility.TUTORS, PDF + b"tutors")
    evidence(
        c2,
        "Guide « pas à pas »",
        Visibility.JURY,
        kind=EvidenceKind.TEXT,
        text="Étape 1 : allumer l’ordinateur.\nÉtape 2 : se connecter.",
    )
    evidence(
        c2,
        "Article du journal local",
        Visibility.JURY,
        kind=EvidenceKind.LINK,
        url="https://journal.example.fr/saint-aignan/permanence-numerique",
    )
    # Recorded, but its bytes are gone from storage.
    ghost = "ab" * 32
    session.add(StoredFile(sha256=ghost, size=1234, media_type="application/pdf"))
    session.flush()
    missing = evidence(
        c2,
        "Attestation de la mairie",
        Visibility.JURY,
        kind=EvidenceKind.FILE,
        file_sha256=ghost,
        media_type="application/pdf",
        size=1234,
        filename="attestation.pdf",
    )

    def decide(
        c: Contribution,
        competency: Competency,
        level: str | None,
        proficient: bool,
        status: ClaimStatus = ClaimStatus.VALIDATED,
    ) -> None:
        claim = Claim(
            contribution_id=c.id,
            project_id=project.id,
            competency_id=competency.id,
            learner_id=learner.id,
            justification="J’ai fait cela moi-même, de bout en bout.",
            self_assessment="acquis",
            status=status,
            created_by_id=learner.id,
            level=level,
            created_at=T0,
        )
        session.add(claim)
        session.flush()
        if status is ClaimStatus.VALIDATED:
            review = Review(
                claim_id=claim.id,
                reviewer_id=tutor.id,
                decision=Decision.VALIDATED,
                level=level,
                proficient=proficient,
                comment="Inventaire rigoureux ; l’équipe l’utilise « au quotidien ».",
                created_at=T0 + timedelta(days=3),
            )
            session.add(review)
            session.flush()
            session.add(
                Standing(
                    learner_id=learner.id,
                    competency_id=competency.id,
                    level=level,
                    state="validated",
                    proficient=proficient,
                    decided_at=review.created_at,
                    decided_by_id=tutor.id,
                    review_id=review.id,
                )
            )
            session.flush()

    decide(c1, competences[0], "acquis", True)
    decide(c2, competences[1], "en_cours", False)
    decide(c2, competences[2], None, False, ClaimStatus.PENDING)

    issuer, admin = make_issuer()
    achievement = make_achievement(
        issuer, admin, name="Gestion de parc informatique", competency_ids=[competences[0].id]
    )
    credential = awarding.award(
        session, access.load_grants(session, admin.id), achievement.id, {"learner_id": learner.id}, settings=settings
    )
    session.commit()
    return Vae(framework, fiche, blocs, competences, learner, officer, tutor, missing, private, tutors, credential.id)


def zip_names(data: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.namelist()


def rewrite_zip(
    data: bytes,
    *,
    replace: dict[str, bytes] | None = None,
    drop: tuple[str, ...] = (),
    add: dict[str, bytes] | None = None,
) -> bytes:
    """A copy of a ZIP with members replaced, dropped or added (a tampered dossier)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            if info.filename in drop:
                continue
            body = (replace or {}).get(info.filename, source.read(info))
            target.writestr(info.filename, body)
        for name, body in (add or {}).items():
            target.writestr(name, body)
    return out.getvalue()
