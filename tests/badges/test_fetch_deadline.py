"""GuardedFetcher under attack: one deadline for a whole fetch, network failures as Unreachable,
invalid host names refused before any lookup, IPv4 hidden in IPv6 addresses checked."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from badges import FetchRefused, GuardedFetcher, Unreachable

TRICKLE = 0.2  # seconds between two bytes a slow server sends


class _SlowHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        try:
            if self.path == "/slow-body":
                self._raw(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n")
                self._trickle(b"x" * 200)
            elif self.path == "/slow-headers":
                self._trickle(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
            elif self.path.startswith("/hop/"):
                hop = int(self.path.rsplit("/", 1)[1])
                time.sleep(0.4)
                if hop < 3:
                    self._raw(f"HTTP/1.1 302 Found\r\nLocation: /hop/{hop + 1}\r\nContent-Length: 0\r\n\r\n".encode())
                else:
                    self._raw(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
            else:
                self._raw(b'HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{"ok":true}')
        except OSError:
            pass  # the fetcher gave up and closed the connection: what the tests expect

    def _raw(self, data: bytes) -> None:
        self.wfile.write(data)
        self.wfile.flush()

    def _trickle(self, data: bytes) -> None:
        for i in range(len(data)):
            self._raw(data[i : i + 1])
            time.sleep(TRICKLE)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def slow_server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _SlowHandler)
    httpd.daemon_threads = True
    httpd.block_on_close = False
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections (in the kernel's backlog) and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    yield listener.getsockname()[1]
    listener.close()


def _loopback(**options: object) -> GuardedFetcher:
    # The guard refuses loopback; these tests need their local server, and a short deadline.
    return GuardedFetcher(allow_private=True, **options)  # type: ignore[arg-type]


def _timed(call: Callable[[], object]) -> tuple[BaseException, float]:
    started = time.monotonic()
    with pytest.raises(Unreachable) as info:
        call()
    return info.value, time.monotonic() - started


def test_a_trickling_body_cannot_outlast_the_deadline(slow_server: str) -> None:
    # Each byte arrives well within the per-read timeout; only the overall deadline stops it.
    error, elapsed = _timed(lambda: _loopback(timeout=5, total_timeout=1).get(slow_server + "/slow-body"))
    assert 0.9 <= elapsed < 2.0, elapsed
    assert str(error).startswith("unreachable")


def test_trickling_headers_cannot_outlast_the_deadline(slow_server: str) -> None:
    _error, elapsed = _timed(lambda: _loopback(timeout=5, total_timeout=1).get(slow_server + "/slow-headers"))
    assert elapsed < 2.0, elapsed


def test_redirects_share_one_deadline(slow_server: str) -> None:
    assert _loopback(timeout=5, total_timeout=5).get_json(slow_server + "/hop/0") == {}  # 4 hops, 1.6 s
    _error, elapsed = _timed(lambda: _loopback(timeout=5, total_timeout=1).get_json(slow_server + "/hop/0"))
    assert elapsed < 1.5, elapsed


def test_a_caller_can_shorten_the_deadline(slow_server: str) -> None:
    fetcher = _loopback(timeout=5, total_timeout=30)
    _error, elapsed = _timed(lambda: fetcher.get(slow_server + "/slow-body", within=0.6))
    assert elapsed < 1.5, elapsed
    with pytest.raises(Unreachable):
        fetcher.get(slow_server + "/doc", within=0)
    assert fetcher.get_json(slow_server + "/doc", within=2) == {"ok": True}


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_silent_server_and_a_stalled_tls_handshake_stop_at_the_deadline(silent_port: int, scheme: str) -> None:
    _error, elapsed = _timed(
        lambda: _loopback(timeout=5, total_timeout=0.8).get(f"{scheme}://127.0.0.1:{silent_port}/")
    )
    assert elapsed < 1.5, elapsed


def test_a_slow_resolver_stops_at_the_deadline() -> None:
    def slow(host: str, port: int) -> list[str]:
        time.sleep(3)
        return ["93.184.216.34"]

    _error, elapsed = _timed(lambda: GuardedFetcher(total_timeout=0.5, resolve=slow).get("https://slow-dns.example/"))
    assert elapsed < 1.5, elapsed


def test_network_failures_are_unreachable_not_crashes(silent_port: int) -> None:
    def fails(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with pytest.raises(Unreachable):
        GuardedFetcher(resolve=fails).get_json("https://issuer.example/keys/1")
    with pytest.raises(Unreachable):
        GuardedFetcher(resolve=lambda host, port: []).get_json("https://issuer.example/keys/1")
    with pytest.raises(Unreachable):  # RFC 6761: .invalid never resolves, and fails locally
        GuardedFetcher(total_timeout=5).get_json("https://issuer.invalid/keys/1")
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there: connection refused
    with pytest.raises(Unreachable):
        _loopback().get_json(f"http://127.0.0.1:{port}/")
    with pytest.raises(Unreachable):  # TLS spoken to a server that never answers it
        _loopback(total_timeout=0.3).get_json(f"https://127.0.0.1:{silent_port}/")


@pytest.mark.parametrize(
    "url",
    [
        "https://xn--a.com/keys",
        "https://" + "a" * 64 + ".example/keys",
        "https://a..b/keys",
        "https://exa%20mple.com/keys",
        "https://exa_mple.com:99999/keys",
        "https://example.org:port/keys",
        "https://[::1/keys",
        "https://" + "abc." * 70 + "example/keys",
        "https://example.org/a b",
    ],
)
def test_invalid_urls_are_refused_before_any_lookup(url: str) -> None:
    looked_up: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        looked_up.append(host)
        return ["93.184.216.34"]

    with pytest.raises(FetchRefused) as info:
        GuardedFetcher(resolve=resolve).get_json(url)
    assert str(info.value).startswith("invalid URL"), info.value
    assert looked_up == []


def test_international_names_are_looked_up_in_their_ascii_form() -> None:
    looked_up: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        looked_up.append(host)
        return ["10.0.0.1"]  # refused afterwards: no connection is ever attempted

    with pytest.raises(FetchRefused):
        GuardedFetcher(resolve=resolve).get("https://bücher.example/")
    assert looked_up == ["xn--bcher-kva.example"]


@pytest.mark.parametrize(
    "address",
    [
        "2002:7f00:1::1",  # 6to4 for 127.0.0.1
        "2002:a00:1::",  # 6to4 for 10.0.0.1
        "2002:a9fe:a9fe::1",  # 6to4 for 169.254.169.254 (cloud metadata)
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
        "64:ff9b::a9fe:a9fe",  # NAT64 for 169.254.169.254
        "64:ff9b:1::7f00:1",  # local-use NAT64 for 127.0.0.1
        "::ffff:10.0.0.1",
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::7f00:1",  # IPv4-compatible (deprecated) for 127.0.0.1
        "not-an-address",
    ],
)
def test_ipv6_addresses_embedding_private_ipv4_are_refused(address: str) -> None:
    with pytest.raises(FetchRefused) as info:
        GuardedFetcher(resolve=lambda host, port: [address]).get("https://issuer.example/")
    assert str(info.value).startswith("refusing non-public address")


def test_ipv6_addresses_embedding_public_ipv4_pass_the_check() -> None:
    fetcher = GuardedFetcher()
    fetcher._check_address("2002:5db8:d822::1")  # 6to4 for 93.184.216.34
    fetcher._check_address("2a00:1450:4007:80e::200e")
    fetcher._check_address("::ffff:93.184.216.34")
