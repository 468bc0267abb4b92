"""The commands tell people too, once their work is committed: revoke/suspend, the award queue, dossiers."""

from __future__ import annotations

from app.services.issuing import awarding
from app.services.recognition import claims, reviews
from tests.dossier_fixtures import make_fiche
from tests.issuing_fixtures import BASE, Setup
from tests.mail_support import auto_badge


def test_revoke_and_suspend_commands_mail_the_holder(runner, session, issuing: Setup, settings, outbox) -> None:
    credential = awarding.award(
        session, issuing.grants(session), issuing.achievement.id, {"learner_id": issuing.learner.id}, settings=settings
    )
    session.commit()
    cid = str(credential.id)
    assert runner.invoke(args=["blason", "suspend", "--credential", cid, "--reason", "Contrôle"]).exit_code == 0
    assert runner.invoke(args=["blason", "revoke", "--credential", cid, "--reason", "Erreur"]).exit_code == 0
    assert runner.invoke(args=["blason", "revoke", "--credential", cid, "--reason", "Encore"]).exit_code == 1
    told = outbox()
    assert [m["Subject"] for m in told] == [
        "Badge suspendu : Animer une réunion publique",
        "Badge révoqué : Animer une réunion publique",
    ]
    assert all(m["To"] == issuing.learner.email and f"{BASE}/mes-badges/{cid}" in m.get_content() for m in told)
    assert "Motif :\nErreur" in told[1].get_content()


def test_the_award_queue_command_mails_each_new_badge(
    app, runner, session, world, make_person, grant, grants_of, outbox
) -> None:
    auto_badge(app, session, world, make_person, grant)
    claim = claims.create_claim(
        session,
        grants_of(world.learner),
        {"contribution_id": world.contribution.id, "competency_id": world.competency.id, "justification": "Vu."},
    ).value
    reviews.review_claim(
        session,
        grants_of(world.tutor),
        claim.id,
        {"decision": "validated", "level": "acquis", "comment": "Bien."},
        expected_version=claim.version,
    )
    session.commit()  # the service tells nobody by itself: only the command's mails reach the outbox
    result = runner.invoke(args=["blason", "process-award-events"])
    assert result.exit_code == 0 and "1 badge(s) issued" in result.output, result.output
    [message] = outbox()
    assert message["To"] == world.learner.email and message["Subject"] == "Nouveau badge : Animer une réunion publique"
    assert f"{BASE}/mes-badges/" in message.get_content()


def test_the_dossier_request_command_asks_the_learners_consent(runner, session, make_person, grant, outbox) -> None:
    _framework, fiche, _blocs, _competences = make_fiche(session)
    officer, learner = make_person(), make_person(locale="en")
    grant(officer, "jury_officer", fiche)
    session.commit()
    result = runner.invoke(
        args=[
            "blason",
            "dossier-request",
            "--certification",
            str(fiche.id),
            "--learner",
            str(learner.id),
            "--actor",
            officer.email,
        ]
    )
    assert result.exit_code == 0, result.output
    [message] = outbox()
    assert message["To"] == learner.email and message["Subject"] == "Your consent is asked: jury file (VAE)"
    assert f"{BASE}/mes-donnees#dossiers" in message.get_content()
