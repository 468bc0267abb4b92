"""The people of a coordinator's territories: find them, read one, invite one, create an assisted account.

A coordinator's scope is the territories they coordinate: the people holding a role in one of them
(coordinator of the territory, learner or tutor of one of its projects). Anyone else is answered as
missing, exactly as an unknown id; a person without coordinator scope is refused. The writes go
through :mod:`app.services.identity.people` and :mod:`app.services.identity.account_links` (the
same rules as the API); this module only adds what the pages need around them.

Names are matched without accents or case on SQLite and PostgreSQL alike: the query is folded in
Python, and each of its words is looked for in the name and the e-mail (see :func:`_holds`).
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.models import (
    AccountLink,
    Contribution,
    ContributionStatus,
    Facilitation,
    LinkPurpose,
    Membership,
    Person,
    Project,
    ProjectStatus,
    Role,
    ScopeType,
    Territory,
)
from app.platform.errors import Conflict, FieldError, InvalidInput, NotFound, PermissionDenied
from app.platform.mail import Message
from app.platform.pagination import LIKE_ESCAPE, Page, contains_pattern, paginate
from app.services.identity import access, account_links, audit, people
from app.services.identity.access import Grants
from app.services.identity.auth import Passwords

# Accented letters and the plain ones the query is folded to (French first, a few neighbours).
_FOLDS = {"a": "àâäáãå", "c": "ç", "e": "éèêë", "i": "îïíì", "o": "ôöóòõø", "u": "ùûüú", "y": "ÿý", "n": "ñ"}
_ACCENTED = "".join(_FOLDS.values())
_PLAIN = "".join(plain * len(letters) for plain, letters in _FOLDS.items())
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ø": "o", "Ø": "o"})
_NOT_A_WORD = re.compile(r"[^\w@.+-]+")
MAX_WORDS = 6
OPEN_PROJECTS = (ProjectStatus.PLANNED, ProjectStatus.ACTIVE)
# The roles a coordinator gives (people.grant_membership decides; these are the ones it lets them).
GIVEN_ROLES = (Role.LEARNER, Role.TUTOR, Role.COORDINATOR)


def fold_words(query: str) -> list[str]:
    """The words of a query, lower-case and without accents; repeats dropped, at most six."""
    decomposed = unicodedata.normalize("NFKD", query.translate(_LIGATURES))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    words: list[str] = []
    for word in _NOT_A_WORD.split(plain):
        word = word.strip(".-+")
        if word and word not in words:
            words.append(word)
    return words[:MAX_WORDS]


def _holds(session: Session, column: Any, word: str) -> ColumnElement[bool]:
    """Whether ``column`` holds the folded ``word``, accents and case ignored.

    PostgreSQL folds the column (``lower`` knows every letter there, ``translate`` drops the accents);
    SQLite's ``lower`` knows only ASCII, so the word becomes a GLOB pattern instead, each letter a
    class of its cases and accented forms (``e`` → ``[eéèêëEÉÈÊË]``). A word holds no GLOB
    metacharacter: ``fold_words`` keeps only letters, digits and ``@ . + - _``.
    """
    if session.get_bind().dialect.name == "postgresql":
        folded = func.replace(func.replace(func.translate(func.lower(column), _ACCENTED, _PLAIN), "œ", "oe"), "æ", "ae")
        return folded.like(contains_pattern(word), escape=LIKE_ESCAPE)
    return column.op("GLOB")("*" + "".join(_glob_class(letter) for letter in word) + "*")


def _glob_class(letter: str) -> str:
    variants = letter + _FOLDS.get(letter, "")
    variants += "".join(v.upper() for v in variants if len(v.upper()) == 1 and v.upper() != v)
    return f"[{variants}]" if len(variants) > 1 else letter


# --- scope ------------------------------------------------------------------------------------------


def coordinated_territories(session: Session, grants: Grants) -> list[Territory]:
    """The territories whose people the caller manages, by name; refused to anyone who coordinates none."""
    access.require_login(grants)
    if not grants.coordinator_of or grants.actor.acting_for:
        raise PermissionDenied("Only a territory's coordinators manage its people.")
    return list(
        session.scalars(select(Territory).where(Territory.id.in_(grants.coordinator_of)).order_by(Territory.name))
    )


def _in_territories(territory_ids: set[uuid.UUID] | frozenset[uuid.UUID]) -> ColumnElement[bool]:
    """A condition on Membership: a role in one of these territories or one of their projects."""
    projects = select(Project.id).where(Project.territory_id.in_(territory_ids))
    return or_(
        and_(Membership.scope_type == ScopeType.PROJECT, Membership.scope_id.in_(projects)),
        and_(Membership.scope_type == ScopeType.TERRITORY, Membership.scope_id.in_(territory_ids)),
    )


def _scope(session: Session, grants: Grants, territory_id: uuid.UUID | None = None) -> set[uuid.UUID]:
    territories = {t.id for t in coordinated_territories(session, grants)}
    if territory_id is None:
        return territories
    if territory_id not in territories:
        raise NotFound("Territory not found.")
    return {territory_id}


# --- reading ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoleLine:
    """One role of a person in the caller's scope, with the name of its place."""

    membership_id: uuid.UUID
    role: str  # Role value
    scope_type: str  # "territory" or "project"
    place: str  # the territory's name or the project's title
    territory: str  # the territory's name (the project's territory for a project)


