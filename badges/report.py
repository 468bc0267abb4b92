"""Verification reports and the injected resolvers the verifier uses to fetch keys and documents."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from .errors import ResolutionError

Outcome = Literal["pass", "fail", "warning", "skipped"]
CHECK_NAMES = ("format", "structure", "proof", "issuer_key", "status", "validity", "recipient", "endorsements")


@dataclass(frozen=True)
class Check:
    """One verification step with its outcome and a reason in French and English."""

    name: str
    outcome: Outcome
    reason_fr: str
    reason_en: str

    def to_json(self) -> dict[str, str]:
        """Return the check as a JSON object."""
        return {"name": self.name, "outcome": self.outcome, "reasonFr": self.reason_fr, "reasonEn": self.reason_en}


@dataclass
class VerificationReport:
    """The result of verifying one credential, check by check."""

    format: str
    checks: list[Check] = field(default_factory=list)
    credential: dict[str, Any] | None = None

    @property
    def valid(self) -> bool:
        """Return True when no check failed and the proof check passed."""
        proof = self.check("proof")
        return not any(c.outcome == "fail" for c in self.checks) and proof is not None and proof.outcome == "pass"

    def check(self, name: str) -> Check | None:
        """Return the check called ``name``, if it ran."""
        for item in self.checks:
            if item.name == name:
                return item
        return None

    def failed(self) -> list[str]:
        """Return the names of the failed checks."""
        return [c.name for c in self.checks if c.outcome == "fail"]

    def add(self, name: str, outcome: Outcome, fr: str, en: str) -> None:
        """Record a check, replacing an earlier one with the same name."""
        self.checks = [c for c in self.checks if c.name != name]
        self.checks.append(Check(name, outcome, fr, en))

    def to_json(self) -> dict[str, Any]:
        """Return the report as a JSON object (without the credential)."""
        return {"format": self.format, "valid": self.valid, "checks": [c.to_json() for c in self.checks]}


Fetch = Callable[[str], Any]


@dataclass(frozen=True)
class Resolvers:
    """How the verifier obtains keys, documents and status lists (injected by the caller).

    Each callable takes a URL and returns parsed JSON (or a compact JWS string for a
    status list), or raises ResolutionError (``gone=True`` for HTTP 410).
    """

    document: Fetch | None = None
    key: Fetch | None = None
    status: Fetch | None = None

    def _call(self, fetch: Fetch | None, url: str) -> Any:
        chosen = fetch or self.document
        if chosen is None:
            raise ResolutionError(f"no resolver configured for {url}")
        return chosen(url)

    def get_document(self, url: str) -> Any:
        """Resolve a document (OB 2.0 assertion, BadgeClass, Profile, revocation list)."""
        return self._call(self.document, url)

    def get_key(self, url: str) -> Any:
        """Resolve a key (JWK, Multikey or CryptographicKey)."""
        return self._call(self.key, url)

    def get_status(self, url: str) -> Any:
        """Resolve a status list credential."""
        return self._call(self.status, url)

    @classmethod
    def from_mapping(cls, documents: Mapping[str, Any], *, gone: frozenset[str] = frozenset()) -> Resolvers:
        """Resolve from an in-memory mapping (local lookups and tests)."""

        def fetch(url: str) -> Any:
            if url in gone:
                raise ResolutionError(f"{url} is gone", gone=True, document=documents.get(url))
            if url in documents:
                return documents[url]
            base = url.split("#", 1)[0]
            if base in documents and base != url:
                return documents[base]
            raise ResolutionError(f"unknown URL {url}")

        return cls(document=fetch)

    @classmethod
    def from_fetcher(cls, fetcher: Any) -> Resolvers:
        """Resolve over HTTP with a GuardedFetcher (or anything with ``get_json``)."""
        return cls(document=fetcher.get_json)
