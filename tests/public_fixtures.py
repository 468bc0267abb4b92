"""Fixtures of the public page and verification tests: an issued credential (through the services).

Registered as a pytest plugin in tests/conftest.py.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from app.db import utcnow
from app.models import Credential
from app.services.issuing import awarding
from tests.issuing_fixtures import Setup

BASE = "https://blason.test"
HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@dataclass
class Issued:
    setup: Setup
    credential: Credential

    @property
    def url(self) -> str:
        return f"{BASE}/credentials/{self.credential.id}"

    @property
    def path(self) -> str:
        return f"/credentials/{self.credential.id}"


@pytest.fixture()
def award(session, issuing, settings) -> Callable[..., Credential]:  # type: ignore[no-untyped-def]
    """Award the setup's achievement (or another) through the service, committed."""

    def make(learner: Any = None, settings_: Any = None, achievement: Any = None, **data: Any) -> Credential:
        credential = awarding.award(
            session,
            issuing.grants(session),
            (achievement or issuing.achievement).id,
            {"learner_id": (learner or issuing.learner).id, **data},
            settings=settings_ or settings,
        )
        session.commit()
        return credential

    return make


@pytest.fixture()
def issued(issuing, award) -> Issued:  # type: ignore[no-untyped-def]
    return Issued(
        issuing,
        award(evidence_url="https://example.fr/photo-atelier", narrative="Réunion du 3 mars.", result_level="acquis"),
    )


class NoNetwork:
    """A fetcher that fails the test if anything is fetched."""

    def get_json(self, url: str) -> Any:
        raise AssertionError(f"fetched {url}")


@pytest.fixture(autouse=True)
def verify_limiter(app):  # type: ignore[no-untyped-def]
    """A fresh, roomy rate limiter per test: tests share one app, and one client address."""
    from app.platform.rate_limit import RateLimit
    from app.runtime import runtime

    rt = runtime(app)
    previous = rt.verify_limiter
    rt.verify_limiter = RateLimit(1000, 1000)
    yield rt.verify_limiter
    rt.verify_limiter = previous


# ---------------------------------------------------------------------------------------------
# A badge awarded on validated claims, with public and private evidence (the verification page's
# "who got what, from whom, on what evidence"); seeded through the services, for the in-process
# tests (``validated_award``) and the live server's (``seed_validated_award``).


@dataclass
class ValidatedAward:
    credential: Credential
    learner: Any
    tutor: Any
    tutor2: Any
    project: Any
    competencies: list[Any]  # C1 (one tutor), C2 (a framework with the second-review rule)
    photo: Any  # public JPEG evidence, with EXIF
    pdf: Any  # public PDF evidence
    private: Any  # evidence seen by tutors only
    contribution: Any
    issuer: Any
    admin: Any


