"""A guarded HTTP(S) fetcher for verification: no private addresses, one deadline, size caps."""

from __future__ import annotations

import http.client
import ipaddress
import json
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from .errors import FetchRefused, ResolutionError, Unreachable

Resolve = Callable[[str, int], list[str]]
Clock = Callable[[], float]

# Ranges whose addresses carry an IPv4 address in their last 32 bits: NAT64 (RFC 6052, RFC 8215)
# and the deprecated IPv4-compatible form. 6to4, Teredo and IPv4-mapped have ipaddress properties.
_LAST_32_BITS = (
    ipaddress.IPv6Network("64:ff9b::/96"),
    ipaddress.IPv6Network("64:ff9b:1::/48"),
    ipaddress.IPv6Network("::/96"),
)
_HOST_NAME = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?")
# http.client refuses these in a request line; refuse the URL first, as an invalid URL.
_BAD_URL_CHARS = re.compile(r"[\x00-\x20\x7f]")


def _system_resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


@dataclass(frozen=True)
class FetchResult:
    """A fetched response."""

    url: str
    status: int
    content_type: str
    body: bytes

    def json(self) -> Any:
        """Parse the body as JSON."""
        try:
            return json.loads(self.body)
        except (ValueError, RecursionError) as exc:  # a megabyte of "[" nests past the interpreter's limit
            raise ResolutionError(f"{self.url} did not return JSON") from exc


@dataclass
class GuardedFetcher:
    """Fetch public http(s) URLs; refuse private, loopback, link-local and reserved hosts.

    ``timeout`` bounds each connect, send and read; ``total_timeout`` bounds a whole ``get``
    (resolution, connection, TLS, redirects and every read) against one monotonic deadline, so a
    server trickling a byte at a time cannot hold a fetch longer. Network failures raise
    ``Unreachable``; URLs that are themselves invalid or not allowed raise ``FetchRefused``.
    """

    timeout: float = 5.0
    total_timeout: float = 15.0
    max_bytes: int = 1024 * 1024
    max_redirects: int = 3
    allow_http: bool = True
    allow_private: bool = False
    user_agent: str = "blason-badges-verifier/1"
    accept: str = "application/ld+json, application/json;q=0.9, */*;q=0.1"
    resolve: Resolve = field(default=_system_resolve)
    clock: Clock = field(default=time.monotonic)

    def _check_address(self, address: str) -> None:
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            raise FetchRefused(f"refusing non-public address {address[:80]!r} (not an IP address)") from None
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if self.allow_private:
            return
        # An IPv6 address that embeds an IPv4 one reaches it through a relay or translator:
        # 2002:7f00:1:: is 127.0.0.1 for any 6to4 relay, so the embedded address is checked too.
        for candidate in (ip, *_embedded_ipv4(ip)):
            if not _public(candidate):
                embedded = f" (embeds {candidate})" if candidate != ip else ""
                raise FetchRefused(f"refusing non-public address {ip}{embedded}")

    def _target(self, url: str, deadline: _Deadline) -> tuple[str, str, int, str, str]:
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:  # a port out of range or not a number, a broken [IPv6] literal
            raise FetchRefused(f"invalid URL: {exc}") from None
        scheme = parts.scheme.lower()
        if scheme not in ("https", "http") or (scheme == "http" and not self.allow_http):
            raise FetchRefused(f"scheme not allowed: {scheme!r}")
        if not parts.hostname or parts.username or parts.password:
            raise FetchRefused("URL without a host, or with credentials")
        host = _ascii_host(parts.hostname)
        port = port or (443 if scheme == "https" else 80)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if _BAD_URL_CHARS.search(path):
            raise FetchRefused("invalid URL: control characters or spaces in the path")
        try:
            addresses = _within(deadline.left(), self.resolve, host, port)
        except (OSError, UnicodeError, ValueError) as exc:  # OSError: gaierror and the deadline
            raise Unreachable(f"unreachable: cannot resolve {host} ({type(exc).__name__})") from None
        if not addresses:
            raise Unreachable(f"unreachable: cannot resolve {host}")
        for address in addresses:
            self._check_address(address)
        # Connect to the address we checked, so DNS cannot change between check and use.
        return scheme, host, port, path, addresses[0]

    def get(self, url: str, *, within: float | None = None) -> FetchResult:
        """GET ``url`` following at most ``max_redirects`` checked redirects, all before one deadline.

        ``within`` shortens the deadline (the time left of a caller's wider budget).
        """
        seconds = self.total_timeout if within is None else min(self.total_timeout, within)
        deadline = _Deadline(self.clock() + seconds, self.timeout, self.clock)
        try:
            deadline.left()
        except TimeoutError:
            raise Unreachable("unreachable: no time left to fetch") from None
        for _ in range(self.max_redirects + 1):
            scheme, host, port, path, address = self._target(url, deadline)
            connection: http.client.HTTPConnection
            if scheme == "https":
                connection = _PinnedHTTPSConnection(host, port, address, deadline)
            else:
                connection = _PinnedHTTPConnection(host, port, address, deadline)
            try:
                connection.request("GET", path, headers={"Accept": self.accept, "User-Agent": self.user_agent})
                response = connection.getresponse()
                if response.status in (301, 302, 303, 307, 308):
                    location = response.getheader("Location")
                    if not location:
                        raise ResolutionError("redirect without a Location")
                    url = urljoin(url, location)
                    continue
                body = response.read(self.max_bytes + 1)
                if len(body) > self.max_bytes:
                    raise FetchRefused(f"response larger than {self.max_bytes} bytes")
                return FetchResult(url, response.status, response.getheader("Content-Type", ""), body)
            except OSError as exc:  # refused, reset, timeout or past the deadline, TLS
                raise Unreachable(f"unreachable: cannot fetch {url} ({type(exc).__name__})") from None
            except (http.client.HTTPException, ValueError) as exc:
                raise ResolutionError(f"cannot fetch {url}: {type(exc).__name__}") from None
            finally:
                connection.close()
        raise FetchRefused("too many redirects")

    def get_json(self, url: str, *, within: float | None = None) -> Any:
        """GET ``url`` and parse JSON; HTTP 410 raises ResolutionError(gone=True)."""
        result = self.get(url, within=within)
        if result.status == 410:
            try:
                said = result.json()
            except ResolutionError:  # a 410 without a JSON body: gone, with nothing more to say
                said = None
            raise ResolutionError(f"{url} is gone (revoked)", gone=True, document=said)
        if result.status != 200:
            raise ResolutionError(f"{url} answered HTTP {result.status}")
        return result.json()


