"""The e-mails of the validation workflow, in French (English for people whose locale is en)."""
from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import (Claim, Competency, Contribution, Decision, Facilitation, Membership, Person, Project,
                        Review, Role, ScopeType)
from app.platform.mail import Message
from app.services.recognition.scales import Level

SIGNATURE = {"fr": "\n\n— Blason, la reconnaissance des compétences des territoires apprenants",
             "en": "\n\n— Blason, skills recognition for learning territories"}

TEXTS: dict[str, dict[str, tuple[str, str]]] = {
    "fr": {
        "submitted": ("Nouvelle demande de validation : {competency}",
                      "Bonjour {name},\n\n{learner} demande la validation de la compétence « {competency} » "
                      "pour sa contribution « {contribution} » (projet « {project} »).\n\n"
                      "Justification :\n{text}\n\nLa demande vous attend dans votre file de revue."),
        "resubmitted": ("Demande complétée : {competency}",
                        "Bonjour {name},\n\n{learner} a complété sa demande de validation de la compétence "
                        "« {competency} » (contribution « {contribution} », projet « {project} ») "
                        "après une demande de preuves complémentaires.\n\nExplication :\n{text}\n\n"
                        "La demande est de nouveau dans votre file de revue."),
        "second_review": ("Seconde validation demandée : {competency}",
                          "Bonjour {name},\n\n{reviewer} a validé la compétence « {competency} » de {learner} "
                          "au niveau « {level} ». La règle de ce référentiel ou de ce territoire demande "
                          "l'avis d'un second tuteur.\n\nCommentaire :\n{text}\n\n"
                          "La demande vous attend dans votre file de revue."),
        "validated": ("Compétence validée : {competency}",
                      "Bonjour {name},\n\n{reviewer} a validé la compétence « {competency} » de {learner} "
                      "au niveau « {level} », pour la contribution « {contribution} ».\n\n"
                      "Commentaire :\n{text}"),
        "rejected": ("Demande non retenue : {competency}",
                     "Bonjour {name},\n\n{reviewer} n'a pas retenu la demande de validation de la compétence "
                     "« {competency} » de {learner} (contribution « {contribution} »).\n\n"
                     "Commentaire :\n{text}"),
        "needs_evidence": ("Preuves complémentaires demandées : {competency}",
                           "Bonjour {name},\n\n{reviewer} demande des preuves ou des explications "
                           "complémentaires pour la compétence « {competency} » de {learner} "
                           "(contribution « {contribution} »).\n\nCommentaire :\n{text}\n\n"
                           "Ajoutez une preuve à la contribution ou une explication, puis renvoyez la demande."),
        "on_behalf": ("", "\n\nVous recevez ce message en tant que facilitateur ou facilitatrice de {learner}."),
    },
    "en": {
        "submitted": ("New validation request: {competency}",
                      "Hello {name},\n\n{learner} asks for the competency “{competency}” to be validated "
                      "for the contribution “{contribution}” (project “{project}”).\n\n"
                      "Justification:\n{text}\n\nThe request is waiting in your review queue."),
        "resubmitted": ("Request completed: {competency}",
                        "Hello {name},\n\n{learner} completed the request for the competency “{competency}” "
                        "(contribution “{contribution}”, project “{project}”) after more evidence was "
                        "asked for.\n\nExplanation:\n{text}\n\nThe request is back in your review queue."),
        "second_review": ("Second review needed: {competency}",
                          "Hello {name},\n\n{reviewer} validated the competency “{competency}” of {learner} "
                          "at the level “{level}”. This framework or territory requires a second tutor's "
                          "review.\n\nComment:\n{text}\n\nThe request is waiting in your review queue."),
        "validated": ("Competency validated: {competency}",
                      "Hello {name},\n\n{reviewer} validated the competency “{competency}” of {learner} "
                      "at the level “{level}”, for the contribution “{contribution}”.\n\nComment:\n{text}"),
        "rejected": ("Request not accepted: {competency}",
                     "Hello {name},\n\n{reviewer} did not accept the request for the competency "
                     "“{competency}” of {learner} (contribution “{contribution}”).\n\nComment:\n{text}"),
        "needs_evidence": ("More evidence needed: {competency}",
                           "Hello {name},\n\n{reviewer} asks for more evidence or explanation for the "
                           "competency “{competency}” of {learner} (contribution “{contribution}”).\n\n"
                           "Comment:\n{text}\n\nAdd evidence to the contribution or an explanation, then "
                           "send the request again."),
        "on_behalf": ("", "\n\nYou receive this message as the facilitator of {learner}."),
    },
}


