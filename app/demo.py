"""A small French demo data set where every role has something to do at once.

One territory, two projects, five people; a framework imported from the demo's own small file
(``app/demo_data``); the territory's issuer with a badge template awarded by a rule; Lucie's
badge already issued; claims waiting in Karim's queue (Lucie's, and Marcel's recorded by
Hélène acting for him); a jury officer of the Cnam serving an RNCP fiche of the demo's own
(``app/demo_data``, invented), on which Karim validated two of Lucie's competencies, so that she
can ask Lucie for her jury dossier.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import (
    Claim,
    CoContributor,
    Competency,
    Contribution,
    ContributionStatus,
    Evidence,
    EvidenceKind,
    ExperimentationLevel,
    Facilitation,
    Framework,
    Membership,
    Person,
    ProfileType,
    Project,
    Role,
    ScopeType,
    StoredFile,
    Territory,
    Visibility,
)
from app.platform.storage import Storage, sniff_media_type
from app.services.contributions import contributions
from app.services.frameworks import imports
from app.services.identity import access, audit
from app.services.identity.auth import Passwords
from app.services.issuing import achievements, awarding, issuers
from app.services.issuing.signing import IssuingSettings
from app.services.recognition import claims, reviews

ADMIN_EMAIL = "admin@demo.blason.fr"
FRAMEWORK_FILE = Path(__file__).with_name("demo_data") / "referentiel-val-de-brenne.csv"
RNCP_FILE = Path(__file__).with_name("demo_data") / "fiche-rncp-demonstration.xml"


@dataclass
class DemoLogin:
    role: str
    name: str
    email: str | None


def load_demo(
    session: Session, *, passwords: Passwords, password: str, storage: Storage, issuing: IssuingSettings
) -> list[DemoLogin]:
    """Create the demo data once; a second call changes nothing and returns the logins."""
    logins = [
        DemoLogin("administratrice de la plateforme", "Camille Admin", ADMIN_EMAIL),
        DemoLogin("coordinatrice du territoire", "Hélène Martin", "helene.martin@demo.blason.fr"),
        DemoLogin("tuteur (CNAM)", "Karim Benali", "karim.benali@demo.blason.fr"),
        DemoLogin("apprenante (habitante-entrepreneure)", "Lucie Perrin", "lucie.perrin@demo.blason.fr"),
        DemoLogin("personne accompagnée, sans e-mail (Hélène Martin agit pour lui)", "Marcel Dubreuil", None),
        DemoLogin("chargée de jury (Cnam)", "Sophie Laurent", "sophie.laurent@demo.blason.fr"),
    ]
    if session.scalar(select(Person.id).where(Person.email == ADMIN_EMAIL)):
        return logins
    hashed = passwords.hash(password)

    def person(name: str, email: str | None, profile: ProfileType, assisted: bool = False) -> Person:
        p = Person(
            display_name=name,
            email=email,
            password_hash=hashed if email else None,
            profile_type=profile,
            is_assisted=assisted,
        )
        session.add(p)
        return p

    admin = person("Camille Admin", ADMIN_EMAIL, ProfileType.AUTRE)
    coordinator = person("Hélène Martin", "helene.martin@demo.blason.fr", ProfileType.AGENT_INNOVATEUR)
    tutor = person("Karim Benali", "karim.benali@demo.blason.fr", ProfileType.AUTRE)
    lucie = person("Lucie Perrin", "lucie.perrin@demo.blason.fr", ProfileType.HABITANT_ENTREPRENEUR)
    marcel = person("Marcel Dubreuil", None, ProfileType.HABITANT_ENTREPRENEUR, assisted=True)
    jury_officer = person("Sophie Laurent", "sophie.laurent@demo.blason.fr", ProfileType.AUTRE)

    territory = Territory(
        name="Communauté de communes du Val de Brenne",
        description="Territoire apprenant rural : habitants, élus et agents apprennent en menant "
        "ensemble des projets locaux.",
        experimentation_level=ExperimentationLevel.MADE_IN_LOCAL,
        siren="241300375",
        insee_code="36018",
    )
    session.add(territory)
    session.flush()
    garden = Project(
        territory_id=territory.id,
        title="Jardin partagé de la place de l'Église",
        description="Créer et animer un jardin nourricier ouvert à tous les habitants.",
        start_date=date(2026, 3, 1),
        social_functions=["produire", "se_nourrir", "s_eduquer"],
    )
    repair = Project(
        territory_id=territory.id,
        title="Repair café itinérant",
        description="Réparer ensemble plutôt que jeter, dans les salles des fêtes du canton.",
        start_date=date(2026, 1, 15),
        social_functions=["produire", "s_epanouir"],
    )
    session.add_all([garden, repair])
    session.flush()

    session.add_all(
        [
            Membership(person_id=admin.id, role=Role.PLATFORM_ADMIN, scope_type=ScopeType.PLATFORM),
            Membership(
                person_id=coordinator.id, role=Role.COORDINATOR, scope_type=ScopeType.TERRITORY, scope_id=territory.id
            ),
            Membership(person_id=tutor.id, role=Role.TUTOR, scope_type=ScopeType.PROJECT, scope_id=garden.id),
            Membership(person_id=tutor.id, role=Role.TUTOR, scope_type=ScopeType.PROJECT, scope_id=repair.id),
            Membership(person_id=lucie.id, role=Role.LEARNER, scope_type=ScopeType.PROJECT, scope_id=garden.id),
            Membership(person_id=lucie.id, role=Role.LEARNER, scope_type=ScopeType.PROJECT, scope_id=repair.id),
            Membership(person_id=marcel.id, role=Role.LEARNER, scope_type=ScopeType.PROJECT, scope_id=repair.id),
            Facilitation(facilitator_id=coordinator.id, learner_id=marcel.id),
        ]
    )

    planting = Contribution(
        project_id=garden.id,
        learner_id=lucie.id,
        created_by_id=lucie.id,
        title="Organiser la première plantation",
        narrative="J'ai réuni douze voisins, préparé le plan des parcelles avec l'école et obtenu "
        "des semences de la grainothèque.",
        role="Coordinatrice bénévole",
        start_date=date(2026, 3, 1),
        end_date=date(2026, 4, 12),
        hours=Decimal("24"),
        status=ContributionStatus.SUBMITTED,
        submitted_at=issuing.clock(),
        co_contributors=[CoContributor(name="Jeanne Roux", position=0)],
    )
    repairs = Contribution(
        project_id=repair.id,
        learner_id=marcel.id,
        created_by_id=coordinator.id,
        title="Réparer des petits appareils électriques",
        narrative="J'ai montré à des jeunes comment démonter et réparer un grille-pain et une lampe.",
        role="Réparateur",
        start_date=date(2026, 2, 7),
        hours=Decimal("9.5"),
    )
    session.add_all([planting, repairs])
    session.flush()

    report = (
        "Compte rendu de la plantation du 12 avril 2026 : 14 participants, 6 parcelles, "
        "3 variétés anciennes de tomates.\n"
    ).encode()
    blob = storage.put(io.BytesIO(report), max_bytes=1 << 20)
    if session.get(StoredFile, blob.sha256) is None:
        session.add(
            StoredFile(
                sha256=blob.sha256,
                size=blob.size,
                crc32=blob.crc32,
                media_type=sniff_media_type(blob.head) or "text/plain",
            )
        )
        session.flush()  # no relationship orders this insert before the evidence pointing at it
    session.add_all(
        [
            Evidence(
                contribution_id=planting.id,
                kind=EvidenceKind.FILE,
                title="Compte rendu de la plantation",
                visibility=Visibility.JURY,
                file_sha256=blob.sha256,
                filename="compte-rendu-plantation.txt",
                media_type="text/plain",
                size=blob.size,
                created_by_id=lucie.id,
            ),
            Evidence(
                contribution_id=planting.id,
                kind=EvidenceKind.LINK,
                title="Article du bulletin municipal",
                visibility=Visibility.PUBLIC,
                url="https://example.org/bulletin/jardin-partage",
                created_by_id=lucie.id,
            ),
            Evidence(
                contribution_id=repairs.id,
                kind=EvidenceKind.TEXT,
                title="Témoignage d'un participant",
                visibility=Visibility.TUTORS,
                text="« Marcel explique avec patience, on a tout compris. »",
                created_by_id=coordinator.id,
            ),
        ]
    )
    session.flush()
    _recognition(
        session,
        storage=storage,
        issuing=issuing,
        admin=admin,
        coordinator=coordinator,
        tutor=tutor,
        lucie=lucie,
        marcel=marcel,
        territory=territory,
        planting=planting,
        repairs=repairs,
    )
    _jury(session, issuing=issuing, admin=admin, tutor=tutor, lucie=lucie, officer=jury_officer, planting=planting)
    audit.record(session, None, "demo.loaded", "territory", territory.id, {"people": 6})
    return logins


def _recognition(
    session: Session,
    *,
    storage: Storage,
    issuing: IssuingSettings,
    admin: Person,
    coordinator: Person,
    tutor: Person,
    lucie: Person,
    marcel: Person,
    territory: Territory,
    planting: Contribution,
    repairs: Contribution,
) -> None:
    """The framework, the issuer and its badge, Lucie's badge, and claims waiting for Karim."""

    def grants(person: Person, acting_for: Person | None = None) -> access.Grants:
        return access.load_grants(session, person.id, acting_for.id if acting_for else None)

    imports.import_framework_file(session, grants(admin), FRAMEWORK_FILE, FRAMEWORK_FILE.name, clock=issuing.clock)
    framework_id = session.scalar(
        select(Framework.id).where(Framework.title == "Compétences citoyennes du Val de Brenne")
    )
    by_code = {c.code: c for c in session.scalars(select(Competency).where(Competency.framework_id == framework_id))}

    issuer = issuers.create_issuer(
        session,
        grants(coordinator),
        {
            "name": "Communauté de communes du Val de Brenne",
            "url": "https://val-de-brenne.example.fr",
            "email": "badges@val-de-brenne.example.fr",
            "territory_id": territory.id,
            "description": "Reconnaît ce que les habitants apprennent en menant les projets du territoire.",
        },
        settings=issuing,
    )
    rule_ids = [by_code["VB1.1"].id, by_code["VB2.2"].id]
    achievements.create_achievement(
        session,
        grants(coordinator),
        issuer.id,
        {
            "name": "Animer un jardin partagé",
            "description": "A fait vivre un jardin partagé avec les habitants, de la première plantation aux récoltes.",
            "criteria": "Deux compétences validées par un tuteur ou une tutrice, au niveau « acquis » au moins : "
            "animer un groupe d'habitants (VB1.1) et cultiver un potager nourricier (VB2.2).",
            "competency_ids": rule_ids,
            "tags": ["jardin", "habitants"],
            "award_rule": {"type": "all", "competency_ids": rule_ids, "min_level": "acquis"},
            "award_mode": "auto",
        },
        storage=storage,
        urls=issuing.urls,
        clock=issuing.clock,
    )

    def claim(learner: access.Grants, contribution: Contribution, code: str, why: str) -> Claim:
        return claims.create_claim(
            session,
            learner,
            {
                "contribution_id": contribution.id,
                "competency_id": by_code[code].id,
                "justification": why,
                "self_assessment": "acquis",
            },
            clock=issuing.clock,
        ).value

    def validate(made: Claim, level: str, comment: str) -> None:
        reviews.review_claim(
            session,
            grants(tutor),
            made.id,
            {"decision": "validated", "level": level, "comment": comment},
            expected_version=made.version,
            clock=issuing.clock,
        )

    # Lucie's badge: two competencies validated, the rule awards it.
    validate(
        claim(grants(lucie), planting, "VB1.1", "J'ai réuni douze voisins et réparti les parcelles avec eux."),
        "acquis",
        "Bravo : le groupe s'est retrouvé chaque samedi, c'est votre mérite.",
    )
    validate(
        claim(grants(lucie), planting, "VB2.2", "J'ai choisi les variétés avec l'école et suivi les semis."),
        "maitrise",
        "Le potager a nourri douze foyers cet été : niveau maîtrisé.",
    )
    awarding.process_award_events(session, settings=issuing)
    # Waiting in Karim's queue: Lucie's account of the day, and Marcel's gesture (recorded by Hélène for him).
    claim(grants(lucie), planting, "VB1.3", "J'ai écrit l'article du bulletin municipal sur la plantation.")
    for_marcel = grants(coordinator, marcel)
    contributions.submit_contribution(session, for_marcel, repairs.id, clock=issuing.clock)
    claim(for_marcel, repairs, "VB2.1", "J'ai montré aux jeunes comment démonter et réparer un grille-pain.")