@dataclass(frozen=True)
class PersonRow:
    """A person found, with their roles in the caller's scope."""

    person: Person
    roles: list[RoleLine]


def _role_lines(
    session: Session, person_ids: list[uuid.UUID], territory_ids: set[uuid.UUID]
) -> dict[Any, list[RoleLine]]:
    """The roles of these people in these territories, by person: territories first, then projects by title."""
    found: dict[Any, list[RoleLine]] = {pid: [] for pid in person_ids}
    if not person_ids:
        return found
    in_scope = Membership.person_id.in_(person_ids) & _in_territories(territory_ids)
    for membership, title, territory in session.execute(
        select(Membership, Project.title, Territory.name)
        .join(Project, (Project.id == Membership.scope_id) & (Membership.scope_type == ScopeType.PROJECT))
        .join(Territory, Territory.id == Project.territory_id)
        .where(in_scope)
        .order_by(Project.title, Membership.role)
    ):
        found[membership.person_id].append(RoleLine(membership.id, membership.role.value, "project", title, territory))
    for membership, name in session.execute(
        select(Membership, Territory.name)
        .join(Territory, (Territory.id == Membership.scope_id) & (Membership.scope_type == ScopeType.TERRITORY))
        .where(in_scope)
        .order_by(Territory.name)
    ):
        found[membership.person_id].insert(0, RoleLine(membership.id, membership.role.value, "territory", name, name))
    return found


def search_people(
    session: Session,
    grants: Grants,
    *,
    q: str = "",
    territory_id: uuid.UUID | None = None,
    page: int = 1,
    per_page: int = 20,
) -> Page[PersonRow]:
    """The people of the caller's territories whose name or e-mail holds every word of ``q`` (accents and
    case ignored), by name; everyone in scope when ``q`` is empty."""
    territories = _scope(session, grants, territory_id)
    stmt = (
        select(Person)
        .where(Person.id.in_(select(Membership.person_id).where(_in_territories(territories))))
        .order_by(Person.display_name, Person.id)
    )
    email = func.coalesce(Person.email, "")
    for word in fold_words(q):
        stmt = stmt.where(or_(_holds(session, Person.display_name, word), _holds(session, email, word)))
    found = paginate(session, stmt, page, per_page)
    lines = _role_lines(session, [p.id for p in found.items], territories)
    return Page([PersonRow(p, lines[p.id]) for p in found.items], found.total, found.page, found.per_page)


