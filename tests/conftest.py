"""Test fixtures: one migrated database per run, every test inside a rolled-back transaction.

SQLite (a temporary file) by default; PostgreSQL when BLASON_TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.orm import Session

from app import create_app, migrate
from app.db import database_of, make_engine
from app.models import Contribution, Membership, Person, ProfileType, Project, Role, ScopeType, Territory
from app.runtime import runtime
from app.services.identity import auth

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
TEST_DB_ENV = "BLASON_TEST_DATABASE_URL"
pytest_plugins = [
    "tests.claims_fixtures",
    "tests.issuing_fixtures",
    "tests.public_fixtures",
    "tests.browser_fixtures",
    "tests.dossier_fixtures",
    "tests.dashboard_fixtures",
    "tests.api.matrix_fixtures",
    "tests.s3_fixtures",
    "tests.jobs_fixtures",
]

# Fixed keys: tests are deterministic and never touch the developer's instance secrets.
JWT_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
JWT_PEM = JWT_KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()
KEK = "test1:" + base64.b64encode(b"k" * 32).decode()
PASSWORD = "correct horse battery staple"


def shared_path(*parts: str) -> Path:
    """A path under ../shared, or skip the test when the folder is absent (fresh clone)."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"../shared is absent ({path} not found): standards and framework samples unavailable")
    return path


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """SQLite in the session's temporary folder, or the database named by BLASON_TEST_DATABASE_URL.

    Under pytest-xdist each worker (gw0, gw1, ...) gets a database of its own next to the named one,
    created here and dropped at the end, so workers never see each other's rows.
    """
    url = os.environ.get(TEST_DB_ENV)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        return
    if not worker:
        yield url
        return
    base = make_url(url)
    own = base.set(database=f"{base.database}_{worker}")
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{own.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{own.database}"'))
    try:
        yield own.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{own.database}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def engine(database_url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(database_url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:  # a test database: start from nothing
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def app(engine, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    instance = tmp_path_factory.mktemp("instance")
    return create_app(
        {
            "ENV": "testing",
            "INSTANCE_DIR": str(instance),
            "ENGINE": engine,
            "DATABASE_URL": str(engine.url),
            "PUBLIC_BASE_URL": "https://blason.test",
            "SECRET_KEY": "test-secret",
            "JWT_PRIVATE_KEY": JWT_PEM,
            "KEY_ENCRYPTION_KEYS": KEK,
            "PASSWORD_HASH_TIME_COST": 1,
            "PASSWORD_HASH_MEMORY_KIB": 8,
            "MAX_UPLOAD_BYTES": 256 * 1024,
            "LOG_LEVEL": "WARNING",
        }
    )


@pytest.fixture()
def session(app, engine) -> Iterator[Session]:  # type: ignore[no-untyped-def]
    """The app's session, bound to a connection whose transaction is rolled back after the test.

    Commits (in views and in the factories below) only release a SAVEPOINT: data outlives the
    session cleanup at the end of each request, and is still gone after the test.
    """
    db = database_of(app)
    connection = engine.connect()
    outer = connection.begin()
    db.factory.configure(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield db.registry()
    finally:
        db.registry.remove()
        outer.rollback()
        connection.close()
        db.factory.configure(bind=engine, join_transaction_mode="conditional_savepoint")


@pytest.fixture()
def client(app, session):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture()
def runner(app, session):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


@pytest.fixture(autouse=True)
def login_limits(app):  # type: ignore[no-untyped-def]
    """Roomy sign-in limits per test: tests share one app, and one client address."""
    from app.platform.rate_limit import LoginLimits, RateLimit

    rt = runtime(app)
    previous = rt.login_limits
    rt.login_limits = LoginLimits(account=RateLimit(1000, 1000), address=RateLimit(1000, 1000))
    yield rt.login_limits
    rt.login_limits = previous


@pytest.fixture()
def make_person(app, session) -> Callable[..., Person]:  # type: ignore[no-untyped-def]
    hashed = runtime(app).passwords.hash(PASSWORD)

    def make(**overrides: Any) -> Person:
        n = uuid.uuid4().hex[:8]
        values: dict[str, Any] = {
            "display_name": f"Personne {n}",
            "email": f"p{n}@example.org",
            "password_hash": hashed,
            "profile_type": ProfileType.HABITANT_ENTREPRENEUR,
        }
        values.update(overrides)
        person = Person(**values)
        session.add(person)
        session.commit()
        return person

    return make


@pytest.fixture()
def make_territory(session) -> Callable[..., Territory]:  # type: ignore[no-untyped-def]
    def make(**overrides: Any) -> Territory:
        territory = Territory(**{"name": f"Territoire {uuid.uuid4().hex[:6]}", **overrides})
        session.add(territory)
        session.commit()
        return territory

    return make


@pytest.fixture()
def make_project(session, make_territory) -> Callable[..., Project]:  # type: ignore[no-untyped-def]
    def make(territory: Territory | None = None, **overrides: Any) -> Project:
        territory = territory or make_territory()
        values = {"title": f"Projet {uuid.uuid4().hex[:6]}", "social_functions": ["produire"], **overrides}
        project = Project(territory_id=territory.id, **values)
        session.add(project)
        session.commit()
        return project

    return make


@pytest.fixture()
def grant(session) -> Callable[..., Membership]:  # type: ignore[no-untyped-def]
    scopes = {
        Role.PLATFORM_ADMIN: ScopeType.PLATFORM,
        Role.COORDINATOR: ScopeType.TERRITORY,
        Role.TUTOR: ScopeType.PROJECT,
        Role.LEARNER: ScopeType.PROJECT,
        Role.ISSUER_ADMIN: ScopeType.ISSUER,
        Role.JURY_OFFICER: ScopeType.CERTIFICATION,
    }

    def make(person: Person, role: str, scope: Any = None) -> Membership:
        r = Role(role)
        membership = Membership(person_id=person.id, role=r, scope_type=scopes[r], scope_id=getattr(scope, "id", scope))
        session.add(membership)
        session.commit()
        return membership

    return make


@pytest.fixture()
def make_contribution(session) -> Callable[..., Contribution]:  # type: ignore[no-untyped-def]
    def make(learner: Person, project: Project, **overrides: Any) -> Contribution:
        values = {"title": "Animer un atelier", "narrative": "J'ai animé un atelier.", **overrides}
        contribution = Contribution(project_id=project.id, learner_id=learner.id, created_by_id=learner.id, **values)
        session.add(contribution)
        session.commit()
        return contribution

    return make


@pytest.fixture()
def headers(app) -> Callable[..., dict[str, str]]:  # type: ignore[no-untyped-def]
    """Authorization headers for a person (an access token minted by the real code path)."""
    settings = runtime(app).tokens

    def make(person: Person, act_for: Person | None = None) -> dict[str, str]:
        pair_claims = auth._issue(database_of(app).session, person, uuid.uuid4(), settings)
        result = {"Authorization": f"Bearer {pair_claims.access_token}"}
        if act_for is not None:
            result["X-Act-For"] = str(act_for.id)
        return result

    return make


FIXED_NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
