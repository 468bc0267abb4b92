"""Authorisation: who may see and do what, checked against memberships and their scopes.

Everything a caller may not see is answered as missing (NotFound), so one territory cannot
learn what another holds; PermissionDenied is kept for things the caller can see but not change.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from app.models import Facilitation, Issuer, Membership, Person, Project, Role, ScopeType
from app.platform.errors import NotFound, PermissionDenied, Unauthenticated
from app.services.identity.audit import Actor


@dataclass(frozen=True)
class Grants:
    """The roles a person holds, indexed by scope, loaded once per request."""

    actor: Actor
    platform_admin: bool = False
    coordinator_of: frozenset[uuid.UUID] = field(default_factory=frozenset)
    tutor_of: frozenset[uuid.UUID] = field(default_factory=frozenset)
    learner_in: frozenset[uuid.UUID] = field(default_factory=frozenset)
    issuer_admin_of: frozenset[uuid.UUID] = field(default_factory=frozenset)
    jury_officer_for: frozenset[uuid.UUID] = field(default_factory=frozenset)

    @property
    def person_id(self) -> uuid.UUID:
        if self.actor.id is None:
            raise Unauthenticated("Authentication required.")
        return self.actor.id


ANONYMOUS = Grants(Actor(None))


def load_grants(session: Session, person_id: uuid.UUID, acting_for: uuid.UUID | None = None) -> Grants:
    """Load the grants of a person, or what they may do for the assisted learner ``acting_for``."""
    caller = session.get(Person, person_id)
    if caller is None or not caller.is_active:
        raise Unauthenticated("Account unknown or disabled.")
    grants = member_grants(session, person_id)
    if acting_for is None or acting_for == person_id:
        return grants
    return _acting_for(session, grants, acting_for)


def member_grants(session: Session, person_id: uuid.UUID) -> Grants:
    """The grants a person's own memberships give them (whether or not the account is active)."""
    buckets: dict[Role, set[uuid.UUID]] = {role: set() for role in Role}
    admin = False
    for role, scope_id in session.execute(
        select(Membership.role, Membership.scope_id).where(Membership.person_id == person_id)
    ):
        if role is Role.PLATFORM_ADMIN:
            admin = True
        elif scope_id is not None:
            buckets[role].add(scope_id)
    return Grants(
        actor=Actor(person_id, real_id=person_id),
        platform_admin=admin,
        coordinator_of=frozenset(buckets[Role.COORDINATOR]),
        tutor_of=frozenset(buckets[Role.TUTOR]),
        learner_in=frozenset(buckets[Role.LEARNER]),
        issuer_admin_of=frozenset(buckets[Role.ISSUER_ADMIN]),
        jury_officer_for=frozenset(buckets[Role.JURY_OFFICER]),
    )


def is_assisted_account(person: Person) -> bool:
    """An assisted account cannot log in by itself: only its facilitators act for it."""
    return person.is_assisted and person.password_hash is None


def facilitated_projects(session: Session, facilitator: Grants, learner_id: uuid.UUID) -> frozenset[uuid.UUID]:
    """Projects where the person learns and that the facilitator may see themself."""
    stmt = (
        select(Membership.scope_id)
        .join(Project, Project.id == Membership.scope_id)
        .where(
            Membership.person_id == learner_id,
            Membership.role == Role.LEARNER,
            Membership.scope_type == ScopeType.PROJECT,
        )
    )
    shown = visible_project_filter(facilitator)
    if shown is not None:
        stmt = stmt.where(shown)
    return frozenset(session.scalars(stmt))


def _acting_for(session: Session, facilitator: Grants, learner_id: uuid.UUID) -> Grants:
    # Acting for someone lends their place as a learner, and only where the facilitator already
    # looks: never their admin, coordinator, tutor, issuer or jury roles, or one could become
    # whoever one names oneself facilitator of. Checked on every request, so a facilitation stops
    # working as soon as the learner gets a login of their own or leaves the facilitator's projects.
    learner = session.get(Person, learner_id)
    link = session.scalar(
        select(Facilitation.id).where(
            Facilitation.facilitator_id == facilitator.person_id,
            Facilitation.learner_id == learner_id,
            Facilitation.revoked_at.is_(None),
        )
    )
    if link is None or learner is None or not learner.is_active or not is_assisted_account(learner):
        raise PermissionDenied("You are not a facilitator of this learner.")
    projects = facilitated_projects(session, facilitator, learner_id)
    if not projects:
        raise PermissionDenied("You are not a facilitator of this learner.")
    return Grants(actor=Actor(learner_id, real_id=facilitator.person_id), learner_in=projects)


def is_own(grants: Grants, learner_id: uuid.UUID, project_id: uuid.UUID) -> bool:
    """Whether a learner's record is the caller's own; a facilitator's only where they act for the learner."""
    if learner_id != grants.actor.id:
        return False
    return grants.actor.acting_for is None or project_id in grants.learner_in


def lent_projects(grants: Grants) -> frozenset[uuid.UUID] | None:
    """The projects of one's own record the caller reads: None (all) for the learner themself; for a
    facilitator acting for an assisted learner, only the projects lent (those the facilitator sees)."""
    return grants.learner_in if grants.actor.acting_for else None