@dataclass(frozen=True)
class Someone:
    id: uuid.UUID
    display_name: str


@dataclass(frozen=True)
class PersonSheet:
    """What a coordinator reads about one person of their territories."""

    person: Person
    roles: list[RoleLine]
    projects: list[str]  # titles, in the caller's scope
    contributions: int  # submitted, in the caller's scope (drafts are the learner's alone)
    assisted: bool  # an assisted account: no login of its own, acted for by facilitators
    facilitators: list[Someone]  # of this person, today
    assisted_learners: list[Someone]  # this person facilitates, in the caller's scope
    invitation: str  # "assisted", "no_email", "accepted", "pending", "expired", "not_sent"


def person_sheet(
    session: Session, grants: Grants, person_id: uuid.UUID, *, clock: Callable[[], datetime] = utcnow
) -> PersonSheet:
    """A person of the caller's territories: roles, projects, contributions, facilitators, invitation."""
    territories = _scope(session, grants)
    person = session.get(Person, person_id)
    roles = _role_lines(session, [person_id], territories)[person_id] if person is not None else []
    if person is None or not roles:
        raise NotFound("Person not found.")
    projects_in_scope = select(Project.id).where(Project.territory_id.in_(territories))
    contributions = session.scalar(
        select(func.count())
        .select_from(Contribution)
        .where(
            Contribution.learner_id == person.id,
            Contribution.status != ContributionStatus.DRAFT,
            Contribution.project_id.in_(projects_in_scope),
        )
    )
    facilitators = _someone(
        session,
        select(Facilitation.facilitator_id).where(
            Facilitation.learner_id == person.id, Facilitation.revoked_at.is_(None)
        ),
    )
    in_scope = select(Membership.person_id).where(_in_territories(territories))
    assisted_learners = _someone(
        session,
        select(Facilitation.learner_id).where(
            Facilitation.facilitator_id == person.id,
            Facilitation.revoked_at.is_(None),
            Facilitation.learner_id.in_(in_scope),
        ),
    )
    projects = sorted({r.place for r in roles if r.scope_type == "project"})
    return PersonSheet(
        person=person,
        roles=roles,
        projects=projects,
        contributions=contributions or 0,
        assisted=access.is_assisted_account(person),
        facilitators=facilitators,
        assisted_learners=assisted_learners,
        invitation=_invitation_state(session, person, clock()),
    )


def _someone(session: Session, ids: Any) -> list[Someone]:
    rows = session.execute(
        select(Person.id, Person.display_name).where(Person.id.in_(ids)).order_by(Person.display_name, Person.id)
    )
    return [Someone(row.id, row.display_name) for row in rows]


def _invitation_state(session: Session, person: Person, now: datetime) -> str:
    if person.is_assisted:
        return "assisted"
    if not person.email:
        return "no_email"
    links = session.execute(
        select(AccountLink.used_at, AccountLink.expires_at).where(
            AccountLink.person_id == person.id, AccountLink.purpose == LinkPurpose.INVITATION
        )
    ).all()
    if person.password_hash is not None or any(used for used, _ in links):
        return "accepted"
    if not links:
        return "not_sent"
    return "pending" if any(_aware(expires) > now for _, expires in links) else "expired"


def _aware(moment: datetime) -> datetime:
    # SQLite gives naive datetimes back: they are stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)


def in_scope(session: Session, grants: Grants, person_id: uuid.UUID) -> bool:
    """Whether the person holds a role in one of the caller's territories."""
    if not grants.coordinator_of:
        return False
    found = session.scalar(
        select(Membership.id).where(Membership.person_id == person_id, _in_territories(grants.coordinator_of)).limit(1)
    )
    return found is not None


# --- the choices the forms offer ---------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """A project (or the territory itself) where a role can be given."""

    id: uuid.UUID
    title: str


@dataclass(frozen=True)
class TerritoryPlaces:
    territory: Place
    projects: list[Place]


