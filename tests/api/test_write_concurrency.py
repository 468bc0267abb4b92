"""Requests writing at the same moment, each in its own thread and connection, on the test database.

On SQLite (a file here, as in production) a write transaction takes the lock when it begins, so
concurrent writers queue instead of failing with "database is locked"; a writer still waiting
when the busy timeout runs out gets 503 with Retry-After, never 500. Real conflicts stay 409.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import sessionmaker

from app.db import database_of, expecting_writes, make_engine
from app.models import (
    AuditHead,
    Claim,
    Competency,
    Contribution,
    ContributionStatus,
    DomainEvent,
    Framework,
    Membership,
    Person,
    Project,
    RefreshToken,
    Review,
    Role,
    ScopeType,
    SourceType,
    Standing,
    Territory,
)
from app.platform.errors import Unauthenticated
from app.runtime import runtime
from app.services.identity import auth
from app.services.identity.audit import GENESIS
from tests.api.support import assert_problem
from tests.audit_support import audit_mark, restore_audit
from tests.conftest import PASSWORD

API = "/api/v1"
CLAIMS = 6


@pytest.fixture()
def world(app, engine) -> Iterator[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """A project, two tutors and six pending claims committed for real; all removed afterwards."""
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    with factory() as s:
        before = audit_mark(s)
        if before is None:  # the first audit event ever is not what these tests race on
            s.add(AuditHead(id=1, last_seq=0, last_hash=GENESIS))
        last_event = s.scalar(select(func.max(DomainEvent.id))) or 0
        n = uuid.uuid4().hex[:8]
        learner, tutor_a, tutor_b = (
            Person(
                display_name=name, email=f"{name}{n}@example.org", password_hash=runtime(app).passwords.hash(PASSWORD)
            )
            for name in ("learner", "tutor-a", "tutor-b")
        )
        territory = Territory(name="Concurrence")
        framework = Framework(source_type=SourceType.CUSTOM, source_key=f"race-{n}", title="Course")
        s.add_all([learner, tutor_a, tutor_b, territory, framework])
        s.flush()
        project = Project(territory_id=territory.id, title="Course", social_functions=["produire"])
        s.add(project)
        s.flush()
        competencies = [
            Competency(framework_id=framework.id, source_key=f"c{i}", kind="competence", label=f"Courir {i}")
            for i in range(CLAIMS)
        ]
        s.add_all(
            [
                *competencies,
                *(
                    Membership(person_id=p.id, role=Role.TUTOR, scope_type=ScopeType.PROJECT, scope_id=project.id)
                    for p in (tutor_a, tutor_b)
                ),
            ]
        )
        contribution = Contribution(
            project_id=project.id,
            learner_id=learner.id,
            created_by_id=learner.id,
            title="Course",
            status=ContributionStatus.SUBMITTED,
        )
        s.add(contribution)
        s.flush()
        claims = [
            Claim(
                contribution_id=contribution.id,
                project_id=project.id,
                competency_id=c.id,
                learner_id=learner.id,
                justification="J'ai couru.",
                created_by_id=learner.id,
            )
            for c in competencies
        ]
        s.add_all(claims)
        s.commit()
        ids = {"claims": [c.id for c in claims], "tutors": (tutor_a.id, tutor_b.id), "learner": learner}
        people = [learner.id, tutor_a.id, tutor_b.id]
    try:
        yield ids
    finally:
        with factory() as s:
            s.execute(delete(Standing).where(Standing.learner_id == learner.id))
            s.execute(delete(Review).where(Review.claim_id.in_(ids["claims"])))
            s.execute(delete(DomainEvent).where(DomainEvent.id > last_event))
            s.execute(delete(Claim).where(Claim.id.in_(ids["claims"])))
            s.execute(delete(Contribution).where(Contribution.id == contribution.id))
            s.execute(delete(Membership).where(Membership.scope_id == project.id))
            s.execute(delete(Competency).where(Competency.framework_id == framework.id))
            s.execute(delete(Framework).where(Framework.id == framework.id))
            s.execute(delete(Project).where(Project.id == project.id))
            s.execute(delete(Territory).where(Territory.id == territory.id))
            s.execute(delete(RefreshToken).where(RefreshToken.person_id.in_(people)))
            restore_audit(s, before)
            s.execute(delete(Person).where(Person.id.in_(people)))
            s.commit()


def bearer(app, person_id: uuid.UUID) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """An access token minted without touching the database (the main thread holds no transaction)."""
    tokens = runtime(app).tokens
    now = datetime.now(UTC)
    claims = {
        "iss": tokens.issuer,
        "aud": auth.AUDIENCE,
        "sub": str(person_id),
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(minutes=5),
        "jti": uuid.uuid4().hex,
        "typ": "access",
    }
    return {"Authorization": "Bearer " + jwt.encode(claims, tokens.private_key, algorithm=auth.ACCESS_ALGORITHM)}


def at_once(app, calls: list[Callable[[Any], Any]]) -> list[Any]:  # type: ignore[no-untyped-def]
    """Run each call with its own test client in its own thread, released together; the responses."""
    barrier = threading.Barrier(len(calls))
    responses: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        client = app.test_client()
        barrier.wait()
        responses[i] = calls[i](client)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return responses


def decide(
    app,
    tutor_id: uuid.UUID,
    claim_id: uuid.UUID,  # type: ignore[no-untyped-def]
    decision: str,
) -> Callable[[Any], Any]:
    body = {"decision": decision, "comment": f"Avis {decision}."}
    if decision == "validated":
        body["level"] = "acquis"
    h = {**bearer(app, tutor_id), "If-Match": '"1"'}
    return lambda client: client.post(f"{API}/claims/{claim_id}/reviews", json=body, headers=h)


def statuses(responses: list[Any]) -> list[int]:
    return sorted(r.status_code for r in responses)


def test_two_tutors_deciding_one_claim_at_once_get_201_and_409(app, world):
    tutor_a, tutor_b = world["tutors"]
    for claim_id in world["claims"][:3]:
        responses = at_once(
            app, [decide(app, tutor_a, claim_id, "validated"), decide(app, tutor_b, claim_id, "rejected")]
        )
        assert statuses(responses) == [201, 409], [r.get_json() for r in responses]
        assert_problem(next(r for r in responses if r.status_code == 409), 409)


def test_decisions_on_different_claims_at_once_all_succeed(app, world):
    tutor_a, tutor_b = world["tutors"]
    calls = [
        decide(app, (tutor_a, tutor_b)[i % 2], claim_id, ("validated", "rejected")[i % 2])
        for i, claim_id in enumerate(world["claims"])
    ]
    responses = at_once(app, calls)
    assert statuses(responses) == [201] * CLAIMS, [r.get_json() for r in responses]


def test_refreshing_one_token_at_once_rotates_it_once(app, world):
    pair = (
        app.test_client()
        .post(f"{API}/auth/login", json={"email": world["learner"].email, "password": PASSWORD})
        .get_json()
    )
    token = pair["refreshToken"]
    responses = at_once(app, [lambda c: c.post(f"{API}/auth/refresh", json={"refreshToken": token})] * 4)
    assert statuses(responses) == [200, 401, 401, 401], [r.get_json() for r in responses]
    for r in responses:
        if r.status_code == 401:
            assert_problem(r, 401)


@pytest.fixture()
def short_busy_timeout(app, engine) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The app's sessions on an engine that waits only 0.2 s for the lock; the database file's path."""
    if engine.dialect.name != "sqlite":
        pytest.skip("the SQLite lock; PostgreSQL writers wait for row locks, without a busy timeout")
    impatient = make_engine(engine.url.render_as_string(hide_password=False), busy_timeout=0.2)
    db = database_of(app)
    db.configure(impatient)
    try:
        yield str(engine.url.database)
    finally:
        db.configure(engine)
        impatient.dispose()


