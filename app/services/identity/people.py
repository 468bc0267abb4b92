"""People, memberships (roles in scopes) and facilitations for assisted accounts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import (
    ROLE_SCOPES,
    Facilitation,
    Issuer,
    Membership,
    Person,
    ProfileType,
    Project,
    Role,
    ScopeType,
    Territory,
)
from app.models.frameworks import Competency
from app.platform.errors import (
    Conflict,
    FieldError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    check_version,
    flush_versioned,
)
from app.platform.pagination import Page, paginate
from app.services.identity import access, audit
from app.services.identity.access import Grants
from app.services.identity.auth import Passwords


def _can_manage_role(session: Session, grants: Grants, role: Role, scope_id: uuid.UUID | None) -> bool:
    """Platform admins grant anything; coordinators staff their territory and its projects;
    issuer admins add fellow issuer admins."""
    if grants.platform_admin:
        return True
    if role is Role.COORDINATOR and scope_id is not None:
        return scope_id in grants.coordinator_of
    if role in (Role.TUTOR, Role.LEARNER) and scope_id is not None:
        project = session.get(Project, scope_id)
        return project is not None and project.territory_id in grants.coordinator_of
    if role is Role.ISSUER_ADMIN and scope_id is not None:
        return scope_id in grants.issuer_admin_of
    return False


def _scope_exists(session: Session, scope_type: ScopeType, scope_id: uuid.UUID | None) -> bool:
    model = {
        ScopeType.TERRITORY: Territory,
        ScopeType.PROJECT: Project,
        ScopeType.ISSUER: Issuer,
        ScopeType.CERTIFICATION: Competency,
    }.get(scope_type)
    if model is None:
        return scope_id is None
    return scope_id is not None and session.get(model, scope_id) is not None


def _scope_visible(session: Session, grants: Grants, scope_type: ScopeType, scope_id: uuid.UUID | None) -> bool:
    """Projects and territories one cannot see are answered as missing, exactly as unknown ids."""
    if scope_type is ScopeType.PROJECT:
        project = session.get(Project, scope_id) if scope_id else None
        return project is not None and access.can_see_project(grants, project)
    if scope_type is ScopeType.TERRITORY:
        visible = access.visible_territory_ids(session, grants)
        return (
            scope_id is not None
            and session.get(Territory, scope_id) is not None
            and (visible is None or scope_id in visible)
        )
    return True


def create_person(session: Session, grants: Grants, data: dict[str, Any], *, passwords: Passwords) -> Person:
    """Create an account; an assisted one (no e-mail) gets its creator as facilitator."""
    project = None
    if data.get("project_id"):
        project = access.get_project(session, grants, data["project_id"])
        if not access.can_manage_project(grants, project):
            raise PermissionDenied("Only the territory's coordinators add people to this project.")
    elif not (grants.platform_admin or grants.coordinator_of):
        raise PermissionDenied("Only coordinators and platform administrators create accounts.")
    email = data.get("email")
    if email and session.scalar(select(Person.id).where(func.lower(Person.email) == email.lower())):
        raise Conflict("An account already uses this e-mail.", errors=[FieldError("#/email", "Already in use.")])
    person = Person(
        display_name=data["display_name"],
        email=email.lower() if email else None,
        password_hash=passwords.hash(data["password"]) if data.get("password") else None,
        profile_type=ProfileType(data.get("profile_type", "autre")),
        is_assisted=bool(data.get("is_assisted")),
        locale=data.get("locale", "fr"),
    )
    session.add(person)
    session.flush()
    audit.record(session, grants.actor, "person.created", "person", person.id, {"assisted": person.is_assisted})
    if person.is_assisted:
        session.add(Facilitation(facilitator_id=grants.actor.author_id, learner_id=person.id))
        audit.record(
            session,
            grants.actor,
            "facilitation.granted",
            "person",
            person.id,
            {"facilitator": str(grants.actor.author_id)},
        )
    if project is not None:
        role = Role(data.get("project_role", "learner"))
        session.add(
            Membership(
                person_id=person.id,
                role=role,
                scope_type=ScopeType.PROJECT,
                scope_id=project.id,
                created_by_id=grants.actor.author_id,
            )
        )
        audit.record(
            session,
            grants.actor,
            "membership.granted",
            "person",
            person.id,
            {"role": role.value, "scope": "project", "scopeId": str(project.id)},
        )
    session.flush()
    return person


def get_person(session: Session, grants: Grants, person_id: uuid.UUID) -> Person:
    """A person is visible to themselves, platform admins, their facilitators, and those sharing a territory."""
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound("Person not found.")
    if person.id == grants.person_id or grants.platform_admin:
        return person
    if session.scalar(
        select(Facilitation.id).where(
            Facilitation.facilitator_id == grants.person_id,
            Facilitation.learner_id == person.id,
            Facilitation.revoked_at.is_(None),
        )
    ):
        return person
    # Coordinators also see those who coordinate their territories with them (no project role needed).
    if grants.coordinator_of and session.scalar(
        select(Membership.id)
        .where(
            Membership.person_id == person.id,
            Membership.scope_type == ScopeType.TERRITORY,
            Membership.scope_id.in_(grants.coordinator_of),
        )
        .limit(1)
    ):
        return person
    visible = access.visible_territory_ids(session, grants) or set()
    shared = session.scalar(
        select(func.count())
        .select_from(Membership)
        .join(Project, Project.id == Membership.scope_id)
        .where(
            Membership.person_id == person.id,
            Membership.scope_type == ScopeType.PROJECT,
            Project.territory_id.in_(visible),
        )
    )
    if not shared:
        raise NotFound("Person not found.")
    return person


def update_me(session: Session, grants: Grants, data: dict[str, Any], *, expected_version: int | None) -> Person:
    """Change the caller's own profile, from the version they read."""
    person = session.get(Person, grants.person_id)
    if person is None:
        raise NotFound("Person not found.")
    check_version(person.version, expected_version, "profile")
    for key, value in data.items():
        setattr(person, key, value)
    flush_versioned(session, "profile")
    return person


