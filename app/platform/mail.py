"""Outgoing e-mail: a small Mailer interface, SMTP in production, an outbox folder elsewhere.

Services never send: they return the messages with their result, and the caller delivers them
once the transaction is committed, so no one is told about a decision that was rolled back.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Generic, Protocol, TypeVar
from urllib.parse import unquote, urlsplit

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class Message:
    to: str
    subject: str
    body: str


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """A service's result and the e-mails to send once it is committed."""

    value: T
    messages: tuple[Message, ...] = field(default=())


class Mailer(Protocol):
    def send(self, messages: Sequence[Message]) -> None: ...


def _email(message: Message, sender: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = message.to
    mail["Subject"] = message.subject
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = make_msgid(domain="blason.invalid")
    mail.set_content(message.body)  # UTF-8, so French accents arrive intact
    return mail


class OutboxMailer:
    """Development and tests: each message becomes an .eml file in a folder."""

    def __init__(self, folder: str | Path, sender: str) -> None:
        self.folder = Path(folder)
        self.sender = sender

    def send(self, messages: Sequence[Message]) -> None:
        if not messages:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        for message in messages:
            path = self.folder / f"{uuid.uuid4().hex}.eml"
            path.write_bytes(bytes(_email(message, self.sender)))


class SmtpMailer:
    """smtp://user:pass@host:port (STARTTLS when offered), or smtps:// for implicit TLS."""

    def __init__(self, url: str, sender: str, *, timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("SMTP URL must be smtp://host[:port] or smtps://host[:port]")
        self.implicit_tls = parts.scheme == "smtps"
        self.host = parts.hostname
        self.port = parts.port or (465 if self.implicit_tls else 25)
        self.user = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.sender = sender
        self.timeout = timeout

    def send(self, messages: Sequence[Message]) -> None:
        if not messages:
            return
        context = ssl.create_default_context()
        client: smtplib.SMTP
        if self.implicit_tls:
            client = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with client:
            client.ehlo()
            if not self.implicit_tls and client.has_extn("starttls"):
                client.starttls(context=context)
                client.ehlo()
            if self.user:
                client.login(self.user, self.password or "")
            for message in messages:
                client.send_message(_email(message, self.sender))


def build_mailer(*, smtp_url: str | None, sender: str, outbox: Path) -> Mailer:
    """SMTP when an SMTP URL is set (BLASON_SMTP_URL), otherwise files in the outbox folder."""
    if smtp_url:
        return SmtpMailer(smtp_url, sender)
    return OutboxMailer(outbox, sender)


def deliver(mailer: Mailer, messages: Sequence[Message]) -> None:
    """Send after commit; a mail failure is logged, never undoes or fails the decision."""
    if not messages:
        return
    try:
        mailer.send(messages)
    except (OSError, smtplib.SMTPException):
        log.exception("could not send %d notification e-mail(s)", len(messages))
