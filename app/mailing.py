"""E-mails of a request (API or page): sent once its unit of work has committed, never on a rollback."""

from __future__ import annotations

from collections.abc import Sequence

from app.db import db
from app.platform import mail
from app.runtime import runtime
from app.services.identity.recipients import PageLinks


def send_after_commit(messages: Sequence[mail.Message]) -> None:
    """Deliver these e-mails once the request's unit of work has committed (SMTP, or the outbox folder)."""
    if not messages:
        return
    mailer = runtime().mailer
    db.after_commit(lambda: mail.deliver(mailer, messages))


def page_links() -> PageLinks:
    """The pages e-mails link to, under the public base URL."""
    return PageLinks(runtime().settings.public_base_url)