def _public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def _embedded_ipv4(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries: 6to4, Teredo (server, client), NAT64."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return []
    found = [ip.sixtofour] if ip.sixtofour is not None else []
    if ip.teredo is not None:
        found.extend(ip.teredo)
    if any(ip in network for network in _LAST_32_BITS):
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def _ascii_host(host: str) -> str:
    """The host name as DNS carries it (IDNA); FetchRefused for a name no DNS can hold."""
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
        return host
    except ValueError:
        pass
    try:
        ascii_host = host.encode("idna").decode("ascii")
        ascii_host.encode("ascii").decode("idna")  # a malformed "xn--" label fails here
    except UnicodeError:
        ascii_host = ""
    if not _HOST_NAME.fullmatch(ascii_host) or len(ascii_host.rstrip(".")) > 253:
        raise FetchRefused(f"invalid URL: host name {host[:80]!r} is not valid")
    return ascii_host


class _Deadline:
    """One monotonic instant that every step of a fetch must finish by."""

    def __init__(self, at: float, step: float, clock: Clock) -> None:
        self.at, self.step, self.clock = at, step, clock

    def left(self) -> float:
        """Seconds the next step may take; TimeoutError when the deadline has passed."""
        remaining = self.at - self.clock()
        if remaining <= 0:
            raise TimeoutError("deadline exceeded")
        return min(self.step, remaining)


def _within(seconds: float, resolve: Resolve, host: str, port: int) -> list[str]:
    """Resolve in a daemon thread, so a slow resolver cannot outlive the deadline (it is abandoned)."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(("ok", resolve(host, port)))
        except Exception as exc:  # handed to the caller, who maps it
            outcome.append(("error", exc))

    thread = threading.Thread(target=run, name="guarded-fetch-resolve", daemon=True)
    thread.start()
    thread.join(seconds)
    if not outcome:
        raise TimeoutError(f"resolving {host} took too long")
    kind, value = outcome[0]
    if kind == "error":
        raise value
    return list(value)


class _DeadlineBound:
    """Bounds every send and receive by the fetch's deadline (http.client reads through
    ``recv_into``); mixed into the plain and the TLS socket classes."""

    deadline: _Deadline | None = None

    def recv_into(self, *args: Any, **kwargs: Any) -> int:
        if self.deadline is not None:
            self.settimeout(self.deadline.left())  # type: ignore[attr-defined]
        return super().recv_into(*args, **kwargs)  # type: ignore[misc]

    def sendall(self, *args: Any, **kwargs: Any) -> None:
        if self.deadline is not None:
            self.settimeout(self.deadline.left())  # type: ignore[attr-defined]
        super().sendall(*args, **kwargs)  # type: ignore[misc]


class _DeadlineSocket(_DeadlineBound, socket.socket):
    """A socket bounded by the fetch's deadline."""


class _DeadlineSSLSocket(_DeadlineBound, ssl.SSLSocket):
    """The TLS twin of ``_DeadlineSocket``."""


def _connect(address: str, port: int, deadline: _Deadline) -> _DeadlineSocket:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = _DeadlineSocket(family, socket.SOCK_STREAM)
    try:
        sock.settimeout(deadline.left())
        sock.connect((address, port))
    except BaseException:
        sock.close()
        raise
    sock.deadline = deadline
    return sock


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, deadline: _Deadline) -> None:
        super().__init__(host, port, timeout=deadline.step)
        self._address, self._deadline = address, deadline

    def connect(self) -> None:
        self.sock = _connect(self._address, self.port, self._deadline)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, deadline: _Deadline) -> None:
        context = ssl.create_default_context()
        context.sslsocket_class = _DeadlineSSLSocket
        super().__init__(host, port, timeout=deadline.step, context=context)
        self._address, self._deadline, self._tls = address, deadline, context

    def connect(self) -> None:
        sock = _connect(self._address, self.port, self._deadline)
        try:
            sock.settimeout(self._deadline.left())  # the whole handshake, in one step
            # SNI and certificate checks use the host name, not the pinned address.
            tls = self._tls.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise
        assert isinstance(tls, _DeadlineSSLSocket)
        tls.deadline = self._deadline
        self.sock = tls
