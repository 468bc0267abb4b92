"""A guarded HTTP(S) fetcher for verification: no private addresses, timeouts, size caps."""

from __future__ import annotations

import http.client
import ipaddress
import json
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from .errors import FetchRefused, ResolutionError

Resolve = Callable[[str, int], list[str]]


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
        except ValueError as exc:
            raise ResolutionError(f"{self.url} did not return JSON") from exc


@dataclass
class GuardedFetcher:
    """Fetch public http(s) URLs; refuse private, loopback, link-local and reserved hosts."""

    timeout: float = 5.0
    max_bytes: int = 1024 * 1024
    max_redirects: int = 3
    allow_http: bool = True
    allow_private: bool = False
    user_agent: str = "blason-badges-verifier/1"
    accept: str = "application/ld+json, application/json;q=0.9, */*;q=0.1"
    resolve: Resolve = field(default=_system_resolve)

    def _check_address(self, address: str) -> None:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if self.allow_private:
            return
        if (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
                or ip.is_reserved or ip.is_unspecified or not ip.is_global):
            raise FetchRefused(f"refusing non-public address {ip}")

    def _target(self, url: str) -> tuple[str, str, int, str, str]:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("https", "http") or (scheme == "http" and not self.allow_http):
            raise FetchRefused(f"scheme not allowed: {scheme!r}")
        if not parts.hostname or parts.username or parts.password:
            raise FetchRefused("URL without a host, or with credentials")
        port = parts.port or (443 if scheme == "https" else 80)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        addresses = self.resolve(parts.hostname, port)
        if not addresses:
            raise ResolutionError(f"cannot resolve {parts.hostname}")
        for address in addresses:
            self._check_address(address)
        # Connect to the address we checked, so DNS cannot change between check and use.
        return scheme, parts.hostname, port, path, addresses[0]

    def get(self, url: str) -> FetchResult:
        """GET ``url`` following at most ``max_redirects`` checked redirects."""
        for _ in range(self.max_redirects + 1):
            scheme, host, port, path, address = self._target(url)
            connection: http.client.HTTPConnection
            if scheme == "https":
                connection = _PinnedHTTPSConnection(host, port, address, timeout=self.timeout,
                                                    context=ssl.create_default_context())
            else:
                connection = _PinnedHTTPConnection(host, port, address, timeout=self.timeout)
            try:
                connection.request("GET", path, headers={"Accept": self.accept,
                                                         "User-Agent": self.user_agent})
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
                return FetchResult(url, response.status,
                                   response.getheader("Content-Type", ""), body)
            except (OSError, http.client.HTTPException) as exc:
                raise ResolutionError(f"cannot fetch {url}: {type(exc).__name__}") from exc
            finally:
                connection.close()
        raise FetchRefused("too many redirects")

    def get_json(self, url: str) -> Any:
        """GET ``url`` and parse JSON; HTTP 410 raises ResolutionError(gone=True)."""
        result = self.get(url)
        if result.status == 410:
            raise ResolutionError(f"{url} is gone (revoked)", gone=True)
        if result.status != 200:
            raise ResolutionError(f"{url} answered HTTP {result.status}")
        return result.json()


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, *, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, *, timeout: float,
                 context: ssl.SSLContext) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._address = address
        self._context = context

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        # SNI and certificate checks use the host name, not the pinned address.
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)
