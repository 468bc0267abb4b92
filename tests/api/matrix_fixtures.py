"""The world of the permission matrix: two territories, A and B, each with every role and resource.

Built once per module through the services (so every row is as the API would write it) inside a
transaction of one connection; each test then runs inside a SAVEPOINT rolled back after it, so a
successful POST in one test never shows in the next. Imported by the matrix test.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy import select

from app.db import database_of
from app.models import (
    Competency,
    Contribution,
    ContributionStatus,
    Evidence,
    Facilitation,
    Framework,
    KeyPurpose,
    Membership,
    Person,
    ProfileType,
    Project,
    Role,
    ScopeType,
    SigningKey,
    SourceType,
    StatusList,
    Territory,
)
from app.runtime import runtime
from app.services import jobs
from app.services.contributions import evidence
from app.services.dossiers import lifecycle as dossiers
from app.services.identity import access, auth
from app.services.identity.audit import Actor
from app.services.issuing import achievements, awarding, issuers
from app.services.recognition import claims, reviews
from tests.api.support import png_bytes
from tests.conftest import PASSWORD

SECRET_COMMENT = "Appréciation réservée au territoire B"
SECRET_TITLE = "Chantier secret du territoire B"
SYSTEM = access.Grants(Actor(None), platform_admin=True)
SCOPES = {
    Role.PLATFORM_ADMIN: ScopeType.PLATFORM,
    Role.COORDINATOR: ScopeType.TERRITORY,
    Role.TUTOR: ScopeType.PROJECT,
    Role.LEARNER: ScopeType.PROJECT,
    Role.ISSUER_ADMIN: ScopeType.ISSUER,
    Role.JURY_OFFICER: ScopeType.CERTIFICATION,
}


@dataclass
class Side:
    """One territory and everything in it (the attribute names are those the matrix table uses)."""

    territory: Territory
    project: Project
    coordinator: Person
    tutor: Person
    learner: Person
    other_learner: Person  # a learner of the project who has no badge yet (award target)
    assisted: Person  # an assisted account (no e-mail) ...
    facilitator: Person  # ... and the tutor who facilitates it
    issuer_admin: Person
    jury_officer: Person
    framework: Framework  # an RNCP fiche version: fiche → bloc → c1, c2, c3, c4
    fiche: Competency
    competencies: list[Competency]
    contribution: Contribution  # submitted, with evidence of each visibility
    draft: Contribution  # a draft without evidence
    evidence: dict[str, Evidence]  # by visibility; "tutors" is a file
    claim_pending: Any
    claim_validated: Any
    claim_needs_evidence: Any
    review: Any
    learner_membership: Membership
    issuer: Any
    signing_key: SigningKey
    status_list: StatusList
    achievement: Any
    credential: Any
    dossier: Any
    download_path: str  # the dossier's signed download link (path and query)
    refresh_token: str  # a refresh token of the learner
    assisted_contribution: Contribution  # the assisted learner's own submitted contribution
    assisted_claim: Any
    rsa_kid: str  # the OB 2.0 (RSA) key's kid
    credential_json: str  # the issued OB 3.0 credential as JSON text
    download_token: str
    job: Any = None  # a job the issuer administrator started (the jobs API)


@dataclass
class Commuter:
    """A learner of both A's and B's projects: what B holds on them must stay in B."""

    person: Person
    b_contribution: Contribution  # submitted in B, with a tutors-only and a public evidence
    b_evidence: list[Evidence]
    b_claim: Any  # validated by B's tutor, on A's first competency (the one A's badge aligns to)
    b_review: Any

    def b_ids(self) -> set[str]:
        return {str(x.id) for x in (self.b_contribution, self.b_claim, self.b_review, *self.b_evidence)}

    def leaks(self, body: str, b_tutor: Person) -> list[str]:
        """What of B's record on the commuter shows in an answer to A."""
        marks = self.b_ids() | {SECRET_TITLE, SECRET_COMMENT, b_tutor.display_name, str(b_tutor.id), "Preuve B"}
        return sorted(m for m in marks if m in body)


@dataclass
class World:
    a: Side
    b: Side
    admin: Person
    commuter: Commuter

    def private_ids(self, side: Side) -> set[str]:
        """Ids of a side that no one of the other side may ever read in an API answer."""
        people = [
            side.coordinator,
            side.tutor,
            side.learner,
            side.other_learner,
            side.assisted,
            side.facilitator,
            side.issuer_admin,
            side.jury_officer,
        ]
        items = [
            side.contribution,
            side.draft,
            side.claim_pending,
            side.claim_validated,
            side.claim_needs_evidence,
            side.review,
            side.learner_membership,
            side.credential,
            side.dossier,
            side.assisted_contribution,
            side.assisted_claim,
            *[e for v, e in side.evidence.items() if v != "public"],
        ]
        return {str(x.id) for x in people + items}