def places(session: Session, grants: Grants) -> list[TerritoryPlaces]:
    """The caller's territories with their planned and active projects, by name."""
    territories = coordinated_territories(session, grants)
    by_territory: dict[uuid.UUID, list[Place]] = {t.id: [] for t in territories}
    for project in session.scalars(
        select(Project)
        .where(Project.territory_id.in_(by_territory), Project.status.in_(OPEN_PROJECTS))
        .order_by(Project.title, Project.id)
    ):
        by_territory[project.territory_id].append(Place(project.id, project.title))
    return [TerritoryPlaces(Place(t.id, t.name), by_territory[t.id]) for t in territories]


def facilitator_choices(session: Session, grants: Grants) -> list[Someone]:
    """Who, besides the caller, may facilitate in the caller's territories: their tutors and coordinators."""
    territories = _scope(session, grants)
    staff = select(Membership.person_id).where(
        _in_territories(territories), Membership.role.in_((Role.TUTOR, Role.COORDINATOR))
    )
    return [
        s
        for s in _someone(session, select(Person.id).where(Person.id.in_(staff), Person.is_active.is_(True)))
        if s.id != grants.person_id
    ]


def parse_role_choice(value: str) -> tuple[Role, uuid.UUID] | None:
    """A form's ``role:place`` (``learner:<project id>``, ``coordinator:<territory id>``), or None."""
    role_text, _, place_text = value.partition(":")
    try:
        role, place = Role(role_text), uuid.UUID(place_text)
    except ValueError:
        return None
    return (role, place) if role in GIVEN_ROLES else None


# --- writing -----------------------------------------------------------------------------------------


def give_role(session: Session, grants: Grants, person_id: uuid.UUID, choice: str) -> Membership:
    """Give a person of the caller's territories a role (``learner:<project>``, ``tutor:<project>``,
    ``coordinator:<territory>``); refused as the API refuses it."""
    person_sheet(session, grants, person_id)  # NotFound outside the scope
    parsed = parse_role_choice(choice)
    if parsed is None:
        raise InvalidInput("Choose a role.", errors=[FieldError("#/role", "Unknown role or place.")])
    role, place = parsed
    data = {"person_id": person_id, "role": role.value, "scope_type": _scope_type(role).value, "scope_id": place}
    return people.grant_membership(session, grants, data)


def _scope_type(role: Role) -> ScopeType:
    return ScopeType.TERRITORY if role is Role.COORDINATOR else ScopeType.PROJECT


def role_to_remove(session: Session, grants: Grants, person_id: uuid.UUID, membership_id: uuid.UUID) -> RoleLine:
    """One role of a person of the caller's territories (for the confirmation), else NotFound."""
    sheet = person_sheet(session, grants, person_id)
    line = next((r for r in sheet.roles if r.membership_id == membership_id), None)
    if line is None:
        raise NotFound("Membership not found.")
    return line


def remove_role(session: Session, grants: Grants, person_id: uuid.UUID, membership_id: uuid.UUID) -> RoleLine:
    """Withdraw one role of a person of the caller's territories."""
    line = role_to_remove(session, grants, person_id, membership_id)
    people.revoke_membership(session, grants, membership_id)
    return line


def invite_person(
    session: Session, grants: Grants, data: dict[str, Any], *, passwords: Passwords, links: account_links.LinkSettings
) -> tuple[Person, tuple[Message, ...]]:
    """Create an account with an e-mail and a role in the caller's territories; return it with the
    invitation e-mail to send once committed (``display_name``, ``email``, ``role`` as ``give_role``)."""
    _scope(session, grants)
    parsed = parse_role_choice(data.get("role", ""))
    if parsed is None:
        raise InvalidInput("Choose a role.", errors=[FieldError("#/role", "Unknown role or place.")])
    role, place = parsed
    values = {"display_name": data["display_name"], "email": data["email"]}
    if role is Role.COORDINATOR:
        access.check_manage_territory(grants, place)
        person = people.create_person(session, grants, values, passwords=passwords)
        _add_membership(session, grants, person, Role.COORDINATOR, ScopeType.TERRITORY, place)
    else:
        values |= {"project_id": place, "project_role": role.value}
        person = people.create_person(session, grants, values, passwords=passwords)
    return person, account_links.invite(session, grants, person, settings=links)


