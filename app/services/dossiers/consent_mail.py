"""The e-mail asking a learner's consent to a jury dossier a jury officer requested.

It goes to the learner, or to the facilitators of an assisted learner without e-mail (who answer
for them), in the reader's language, and links to the dossiers on *Mes données*
(``/mes-donnees#dossiers``), where the learner gives or refuses consent. A dossier the learner
asked for themselves counts as consent: nobody is asked anything.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.models import Competency, Dossier, DossierStatus, Person
from app.platform.mail import Message
from app.services.dossiers.lifecycle import DossierSettings
from app.services.identity.recipients import PageLinks, compose, learner_recipients


def consent_requested(session: Session, dossier: Dossier, *, settings: DossierSettings) -> tuple[Message, ...]:
    """Ask the learner (or their facilitators) to give or refuse consent to a requested dossier."""
    if dossier.status is not DossierStatus.AWAITING_CONSENT:
        return ()
    learner = session.get(Person, dossier.learner_id)
    requester = session.get(Person, dossier.requested_by_id)
    fiche = session.get(Competency, dossier.certification_id)
    assert learner is not None and requester is not None and fiche is not None
    values = {
        "learner": learner.display_name,
        "requester": requester.display_name,
        "certification": f"{fiche.code} {fiche.label}" if fiche.code else fiche.label,
    }
    link = PageLinks(settings.urls.base).my_dossiers()
    return tuple(
        compose("dossier_consent", recipient, values, link=link) for recipient in learner_recipients(session, learner)
    )