def _person(session: Any, name: str, hashed: str, *, email: bool = True, assisted: bool = False) -> Person:
    n = uuid.uuid4().hex[:8]
    person = Person(
        display_name=name,
        email=f"{name.split()[0].lower()}.{n}@example.org" if email else None,
        password_hash=hashed if email else None,
        profile_type=ProfileType.HABITANT_ENTREPRENEUR,
        is_assisted=assisted,
    )
    session.add(person)
    session.flush()
    return person


def _grant(session: Any, person: Person, role: Role, scope_id: uuid.UUID | None = None) -> Membership:
    membership = Membership(person_id=person.id, role=role, scope_type=SCOPES[role], scope_id=scope_id)
    session.add(membership)
    session.flush()
    return membership


def _fiche(session: Any, tag: str) -> tuple[Framework, Competency, list[Competency]]:
    key = f"RNCP{uuid.uuid4().int % 10**5:05d}"
    framework = Framework(
        source_type=SourceType.RNCP, source_key=key, version="1", title=f"Titre {tag}", case_id=uuid.uuid4()
    )
    session.add(framework)
    session.flush()
    fiche = Competency(framework_id=framework.id, source_key=key, kind="fiche", code=key, label=f"Fiche {tag}")
    session.add(fiche)
    session.flush()
    bloc = Competency(
        framework_id=framework.id,
        parent_id=fiche.id,
        source_key=f"{key}BC01",
        kind="bloc",
        code=f"{key}BC01",
        label=f"Bloc {tag}",
    )
    session.add(bloc)
    session.flush()
    comps = []
    for i in range(1, 5):
        comp = Competency(
            framework_id=framework.id,
            parent_id=bloc.id,
            source_key=f"{key}BC01C{i}",
            kind="competence",
            code=f"{key}BC01-C{i:02d}",
            label=f"Compétence {tag}{i}",
        )
        session.add(comp)
        comps.append(comp)
    session.flush()
    return framework, fiche, comps


def _contribution(session: Any, learner: Person, project: Project, status: ContributionStatus) -> Contribution:
    contribution = Contribution(
        project_id=project.id,
        learner_id=learner.id,
        created_by_id=learner.id,
        title="Animer un atelier",
        narrative="J'ai animé un atelier.",
        status=status,
    )
    session.add(contribution)
    session.flush()
    return contribution


def _claim(session: Any, grants: access.Grants, contribution: Contribution, competency: Competency) -> Any:
    return claims.create_claim(
        session,
        grants,
        {
            "contribution_id": contribution.id,
            "competency_id": competency.id,
            "justification": "Je l'ai fait devant vingt personnes.",
        },
    ).value


def _review(session: Any, grants: access.Grants, claim: Any, decision: str, comment: str = "Vu sur place.") -> Any:
    data: dict[str, Any] = {"decision": decision, "comment": comment}
    if decision == "validated":
        data["level"] = "acquis"
    return reviews.review_claim(session, grants, claim.id, data, expected_version=claim.version).value


