"""A small French demo data set: one territory, two projects, five people, contributions."""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import (CoContributor, Contribution, ContributionStatus, Evidence, EvidenceKind,
                        ExperimentationLevel, Facilitation, Membership, Person, ProfileType, Project,
                        Role, ScopeType, StoredFile, Territory, Visibility)
from app.services.identity import audit
from app.services.identity.auth import Passwords
from app.platform.storage import Storage, sniff_media_type

ADMIN_EMAIL = "admin@demo.blason.fr"


@dataclass
class DemoLogin:
    role: str
    name: str
    email: str | None


def load_demo(session: Session, *, passwords: Passwords, password: str, storage: Storage) -> list[DemoLogin]:
    """Create the demo data once; a second call changes nothing and returns the logins."""
    logins = [
        DemoLogin("administratrice de la plateforme", "Camille Admin", ADMIN_EMAIL),
        DemoLogin("coordinatrice du territoire", "Hélène Martin", "helene.martin@demo.blason.fr"),
        DemoLogin("tuteur (CNAM)", "Karim Benali", "karim.benali@demo.blason.fr"),
        DemoLogin("apprenante (habitante-entrepreneure)", "Lucie Perrin", "lucie.perrin@demo.blason.fr"),
        DemoLogin("apprenant accompagné, sans e-mail (via Hélène Martin, en-tête X-Act-For)",
                  "Marcel Dubreuil", None),
    ]
    if session.scalar(select(Person.id).where(Person.email == ADMIN_EMAIL)):
        return logins
    hashed = passwords.hash(password)

    def person(name: str, email: str | None, profile: ProfileType, assisted: bool = False) -> Person:
        p = Person(display_name=name, email=email, password_hash=hashed if email else None,
                   profile_type=profile, is_assisted=assisted)
        session.add(p)
        return p

    admin = person("Camille Admin", ADMIN_EMAIL, ProfileType.AUTRE)
    coordinator = person("Hélène Martin", "helene.martin@demo.blason.fr", ProfileType.AGENT_INNOVATEUR)
    tutor = person("Karim Benali", "karim.benali@demo.blason.fr", ProfileType.AUTRE)
    lucie = person("Lucie Perrin", "lucie.perrin@demo.blason.fr", ProfileType.HABITANT_ENTREPRENEUR)
    marcel = person("Marcel Dubreuil", None, ProfileType.HABITANT_ENTREPRENEUR, assisted=True)

    territory = Territory(
        name="Communauté de communes du Val de Brenne",
        description="Territoire apprenant rural : habitants, élus et agents apprennent en menant "
                    "ensemble des projets locaux.",
        experimentation_level=ExperimentationLevel.MADE_IN_LOCAL, siren="241300375", insee_code="36018")
    session.add(territory)
    session.flush()
    garden = Project(territory_id=territory.id, title="Jardin partagé de la place de l'Église",
                     description="Créer et animer un jardin nourricier ouvert à tous les habitants.",
                     start_date=date(2026, 3, 1), social_functions=["produire", "se_nourrir", "s_eduquer"])
    repair = Project(territory_id=territory.id, title="Repair café itinérant",
                     description="Réparer ensemble plutôt que jeter, dans les salles des fêtes du canton.",
                     start_date=date(2026, 1, 15), social_functions=["produire", "s_epanouir"])
    session.add_all([garden, repair])
    session.flush()

    session.add_all([
        Membership(person_id=admin.id, role=Role.PLATFORM_ADMIN, scope_type=ScopeType.PLATFORM),
        Membership(person_id=coordinator.id, role=Role.COORDINATOR, scope_type=ScopeType.TERRITORY,
                   scope_id=territory.id),
        Membership(person_id=tutor.id, role=Role.TUTOR, scope_type=ScopeType.PROJECT, scope_id=garden.id),
        Membership(person_id=tutor.id, role=Role.TUTOR, scope_type=ScopeType.PROJECT, scope_id=repair.id),
        Membership(person_id=lucie.id, role=Role.LEARNER, scope_type=ScopeType.PROJECT, scope_id=garden.id),
        Membership(person_id=lucie.id, role=Role.LEARNER, scope_type=ScopeType.PROJECT, scope_id=repair.id),
        Membership(person_id=marcel.id, role=Role.LEARNER, scope_type=ScopeType.PROJECT, scope_id=repair.id),
        Facilitation(facilitator_id=coordinator.id, learner_id=marcel.id),
    ])

    planting = Contribution(
        project_id=garden.id, learner_id=lucie.id, created_by_id=lucie.id, title="Organiser la première plantation",
        narrative="J'ai réuni douze voisins, préparé le plan des parcelles avec l'école et obtenu "
                  "des semences de la grainothèque.",
        role="Coordinatrice bénévole", start_date=date(2026, 3, 1), end_date=date(2026, 4, 12),
        hours=Decimal("24"), status=ContributionStatus.SUBMITTED, submitted_at=None,
        co_contributors=[CoContributor(name="Jeanne Roux", position=0)])
    repairs = Contribution(
        project_id=repair.id, learner_id=marcel.id, created_by_id=coordinator.id,
        title="Réparer des petits appareils électriques",
        narrative="J'ai montré à des jeunes comment démonter et réparer un grille-pain et une lampe.",
        role="Réparateur", start_date=date(2026, 2, 7), hours=Decimal("9.5"))
    session.add_all([planting, repairs])
    session.flush()

    report = ("Compte rendu de la plantation du 12 avril 2026 : 14 participants, 6 parcelles, "
              "3 variétés anciennes de tomates.\n").encode()
    blob = storage.put(io.BytesIO(report), max_bytes=1 << 20)
    if session.get(StoredFile, blob.sha256) is None:
        session.add(StoredFile(sha256=blob.sha256, size=blob.size, crc32=blob.crc32,
                               media_type=sniff_media_type(blob.head) or "text/plain"))
        session.flush()  # no relationship orders this insert before the evidence pointing at it
    session.add_all([
        Evidence(contribution_id=planting.id, kind=EvidenceKind.FILE, title="Compte rendu de la plantation",
                 visibility=Visibility.JURY, file_sha256=blob.sha256, filename="compte-rendu-plantation.txt",
                 media_type="text/plain", size=blob.size, created_by_id=lucie.id),
        Evidence(contribution_id=planting.id, kind=EvidenceKind.LINK, title="Article du bulletin municipal",
                 visibility=Visibility.PUBLIC, url="https://example.org/bulletin/jardin-partage",
                 created_by_id=lucie.id),
        Evidence(contribution_id=repairs.id, kind=EvidenceKind.TEXT, title="Témoignage d'un participant",
                 visibility=Visibility.TUTORS, text="« Marcel explique avec patience, on a tout compris. »",
                 created_by_id=coordinator.id),
    ])
    session.flush()
    audit.record(session, None, "demo.loaded", "territory", territory.id, {"people": 5})
    return logins