def _add_membership(
    session: Session, grants: Grants, person: Person, role: Role, scope_type: ScopeType, scope_id: uuid.UUID
) -> None:
    # A brand-new account is no one's to see yet, so people.grant_membership (which enrols only people
    # the caller already sees) cannot be used: the caller's right on the scope was checked above.
    session.add(
        Membership(
            person_id=person.id,
            role=role,
            scope_type=scope_type,
            scope_id=scope_id,
            created_by_id=grants.actor.author_id,
        )
    )
    session.flush()
    audit.record(
        session,
        grants.actor,
        "membership.granted",
        "person",
        person.id,
        {"role": role.value, "scope": scope_type.value, "scopeId": str(scope_id)},
    )


ME = "moi"


def create_assisted(
    session: Session,
    grants: Grants,
    data: dict[str, Any],
    *,
    passwords: Passwords,
    clock: Callable[[], datetime] = utcnow,
) -> Person:
    """Create an assisted account (no e-mail, no password), learner of a project of the caller's
    territories; its facilitator is the caller (``facilitator`` = ``"moi"``) or the person named."""
    _scope(session, grants)
    project_id = data.get("project_id")
    if project_id is None:
        raise InvalidInput("Choose a project.", errors=[FieldError("#/projectId", "A project is required.")])
    values = {"display_name": data["display_name"], "is_assisted": True, "project_id": project_id}
    person = people.create_person(session, grants, values | {"project_role": "learner"}, passwords=passwords)
    facilitator = data.get("facilitator") or ME
    if facilitator != ME:
        name_facilitator(session, grants, person.id, facilitator)
        _step_back(session, grants, person, clock)
    return person


def name_facilitator(session: Session, grants: Grants, learner_id: uuid.UUID, facilitator: Any) -> Facilitation:
    """Let the caller (``"moi"``) or a person of the territory act for an assisted learner of it."""
    person_sheet(session, grants, learner_id)  # NotFound outside the scope
    facilitator_id = grants.person_id if facilitator == ME else facilitator
    if not isinstance(facilitator_id, uuid.UUID) or not in_scope(session, grants, facilitator_id):
        raise InvalidInput("Choose a facilitator.", errors=[FieldError("#/facilitatorId", "Unknown person.")])
    return people.grant_facilitation(session, grants, {"learner_id": learner_id, "facilitator_id": facilitator_id})


def _step_back(session: Session, grants: Grants, learner: Person, clock: Callable[[], datetime]) -> None:
    """The creator named someone else: their own facilitation (given by create_person) ends."""
    mine = session.scalar(
        select(Facilitation).where(
            Facilitation.facilitator_id == grants.person_id,
            Facilitation.learner_id == learner.id,
            Facilitation.revoked_at.is_(None),
        )
    )
    if mine is None:
        return
    mine.revoked_at = clock()
    session.flush()
    audit.record(
        session, grants.actor, "facilitation.revoked", "person", learner.id, {"facilitator": str(grants.person_id)}
    )


def resend_invitation(
    session: Session, grants: Grants, person_id: uuid.UUID, *, links: account_links.LinkSettings
) -> tuple[Message, ...]:
    """Send a person of the caller's territories a new invitation (account_links' rules); none to
    someone who already has a password, however they got it."""
    if person_sheet(session, grants, person_id).invitation not in ("pending", "expired", "not_sent"):
        raise Conflict("This person has a password already, or no e-mail: no invitation to send.")
    return account_links.resend_invitation(session, grants, person_id, settings=links)
