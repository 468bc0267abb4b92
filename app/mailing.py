"""E-mails of a request (API or page): sent once its unit of work has committed, never on a rollback."""

from __future__ import annotations

from collections.abc import Sequence

from app.db import db
from app.platform import mail
from app.runtime import runtime
from app.services.identity.recipients import PageLinks
from app.services.issuing import awarding, badge_mail


def send_after_commit(messages: Sequence[mail.Message]) -> None:
    """Deliver these e-mails once the request's unit of work has committed (SMTP, or the outbox folder)."""
    if not messages:
        return
    mailer = runtime().mailer
    db.after_commit(lambda: mail.deliver(mailer, messages))


def page_links() -> PageLinks:
    """The pages e-mails link to, under the public base URL."""
    return PageLinks(runtime().settings.public_base_url)


def award_after_commit() -> None:
    """Once a decision is committed, award what a changed standing earned, in its own transaction.

    Now rather than at the next scheduled run; events that fail here stay queued for
    `blason process-award-events`, and a failure never turns the committed review into an error.
    The holders of the badges it issues are told once that second commit is done.
    """
    session, settings = db.session, runtime().issuing

    def award_pending_events() -> None:
        report = awarding.process_award_events(session, settings=settings)
        send_after_commit(badge_mail.badges_issued(session, report.issued, settings=settings))
        session.commit()

    db.after_commit(award_pending_events)
