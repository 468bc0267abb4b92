"""Who reads a learner's e-mail, in which language, and the page links e-mails carry.

A learner without e-mail (an assisted account) is told through their facilitators, each message
saying on whose behalf. Every e-mail links to the page where its reader acts, under the public
base URL (``PUBLIC_BASE_URL``), which callers hand in as ``PageLinks``: services never read it.
Words come from the catalogue: ``mail.<kind>.subject``, ``.body`` and ``.link`` (the line with the
link), then ``mail.on_behalf`` for a facilitator and ``mail.signature``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Facilitation, Person
from app.platform.i18n import lang_of, translator
from app.platform.mail import Message


@dataclass(frozen=True)
class PageLinks:
    """The signed-in pages e-mails point at, under ``base`` (no trailing slash)."""

    base: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "base", self.base.rstrip("/"))

    def claim_to_review(self, claim_id: uuid.UUID) -> str:
        """A tutor's page to decide on a claim."""
        return f"{self.base}/a-valider/{claim_id}"

    def my_claim(self, claim_id: uuid.UUID) -> str:
        """A learner's claim: its state, the reviews, and what to do after "à compléter"."""
        return f"{self.base}/mes-demandes/{claim_id}"

    def my_badge(self, credential_id: uuid.UUID) -> str:
        return f"{self.base}/mes-badges/{credential_id}"

    def my_dossiers(self) -> str:
        """The jury dossiers asked of a learner, on *Mes données*, where they give or refuse consent."""
        return f"{self.base}/mes-donnees#dossiers"


class Recipient(NamedTuple):
    person: Person
    on_behalf: bool  # a facilitator, told for the learner


def _facilitators(session: Session, learner_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[Person]]:
    ids = list(learner_ids)
    found: dict[uuid.UUID, list[Person]] = {}
    for start in range(0, len(ids), 500):  # bounded IN lists, whatever the size of a bulk award
        rows = session.execute(
            select(Facilitation.learner_id, Person)
            .join(Person, Facilitation.facilitator_id == Person.id)
            .where(
                Facilitation.learner_id.in_(ids[start : start + 500]),
                Facilitation.revoked_at.is_(None),
                Person.email.is_not(None),
                Person.is_active.is_(True),
            )
            .order_by(Person.id)
        )
        for learner_id, person in rows:
            found.setdefault(learner_id, []).append(person)
    return found


def learner_recipients(session: Session, learner: Person) -> list[Recipient]:
    """The learner; an assisted learner without e-mail is told through their facilitators."""
    return learners_recipients(session, [learner])[learner.id]


def learners_recipients(session: Session, learners: Iterable[Person]) -> dict[uuid.UUID, list[Recipient]]:
    """``learner_recipients`` for many learners at once (one query per 500 without e-mail)."""
    people = list(learners)
    without = [p.id for p in people if not p.email]
    facilitators = _facilitators(session, without) if without else {}
    return {
        p.id: [Recipient(p, False)] if p.email else [Recipient(f, True) for f in facilitators.get(p.id, [])]
        for p in people
    }


def lang(recipient: Recipient) -> str:
    """The language of the recipient's e-mail: English for English accounts, French otherwise."""
    return lang_of(recipient.person.locale)


def compose(kind: str, recipient: Recipient, values: dict[str, str], *, link: str | None) -> Message:
    """One e-mail in the recipient's language, with the line that links to where they act.

    ``values`` fill the placeholders; ``name`` (the reader) is added, and ``learner`` must be
    there when the recipient reads on a learner's behalf.
    """
    person = recipient.person
    assert person.email
    tr = translator(lang(recipient))
    fields = {**values, "name": person.display_name}
    text = tr(f"mail.{kind}.body", **fields)
    if link:
        text += "\n\n" + tr(f"mail.{kind}.link", **fields, link=link)
    if recipient.on_behalf:
        text += tr("mail.on_behalf", **fields)
    return Message(person.email, tr(f"mail.{kind}.subject", **fields), text + tr("mail.signature"))
