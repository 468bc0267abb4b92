"""Fixtures of the issuing tests: an issuer with its keys and lists, an achievement, a learner.

Registered as a pytest plugin in tests/conftest.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

import badges
from app.models import Achievement, Competency, Framework, Issuer, Person
from app.platform.urls import Urls
from app.runtime import runtime
from app.services.identity import access
from app.services.identity.audit import Actor
from app.services.issuing import achievements, issuers
from app.services.issuing.signing import IssuingSettings
from app.services.verification import public_docs

BASE = "https://blason.test"
KEKS = [("test1", b"k" * 32)]
SYSTEM = access.Grants(Actor(None), platform_admin=True)


def issuing_settings(**overrides: Any) -> IssuingSettings:
    return IssuingSettings(urls=Urls(BASE), keks=overrides.pop("keks", KEKS), **overrides)


@dataclass
class Setup:
    issuer: Issuer
    admin: Person
    achievement: Achievement
    learner: Person
    framework: Framework
    competencies: list[Competency]

    def grants(self, session: Any, person: Person | None = None) -> access.Grants:
        return access.load_grants(session, (person or self.admin).id)


@pytest.fixture()
def settings() -> IssuingSettings:
    return issuing_settings()


@pytest.fixture()
def make_issuer(session, make_person, grant, settings) -> Callable[..., tuple[Issuer, Person]]:  # type: ignore[no-untyped-def]
    def make(**overrides: Any) -> tuple[Issuer, Person]:
        admin = overrides.pop("admin", None) or make_person(display_name="Iris Émettrice")
        grant(admin, "platform_admin")
        data = {
            "name": "Collectif des territoires",
            "url": "https://collectif.example.fr",
            "email": "contact@collectif.example.fr",
            "description": "Un émetteur de test.",
            **overrides,
        }
        issuer = issuers.create_issuer(session, access.load_grants(session, admin.id), data, settings=settings)
        session.commit()
        return issuer, admin

    return make


@pytest.fixture()
def make_achievement(app, session, settings) -> Callable[..., Achievement]:  # type: ignore[no-untyped-def]
    def make(issuer: Issuer, admin: Person, **overrides: Any) -> Achievement:
        data = {
            "name": "Animer une réunion publique",
            "description": "Reconnaît l'animation d'une réunion.",
            "criteria": "Avoir animé une réunion publique, validé par un tuteur.",
            "achievement_type": "Competency",
            **overrides,
        }
        achievement = achievements.create_achievement(
            session,
            access.load_grants(session, admin.id),
            issuer.id,
            data,
            storage=runtime(app).storage,
            urls=settings.urls,
        )
        session.commit()
        return achievement

    return make


@pytest.fixture()
def issuing(
    session,
    make_issuer,
    make_achievement,
    make_person,
    make_framework,  # type: ignore[no-untyped-def]
    make_competency,
) -> Setup:
    issuer, admin = make_issuer()
    framework = make_framework()
    competencies = [make_competency(framework, code=f"C{i}", label=f"Compétence {i}") for i in range(1, 4)]
    achievement = make_achievement(issuer, admin, competency_ids=[c.id for c in competencies[:2]])
    learner = make_person(display_name="Léa Apprenante", email=f"lea.{uuid.uuid4().hex[:6]}@example.fr")
    return Setup(issuer, admin, achievement, learner, framework, competencies)


NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def verify_stored(
    session: Any,
    credential: Any,
    urls: Urls,
    *,
    now: datetime | None = None,
    forms: tuple[str, ...] = ("ob3", "jwt", "ob2"),
) -> dict[str, Any]:
    """Verify a credential's stored forms against this service's own documents (no HTTP)."""
    resolvers = public_docs.local_resolvers(session, urls)
    data: dict[str, Any] = {
        "ob3": credential.ob3_credential,
        "jwt": credential.ob3_jwt,
        "ob2": credential.ob2_jws,
        "ob2-hosted": urls.ob2_assertion(credential.id),
    }
    return {form: badges.verify(data[form], resolvers=resolvers, now=now) for form in forms if data.get(form)}
