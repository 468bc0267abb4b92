"""Fixtures of the validation workflow: frameworks and competencies made directly, and a ready
project with a learner, two tutors and a submitted contribution."""

from __future__ import annotations

import email
import email.policy
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message as EmailMessage
from typing import Any

import pytest
from sqlalchemy import event

from app.models import Competency, Contribution, ContributionStatus, Framework, Person, Project, SourceType, Territory
from app.runtime import runtime
from app.services.identity import access
from app.services.identity.access import Grants


@pytest.fixture()
def make_framework(session) -> Callable[..., Framework]:  # type: ignore[no-untyped-def]
    def make(**overrides: Any) -> Framework:
        values: dict[str, Any] = {
            "source_type": SourceType.CUSTOM,
            "source_key": f"fw-{uuid.uuid4().hex[:8]}",
            "title": "Référentiel de test",
            **overrides,
        }
        framework = Framework(**values)
        session.add(framework)
        session.flush()
        return framework

    return make


@pytest.fixture()
def make_competency(session) -> Callable[..., Competency]:  # type: ignore[no-untyped-def]
    def make(framework: Framework, parent: Competency | None = None, **overrides: Any) -> Competency:
        n = uuid.uuid4().hex[:6]
        values: dict[str, Any] = {
            "source_key": f"c-{n}",
            "kind": "competence",
            "code": f"C{n}",
            "label": f"Compétence {n}",
            **overrides,
        }
        competency = Competency(framework_id=framework.id, parent_id=parent.id if parent else None, **values)
        session.add(competency)
        session.flush()
        return competency

    return make


@dataclass
class World:
    territory: Territory
    project: Project
    learner: Person
    tutor: Person
    tutor2: Person
    framework: Framework
    bloc: Competency
    competency: Competency
    contribution: Contribution


@pytest.fixture()
def world(
    session,
    make_person,
    make_project,
    grant,
    make_contribution,
    make_framework,  # type: ignore[no-untyped-def]
    make_competency,
) -> World:
    project = make_project()
    territory = session.get(Territory, project.territory_id)
    learner = make_person(display_name="Léa Apprenante")
    tutor = make_person(display_name="Théo Tuteur")
    tutor2 = make_person(display_name="Tina Tutrice")
    grant(learner, "learner", project)
    grant(tutor, "tutor", project)
    grant(tutor2, "tutor", project)
    framework = make_framework()
    bloc = make_competency(framework, kind="bloc", code="B1", label="Bloc 1 : animer")
    competency = make_competency(framework, bloc, code="C1.1", label="Animer une réunion publique")
    contribution = make_contribution(learner, project, status=ContributionStatus.SUBMITTED)
    return World(territory, project, learner, tutor, tutor2, framework, bloc, competency, contribution)


@pytest.fixture()
def grants_of(session) -> Callable[..., Grants]:  # type: ignore[no-untyped-def]
    """The real grants of a person (optionally acting for a learner), as the API would load them."""

    def load(person: Person, act_for: Person | None = None) -> Grants:
        return access.load_grants(session, person.id, act_for.id if act_for else None)

    return load


@pytest.fixture()
def outbox(app) -> Callable[[], list[EmailMessage]]:  # type: ignore[no-untyped-def]
    """The e-mails written to the outbox folder since the test started."""
    folder = runtime(app).settings.instance_dir / "outbox"
    before = set(folder.glob("*.eml")) if folder.exists() else set()

    def read() -> list[EmailMessage]:
        files = (
            sorted(set(folder.glob("*.eml")) - before, key=lambda p: p.stat().st_mtime_ns) if folder.exists() else []
        )
        return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in files]

    return read


@pytest.fixture()
def count_queries(engine) -> Callable[[Callable[[], Any]], int]:  # type: ignore[no-untyped-def]
    """Run a callable and return how many SQL statements it sent."""

    def run(fn: Callable[[], Any]) -> int:
        seen: list[str] = []

        def listener(*args: Any) -> None:
            seen.append(args[2])

        event.listen(engine, "before_cursor_execute", listener)
        try:
            fn()
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len([s for s in seen if not s.lstrip().upper().startswith(("SAVEPOINT", "RELEASE"))])

    return run