def _jury(
    session: Session,
    *,
    issuing: IssuingSettings,
    admin: Person,
    tutor: Person,
    lucie: Person,
    officer: Person,
    planting: Contribution,
) -> None:
    """The RNCP fiche of the demo, its jury officer, and two of Lucie's competencies of it validated."""
    imports.import_framework_file(
        session, access.load_grants(session, admin.id), RNCP_FILE, RNCP_FILE.name, clock=issuing.clock
    )
    framework_id = session.scalar(
        select(Framework.id).where(Framework.source_key == "RNCP99001").order_by(Framework.version.desc())
    )
    by_code = {c.code: c for c in session.scalars(select(Competency).where(Competency.framework_id == framework_id))}
    session.add(
        Membership(
            person_id=officer.id,
            role=Role.JURY_OFFICER,
            scope_type=ScopeType.CERTIFICATION,
            scope_id=by_code["RNCP99001"].id,
        )
    )
    session.flush()
    for code, level, why, comment in (
        (
            "RNCP99001BC01-C01",
            "acquis",
            "J'ai réuni douze voisins pour créer le jardin et j'anime les samedis de plantation.",
            "Le groupe s'est retrouvé chaque samedi : une vraie animation d'habitants.",
        ),
        (
            "RNCP99001BC02-C01",
            "maitrise",
            "J'ai conçu le plan des parcelles avec l'école et suivi les semis jusqu'aux récoltes.",
            "Le potager a nourri douze foyers cet été.",
        ),
    ):
        made = claims.create_claim(
            session,
            access.load_grants(session, lucie.id),
            {
                "contribution_id": planting.id,
                "competency_id": by_code[code].id,
                "justification": why,
                "self_assessment": level,
            },
            clock=issuing.clock,
        ).value
        reviews.review_claim(
            session,
            access.load_grants(session, tutor.id),
            made.id,
            {"decision": "validated", "level": level, "comment": comment},
            expected_version=made.version,
            clock=issuing.clock,
        )
