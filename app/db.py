"""Database plumbing: the declarative base, portable column types, the scoped session."""
from __future__ import annotations

import sqlite3
import uuid
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Any, Callable, TypeVar, cast

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
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


# JSONB on PostgreSQL (indexable, compact), plain JSON elsewhere.
JSONType = JSON().with_variant(postgresql.JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSONType, list[Any]: JSONType}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
F = TypeVar("F", bound=Callable[..., Any])

# Whether the transactions begun now will write: SQLite then takes the write lock at BEGIN.
_writes: ContextVar[bool] = ContextVar("blason_writes", default=False)


def make_engine(url: str, *, busy_timeout: float = 10.0, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets foreign keys, WAL, a busy timeout and write locks taken at BEGIN."""
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": busy_timeout})
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


class Database:
    """Holds the engine and a request-scoped session for the Flask app."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.factory = sessionmaker(expire_on_commit=False)
        self.registry: scoped_session[Session] = scoped_session(self.factory)
        # The registry proxies every Session method; services are typed against Session.
        self.session: Session = cast(Session, self.registry)

    def configure(self, engine: Engine) -> None:
        self.engine = engine
        self.factory.configure(bind=engine)

    def remove(self, *_args: Any) -> None:
        self.registry.remove()


db = Database()
