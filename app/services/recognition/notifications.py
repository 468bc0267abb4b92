"""The e-mails of the validation workflow, in French (English for people whose locale is en).

Their words are in the catalogue (``mail.*`` in ``app/translations``)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import (
    Claim,
    Competency,
    Contribution,
    Decision,
    Facilitation,
    Membership,
    Person,
    Project,
    Review,
    Role,
    ScopeType,
)
from app.platform.i18n import lang_of, translator
from app.platform.mail import Message
from app.services.recognition.scales import Level


def _compose(
    kind: str, recipient: Person, on_behalf: bool, values: dict[str, str], level: Level | None = None
) -> Message:
    """One e-mail in the recipient's language: ``mail.<kind>.subject`` and ``.body`` from the catalogue."""
    assert recipient.email
    tr = translator(lang_of(recipient.locale))
    fields = {**values, "name": recipient.display_name, "level": level.label(tr.lang) if level else ""}
    text = tr(f"mail.{kind}.body", **fields)
    if on_behalf:
        text += tr("mail.on_behalf", **fields)
    return Message(recipient.email, tr(f"mail.{kind}.subject", **fields), text + tr("mail.signature"))


def _tutors(session: Session, project_id: uuid.UUID, *, excluding: set[uuid.UUID]) -> list[Person]:
    return list(
        session.scalars(
            select(Person)
            .join(Membership, Membership.person_id == Person.id)
            .where(
                Membership.role == Role.TUTOR,
                Membership.scope_type == ScopeType.PROJECT,
                Membership.scope_id == project_id,
                Person.is_active.is_(True),
                Person.email.is_not(None),
                Person.id.not_in(excluding),
            )
            .order_by(Person.display_name, Person.id)
        )
    )


def _learner_recipients(session: Session, learner: Person) -> list[tuple[Person, bool]]:
    """The learner; an assisted learner without e-mail is told through their facilitators."""
    if learner.email:
        return [(learner, False)]
    facilitators = session.scalars(
        select(Person)
        .join(Facilitation, Facilitation.facilitator_id == Person.id)
        .where(
            Facilitation.learner_id == learner.id,
            Facilitation.revoked_at.is_(None),
            Person.email.is_not(None),
            Person.is_active.is_(True),
        )
        .order_by(Person.id)
    )
    return [(person, True) for person in facilitators]


def _values(session: Session, claim: Claim, competency: Competency) -> tuple[Person, dict[str, str]]:
    learner = session.get(Person, claim.learner_id)
    contribution = session.get(Contribution, claim.contribution_id)
    project = session.get(Project, claim.project_id)
    assert learner is not None and contribution is not None and project is not None
    label = f"{competency.code} {competency.label}" if competency.code else competency.label
    return learner, {
        "learner": learner.display_name,
        "competency": label,
        "contribution": contribution.title,
        "project": project.title,
    }


def claim_submitted(
    session: Session, claim: Claim, competency: Competency, text: str, *, resubmitted: bool
) -> tuple[Message, ...]:
    """Tell the project's tutors a claim (new or completed) waits for them."""
    learner, values = _values(session, claim, competency)
    values["text"] = text
    kind = "resubmitted" if resubmitted else "submitted"
    return tuple(
        _compose(kind, tutor, False, values)
        for tutor in _tutors(session, claim.project_id, excluding={claim.learner_id})
    )


def second_review_needed(
    session: Session, claim: Claim, competency: Competency, review: Review, level: Level
) -> tuple[Message, ...]:
    """Tell the other tutors a first validation awaits their review."""
    learner, values = _values(session, claim, competency)
    reviewer = session.get(Person, review.reviewer_id)
    assert reviewer is not None
    values.update(text=review.comment, reviewer=reviewer.display_name)
    return tuple(
        _compose("second_review", tutor, False, values, level)
        for tutor in _tutors(session, claim.project_id, excluding={claim.learner_id, reviewer.id})
    )


def decision_made(
    session: Session, claim: Claim, competency: Competency, review: Review, level: Level | None
) -> tuple[Message, ...]:
    """Tell the learner (or their facilitators) of a final decision."""
    learner, values = _values(session, claim, competency)
    reviewer = session.get(Person, review.reviewer_id)
    assert reviewer is not None
    values.update(text=review.comment, reviewer=reviewer.display_name)
    kind = Decision(review.decision).value
    return tuple(
        _compose(kind, person, on_behalf, values, level) for person, on_behalf in _learner_recipients(session, learner)
    )
