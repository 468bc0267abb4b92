"""The jury officer's services: the learners in scope, the request through it, the learner's reason
for refusing kept with the refusal, the count of requests waiting for a learner's answer."""

from __future__ import annotations

import pytest

from app.platform.errors import InvalidInput, NotFound, PermissionDenied
from app.services.dossiers import jury, lifecycle
from app.services.identity import access


def test_the_scope_is_the_learners_of_the_officers_certifications(session, vae, make_person) -> None:  # type: ignore[no-untyped-def]
    officer = access.load_grants(session, vae.officer.id)
    stranger = make_person(display_name="Zoé Sans-Rapport")
    session.commit()
    assert [p.id for p in jury.find_learners(session, officer, "ZOÉ").items] == [vae.learner.id]
    assert jury.find_learners(session, officer, "_").total == 0  # wildcards are taken literally
    with pytest.raises(NotFound):
        jury.learner_in_scope(session, officer, stranger.id)
    with pytest.raises(PermissionDenied):
        jury.find_learners(session, access.load_grants(session, vae.learner.id), "zoé")
    [certification] = jury.certifications(session, officer)
    assert certification.id == vae.fiche.id and certification.code == "RNCP40792"


def test_a_request_waits_for_the_learner_who_may_refuse_with_a_reason(session, vae) -> None:  # type: ignore[no-untyped-def]
    officer = access.load_grants(session, vae.officer.id)
    learner = access.load_grants(session, vae.learner.id)
    dossier = jury.request_for_learner(session, officer, vae.learner.id, vae.fiche.id)
    assert jury.awaiting_consent(session, learner) == 1
    with pytest.raises(InvalidInput):
        lifecycle.refuse(session, learner, dossier.id, reason="x" * 1001)
    lifecycle.refuse(session, learner, dossier.id, reason="  Pas maintenant, merci.  ")
    assert jury.awaiting_consent(session, learner) == 0
    [row] = jury.officer_dossiers(session, officer).items
    assert row.refusal is not None and row.refusal.reason == "Pas maintenant, merci."
    assert row.learner_name == vae.learner.display_name and row.certification_code == "RNCP40792"
    lifecycle.consent(session, learner, dossier.id)
    lifecycle.refuse(session, learner, dossier.id)  # withdrawn, without a reason this time
    [row] = jury.officer_dossiers(session, officer).items
    assert row.refusal is not None and row.refusal.reason is None
