"""Request logs never show a dossier download token: werkzeug's (development) and gunicorn's (production)."""

from __future__ import annotations

import http.client
import logging
import os
import signal
import subprocess
import sys
import threading
import uuid
from pathlib import Path

from werkzeug.serving import make_server

from app.access_log import redact, redact_atoms

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJkb3NzaWVyIjoieCJ9.c2VjcmV0LXNpZ25hdHVyZQ"


def _download_path() -> str:
    return f"/api/v1/dossiers/{uuid.uuid4()}/download?token={TOKEN}&x=1"


def _get(port: int, path: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def test_credential_query_values_are_redacted_and_nothing_else():  # type: ignore[no-untyped-def]
    assert redact(f'"GET /d?token={TOKEN}&page=2 HTTP/1.1" 200') == '"GET /d?token=[redacted]&page=2 HTTP/1.1" 200'
    assert (
        redact("access_token=a&resetToken=b&password=c&api_key=d&q=token")
        == "access_token=[redacted]&resetToken=[redacted]&password=[redacted]&api_key=[redacted]&q=token"
    )
    atoms = redact_atoms({"q": f"token={TOKEN}", "{authorization}i": "Bearer abc", "s": 200})
    assert atoms == {"q": "token=[redacted]", "{authorization}i": "[redacted]", "s": 200}


def test_the_development_server_logs_the_request_without_its_token(app, caplog):  # type: ignore[no-untyped-def]
    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            assert _get(server.port, _download_path()) == 401
    finally:
        server.shutdown()
        thread.join()
    [line] = [r.getMessage() for r in caplog.records if r.name == "werkzeug" and "/download" in r.getMessage()]
    assert TOKEN not in line and "download?token=[redacted]&x=1 HTTP/1.1" in line


def test_gunicorn_started_from_the_project_folder_logs_no_token(tmp_path):  # type: ignore[no-untyped-def]
    access = tmp_path / "access.log"
    env = {
        **os.environ,
        "BLASON_ENV": "development",
        "BLASON_INSTANCE_DIR": str(tmp_path / "instance"),
        "BLASON_LOG_LEVEL": "WARNING",
    }
    env.pop("BLASON_DATABASE_URL", None)
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    # No -c: gunicorn reads ./gunicorn.conf.py by itself, as in production.
    server = subprocess.Popen(
        [
            gunicorn,
            "-w",
            "1",
            "-b",
            "127.0.0.1:0",
            "--access-logfile",
            str(access),
            "--error-logfile",
            "-",
            "--log-level",
            "info",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stderr is not None
        port = None
        for line in server.stderr:
            if "Listening at: http://127.0.0.1:" in line:
                port = int(line.rsplit(":", 1)[1].split()[0])
            if "Booting worker" in line:
                break
        assert port is not None
        assert _get(port, _download_path()) == 401
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        assert server.stderr is not None
        server.stderr.close()
    log = access.read_text()
    assert "/download?token=[redacted]&x=1" in log and TOKEN not in log