def _locale(person: Person) -> str:
    return "en" if (person.locale or "").lower().startswith("en") else "fr"


def _compose(kind: str, recipient: Person, on_behalf: bool, values: dict[str, str],
             level: Level | None = None) -> Message:
    assert recipient.email
    locale = _locale(recipient)
    subject, body = TEXTS[locale][kind]
    fields = {**values, "name": recipient.display_name, "level": level.label(locale) if level else ""}
    text = body.format(**fields)
    if on_behalf:
        text += TEXTS[locale]["on_behalf"][1].format(**fields)
    return Message(recipient.email, subject.format(**fields), text + SIGNATURE[locale])


def _tutors(session: Session, project_id: uuid.UUID, *, excluding: set[uuid.UUID]) -> list[Person]:
    return list(session.scalars(
        select(Person).join(Membership, Membership.person_id == Person.id)
        .where(Membership.role == Role.TUTOR, Membership.scope_type == ScopeType.PROJECT,
               Membership.scope_id == project_id, Person.is_active.is_(True), Person.email.is_not(None),
               Person.id.not_in(excluding))
        .order_by(Person.display_name, Person.id)))


def _learner_recipients(session: Session, learner: Person) -> list[tuple[Person, bool]]:
    """The learner; an assisted learner without e-mail is told through their facilitators."""
    if learner.email:
        return [(learner, False)]
    facilitators = session.scalars(
        select(Person).join(Facilitation, Facilitation.facilitator_id == Person.id)
        .where(Facilitation.learner_id == learner.id, Facilitation.revoked_at.is_(None),
               Person.email.is_not(None), Person.is_active.is_(True)).order_by(Person.id))
    return [(person, True) for person in facilitators]


def _values(session: Session, claim: Claim, competency: Competency) -> tuple[Person, dict[str, str]]:
    learner = session.get(Person, claim.learner_id)
    contribution = session.get(Contribution, claim.contribution_id)
    project = session.get(Project, claim.project_id)
    assert learner is not None and contribution is not None and project is not None
    label = f"{competency.code} {competency.label}" if competency.code else competency.label
    return learner, {"learner": learner.display_name, "competency": label, "contribution": contribution.title,
                     "project": project.title}


def claim_submitted(session: Session, claim: Claim, competency: Competency, text: str, *,
                    resubmitted: bool) -> tuple[Message, ...]:
    """Tell the project's tutors a claim (new or completed) waits for them."""
    learner, values = _values(session, claim, competency)
    values["text"] = text
    kind = "resubmitted" if resubmitted else "submitted"
    return tuple(_compose(kind, tutor, False, values)
                 for tutor in _tutors(session, claim.project_id, excluding={claim.learner_id}))


def second_review_needed(session: Session, claim: Claim, competency: Competency, review: Review,
                         level: Level) -> tuple[Message, ...]:
    """Tell the other tutors a first validation awaits their review."""
    learner, values = _values(session, claim, competency)
    reviewer = session.get(Person, review.reviewer_id)
    assert reviewer is not None
    values.update(text=review.comment, reviewer=reviewer.display_name)
    return tuple(_compose("second_review", tutor, False, values, level)
                 for tutor in _tutors(session, claim.project_id, excluding={claim.learner_id, reviewer.id}))


def decision_made(session: Session, claim: Claim, competency: Competency, review: Review,
                  level: Level | None) -> tuple[Message, ...]:
    """Tell the learner (or their facilitators) of a final decision."""
    learner, values = _values(session, claim, competency)
    reviewer = session.get(Person, review.reviewer_id)
    assert reviewer is not None
    values.update(text=review.comment, reviewer=reviewer.display_name)
    kind = Decision(review.decision).value
    return tuple(_compose(kind, person, on_behalf, values, level)
                 for person, on_behalf in _learner_recipients(session, learner))
