"""`flask --app wsgi blason ...` commands; they call services like the API does."""
from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup

from app import migrate
from app.db import db
from app.runtime import runtime

blason = AppGroup("blason", help="Blason administration commands.")


@blason.command("upgrade-db")
def upgrade_db() -> None:
    """Apply the database migrations."""
    assert db.engine is not None
    migrate.upgrade(db.engine)
    click.echo("Database schema is up to date.")


@blason.command("load-demo")
def load_demo_command() -> None:
    """Load the French demo data set (idempotent)."""
    _load_demo()


def _load_demo() -> None:
    from app.services.demo import load_demo

    rt = runtime()
    logins = load_demo(db.session, passwords=rt.passwords, password=rt.settings["DEMO_PASSWORD"],
                       storage=rt.storage)
    db.session.commit()
    click.echo("Demo accounts (password: %s):" % rt.settings["DEMO_PASSWORD"])
    for login in logins:
        click.echo(f"  - {login.name:<18} {login.email or '(no e-mail)':<32} {login.role}")


@blason.command("audit-verify")
def audit_verify() -> None:
    """Check the audit log's hash chain from its first event to its last."""
    from app.services.audit import verify_chain

    report = verify_chain(db.session)
    if report.ok:
        click.echo(f"Audit chain intact: {report.count} events.")
        return
    click.echo(f"Audit chain BROKEN at event {report.first_bad_seq}: {report.reason} "
               f"({report.count} events verified before it).", err=True)
    sys.exit(1)


@blason.command("create-admin")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.password_option()
def create_admin(email: str, name: str, password: str) -> None:
    """Create a platform administrator."""
    from app.models import Membership, Person, Role, ScopeType
    from app.services import audit

    if len(password) < 12:
        raise click.BadParameter("at least 12 characters", param_hint="password")
    person = Person(display_name=name, email=email.lower(), password_hash=runtime().passwords.hash(password))
    db.session.add(person)
    db.session.flush()
    db.session.add(Membership(person_id=person.id, role=Role.PLATFORM_ADMIN, scope_type=ScopeType.PLATFORM))
    audit.record(db.session, None, "membership.granted", "person", person.id, {"role": "platform_admin"})
    db.session.commit()
    click.echo(f"Platform administrator {email} created.")


@blason.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.option("--demo/--no-demo", default=True, help="Load the demo data set first.")
def serve(host: str, port: int, demo: bool) -> None:
    """Migrate, load the demo data and serve (development server)."""
    assert db.engine is not None
    migrate.upgrade(db.engine)
    if demo:
        _load_demo()
    settings = runtime().settings
    click.echo(f"Database: {db.engine.url.render_as_string(hide_password=True)}")
    click.echo(f"Files:    {settings['STORAGE_DIR']}")
    click.echo(f"Blason listens on http://{host}:{port}/  (API docs: http://{host}:{port}/api/v1/docs)")
    from flask import current_app
    from werkzeug.serving import run_simple

    # app.run() refuses to start inside a flask CLI command; the same server, called directly.
    run_simple(host, port, current_app._get_current_object(), threaded=True)  # type: ignore[attr-defined]


def register(app: Flask) -> None:
    app.cli.add_command(blason)
