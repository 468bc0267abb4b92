"""The database belongs to the app, and a request is one unit of work: one commit, then its follow-ups."""

from __future__ import annotations

import ast
import logging
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, text

from app import create_app, migrate, problems
from app.db import database_of, db, make_engine
from app.models import AuditEvent, Review, Territory
from app.platform.errors import Conflict, Unauthenticated
from app.runtime import runtime
from app.services.issuing import awarding
from app.unit_of_work import App, install
from tests.conftest import JWT_PEM, KEK

API = "/api/v1"


def _settings(tmp_path: Path, name: str, **more: Any) -> dict[str, Any]:
    return {
        "ENV": "testing",
        "INSTANCE_DIR": str(tmp_path / name),
        "PUBLIC_BASE_URL": "https://blason.test",
        "SECRET_KEY": "test-secret",
        "JWT_PRIVATE_KEY": JWT_PEM,
        "KEY_ENCRYPTION_KEYS": KEK,
        "PASSWORD_HASH_TIME_COST": 1,
        "PASSWORD_HASH_MEMORY_KIB": 8,
        "LOG_LEVEL": "WARNING",
        **more,
    }


# --- the database belongs to the app ---------------------------------------------------------------


def test_two_apps_in_one_process_each_see_their_own_database(tmp_path: Path) -> None:
    apps: list[Flask] = []
    for name in ("a", "b"):
        engine = make_engine(f"sqlite:///{tmp_path / name}.db")
        migrate.upgrade(engine)
        app = create_app(_settings(tmp_path, name, ENGINE=engine, DATABASE_URL=str(engine.url)))
        with app.app_context():
            db.session.add(Territory(name=f"Territoire {name}"))
            db.session.commit()
        apps.append(app)
    # Building b must not have moved a's sessions onto b's database (nor the other way round).
    for name, app in zip("ab", apps, strict=False):
        with app.app_context():
            assert db.session.scalars(select(Territory.name)).all() == [f"Territoire {name}"]
            assert db.engine.url.database == str(tmp_path / f"{name}.db")
        with app.test_request_context("/"):
            assert db.session.get_bind().url.database == str(tmp_path / f"{name}.db")
        database_of(app).engine.dispose()


def test_another_app_leaves_the_test_apps_sessions_where_they_were(app, engine, session, tmp_path: Path) -> None:
    other = create_app(_settings(tmp_path, "other", DATABASE_URL=f"sqlite:///{tmp_path / 'other.db'}"))
    assert database_of(other).engine is not engine
    assert database_of(app).engine is engine
    with app.app_context():
        assert db.session.get_bind().engine is engine
    database_of(other).engine.dispose()


# --- the unit of work: follow-ups after a commit only ---------------------------------------------


def _steps() -> tuple[list[str], Callable[[str], Callable[[], None]]]:
    ran: list[str] = []

    def step(name: str) -> Callable[[], None]:
        return lambda: ran.append(name)

    return ran, step


def test_follow_ups_run_after_the_commit_once_in_order(app, session, make_territory) -> None:
    ran, step = _steps()
    territory = make_territory()
    unit = database_of(app).registry()
    territory.name = "Renommé"
    unit.after_commit(step("mail"))
    unit.after_commit(step("award"))
    unit.on_abandon(step("undo"))
    assert ran == []
    unit.commit()
    assert ran == ["mail", "award"]  # the undo step is dropped with the commit
    unit.commit()
    assert ran == ["mail", "award"]


def test_follow_ups_never_run_when_the_unit_rolls_back(app, session, make_territory) -> None:
    ran, step = _steps()
    territory = make_territory(name="Avant")
    unit = database_of(app).registry()
    territory.name = "Jamais enregistré"
    unit.after_commit(step("mail"))
    unit.on_abandon(step("undo"))
    unit.rollback()
    assert ran == ["undo"]
    unit.commit()  # a later commit of the same session does not revive them
    assert ran == ["undo"]
    assert session.get(Territory, territory.id).name == "Avant"


def test_follow_ups_are_dropped_when_the_session_ends_uncommitted(app, session) -> None:
    ran, step = _steps()
    database_of(app).registry().after_commit(step("mail"))
    database_of(app).registry().on_abandon(step("undo"))
    database_of(app).remove()
    assert ran == ["undo"]
    database_of(app).registry().commit()
    assert ran == ["undo"]


def test_a_failing_follow_up_is_logged_and_neither_undoes_nor_stops_the_others(
    app, session, make_territory, caplog
) -> None:
    ran, step = _steps()
    territory = make_territory(name="Avant")
    unit = database_of(app).registry()
    territory.name = "Après"

    def send_secret_link() -> None:
        raise RuntimeError("smtp said no to https://blason.test/d/SECRET-TOKEN")

    unit.after_commit(send_secret_link)
    unit.after_commit(step("award"))
    with caplog.at_level(logging.ERROR, logger="app.db"):
        unit.commit()
    assert ran == ["award"]
    unit.expire_all()
    assert session.get(Territory, territory.id).name == "Après"
    logged = caplog.text
    assert "send_secret_link" in logged and "RuntimeError" in logged
    assert "SECRET-TOKEN" not in logged  # the step's message may carry links, addresses


# --- one unit of work per request, on a bare app with the real error handlers ---------------------


