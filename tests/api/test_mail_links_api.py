"""E-mails through HTTP: written to the outbox once the request has committed, each with its link."""

from __future__ import annotations

from app.db import db
from app.mailing import send_after_commit
from app.models import Facilitation
from app.platform.mail import Message
from tests.dossier_fixtures import make_fiche
from tests.mail_support import auto_badge

API = "/api/v1"
BASE = "https://blason.test"


def _claim(client, headers, world):  # type: ignore[no-untyped-def]
    r = client.post(
        f"{API}/claims",
        headers=headers(world.learner),
        json={
            "contributionId": str(world.contribution.id),
            "competencyId": str(world.competency.id),
            "justification": "J'ai animé la réunion.",
        },
    )
    assert r.status_code == 201, r.json
    return r


def test_a_validation_over_http_mails_the_claim_link_then_the_badge_links(
    app, client, headers, session, world, make_person, grant, outbox
):
    auto_badge(app, session, world, make_person, grant)
    r = _claim(client, headers, world)
    claim_id = r.json["id"]
    to_tutors = outbox()
    assert len(to_tutors) == 2 and all(f"{BASE}/a-valider/{claim_id}" in m.get_content() for m in to_tutors)

    review = client.post(
        f"{API}/claims/{claim_id}/reviews",
        headers={**headers(world.tutor), "If-Match": r.headers["ETag"]},
        json={"decision": "validated", "level": "acquis", "comment": "Très bien menée."},
    )
    assert review.status_code == 201, review.json
    to_learner = [m for m in outbox()[2:] if m["To"] == world.learner.email]
    assert [m["Subject"] for m in to_learner] == [
        "Compétence validée : C1.1 Animer une réunion publique",
        "Nouveau badge : Animer une réunion publique",
    ]
    assert f"{BASE}/mes-demandes/{claim_id}" in to_learner[0].get_content()
    badge_id = client.get(f"{API}/me/badges", headers=headers(world.learner)).json["items"][0]["id"]
    badge_mail = to_learner[1].get_content()
    assert f"{BASE}/mes-badges/{badge_id}" in badge_mail and f"{BASE}/credentials/{badge_id}" in badge_mail


def test_award_revoke_suspend_unsuspend_over_http_each_mail_the_holder(
    app, client, headers, session, world, make_person, grant, outbox
):
    admin, achievement = auto_badge(app, session, world, make_person, grant)
    world.learner.locale = "en"
    session.commit()
    h = headers(admin)
    r = client.post(f"{API}/achievements/{achievement.id}/awards", json={"learnerId": str(world.learner.id)}, headers=h)
    assert r.status_code == 201, r.json
    credential_id = r.json["id"]
    link = f"{BASE}/mes-badges/{credential_id}"
    for action, body in (
        ("suspend", {"reason": "Checking"}),
        ("unsuspend", {}),
        ("revoke", {"reason": "Obtained by fraud"}),
    ):
        assert client.post(f"{API}/credentials/{credential_id}/{action}", json=body, headers=h).status_code == 200
    assert client.post(f"{API}/credentials/{credential_id}/revoke", json={"reason": "x"}, headers=h).status_code == 409
    told = outbox()
    assert [m["Subject"] for m in told] == [
        "New badge: Animer une réunion publique",
        "Badge suspended: Animer une réunion publique",
        "Badge valid again: Animer une réunion publique",
        "Badge revoked: Animer une réunion publique",
    ]  # and nothing for the refused second revocation
    assert all(m["To"] == world.learner.email and link in m.get_content() for m in told)
    assert "Reason:\nObtained by fraud" in told[-1].get_content()


def test_a_bulk_award_over_http_mails_each_holder_after_the_commit(
    app, client, headers, session, world, make_person, grant, outbox
):
    admin, achievement = auto_badge(app, session, world, make_person, grant)
    others = [make_person(display_name=f"Apprenant {n}") for n in range(3)]
    csv = "\n".join(["email", world.learner.email, *(p.email for p in others)]) + "\n"
    h = headers(admin)
    dry = client.post(
        f"{API}/issuers/{achievement.issuer_id}/bulk-awards",
        data={"mode": "dry_run", "achievementId": str(achievement.id), "file": (_bytes(csv), "awards.csv")},
        headers=h,
    )
    assert dry.status_code == 200, dry.json
    assert outbox() == []  # a dry run issues nothing and tells nobody
    r = client.post(
        f"{API}/issuers/{achievement.issuer_id}/bulk-awards",
        data={"mode": "skip_invalid", "achievementId": str(achievement.id), "file": (_bytes(csv), "awards.csv")},
        headers=h,
    )
    assert r.status_code == 200, r.json
    issued = {row["learnerId"]: row["credentialId"] for row in r.json["rows"]}
    told = {m["To"]: m.get_content() for m in outbox()}
    assert len(told) == 4
    for person in (world.learner, *others):
        assert f"{BASE}/mes-badges/{issued[str(person.id)]}" in told[person.email]


def _bytes(text: str):  # type: ignore[no-untyped-def]
    import io

    return io.BytesIO(text.encode())


def test_a_dossier_request_over_http_asks_the_facilitator_of_an_assisted_learner(
    client, headers, session, make_person, grant, outbox
):
    _framework, fiche, _blocs, _competences = make_fiche(session)
    officer = make_person(display_name="Agnès Jury")
    grant(officer, "jury_officer", fiche)
    marcel = make_person(display_name="Marcel Dubreuil", email=None, password_hash=None, is_assisted=True)
    helene = make_person(display_name="Hélène")
    session.add(Facilitation(facilitator_id=helene.id, learner_id=marcel.id))
    session.commit()
    r = client.post(
        f"{API}/dossiers",
        json={"certificationId": str(fiche.id), "learnerId": str(marcel.id)},
        headers=headers(officer),
    )
    assert r.status_code == 201, r.json
    [message] = outbox()
    assert message["To"] == helene.email and message["Subject"].startswith("Votre accord est demandé")
    assert f"{BASE}/mes-donnees#dossiers" in message.get_content() and "Marcel Dubreuil" in message.get_content()


def test_nothing_is_sent_when_the_unit_of_work_rolls_back_and_all_once_it_commits(app, session, outbox):
    messages = (Message("lea@example.org", "Sujet", f"Corps {BASE}/mes-demandes/1"),)
    with app.test_request_context():
        send_after_commit(messages)
        db.session.rollback()
        db.session.commit()  # the rolled-back unit's e-mails are gone for good
        assert outbox() == []
        send_after_commit(messages)
        assert outbox() == []  # not before the commit
        db.session.commit()
    [sent] = outbox()
    assert sent["To"] == "lea@example.org" and f"{BASE}/mes-demandes/1" in sent.get_content()
