"""Authenticated list of contributions through the WSGI stack, against a minimal route.

Both are measured in the same run with the same client, so the ratio is what the service
adds (token check, grants, scoped query, pagination count, serialisation) over bare Flask.
Run: .venv/bin/python bench/bench_api.py  [BLASON_BENCH_DATABASE_URL=postgresql+psycopg://...]
"""

from __future__ import annotations

import sys
import uuid
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.db import db  # noqa: E402
from app.models import Contribution, ContributionStatus, Membership, Person, Project, Role, ScopeType, Territory  # noqa: E402
from app.runtime import runtime  # noqa: E402
from app.services.identity import auth
from bench._common import bench_app, pin_one_core, summary, table, timed  # noqa: E402

CONTRIBUTIONS = 5000
N = 1000


def seed(app) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    with app.app_context():
        s = db.session
        territory = Territory(name="Bench")
        s.add(territory)
        s.flush()
        project = Project(territory_id=territory.id, title="Bench", social_functions=["produire"])
        tutor = Person(display_name="Tutor", email="tutor@bench")
        learner = Person(display_name="Learner", email="learner@bench")
        s.add_all([project, tutor, learner])
        s.flush()
        s.add_all(
            [
                Membership(person_id=tutor.id, role=Role.TUTOR, scope_type=ScopeType.PROJECT, scope_id=project.id),
                Membership(person_id=learner.id, role=Role.LEARNER, scope_type=ScopeType.PROJECT, scope_id=project.id),
            ]
        )
        for i in range(CONTRIBUTIONS):
            s.add(
                Contribution(
                    project_id=project.id,
                    learner_id=learner.id,
                    created_by_id=learner.id,
                    title=f"Contribution {i}",
                    narrative="J'ai participé. " * 20,
                    start_date=date(2026, 1, 1),
                    status=ContributionStatus.SUBMITTED,
                )
            )
        s.commit()
        rt = runtime(app)
        tokens = [auth._issue(s, p, uuid.uuid4(), rt.tokens).access_token for p in (tutor, learner)]
        s.commit()
        return tokens[0], tokens[1]


def main() -> None:
    pin_one_core()
    with bench_app() as app:
        backend = app.extensions["blason"].settings.database_url.split(":", 1)[0]
        tutor_token, learner_token = seed(app)
        client = app.test_client()

        def minimal() -> None:
            assert client.get("/healthz").status_code == 200

        def as_tutor() -> None:
            r = client.get("/api/v1/contributions?perPage=20", headers={"Authorization": f"Bearer {tutor_token}"})
            assert r.status_code == 200 and len(r.json["items"]) == 20

        def as_learner() -> None:
            r = client.get(
                "/api/v1/contributions?perPage=20&page=3", headers={"Authorization": f"Bearer {learner_token}"}
            )
            assert r.status_code == 200

        base = summary(timed(minimal, N))
        rows = [{"route": "GET /healthz (minimal Flask route)", **base, "ratio": 1.0}]
        for name, fn in (
            ("GET /api/v1/contributions (tutor, 20 of 5,000)", as_tutor),
            ("GET /api/v1/contributions?page=3 (learner)", as_learner),
        ):
            s = summary(timed(fn, N // 2))
            rows.append({"route": name, **s, "ratio": base["rps"] / s["rps"]})
        print(f"bench_api on {backend}, one core, {CONTRIBUTIONS} contributions; ratio = minimal rps / route rps")
        print(table(rows, ["route", "rps", "p50_ms", "p95_ms", "ratio"]))


if __name__ == "__main__":
    main()
