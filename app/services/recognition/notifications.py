"""The e-mails of the validation workflow, in French (English for people whose locale is en).

Each links to the page where its reader acts: a tutor to the claim to decide on (``/a-valider``),
a learner (or the facilitators of an assisted learner) to their claim (``/mes-demandes``). Their
words are in the catalogue (``mail.*`` in ``app/translations``). Without ``links`` (tests that only
look at who is told) the e-mails carry no link line.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Claim, Competency, Contribution, Decision, Membership, Person, Project, Review, Role, ScopeType
from app.platform.mail import Message
from app.services.identity.recipients import PageLinks, Recipient, compose, lang, learner_recipients
from app.services.recognition.scales import Level


def _compose(
    kind: str, recipient: Recipient, values: dict[str, str], link: str | None, level: Level | None = None
) -> Message:
    """One e-mail in the recipient's language, the level named in that language."""
    return compose(kind, recipient, {**values, "level": level.label(lang(recipient)) if level else ""}, link=link)


def _tutors(session: Session, project_id: uuid.UUID, *, excluding: set[uuid.UUID]) -> list[Recipient]:
    tutors = session.scalars(
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
    return [Recipient(tutor, False) for tutor in tutors]


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
    session: Session,
    claim: Claim,
    competency: Competency,
    text: str,
    *,
    resubmitted: bool,
    links: PageLinks | None = None,
) -> tuple[Message, ...]:
    """Tell the project's tutors a claim (new or completed) waits for them, with a link to it."""
    learner, values = _values(session, claim, competency)
    values["text"] = text
    kind = "resubmitted" if resubmitted else "submitted"
    link = links.claim_to_review(claim.id) if links else None
    return tuple(
        _compose(kind, tutor, values, link)
        for tutor in _tutors(session, claim.project_id, excluding={claim.learner_id})
    )


def second_review_needed(
    session: Session,
    claim: Claim,
    competency: Competency,
    review: Review,
    level: Level,
    *,
    links: PageLinks | None = None,
) -> tuple[Message, ...]:
    """Tell the other tutors a first validation awaits their review, with a link to it."""
    learner, values = _values(session, claim, competency)
    reviewer = session.get(Person, review.reviewer_id)
    assert reviewer is not None
    values.update(text=review.comment, reviewer=reviewer.display_name)
    link = links.claim_to_review(claim.id) if links else None
    return tuple(
        _compose("second_review", tutor, values, link, level)
        for tutor in _tutors(session, claim.project_id, excluding={claim.learner_id, reviewer.id})
    )


def decision_made(
    session: Session,
    claim: Claim,
    competency: Competency,
    review: Review,
    level: Level | None,
    *,
    links: PageLinks | None = None,
) -> tuple[Message, ...]:
    """Tell the learner (or their facilitators) of a final decision, with a link to the claim."""
    learner, values = _values(session, claim, competency)
    reviewer = session.get(Person, review.reviewer_id)
    assert reviewer is not None
    values.update(text=review.comment, reviewer=reviewer.display_name)
    kind = Decision(review.decision).value
    link = links.my_claim(claim.id) if links else None
    return tuple(_compose(kind, person, values, link, level) for person in learner_recipients(session, learner))
