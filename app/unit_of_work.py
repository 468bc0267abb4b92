"""How a request's unit of work runs: the app's own database, one commit per view, then follow-ups.

Each app binds its engine and session registry (``app.db.Database``) in ``app.extensions``;
``app.db.db`` finds the one of the app in context. A view runs one use case and commits once;
what must follow the commit (mail, the award step, files) is registered with ``db.after_commit``
and runs after it. A refusal that is itself a decision to record (``keep_changes``: a failed
sign-in's audit event, a stolen token's revoked family) is committed here, before the error
handlers answer: handlers map errors to responses and never commit.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app
from flask.typing import ResponseReturnValue
from sqlalchemy.engine import Engine

from app.db import EXTENSION, Database, database_of, db
from app.platform.errors import ServiceError


class App(Flask):
    """The Blason Flask app: a view's refusal that keeps its changes commits them, in one place."""

    def dispatch_request(self) -> ResponseReturnValue:
        try:
            return super().dispatch_request()
        except ServiceError as exc:
            if exc.keep_changes:  # commit what the refusal recorded, then answer the error
                database_of(self).session.commit()
            else:
                database_of(self).registry().abandon()
            raise
        except BaseException:
            # Not a rollback: the objects the view loaded stay readable; the session ends at teardown.
            database_of(self).registry().abandon()
            raise


def install(app: Flask, engine: Engine) -> Database:
    """Bind ``engine`` to ``app``: its own sessions, ended with each app context."""
    database = Database(engine)
    app.extensions[EXTENSION] = database
    app.teardown_appcontext(database.remove)
    return database


def _current_database() -> Any:
    return current_app.extensions[EXTENSION]


db.lookup = _current_database
