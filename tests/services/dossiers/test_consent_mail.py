"""A jury officer's dossier request asks the learner's consent by e-mail, with the link to Mes données."""

from __future__ import annotations

from app.models import Facilitation
from app.services.dossiers import consent_mail, lifecycle as dossiers
from app.services.identity import access
from tests.dossier_fixtures import BASE, dossier_settings, make_fiche


def test_the_learner_is_asked_in_their_language_with_the_link(app, session, make_person, grant) -> None:
    _framework, fiche, _blocs, _competences = make_fiche(session)
    officer = make_person(display_name="Agnès Jury")
    grant(officer, "jury_officer", fiche)
    lea, tom = make_person(display_name="Léa Apprenante"), make_person(display_name="Tom", locale="en")
    settings = dossier_settings(app)
    asked = {}
    for learner in (lea, tom):
        dossier = dossiers.request_dossier(
            session, access.load_grants(session, officer.id), {"certification_id": fiche.id, "learner_id": learner.id}
        )
        [asked[learner.id]] = consent_mail.consent_requested(session, dossier, settings=settings)
    french, english = asked[lea.id], asked[tom.id]
    assert french.to == lea.email and english.to == tom.email
    assert french.subject == "Votre accord est demandé : dossier pour le jury (VAE)"
    assert "Agnès Jury, chargé ou chargée de jury, demande à préparer le dossier" in french.body
    assert f"« {fiche.code} {fiche.label} »" in french.body
    assert f"Pour donner votre accord ou refuser, ouvrez Mes données : {BASE}/mes-donnees#dossiers" in french.body
    assert english.subject == "Your consent is asked: jury file (VAE)"
    assert f"To give your consent or refuse, open My data: {BASE}/mes-donnees#dossiers" in english.body


def test_an_assisted_learner_is_asked_through_their_facilitator(app, session, make_person, grant) -> None:
    _framework, fiche, _blocs, _competences = make_fiche(session)
    officer = make_person()
    grant(officer, "jury_officer", fiche)
    marcel = make_person(display_name="Marcel Dubreuil", email=None, password_hash=None, is_assisted=True)
    helene = make_person()
    session.add(Facilitation(facilitator_id=helene.id, learner_id=marcel.id))
    session.flush()
    dossier = dossiers.request_dossier(
        session, access.load_grants(session, officer.id), {"certification_id": fiche.id, "learner_id": marcel.id}
    )
    [message] = consent_mail.consent_requested(session, dossier, settings=dossier_settings(app))
    assert message.to == helene.email
    assert "facilitatrice de Marcel Dubreuil" in message.body and f"{BASE}/mes-donnees#dossiers" in message.body


def test_asking_for_ones_own_dossier_asks_nobody(app, session, make_person) -> None:
    _framework, fiche, _blocs, _competences = make_fiche(session)
    learner = make_person()
    dossier = dossiers.request_dossier(session, access.load_grants(session, learner.id), {"certification_id": fiche.id})
    assert consent_mail.consent_requested(session, dossier, settings=dossier_settings(app)) == ()
