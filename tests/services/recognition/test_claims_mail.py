"""Notification delivery: the outbox folder, SMTP (against a sink on loopback), failures logged."""

from __future__ import annotations

import email
import email.policy
import logging
import socket
import socketserver
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.platform import mail

MESSAGE = mail.Message("lea@example.org", "Compétence validée : animer", "Bonjour Léa,\n\nC'est validé.")


class SmtpSink(socketserver.StreamRequestHandler):
    """Just enough SMTP to accept messages (no TLS, no auth): what a test needs, nothing more."""

    received: list[bytes] = []

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self.reply("220 sink")
        while line := self.rfile.readline():
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                self.reply("250 sink")
            elif verb == b"DATA":
                self.reply("354 go on")
                body = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    body += chunk
                self.received.append(body)
                self.reply("250 queued")
            elif verb == b"QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 ok")


@pytest.fixture()
def smtp_sink() -> Iterator[tuple[int, list[bytes]]]:
    received: list[bytes] = []
    handler = type("Sink", (SmtpSink,), {"received": received})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_without_smtp_messages_go_to_the_outbox_folder(tmp_path):
    mailer = mail.build_mailer(smtp_url=None, sender="Blason <b@x.org>", outbox=tmp_path / "outbox")
    assert isinstance(mailer, mail.OutboxMailer)
    mailer.send([MESSAGE])
    [path] = (tmp_path / "outbox").glob("*.eml")
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert parsed["Subject"] == "Compétence validée : animer" and parsed["From"] == "Blason <b@x.org>"
    assert parsed.get_content().startswith("Bonjour Léa")


def test_with_smtp_messages_go_to_the_server(smtp_sink):
    port, received = smtp_sink
    mailer = mail.build_mailer(smtp_url=f"smtp://127.0.0.1:{port}", sender="b@x.org", outbox=Path("/nonexistent"))
    assert isinstance(mailer, mail.SmtpMailer)
    mailer.send([MESSAGE, MESSAGE])
    assert len(received) == 2
    parsed = email.message_from_bytes(received[0], policy=email.policy.default)
    assert parsed["To"] == "lea@example.org" and "C'est validé." in parsed.get_content()


def test_a_mail_failure_is_logged_not_raised(caplog):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with caplog.at_level(logging.ERROR, logger="app.platform.mail"):
        mail.deliver(mail.SmtpMailer(f"smtp://127.0.0.1:{port}", "b@x.org", timeout=2), [MESSAGE])
    assert "could not send 1 notification" in caplog.text


def test_a_bad_smtp_url_is_refused():
    with pytest.raises(ValueError):
        mail.SmtpMailer("http://example.org", "b@x.org")
