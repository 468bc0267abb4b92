from __future__ import annotations

import ast
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

import badges
from badges import FetchRefused, GuardedFetcher, ResolutionError


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server API
        if self.path == "/big":
            body = b"x" * 5000
        elif self.path == "/gone":
            self.send_response(410)
            self.end_headers()
            return
        elif self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:1/private")
            self.end_headers()
            return
        else:
            body = json.dumps({"ok": True}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = HTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_private_and_loopback_addresses_are_refused(server: str) -> None:
    fetcher = GuardedFetcher()
    with pytest.raises(FetchRefused):
        fetcher.get_json(server + "/doc")
    for url in (
        "http://10.0.0.1/x",
        "http://169.254.169.254/latest",
        "http://[::1]/x",
        "file:///etc/passwd",
        "ftp://example.org/x",
        "http://user:pw@example.org/",
    ):
        with pytest.raises(FetchRefused):
            fetcher.get(url)
    rebinding = GuardedFetcher(resolve=lambda host, port: ["93.184.216.34", "127.0.0.1"])
    with pytest.raises(FetchRefused):
        rebinding.get("https://example.org/")


def test_allowed_loopback_fetch_limits(server: str) -> None:
    fetcher = GuardedFetcher(allow_private=True, max_bytes=1000, timeout=2)
    assert fetcher.get_json(server + "/doc") == {"ok": True}
    with pytest.raises(FetchRefused):
        fetcher.get(server + "/big")
    with pytest.raises(ResolutionError) as info:
        fetcher.get_json(server + "/gone")
    assert info.value.gone
    strict = GuardedFetcher(allow_private=False, resolve=lambda host, port: ["127.0.0.1"])
    with pytest.raises(FetchRefused):
        strict.get(server + "/redirect")


def test_badges_imports_no_framework() -> None:
    forbidden = {"flask", "sqlalchemy", "marshmallow", "app", "schemas", "requests"}
    for path in Path(badges.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in forbidden, f"{path.name} imports {name}"