def lent_territory_ids(session: Session, grants: Grants) -> set[uuid.UUID] | None:
    """The territories of the lent projects (see ``lent_projects``); None for the learner themself."""
    projects = lent_projects(grants)
    if projects is None:
        return None
    return set(session.scalars(select(Project.territory_id).where(Project.id.in_(projects)))) if projects else set()


def lent_issuer_filter(session: Session, grants: Grants) -> ColumnElement[bool] | None:
    """A SQL condition on Issuer for the badges of one's own a facilitator handles: those of the
    lent territories' issuers and of platform-wide issuers (None: no limit, the learner themself)."""
    territories = lent_territory_ids(session, grants)
    if territories is None:
        return None
    return Issuer.territory_id.is_(None) | Issuer.territory_id.in_(territories)


def require_login(grants: Grants) -> uuid.UUID:
    return grants.person_id


def visible_territory_ids(session: Session, grants: Grants) -> set[uuid.UUID] | None:
    """Territories the caller may see; None means all (platform admin)."""
    if grants.platform_admin:
        return None
    ids = set(grants.coordinator_of)
    project_ids = grants.tutor_of | grants.learner_in
    if project_ids:
        ids |= set(session.scalars(select(Project.territory_id).where(Project.id.in_(project_ids))))
    return ids


def visible_project_filter(grants: Grants) -> ColumnElement[bool] | None:
    """A SQL condition on Project limiting rows to what the caller may see (None: no limit)."""
    if grants.platform_admin:
        return None
    return Project.territory_id.in_(grants.coordinator_of) | Project.id.in_(grants.tutor_of | grants.learner_in)


def can_see_project(grants: Grants, project: Project) -> bool:
    return (
        grants.platform_admin
        or project.territory_id in grants.coordinator_of
        or project.id in grants.tutor_of
        or project.id in grants.learner_in
    )


def can_manage_project(grants: Grants, project: Project) -> bool:
    return grants.platform_admin or project.territory_id in grants.coordinator_of


def can_tutor(grants: Grants, project: Project) -> bool:
    return grants.platform_admin or project.id in grants.tutor_of


def check_manage_territory(grants: Grants, territory_id: uuid.UUID) -> None:
    if not (grants.platform_admin or territory_id in grants.coordinator_of):
        raise PermissionDenied("Only the territory's coordinators may do this.")


def get_project(session: Session, grants: Grants, project_id: uuid.UUID) -> Project:
    """Load a project the caller may see, or raise NotFound."""
    project = session.get(Project, project_id)
    if project is None or not can_see_project(grants, project):
        raise NotFound("Project not found.")
    return project


def served_territory_ids(session: Session, grants: Grants) -> set[uuid.UUID] | None:
    """Territories whose learners' reviews, standings and evidence the caller may read: those
    they coordinate and those of the projects they tutor; None means all (platform admin).

    Being a learner somewhere opens one's own record, never other learners' records there.
    """
    if grants.platform_admin:
        return None
    ids = set(grants.coordinator_of)
    if grants.tutor_of:
        ids |= set(session.scalars(select(Project.territory_id).where(Project.id.in_(grants.tutor_of))))
    return ids


def facilitates_anyone(session: Session, person_id: uuid.UUID) -> bool:
    """Whether the person is the facilitator of at least one learner today."""
    found = session.scalar(
        select(Facilitation.id)
        .where(Facilitation.facilitator_id == person_id, Facilitation.revoked_at.is_(None))
        .limit(1)
    )
    return found is not None


@dataclass(frozen=True)
class AssistedLearner:
    """An assisted learner a facilitator may act for, with the projects acting for them lends."""

    id: uuid.UUID
    display_name: str
    projects: tuple[str, ...]


def assisted_learners(session: Session, facilitator_id: uuid.UUID) -> list[AssistedLearner]:
    """The assisted learners a person may act for today (those ``load_grants(acting_for=)`` accepts), by name."""
    facilitator = member_grants(session, facilitator_id)
    learners = session.scalars(
        select(Person)
        .join(Facilitation, Facilitation.learner_id == Person.id)
        .where(
            Facilitation.facilitator_id == facilitator_id, Facilitation.revoked_at.is_(None), Person.is_active.is_(True)
        )
        .order_by(Person.display_name, Person.id)
    )
    found = []
    for learner in learners:
        projects = facilitated_projects(session, facilitator, learner.id) if is_assisted_account(learner) else None
        if projects:
            titles = session.scalars(select(Project.title).where(Project.id.in_(projects)).order_by(Project.title))
            found.append(AssistedLearner(learner.id, learner.display_name, tuple(titles)))
    return found


def may_act_for(session: Session, facilitator_id: uuid.UUID, learner_id: uuid.UUID) -> bool:
    """Whether the person may act for ``learner_id`` today (a facilitation can end at any time)."""
    if learner_id == facilitator_id:
        return False
    try:
        _acting_for(session, member_grants(session, facilitator_id), learner_id)
    except PermissionDenied:
        return False
    return True
