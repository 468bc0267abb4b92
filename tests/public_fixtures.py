"""Fixtures of the public page and verification tests: an issued credential (through the services).

Registered as a pytest plugin in tests/conftest.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from app.models import Credential
from app.services.issuing import awarding
from tests.issuing_fixtures import Setup

BASE = "https://blason.test"
HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@dataclass
class Issued:
    setup: Setup
    credential: Credential

    @property
    def url(self) -> str:
        return f"{BASE}/credentials/{self.credential.id}"

    @property
    def path(self) -> str:
        return f"/credentials/{self.credential.id}"


@pytest.fixture()
def award(session, issuing, settings) -> Callable[..., Credential]:  # type: ignore[no-untyped-def]
    """Award the setup's achievement (or another) through the service, committed."""

    def make(learner: Any = None, settings_: Any = None, achievement: Any = None, **data: Any) -> Credential:
        credential = awarding.award(
            session,
            issuing.grants(session),
            (achievement or issuing.achievement).id,
            {"learner_id": (learner or issuing.learner).id, **data},
            settings=settings_ or settings,
        )
        session.commit()
        return credential

    return make


@pytest.fixture()
def issued(issuing, award) -> Issued:  # type: ignore[no-untyped-def]
    return Issued(
        issuing,
        award(evidence_url="https://example.fr/photo-atelier", narrative="Réunion du 3 mars.", result_level="acquis"),
    )


class NoNetwork:
    """A fetcher that fails the test if anything is fetched."""

    def get_json(self, url: str) -> Any:
        raise AssertionError(f"fetched {url}")


@pytest.fixture(autouse=True)
def verify_limiter(app):  # type: ignore[no-untyped-def]
    """A fresh, roomy rate limiter per test: tests share one app, and one client address."""
    from app.platform.rate_limit import RateLimit
    from app.runtime import runtime

    rt = runtime(app)
    previous = rt.verify_limiter
    rt.verify_limiter = RateLimit(1000, 1000)
    yield rt.verify_limiter
    rt.verify_limiter = previous