def test_a_writer_still_waiting_for_the_lock_after_the_busy_timeout_gets_503(app, world, short_busy_timeout):
    tutor_a, _ = world["tutors"]
    other = sqlite3.connect(short_busy_timeout, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process writing for a long time
        r = decide(app, tutor_a, world["claims"][0], "validated")(app.test_client())
        body = assert_problem(r, 503)
        assert body["type"].endswith("/database-busy") and "locked" not in r.get_data(as_text=True)
        assert int(r.headers["Retry-After"]) >= 1
    finally:
        other.rollback()
        other.close()
    # Once the other writer is done, the same request goes through.
    assert decide(app, tutor_a, world["claims"][0], "validated")(app.test_client()).status_code == 201


ANY = uuid.UUID("5d4c6a14-9bd9-4f85-93a6-ca4856b1fbce")  # fixed: test ids must be the same in every worker


@pytest.mark.parametrize(
    "method,path,writes",
    [
        ("POST", f"{API}/claims/{ANY}/reviews", True),
        ("PATCH", f"{API}/contributions/{ANY}", True),
        ("POST", f"{API}/auth/refresh", True),
        ("GET", f"{API}/claims/{ANY}", False),
        ("GET", "/api/v1/nowhere", False),
        # Verifications only read, and may wait on issuers' servers: never while holding the lock.
        ("POST", f"{API}/verify", False),
        ("POST", "/verify", False),
        # Audited reads write an audit event.
        ("GET", f"{API}/dossiers/{ANY}/download", True),
        ("GET", f"{API}/people/me/record", True),
        ("HEAD", f"{API}/certifications/{ANY}/cohort", True),
    ],
)
def test_which_requests_take_the_write_lock_when_they_begin(app, method, path, writes):
    with app.test_request_context(path, method=method):
        with contextlib.suppress(Unauthenticated):  # the login door runs after the declaration
            app.preprocess_request()
        assert expecting_writes() is writes
    assert expecting_writes() is False  # nothing left behind for the next request on this thread


def test_signing_in_hashes_the_password_without_holding_the_write_lock(app, world, short_busy_timeout, monkeypatch):
    """The argon2 hash is slow by design: meanwhile another writer must be able to take the lock."""
    passwords = runtime(app).passwords
    verify = passwords.verify
    seen: list[bool] = []

    def verify_while_someone_writes(stored, password):  # type: ignore[no-untyped-def]
        other = sqlite3.connect(short_busy_timeout, isolation_level=None, timeout=0)
        try:
            other.execute("BEGIN IMMEDIATE")  # fails at once ("locked") if the sign-in holds the lock
            seen.append(True)
            other.rollback()
        except sqlite3.OperationalError:
            seen.append(False)
        finally:
            other.close()
        return verify(stored, password)

    monkeypatch.setattr(passwords, "verify", verify_while_someone_writes)
    learner = world["learner"]
    r = app.test_client().post(f"{API}/auth/login", json={"email": learner.email, "password": PASSWORD})
    assert r.status_code == 200, r.get_json()
    wrong = app.test_client().post(f"{API}/auth/login", json={"email": learner.email, "password": "wrong"})
    assert_problem(wrong, 401)
    assert seen == [True, True]