def build_side(app: Any, session: Any, tag: str, hashed: str) -> Side:
    rt = runtime(app)
    territory = Territory(name=f"Territoire {tag}")
    session.add(territory)
    session.flush()
    project = Project(territory_id=territory.id, title=f"Projet {tag}", social_functions=["produire"])
    session.add(project)
    session.flush()
    coordinator = _person(session, f"Coordinatrice {tag}", hashed)
    tutor = _person(session, f"Tuteur {tag}", hashed)
    learner = _person(session, f"Apprenante {tag}", hashed)
    other_learner = _person(session, f"Apprenant {tag}", hashed)
    assisted = _person(session, f"Assistée {tag}", hashed, email=False, assisted=True)
    facilitator = _person(session, f"Facilitateur {tag}", hashed)
    issuer_admin = _person(session, f"Émettrice {tag}", hashed)
    jury_officer = _person(session, f"Jury {tag}", hashed)
    _grant(session, coordinator, Role.COORDINATOR, territory.id)
    _grant(session, tutor, Role.TUTOR, project.id)
    _grant(session, facilitator, Role.TUTOR, project.id)
    learner_membership = _grant(session, learner, Role.LEARNER, project.id)
    _grant(session, other_learner, Role.LEARNER, project.id)
    _grant(session, assisted, Role.LEARNER, project.id)
    session.add(Facilitation(facilitator_id=facilitator.id, learner_id=assisted.id))
    framework, fiche, comps = _fiche(session, tag)
    _grant(session, jury_officer, Role.JURY_OFFICER, fiche.id)

    contribution = _contribution(session, learner, project, ContributionStatus.SUBMITTED)
    draft = _contribution(session, learner, project, ContributionStatus.DRAFT)
    learner_grants = access.load_grants(session, learner.id)
    items = {}
    for visibility in ("private", "jury", "public"):
        items[visibility] = evidence.add_evidence(
            session,
            learner_grants,
            contribution.id,
            {
                "kind": "link",
                "title": f"Lien {visibility}",
                "url": "https://example.fr/atelier",
                "visibility": visibility,
            },
        )
    photo = io.BytesIO(png_bytes(seed=len(tag)))
    items["tutors"] = evidence.upload_evidence(
        session,
        learner_grants,
        contribution.id,
        photo,
        "photo.png",
        {"title": "Photo", "visibility": "tutors"},
        storage=rt.storage,
        max_bytes=1 << 20,
    )
    tutor_grants = access.load_grants(session, tutor.id)
    claim_validated = _claim(session, learner_grants, contribution, comps[0])
    review = _review(session, tutor_grants, claim_validated, "validated")
    claim_needs = _claim(session, learner_grants, contribution, comps[1])
    _review(session, tutor_grants, claim_needs, "needs_evidence")
    claim_pending = _claim(session, learner_grants, contribution, comps[2])
    assisted_contribution = _contribution(session, assisted, project, ContributionStatus.SUBMITTED)
    assisted_claim = _claim(
        session, access.load_grants(session, facilitator.id, assisted.id), assisted_contribution, comps[0]
    )

    issuer = issuers.create_issuer(
        session,
        SYSTEM,
        {"name": f"Émetteur {tag}", "url": "https://emetteur.example.fr", "territory_id": territory.id},
        settings=rt.issuing,
    )
    _grant(session, issuer_admin, Role.ISSUER_ADMIN, issuer.id)
    admin_grants = access.load_grants(session, issuer_admin.id)
    issuer = issuers.set_issuer_image(
        session,
        admin_grants,
        issuer.id,
        io.BytesIO(png_bytes(4, 4)),
        storage=rt.storage,
        max_bytes=1 << 20,
        settings=rt.issuing,
    )
    achievement = achievements.create_achievement(
        session,
        admin_grants,
        issuer.id,
        {
            "name": f"Badge {tag}",
            "description": "Un badge.",
            "criteria": "Avoir animé.",
            "achievement_type": "Competency",
            "competency_ids": [comps[0].id],
        },
        storage=rt.storage,
        urls=rt.issuing.urls,
    )
    credential = awarding.award(session, admin_grants, achievement.id, {"learner_id": learner.id}, settings=rt.issuing)
    signing_key = session.scalars(
        select(SigningKey).where(SigningKey.issuer_id == issuer.id, SigningKey.purpose == KeyPurpose.DATA_INTEGRITY)
    ).one()
    rsa_kid = session.scalars(
        select(SigningKey.kid).where(SigningKey.issuer_id == issuer.id, SigningKey.purpose == KeyPurpose.OB2)
    ).one()
    status_list = session.scalars(select(StatusList).where(StatusList.issuer_id == issuer.id)).first()

    jury_grants = access.load_grants(session, jury_officer.id)
    dossier = dossiers.request_dossier(session, jury_grants, {"certification_id": fiche.id, "learner_id": learner.id})
    dossiers.consent(session, learner_grants, dossier.id)
    dossiers.generate(session, jury_grants, dossier.id, settings=rt.dossiers)
    link = dossiers.download_link(session, jury_grants, dossier.id, settings=rt.dossiers)
    parts = urlsplit(link.url)
    refresh = auth._issue(session, learner, uuid.uuid4(), rt.tokens).refresh_token
    job_params = {"mode": "dry_run", "issuer_id": str(issuer.id)}  # the issuer's report page finds it
    job = jobs.submit(session, access.load_grants(session, issuer_admin.id), "bulk_award", job_params)
    session.flush()
    return Side(
        territory,
        project,
        coordinator,
        tutor,
        learner,
        other_learner,
        assisted,
        facilitator,
        issuer_admin,
        jury_officer,
        framework,
        fiche,
        comps,
        contribution,
        draft,
        items,
        claim_pending,
        claim_validated,
        claim_needs,
        review,
        learner_membership,
        issuer,
        signing_key,
        status_list,
        achievement,
        credential,
        dossier,
        f"{parts.path}?{parts.query}",
        refresh,
        assisted_contribution,
        assisted_claim,
        rsa_kid,
        json.dumps(credential.ob3_credential),
        dict(parse_qsl(parts.query))["token"],
        job=job,
    )