def photo_jpeg(width: int = 1600, height: int = 1000) -> bytes:
    """A JPEG photo (a gradient with shapes) whose EXIF names a camera: previews must drop it."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    for y in range(0, height, 8):
        draw.rectangle([0, y, width, y + 8], fill=(40 + y * 120 // height, 110 + y * 60 // height, 160))
    draw.ellipse([width // 5, height // 4, width // 2, height * 3 // 4], fill=(240, 190, 60))
    draw.rectangle([width * 3 // 5, height // 3, width * 4 // 5, height * 5 // 6], fill=(60, 140, 70))
    exif = Image.Exif()
    exif[0x010F] = "Blason-Test-Camera"  # Make
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, exif=exif.tobytes())
    return out.getvalue()


def seed_validated_award(
    session: Any,
    *,
    settings: Any,
    storage: Any,
    show_name: bool | None = None,
    clock: Callable[[], datetime] | None = None,
) -> ValidatedAward:
    """Léa's contribution to a project, her claims on two competencies validated by the project's
    tutors (the second under the second-review rule, by two tutors), her evidence (a public photo,
    a public PDF, a private file, a public link), and a badge aligned to both competencies awarded
    to her by an issuer admin. Committed."""
    from app.models import (
        Competency,
        Contribution,
        ContributionStatus,
        Framework,
        Membership,
        Person,
        Project,
        Role,
        ScopeType,
        SourceType,
        Territory,
    )
    from app.services.contributions import evidence
    from app.services.identity import access
    from app.services.issuing import achievements, issuers
    from app.services.recognition import claims, reviews

    n = uuid.uuid4().hex[:6]
    when = clock or utcnow
    learner = Person(display_name="Léa Apprenante", email=f"lea.{n}@example.fr", show_name_publicly=bool(show_name))
    if show_name is not None:
        learner.show_name_chosen_at = when()
    tutor = Person(display_name="Théo Tuteur", email=f"theo.{n}@tuteurs.example.fr")
    tutor2 = Person(display_name="Tina Tutrice", email=f"tina.{n}@tuteurs.example.fr")
    admin = Person(display_name="Iris Émettrice", email=f"iris.{n}@example.fr")
    territory = Territory(name=f"Quartier des Tilleuls {n}")
    session.add_all([learner, tutor, tutor2, admin, territory])
    session.flush()
    project = Project(territory_id=territory.id, title="Le lavoir du bourg", social_functions=["produire"])
    session.add(project)
    session.flush()
    session.add_all(
        [
            Membership(person_id=learner.id, role=Role.LEARNER, scope_type=ScopeType.PROJECT, scope_id=project.id),
            Membership(person_id=tutor.id, role=Role.TUTOR, scope_type=ScopeType.PROJECT, scope_id=project.id),
            Membership(person_id=tutor2.id, role=Role.TUTOR, scope_type=ScopeType.PROJECT, scope_id=project.id),
            Membership(person_id=admin.id, role=Role.PLATFORM_ADMIN, scope_type=ScopeType.PLATFORM),
        ]
    )
    simple = Framework(source_type=SourceType.CUSTOM, source_key=f"lavoirs-{n}", title="Petit patrimoine")
    strict = Framework(
        source_type=SourceType.CUSTOM, source_key=f"reunions-{n}", title="Vie locale", requires_second_review=True
    )
    session.add_all([simple, strict])
    session.flush()
    c1 = Competency(framework_id=simple.id, source_key="L1", kind="competence", code="L1", label="Restaurer un lavoir")
    c2 = Competency(
        framework_id=strict.id, source_key="R1", kind="competence", code="R1", label="Animer une réunion publique"
    )
    contribution = Contribution(
        project_id=project.id,
        learner_id=learner.id,
        created_by_id=learner.id,
        title="Remise en eau du lavoir",
        narrative="J'ai organisé trois chantiers avec les voisins.",
        role="coordinatrice",
        hours=Decimal("12"),
        status=ContributionStatus.SUBMITTED,
        submitted_at=when(),
    )
    session.add_all([c1, c2, contribution])
    session.commit()

    def grants(person: Any) -> Any:
        return access.load_grants(session, person.id)

    def upload(data: bytes, filename: str, title: str, visibility: str) -> Any:
        return evidence.upload_evidence(
            session,
            grants(learner),
            contribution.id,
            io.BytesIO(data),
            filename,
            {"title": title, "visibility": visibility},
            storage=storage,
            max_bytes=10 << 20,
        )

    photo = upload(photo_jpeg(), "IMG_2041.JPG", "Le lavoir remis en eau", "public")
    pdf = upload(b"%PDF-1.7\n" + b"compte rendu du chantier " * 50_000, "Compte rendu.PDF", "Compte rendu", "public")
    private = upload(b"%PDF-1.7 liste des voisins et leurs adresses", "voisins.pdf", "Liste des voisins", "tutors")
    evidence.add_evidence(
        session,
        grants(learner),
        contribution.id,
        {
            "kind": "link",
            "title": "Article du journal",
            "url": "https://journal.example.fr/lavoir",
            "visibility": "public",
        },
    )
    session.commit()

    decision = {"decision": "validated", "level": "acquis", "comment": "Chantier bien mené ; Léa a tout organisé."}
    for competency, deciders, level in ((c1, [tutor], "acquis"), (c2, [tutor2, tutor], "maitrise")):
        claim = claims.create_claim(
            session,
            grants(learner),
            {"contribution_id": contribution.id, "competency_id": competency.id, "justification": "Voir les photos."},
            clock=when,
        ).value
        for person in deciders:
            reviews.review_claim(
                session,
                grants(person),
                claim.id,
                {**decision, "level": level},
                expected_version=claim.version,
                clock=when,
            )
        session.commit()

    issuer = issuers.create_issuer(
        session,
        grants(admin),
        {"name": "Collectif des territoires", "url": "https://collectif.example.fr"},
        settings=settings,
    )
    achievement = achievements.create_achievement(
        session,
        grants(admin),
        issuer.id,
        {
            "name": "Gardienne ou gardien du lavoir",
            "description": "Reconnaît la remise en état d'un lavoir communal avec les habitants.",
            "criteria": "Deux compétences validées par les tuteurs ou tutrices du projet.",
            "achievement_type": "Competency",
            "competency_ids": [c1.id, c2.id],
        },
        storage=storage,
        urls=settings.urls,
    )
    credential = awarding.award(session, grants(admin), achievement.id, {"learner_id": learner.id}, settings=settings)
    session.commit()
    return ValidatedAward(
        credential, learner, tutor, tutor2, project, [c1, c2], photo, pdf, private, contribution, issuer, admin
    )


@pytest.fixture()
def validated_award(app, session, settings) -> ValidatedAward:  # type: ignore[no-untyped-def]
    from app.runtime import runtime

    return seed_validated_award(session, settings=settings, storage=runtime(app).storage)