@pytest.fixture()
def bare(tmp_path: Path) -> tuple[Flask, list[str]]:
    """An App with its own small database and views that record a note, then succeed or refuse."""
    engine = make_engine(f"sqlite:///{tmp_path / 'bare.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE note (body TEXT)"))
    app = App("bare")
    install(app, engine)
    problems.register(app)
    ran: list[str] = []

    def record(body: str) -> None:
        db.session.execute(text("INSERT INTO note VALUES (:body)"), {"body": body})
        db.after_commit(lambda: ran.append(f"after {body}"))
        db.on_abandon(lambda: ran.append(f"abandon {body}"))

    @app.post("/done")
    def done() -> tuple[str, int]:
        record("done")

        def fails() -> None:
            raise RuntimeError("the mail server is down")

        db.after_commit(fails)
        db.session.commit()
        return "", 201

    @app.post("/refused")
    def refused() -> str:
        record("refused")
        raise Conflict("No.")

    @app.post("/refused-but-recorded")
    def refused_but_recorded() -> str:
        record("recorded")
        raise Unauthenticated("Invalid e-mail or password.", keep_changes=True)

    @app.post("/crashes")
    def crashes() -> str:
        record("crashed")
        raise KeyError("bug")

    yield app, ran
    engine.dispose()


def _notes(app: Flask) -> list[str]:
    with database_of(app).engine.connect() as conn:
        return list(conn.scalars(text("SELECT body FROM note")))


def test_a_failing_follow_up_leaves_the_committed_answer_a_success(bare) -> None:
    app, ran = bare
    assert app.test_client().post("/done").status_code == 201
    assert _notes(app) == ["done"] and ran == ["after done"]


def test_a_refusal_commits_nothing_and_runs_no_follow_up(bare) -> None:
    app, ran = bare
    assert app.test_client().post("/refused").status_code == 409
    assert _notes(app) == [] and ran == ["abandon refused"]


def test_an_unexpected_error_commits_nothing_and_runs_no_follow_up(bare) -> None:
    app, ran = bare
    assert app.test_client().post("/crashes").status_code == 500
    assert _notes(app) == [] and ran == ["abandon crashed"]


def test_a_refusal_that_keeps_its_changes_commits_them_before_the_answer(bare) -> None:
    app, ran = bare
    r = app.test_client().post("/refused-but-recorded")
    assert r.status_code == 401 and r.mimetype == "application/problem+json"
    assert _notes(app) == ["recorded"] and ran == ["after recorded"]


@pytest.mark.parametrize(
    "error", [Conflict("No."), Unauthenticated("Invalid.", keep_changes=True)], ids=["refusal", "keep_changes"]
)
def test_the_service_error_handler_never_commits(app, session, error) -> None:
    with app.test_request_context("/api/v1/auth/login", method="POST"):
        db.session.add(Territory(name="Écrit par la vue"))
        response = problems._service_error(error)
        assert response.status_code in (401, 409)
        db.session.rollback()
        assert db.session.scalars(select(Territory).where(Territory.name == "Écrit par la vue")).all() == []


def test_a_failed_login_is_recorded_by_the_unit_of_work(client, session, make_person) -> None:
    person = make_person()
    r = client.post(f"{API}/auth/login", json={"email": person.email, "password": "not the password"})
    assert r.status_code == 401
    assert session.scalars(select(AuditEvent.action).where(AuditEvent.action == "auth.login_failed")).all() == [
        "auth.login_failed"
    ]


# --- the review: its follow-ups fail, the client still gets its 201 -------------------------------


def test_a_review_whose_follow_ups_fail_is_committed_and_answers_201(
    app, client, session, headers, world, monkeypatch, caplog
) -> None:
    tutor_email = world.tutor.email
    claim = client.post(
        f"{API}/claims",
        headers=headers(world.learner),
        json={
            "contributionId": str(world.contribution.id),
            "competencyId": str(world.competency.id),
            "justification": "J'ai animé la réunion.",
            "selfAssessment": "acquis",
        },
    )
    assert claim.status_code == 201, claim.json

    def mail_down(messages: Any) -> None:
        raise RuntimeError("mail server down")

    def award_fails(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("award step failed")

    monkeypatch.setattr(runtime(app).mailer, "send", mail_down)
    monkeypatch.setattr(awarding, "process_award_events", award_fails)
    with caplog.at_level(logging.ERROR, logger="app.db"):
        r = client.post(
            f"{API}/claims/{claim.json['id']}/reviews",
            headers={**headers(world.tutor), "If-Match": claim.headers["ETag"]},
            json={"decision": "validated", "level": "acquis", "comment": "Très bien."},
        )
    assert r.status_code == 201, r.get_data(as_text=True)
    stored = session.scalars(select(Review).where(Review.claim_id == uuid.UUID(claim.json["id"]))).all()
    assert [rv.comment for rv in stored] == ["Très bien."]
    assert "deliver" in caplog.text or "lambda" in caplog.text
    assert "award_pending_events" in caplog.text
    assert tutor_email not in caplog.text


# --- one commit per view, none in the error handlers ---------------------------------------------

ROOT = Path(__file__).resolve().parents[1]


def _commits(node: ast.AST) -> int:
    return sum(
        1
        for n in ast.walk(node)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "commit"
    )


def test_every_view_commits_at_most_once_and_no_error_handler_commits() -> None:
    views = [*sorted((ROOT / "app" / "api").glob("*.py")), *sorted((ROOT / "app" / "web").glob("*.py"))]
    twice = [
        f"{path.name}:{fn.name}"
        for path in views
        for fn in ast.walk(ast.parse(path.read_text()))
        if isinstance(fn, ast.FunctionDef) and _commits(fn) > 1
    ]
    assert twice == []
    assert _commits(ast.parse((ROOT / "app" / "problems.py").read_text())) == 0