def build_commuter(session: Any, a: Side, b: Side, hashed: str) -> Commuter:
    person = _person(session, "Navetteuse AB", hashed)
    _grant(session, person, Role.LEARNER, a.project.id)
    _grant(session, person, Role.LEARNER, b.project.id)
    contribution = Contribution(
        project_id=b.project.id,
        learner_id=person.id,
        created_by_id=person.id,
        title=SECRET_TITLE,
        narrative="Fait en B.",
        hours=40,
        status=ContributionStatus.SUBMITTED,
    )
    session.add(contribution)
    session.flush()
    grants = access.load_grants(session, person.id)
    items = [
        evidence.add_evidence(
            session,
            grants,
            contribution.id,
            {"kind": "link", "title": f"Preuve B {v}", "url": "https://example.fr/b", "visibility": v},
        )
        for v in ("tutors", "public")
    ]
    claim = _claim(session, grants, contribution, a.competencies[0])
    review = _review(session, access.load_grants(session, b.tutor.id), claim, "validated", SECRET_COMMENT)
    # ... and a claim of their own in A, so A's tutors follow them.
    _claim(session, grants, _contribution(session, person, a.project, ContributionStatus.SUBMITTED), a.competencies[1])
    session.flush()
    return Commuter(person, contribution, items, claim, review)


@pytest.fixture(scope="module")
def matrix_world(app, engine) -> Iterator[tuple[World, Any]]:  # type: ignore[no-untyped-def]
    """Both territories, built once; yields the world and the connection holding its transaction."""
    db = database_of(app)
    connection = engine.connect()
    outer = connection.begin()
    db.factory.configure(bind=connection, join_transaction_mode="create_savepoint")
    session = db.registry()
    try:
        hashed = runtime(app).passwords.hash(PASSWORD)
        with app.app_context():
            a = build_side(app, session, "A", hashed)
            b = build_side(app, session, "B", hashed)
            admin = _person(session, "Admin Plateforme", hashed)
            _grant(session, admin, Role.PLATFORM_ADMIN)
            commuter = build_commuter(session, a, b, hashed)
            session.commit()
            for side in (a, b):  # every column loaded now: the objects outlive their session
                for value in vars(side).values():
                    for obj in (
                        value.values() if isinstance(value, dict) else value if isinstance(value, list) else [value]
                    ):
                        if hasattr(obj, "_sa_instance_state"):
                            session.refresh(obj)
            for obj in (
                admin,
                commuter.person,
                commuter.b_contribution,
                commuter.b_claim,
                commuter.b_review,
                *commuter.b_evidence,
            ):
                session.refresh(obj)
        yield World(a, b, admin, commuter), connection
    finally:
        db.registry.remove()
        outer.rollback()
        connection.close()
        db.factory.configure(bind=engine, join_transaction_mode="conservative_savepoint")


@pytest.fixture()
def matrix(app, matrix_world):  # type: ignore[no-untyped-def]
    """The world, inside a SAVEPOINT undone after the test."""
    db = database_of(app)
    world, connection = matrix_world
    storage = runtime(app).storage
    # A generation in a test deletes the archive it replaces once its unit of work "commits" (the
    # SAVEPOINT's release); the rollback brings the row back but not the file: put the bytes back.
    archives = {}
    for side in (world.a, world.b):
        key = side.dossier.archive_key
        if key and storage.keyed_exists(key):
            with storage.open_keyed(key) as handle:
                archives[key] = handle.read()
    savepoint = connection.begin_nested()
    try:
        yield world
    finally:
        db.registry.remove()
        if savepoint.is_active:
            savepoint.rollback()
        for key, data in archives.items():
            if not storage.keyed_exists(key):
                with storage.create_keyed(key) as out, open(out.fileno(), "wb", closefd=False) as file:
                    file.write(data)
                    file.flush()
                    out.commit()
