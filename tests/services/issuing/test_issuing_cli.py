"""The issuing commands: rotate-key, revoke/suspend/unsuspend, process-award-events."""

from __future__ import annotations

from sqlalchemy import select

from app.models import CredentialState, DomainEvent, KeyStatus, SigningKey
from app.services.issuing import awarding
from tests.issuing_fixtures import Setup


def test_cli_rotate_revoke_suspend_and_queue(runner, session, issuing: Setup, settings) -> None:
    credential = awarding.award(
        session, issuing.grants(session), issuing.achievement.id, {"learner_id": issuing.learner.id}, settings=settings
    )
    session.commit()
    result = runner.invoke(args=["blason", "rotate-key", "--issuer", str(issuing.issuer.id), "--purpose", "ob2"])
    assert result.exit_code == 0, result.output
    assert "New ob2 key" in result.output
    assert KeyStatus.RETIRED in set(
        session.scalars(select(SigningKey.status).where(SigningKey.issuer_id == issuing.issuer.id))
    )
    cid = str(credential.id)
    result = runner.invoke(
        args=["blason", "suspend", "--credential", cid, "--reason", "Contrôle", "--actor", issuing.admin.email]
    )
    assert result.exit_code == 0 and "suspended" in result.output, result.output
    result = runner.invoke(args=["blason", "unsuspend", "--credential", cid])
    assert result.exit_code == 0 and "issued" in result.output, result.output
    result = runner.invoke(args=["blason", "revoke", "--credential", cid, "--reason", "Erreur"])
    assert result.exit_code == 0, result.output
    from app.models import Credential

    assert session.get(Credential, credential.id).state is CredentialState.REVOKED
    result = runner.invoke(args=["blason", "revoke", "--credential", cid, "--reason", "Encore"])
    assert result.exit_code == 1 and "already revoked" in result.output
    session.add(
        DomainEvent(
            kind="standing.changed",
            payload={"learner": str(issuing.learner.id), "competency": str(issuing.competencies[0].id)},
        )
    )
    session.commit()
    result = runner.invoke(args=["blason", "process-award-events", "--batch", "10"])
    assert result.exit_code == 0 and "1 event(s) processed" in result.output, result.output
