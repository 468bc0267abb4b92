"""Consent to a jury dossier: the learner's own act, or their facilitator's for an assisted account only."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import AuditEvent, DossierStatus, Facilitation
from app.platform.errors import PermissionDenied
from app.services.dossiers import lifecycle as dossiers
from app.services.identity import access
from app.services.identity.access import Grants
from app.services.identity.audit import Actor
from tests.dossier_fixtures import make_fiche


@pytest.fixture()
def jury(session, make_person, make_project, grant):  # type: ignore[no-untyped-def]
    _framework, fiche, _blocs, _competences = make_fiche(session)
    project = make_project()
    coordinator, officer, learner = make_person(), make_person(), make_person()
    assisted = make_person(email=None, password_hash=None, is_assisted=True)
    grant(coordinator, "coordinator", project.territory_id)
    grant(officer, "jury_officer", fiche)
    for person in (learner, assisted):
        grant(person, "learner", project)
        session.add(Facilitation(facilitator_id=coordinator.id, learner_id=person.id))
    session.flush()
    officer_grants = access.load_grants(session, officer.id)

    def ask(person):  # type: ignore[no-untyped-def]
        return dossiers.request_dossier(
            session, officer_grants, {"certification_id": fiche.id, "learner_id": person.id}
        )

    return fiche, coordinator, learner, assisted, ask


def last(session, action: str) -> AuditEvent:  # type: ignore[no-untyped-def]
    return session.scalar(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq.desc()))


def test_a_facilitator_consents_for_an_assisted_learner_and_the_audit_says_so(session, jury):
    _fiche, coordinator, _learner, assisted, ask = jury
    dossier = ask(assisted)
    dossiers.consent(session, access.load_grants(session, coordinator.id, assisted.id), dossier.id)
    assert dossier.status is DossierStatus.CONSENTED
    event = last(session, "dossier.consented")
    assert (event.actor_id, event.on_behalf_of_id) == (coordinator.id, assisted.id)
    assert event.data == {"by": "facilitator", "facilitator": str(coordinator.id)}


def test_a_learner_who_logs_in_consents_themself(session, jury):
    fiche, coordinator, learner, _assisted, ask = jury
    dossier = ask(learner)
    # Even with grants built by hand (the HTTP layer already refuses X-Act-For for this learner).
    lent = Grants(Actor(learner.id, real_id=coordinator.id), learner_in=frozenset())
    with pytest.raises(PermissionDenied):
        access.load_grants(session, coordinator.id, learner.id)
    for decide in (dossiers.consent, dossiers.refuse):
        with pytest.raises(PermissionDenied):
            decide(session, lent, dossier.id)
    with pytest.raises(PermissionDenied):
        dossiers.request_dossier(session, lent, {"certification_id": fiche.id})
    assert dossier.status is DossierStatus.AWAITING_CONSENT
    dossiers.consent(session, access.load_grants(session, learner.id), dossier.id)
    event = last(session, "dossier.consented")
    assert (event.actor_id, event.on_behalf_of_id, event.data) == (learner.id, None, {"by": "learner"})