def grant_membership(session: Session, grants: Grants, data: dict[str, Any]) -> Membership:
    role, scope_type = Role(data["role"]), ScopeType(data["scope_type"])
    scope_id = data.get("scope_id")
    if ROLE_SCOPES[role] is not scope_type:
        raise InvalidInput(
            f"The role {role.value} lives in a {ROLE_SCOPES[role].value} scope.",
            errors=[FieldError("#/scopeType", f"Expected {ROLE_SCOPES[role].value}.")],
        )
    if not _scope_visible(session, grants, scope_type, scope_id):
        raise NotFound("Scope not found.")
    if not _can_manage_role(session, grants, role, scope_id):
        raise PermissionDenied("You may not grant this role in this scope.")
    if not _scope_exists(session, scope_type, scope_id):
        raise NotFound("Scope not found.")
    # Only people one already sees are enrolled by id (others come through an account created in
    # the project); anyone else is answered as an unknown id, so ids reveal no one.
    get_person(session, grants, data["person_id"])
    membership = Membership(
        person_id=data["person_id"],
        role=role,
        scope_type=scope_type,
        scope_id=scope_id,
        created_by_id=grants.actor.author_id,
    )
    try:
        with session.begin_nested():
            session.add(membership)
    except IntegrityError:
        raise Conflict("This person already has this role in this scope.") from None
    audit.record(
        session,
        grants.actor,
        "membership.granted",
        "person",
        membership.person_id,
        {"role": role.value, "scope": scope_type.value, "scopeId": str(scope_id) if scope_id else None},
    )
    return membership


def revoke_membership(session: Session, grants: Grants, membership_id: uuid.UUID) -> None:
    membership = session.get(Membership, membership_id)
    if membership is None or not _can_manage_role(session, grants, membership.role, membership.scope_id):
        raise NotFound("Membership not found.")
    if membership.role is Role.PLATFORM_ADMIN:
        _keep_an_administrator(session, membership)
    session.delete(membership)
    session.flush()
    audit.record(
        session,
        grants.actor,
        "membership.revoked",
        "person",
        membership.person_id,
        {
            "role": membership.role.value,
            "scope": membership.scope_type.value,
            "scopeId": str(membership.scope_id) if membership.scope_id else None,
        },
    )


def _keep_an_administrator(session: Session, leaving: Membership) -> None:
    # Lock every admin membership first: two admins removing each other at the same time queue up,
    # and the second sees that the first is gone.
    admins = session.scalars(select(Membership).where(Membership.role == Role.PLATFORM_ADMIN).with_for_update()).all()
    others = {m.person_id for m in admins if m.id != leaving.id}
    if not others or not session.scalar(
        select(func.count()).select_from(Person).where(Person.id.in_(others), Person.is_active.is_(True))
    ):
        raise Conflict(
            "C'est le dernier compte administrateur de la plateforme actif : nommez d'abord un autre "
            "administrateur. (This is the last active platform administrator: appoint another one first.)"
        )


def list_memberships(
    session: Session,
    grants: Grants,
    *,
    person_id: uuid.UUID | None = None,
    scope_type: str | None = None,
    scope_id: uuid.UUID | None = None,
    page: int = 1,
    per_page: int = 20,
) -> Page[Membership]:
    access.require_login(grants)
    stmt = select(Membership).order_by(Membership.created_at, Membership.id)
    if grants.actor.acting_for:
        stmt = stmt.where(_lent(grants))
    elif not grants.platform_admin:
        # Own memberships, plus those of the territories and projects one coordinates.
        coordinated_projects = select(Project.id).where(Project.territory_id.in_(grants.coordinator_of))
        stmt = stmt.where(
            (Membership.person_id == grants.person_id)
            | (Membership.scope_id.in_(grants.coordinator_of))
            | (Membership.scope_id.in_(coordinated_projects))
        )
    if person_id:
        stmt = stmt.where(Membership.person_id == person_id)
    if scope_type:
        stmt = stmt.where(Membership.scope_type == ScopeType(scope_type))
    if scope_id:
        stmt = stmt.where(Membership.scope_id == scope_id)
    return paginate(session, stmt, page, per_page)


