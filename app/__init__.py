"""The Blason service: create_app() is the only entry point."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

from app import access_log, config as config_module, db as database, unit_of_work
from app.routing import current_view


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: config → db → runtime → API → pages → errors → CLI."""
    overrides = dict(overrides or {})
    engine = overrides.pop("ENGINE", None)  # tests and benchmarks hand in their migrated engine
    settings = config_module.load(overrides=overrides)
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    access_log.install()  # download tokens travel in query strings: never in the request log
    app = unit_of_work.App(__name__, instance_path=str(settings.instance_dir))
    app.config["SECRET_KEY"] = settings.secret_key
    # Form and multipart overhead on top of the largest file accepted.
    app.config["MAX_CONTENT_LENGTH"] = settings.max_upload_bytes + 64 * 1024
    if settings.trusted_proxies > 0:  # only then is X-Forwarded-For the visitor's, not anyone's
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies)  # type: ignore[method-assign]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    engine = engine or database.make_engine(settings.database_url, busy_timeout=settings.sqlite_busy_timeout)
    unit_of_work.install(app, engine)  # this app's own sessions: nothing bound to the process
    app.before_request(_declare_writes)
    app.teardown_request(lambda _exc: database.expect_writes(False))

    from app import runtime

    app.extensions["blason"] = runtime.build(settings)
    runtime.sweep_temporary_files(app.extensions["blason"])

    from app.api import init_api
    from app.problems import register as register_problems
    from app.web import init_web
    from app.web.errors import page_for

    init_api(app)
    init_web(app)
    register_problems(app, page_for=page_for)

    from app.cli import register as register_cli

    register_cli(app)

    from app.audit_signing import register as register_audit_signing

    register_audit_signing(app)
    return app


def _declare_writes() -> None:
    """A request that writes takes SQLite's write lock when its transaction begins (see app.db)."""
    database.expect_writes(database.request_writes(request.method, current_view()))
