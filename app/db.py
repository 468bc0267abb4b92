"""Database plumbing: the declarative base, portable column types, each app's sessions as units of work."""

from __future__ import annotations

import json
import logging
import sqlite3
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

import orjson
from sqlalchemy import JSON, DateTime, MetaData, TypeDecorator, create_engine, event
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp stored in UTC on every backend (SQLite drops offsets)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# JSONB on PostgreSQL (indexable, compact), plain JSON elsewhere.
JSONType = JSON().with_variant(postgresql.JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSONType, list[Any]: JSONType}


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
F = TypeVar("F", bound=Callable[..., Any])

# Whether the transactions begun now will write: SQLite then takes the write lock at BEGIN.
_writes: ContextVar[bool] = ContextVar("blason_writes", default=False)


def json_text(value: Any) -> str:
    """JSON columns as SQLite stores them: orjson (compact, UTF-8), ``json`` for what orjson refuses."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:  # orjson.JSONEncodeError: integers beyond 64 bits, types orjson does not know
        return json.dumps(value)


def json_bytes(value: Any) -> bytes | str:
    """JSON columns as psycopg sends them: orjson's bytes, with no str round trip."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:
        return json.dumps(value)


def make_engine(url: str, *, busy_timeout: float = 10.0, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets foreign keys, WAL, a busy timeout and write locks taken at BEGIN.

    JSON columns are serialised by orjson (issue 18: about ten times faster than ``json.dumps``
    on a signed credential; same documents, written compactly).
    """
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": busy_timeout})
    kwargs.setdefault("json_serializer", json_bytes if url.startswith("postgresql+psycopg:") else json_text)
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy emit BEGIN itself so SAVEPOINTs and transactional DDL behave (pysqlite
    # otherwise opens transactions lazily and breaks nested ones).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # A deferred transaction that read and then writes cannot wait for another writer (SQLite
    # answers "database is locked" at once, the busy timeout unused): writers take the lock up front
    # and queue for it, up to the busy timeout. Readers keep BEGIN, which never waits in WAL mode.
    conn.exec_driver_sql("BEGIN IMMEDIATE" if _writes.get() else "BEGIN")


def expect_writes(flag: bool) -> None:
    """Declare whether the transactions begun from now on in this context will write."""
    _writes.set(flag)


def expecting_writes() -> bool:
    """Whether transactions begun now take SQLite's write lock at BEGIN."""
    return _writes.get()


def start_writing(session: Any) -> None:
    """End a request's read-only part: its next transaction takes the write lock when it begins.

    For a view marked ``reads_only`` that does slow work first (a password hash) and writes after.
    """
    session.rollback()
    expect_writes(True)


def request_writes(method: str, view: Any) -> bool:
    """Whether a request writes: unsafe methods do, unless its view is marked otherwise."""
    marked = getattr(view, "blason_writes", None)
    return bool(marked) if marked is not None else method.upper() not in SAFE_METHODS


def writes(view: F) -> F:
    """Mark a view that writes although its method is safe (an audited download)."""
    view.blason_writes = True  # type: ignore[attr-defined]
    return view


def reads_only(view: F) -> F:
    """Mark a POST that only reads (a verification), so it never waits for nor holds the write lock."""
    view.blason_writes = False  # type: ignore[attr-defined]
    return view


def is_busy(exc: BaseException) -> bool:
    """Whether a database error means "another writer holds the lock, try again", not a conflict."""
    orig = getattr(exc, "orig", exc)
    if isinstance(orig, sqlite3.OperationalError):
        code = getattr(orig, "sqlite_errorcode", None)
        if code is not None:
            return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
        return "locked" in str(orig) or "busy" in str(orig)
    # PostgreSQL: lock_not_available (lock_timeout, NOWAIT), deadlock_detected; retrying succeeds.
    return getattr(orig, "sqlstate", None) in ("55P03", "40P01")


# Keys of a session's ``info`` holding the steps that wait for its unit of work to end.
AFTER_COMMIT = "blason.after_commit"
ON_ABANDON = "blason.on_abandon"


class UnitOfWork(Session):
    """A session that is one unit of work: its commit, then the follow-ups registered on it.

    Work that must wait for the commit (e-mails, the award step after a review, deleting a file the
    commit replaced) is registered with ``after_commit`` and runs only once the commit succeeded; a
    failing step is logged and never undoes nor fails the committed work. Steps registered with
    ``on_abandon`` (deleting a file written for rows that were never committed) run instead when the
    unit ends without a commit: a rollback, a failed commit, or the session closed uncommitted.
    """

    def after_commit(self, step: Callable[[], object]) -> None:
        """Run ``step`` after this unit of work commits; drop it if the unit rolls back."""
        self.info.setdefault(AFTER_COMMIT, []).append(step)

    def on_abandon(self, step: Callable[[], object]) -> None:
        """Run ``step`` if this unit of work ends without a commit; drop it once the unit commits."""
        self.info.setdefault(ON_ABANDON, []).append(step)

    def commit(self) -> None:
        try:
            super().commit()
        except BaseException:
            self.abandon()
            raise
        self.info.pop(ON_ABANDON, None)
        self._run(self.info.pop(AFTER_COMMIT, []), "after-commit")

    def rollback(self) -> None:
        super().rollback()
        self.abandon()

    def close(self) -> None:
        super().close()
        self.abandon()

    def abandon(self) -> None:
        """End the unit of work without a commit: its after-commit steps never run, its undo steps do."""
        self.info.pop(AFTER_COMMIT, None)
        self._run(self.info.pop(ON_ABANDON, []), "on-abandon")

    def _run(self, steps: list[Callable[[], object]], kind: str) -> None:
        for step in steps:
            try:
                step()
            except Exception as exc:
                # The unit's outcome is settled: a follow-up's failure is the operator's, not the
                # client's. Its name and error type only: messages may carry addresses or links.
                log.error(
                    "%s step %s failed (%s); the unit of work's outcome stands",
                    kind,
                    getattr(step, "__qualname__", type(step).__name__),
                    type(exc).__name__,
                )
                log.debug("%s step failure", kind, exc_info=True)
                if self.in_transaction():  # leave a clean session to the next step
                    Session.rollback(self)


class Database:
    """One app's engine and its request-scoped sessions (one unit of work per request)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.factory = sessionmaker(bind=engine, class_=UnitOfWork, expire_on_commit=False)
        self.registry: scoped_session[UnitOfWork] = scoped_session(self.factory)

    @property
    def session(self) -> Session:
        """The current unit of work; the registry proxies every Session method, services take a Session."""
        return cast(Session, self.registry)

    def configure(self, engine: Engine) -> None:
        """Bind the sessions begun from now on to another engine (a test's impatient one)."""
        self.engine = engine
        self.factory.configure(bind=engine)

    def after_commit(self, step: Callable[[], object]) -> None:
        """Run ``step`` once the current unit of work has committed (see ``UnitOfWork``)."""
        self.registry().after_commit(step)

    def on_abandon(self, step: Callable[[], object]) -> None:
        """Run ``step`` if the current unit of work ends without a commit (see ``UnitOfWork``)."""
        self.registry().on_abandon(step)

    def remove(self, *_args: Any) -> None:
        self.registry.remove()


EXTENSION = "blason.db"


def database_of(app: Any) -> Database:
    """The database bound to a Flask app by ``app.unit_of_work.install``."""
    return cast(Database, app.extensions[EXTENSION])


class CurrentDatabase:
    """``db``: the database of the app in context, so views write ``db.session`` whichever app runs.

    Nothing here is bound to the process: each app holds its own engine and sessions, and two apps
    in one process (tests, a worker) never share them. The lookup is Flask's current app, installed
    by ``app.unit_of_work`` (this module stays free of Flask: services and models import it).
    """

    def __init__(self) -> None:
        self.lookup: Callable[[], Database] | None = None

    def current(self) -> Database:
        if self.lookup is None:
            raise RuntimeError("no app binds a database: build one with create_app()")
        return self.lookup()

    @property
    def session(self) -> Session:
        return self.current().session

    @property
    def engine(self) -> Engine:
        return self.current().engine

    @property
    def registry(self) -> scoped_session[UnitOfWork]:
        return self.current().registry

    def after_commit(self, step: Callable[[], object]) -> None:
        """Run ``step`` once the current request's unit of work has committed."""
        self.current().after_commit(step)

    def on_abandon(self, step: Callable[[], object]) -> None:
        """Run ``step`` if the current request's unit of work ends without a commit."""
        self.current().on_abandon(step)


db = CurrentDatabase()