def my_memberships(session: Session, grants: Grants) -> list[Membership]:
    stmt = select(Membership).where(Membership.person_id == grants.person_id)
    if grants.actor.acting_for:
        stmt = stmt.where(_lent(grants))
    return list(session.scalars(stmt.order_by(Membership.created_at, Membership.id)))


def _lent(grants: Grants) -> ColumnElement[bool]:
    """The learner's memberships a facilitator acts in (the only ones acting for them lends)."""
    return (
        (Membership.person_id == grants.person_id)
        & (Membership.role == Role.LEARNER)
        & Membership.scope_id.in_(grants.learner_in)
    )


@dataclass(frozen=True)
class Me:
    """The caller's account, their roles, and the learner a facilitator acts for."""

    person: Person
    memberships: list[Membership]
    acting_for: uuid.UUID | None


def get_me(session: Session, grants: Grants) -> Me:
    person = get_person(session, grants, grants.person_id)
    return Me(person, my_memberships(session, grants), grants.actor.acting_for)


def grant_facilitation(session: Session, grants: Grants, data: dict[str, Any]) -> Facilitation:
    """Let a facilitator act for an assisted learner; coordinators of the learner's territory decide."""
    learner = get_person(session, grants, data["learner_id"])
    try:
        facilitator = get_person(session, grants, data["facilitator_id"])
    except NotFound:
        raise NotFound("Facilitator not found.") from None
    learning_in = list(
        session.scalars(
            select(Project)
            .join(Membership, Membership.scope_id == Project.id)
            .where(
                Membership.person_id == learner.id,
                Membership.role == Role.LEARNER,
                Membership.scope_type == ScopeType.PROJECT,
            )
        )
    )
    if not grants.platform_admin:
        learning_in = [p for p in learning_in if p.territory_id in grants.coordinator_of]
        if not learning_in:
            raise PermissionDenied("Only the learner's coordinators may name a facilitator.")
    if facilitator.id == learner.id:
        raise InvalidInput(
            "A learner is not their own facilitator.",
            errors=[
                FieldError(
                    "#/facilitatorId", "Choisissez une autre personne que l'apprenant. (Not the learner themself.)"
                )
            ],
        )
    # A facilitation lends a login to someone who has none; a person who logs in acts for themself.
    if not access.is_assisted_account(learner):
        raise InvalidInput(
            "Only an assisted account (no login of its own) has facilitators.",
            errors=[
                FieldError(
                    "#/learnerId",
                    "Ce compte se connecte lui-même : seul un compte "
                    "accompagné a un facilitateur. (Not an assisted "
                    "account.)",
                )
            ],
        )
    facilitator_grants = access.member_grants(session, facilitator.id)
    if not facilitator.is_active or not any(access.can_see_project(facilitator_grants, p) for p in learning_in):
        raise InvalidInput(
            "The facilitator takes part in none of the learner's projects in your territory.",
            errors=[
                FieldError(
                    "#/facilitatorId",
                    "Cette personne n'intervient dans aucun projet "
                    "de l'apprenant sur votre territoire. (Not in "
                    "any of the learner's projects.)",
                )
            ],
        )
    existing = session.scalar(
        select(Facilitation).where(Facilitation.facilitator_id == facilitator.id, Facilitation.learner_id == learner.id)
    )
    if existing is not None:
        existing.revoked_at = None
        facilitation = existing
    else:
        facilitation = Facilitation(facilitator_id=facilitator.id, learner_id=learner.id)
        session.add(facilitation)
    session.flush()
    audit.record(
        session, grants.actor, "facilitation.granted", "person", learner.id, {"facilitator": str(facilitator.id)}
    )
    return facilitation


def display_names(session: Session, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The display names of the people ``ids`` names (for a page's layout: who is signed in, acted for)."""
    if not ids:
        return {}
    rows = session.execute(select(Person.id, Person.display_name).where(Person.id.in_(ids)))
    return {row.id: row.display_name for row in rows}


def set_locale(session: Session, person_id: uuid.UUID, lang: str) -> None:
    """Keep the language a person chose for their pages and e-mails (``fr`` or ``en``)."""
    if lang not in ("fr", "en"):
        raise InvalidInput("Unknown language.", errors=[FieldError("#/lang", "Expected fr or en.")])
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound("No such person.")
    person.locale = lang
    session.flush()
