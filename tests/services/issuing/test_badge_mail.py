"""The badge e-mails: issued, revoked, suspended, valid again; each links to the badge in Mes badges."""

from __future__ import annotations

import io

from app.models import Facilitation
from app.services.issuing import awarding, badge_mail, bulk, revocation
from tests.issuing_fixtures import BASE, Setup


def _award(session, setup: Setup, settings, learner=None):  # type: ignore[no-untyped-def]
    return awarding.award(
        session,
        setup.grants(session),
        setup.achievement.id,
        {"learner_id": (learner or setup.learner).id},
        settings=settings,
    )


def test_a_new_badge_names_itself_its_issuer_and_links_to_mes_badges_and_its_public_page(
    session, issuing: Setup, settings
) -> None:
    credential = _award(session, issuing, settings)
    [message] = badge_mail.badges_issued(session, [credential.id], settings=settings)
    assert message.to == issuing.learner.email
    assert message.subject == "Nouveau badge : Animer une réunion publique"
    assert (
        "Collectif des territoires a délivré le badge « Animer une réunion publique » à Léa Apprenante." in message.body
    )
    assert f"Sa page publique, à partager : {BASE}/credentials/{credential.id}" in message.body
    assert (
        f"Le badge, son image, son certificat et son QR code sont dans Mes badges : {BASE}/mes-badges/{credential.id}"
        in message.body
    )


def test_the_new_badge_email_is_in_english_for_an_english_account(session, issuing: Setup, settings) -> None:
    issuing.learner.locale = "en"
    credential = _award(session, issuing, settings)
    [message] = badge_mail.badges_issued(session, [credential.id], settings=settings)
    assert message.subject == "New badge: Animer une réunion publique"
    assert f"My badges: {BASE}/mes-badges/{credential.id}" in message.body
    assert f"Its public page, to share: {BASE}/credentials/{credential.id}" in message.body


def test_revoked_suspended_and_valid_again_each_give_the_reason_and_the_link(session, issuing: Setup, settings) -> None:
    credential = _award(session, issuing, settings)
    grants = issuing.grants(session)
    link = f"Voir le badge : {BASE}/mes-badges/{credential.id}"

    revocation.suspend(session, grants, credential.id, "Vérification en cours", settings=settings)
    [suspended] = badge_mail.badge_status_changed(session, credential, settings=settings)
    assert suspended.subject == "Badge suspendu : Animer une réunion publique"
    assert "Motif :\nVérification en cours" in suspended.body and link in suspended.body

    revocation.unsuspend(session, grants, credential.id, None, settings=settings)
    [again] = badge_mail.badge_status_changed(session, credential, settings=settings)
    assert again.subject == "Badge de nouveau valide : Animer une réunion publique"
    assert "de nouveau valide" in again.body and link in again.body

    issuing.learner.locale = "en-GB"
    revocation.revoke(session, grants, credential.id, "Obtained by fraud", settings=settings)
    [revoked] = badge_mail.badge_status_changed(session, credential, settings=settings)
    assert revoked.subject == "Badge revoked: Animer une réunion publique"
    assert "Reason:\nObtained by fraud" in revoked.body
    assert f"See the badge: {BASE}/mes-badges/{credential.id}" in revoked.body


def test_an_assisted_holder_is_told_through_their_facilitator_and_nobody_else(
    session, issuing: Setup, settings, make_person
) -> None:
    marcel = make_person(display_name="Marcel Dubreuil", email=None, password_hash=None, is_assisted=True)
    helene = make_person(display_name="Hélène Facilitatrice")
    session.add(Facilitation(facilitator_id=helene.id, learner_id=marcel.id))
    alone = make_person(display_name="Sans adresse", email=None, password_hash=None, is_assisted=True)
    session.flush()
    told = _award(session, issuing, settings, marcel)
    untold = _award(session, issuing, settings, alone)
    [message] = badge_mail.badges_issued(session, [told.id, untold.id], settings=settings)
    assert message.to == helene.email
    assert f"{BASE}/mes-badges/{told.id}" in message.body
    assert "en tant que facilitateur ou facilitatrice de Marcel Dubreuil" in message.body
    revocation.revoke(session, issuing.grants(session), untold.id, "Erreur", settings=settings)
    assert badge_mail.badge_status_changed(session, untold, settings=settings) == ()


def test_a_badge_no_longer_issued_is_not_announced_as_new(session, issuing: Setup, settings) -> None:
    credential = _award(session, issuing, settings)
    revocation.revoke(session, issuing.grants(session), credential.id, "Erreur", settings=settings)
    assert badge_mail.badges_issued(session, [credential.id], settings=settings) == ()


def test_a_bulk_award_yields_one_email_per_holder_with_each_ones_link(
    session, issuing: Setup, settings, make_person
) -> None:
    others = [make_person(display_name=f"Apprenant {n}") for n in range(3)]
    lines = ["email", issuing.learner.email, *(p.email for p in others)]
    report = bulk.bulk_award(
        session,
        issuing.grants(session),
        issuing.issuer.id,
        io.BytesIO(("\n".join(lines) + "\n").encode()),
        mode="skip_invalid",
        achievement_id=issuing.achievement.id,
        settings=settings,
        max_bytes=10**6,
    )
    issued = {row.learner_id: row.credential_id for row in report.rows if row.credential_id}
    messages = badge_mail.badges_issued(session, issued.values(), settings=settings)
    by_to = {m.to: m for m in messages}
    assert len(messages) == 4
    for person in (issuing.learner, *others):
        assert f"{BASE}/mes-badges/{issued[person.id]}" in by_to[person.email].body
