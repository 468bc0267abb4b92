"""The tutor's review queue (10,000 pending claims) and a learner's portfolio (2,000 standings).

Measured through the WSGI stack with the Flask test client, against a minimal route in the same
run; SQL statements per request are counted on small and on large data, to show they stay the
same whatever the size.
Run: .venv/bin/python bench/bench_review.py; on PostgreSQL, set BLASON_BENCH_DATABASE_URL to the URL
of a database it may empty (postgresql+psycopg://user@host/name). No options.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event, insert  # noqa: E402

from app.db import database_of, db  # noqa: E402
from app.models import (  # noqa: E402
    Claim,
    ClaimStatus,
    Competency,
    Contribution,
    ContributionStatus,
    Decision,
    Evidence,
    EvidenceKind,
    Framework,
    Membership,
    Person,
    Project,
    Review,
    Role,
    ScopeType,
    SourceType,
    Standing,
    Territory,
    Visibility,
)
from app.runtime import runtime  # noqa: E402
from app.services.identity import auth
from bench._common import bench_app, pin_one_core, summary, table, timed  # noqa: E402

PENDING = 10_000
STANDINGS = 2_000
SMALL = 20
QUEUE_LEARNERS = 200
BLOCS = 20
N = 200
T0 = datetime(2026, 1, 1, tzinfo=UTC)


class World:
    """Ids of the seeded rows; ``grow`` adds pending claims and standings up to a size."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.pending = 0
        self.standings = 0
        with app.app_context():
            s = db.session
            territory = Territory(name="Bench")
            framework = Framework(source_type=SourceType.CUSTOM, source_key="bench", title="Bench")
            s.add_all([territory, framework])
            s.flush()
            project = Project(territory_id=territory.id, title="Bench", social_functions=["produire"])
            tutor = Person(display_name="Tutrice", email="tutor@bench")
            learner = Person(display_name="Apprenant", email="learner@bench")
            learners = [Person(display_name=f"L{i}", email=f"l{i}@bench") for i in range(QUEUE_LEARNERS)]
            s.add_all([project, tutor, learner, *learners])
            s.flush()
            s.add(Membership(person_id=tutor.id, role=Role.TUTOR, scope_type=ScopeType.PROJECT, scope_id=project.id))
            for p in (learner, *learners):
                s.add(Membership(person_id=p.id, role=Role.LEARNER, scope_type=ScopeType.PROJECT, scope_id=project.id))
            blocs = [
                Competency(
                    framework_id=framework.id,
                    source_key=f"B{b}",
                    kind="bloc",
                    code=f"B{b}",
                    label=f"Bloc {b}",
                    position=b,
                )
                for b in range(BLOCS)
            ]
            s.add_all(blocs)
            s.flush()
            per_bloc = STANDINGS // BLOCS
            leaves = [
                {
                    "id": uuid.uuid4(),
                    "framework_id": framework.id,
                    "parent_id": blocs[i // per_bloc].id,
                    "source_key": f"C{i}",
                    "kind": "competence",
                    "code": f"C{i:04d}",
                    "label": f"Compétence {i}",
                    "position": i,
                }
                for i in range(STANDINGS)
            ]
            s.execute(insert(Competency), leaves)
            contributions = []
            for p in (learner, *learners):
                contributions.append(
                    {
                        "id": uuid.uuid4(),
                        "project_id": project.id,
                        "learner_id": p.id,
                        "created_by_id": p.id,
                        "title": f"Contribution de {p.display_name}",
                        "narrative": "J'ai participé au chantier. " * 10,
                        "status": ContributionStatus.SUBMITTED,
                        "submitted_at": T0,
                    }
                )
            s.execute(insert(Contribution), contributions)
            s.execute(
                insert(Evidence),
                [
                    {
                        "id": uuid.uuid4(),
                        "contribution_id": c["id"],
                        "kind": EvidenceKind.TEXT,
                        "title": "Compte rendu",
                        "text": "…",
                        "visibility": Visibility.TUTORS,
                        "created_by_id": c["learner_id"],
                    }
                    for c in contributions
                ],
            )
            s.commit()
            self.project, self.tutor_id, self.learner_id = project.id, tutor.id, learner.id
            self.leaves = [c["id"] for c in leaves]
            self.own_contribution = contributions[0]["id"]
            self.queue_contributions = [(c["id"], c["learner_id"]) for c in contributions[1:]]
            rt = runtime(app)
            self.tutor_token = auth._issue(s, tutor, uuid.uuid4(), rt.tokens).access_token
            self.learner_token = auth._issue(s, learner, uuid.uuid4(), rt.tokens).access_token
            s.commit()

    def grow(self, pending: int, standings: int) -> None:
        with self.app.app_context():
            s = db.session
            rows = []
            for i in range(self.pending, pending):
                contribution, learner = self.queue_contributions[i % QUEUE_LEARNERS]
                rows.append(
                    {
                        "id": uuid.uuid4(),
                        "contribution_id": contribution,
                        "project_id": self.project,
                        "competency_id": self.leaves[i % STANDINGS],
                        "learner_id": learner,
                        "justification": "Voir le compte rendu.",
                        "status": ClaimStatus.PENDING,
                        "created_by_id": learner,
                        "created_at": T0 + timedelta(seconds=i),
                        "updated_at": T0 + timedelta(seconds=i),
                    }
                )
            for start in range(0, len(rows), 2000):
                s.execute(insert(Claim), rows[start : start + 2000])
            claims, reviews, standing_rows = [], [], []
            for i in range(self.standings, standings):
                claim_id, review_id = uuid.uuid4(), uuid.uuid4()
                at = T0 + timedelta(seconds=i)
                claims.append(
                    {
                        "id": claim_id,
                        "contribution_id": self.own_contribution,
                        "project_id": self.project,
                        "competency_id": self.leaves[i],
                        "learner_id": self.learner_id,
                        "justification": "Voir le compte rendu.",
                        "status": ClaimStatus.VALIDATED,
                        "level": "acquis",
                        "decided_at": at,
                        "created_by_id": self.learner_id,
                        "created_at": at,
                        "updated_at": at,
                        "version": 2,
                    }
                )
                reviews.append(
                    {
                        "id": review_id,
                        "claim_id": claim_id,
                        "reviewer_id": self.tutor_id,
                        "decision": Decision.VALIDATED,
                        "level": "acquis",
                        "level_rank": 2,
                        "proficient": True,
                        "comment": "Validé sur le chantier.",
                        "created_at": at,
                    }
                )
                standing_rows.append(
                    {
                        "learner_id": self.learner_id,
                        "competency_id": self.leaves[i],
                        "level": "acquis",
                        "state": "validated",
                        "proficient": True,
                        "decided_at": at,
                        "decided_by_id": self.tutor_id,
                        "review_id": review_id,
                    }
                )
            if claims:
                s.execute(insert(Claim), claims)
                s.execute(insert(Review), reviews)
                s.execute(insert(Standing), standing_rows)
            s.commit()
            self.pending, self.standings = pending, standings


def count_statements(engine: Any, fn: Callable[[], Any]) -> int:
    seen: list[str] = []

    def listener(*args: Any) -> None:
        seen.append(args[2])

    event.listen(engine, "before_cursor_execute", listener)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return len(seen)


def main() -> None:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    pin_one_core()
    with bench_app() as app:
        backend = app.extensions["blason"].settings.database_url.split(":", 1)[0]
        engine = database_of(app).engine
        world = World(app)
        client = app.test_client()
        tutor = {"Authorization": f"Bearer {world.tutor_token}"}
        learner = {"Authorization": f"Bearer {world.learner_token}"}

        def minimal() -> None:
            assert client.get("/healthz").status_code == 200

        def queue() -> None:
            r = client.get("/api/v1/reviews/queue?perPage=20", headers=tutor)
            assert r.status_code == 200 and len(r.json["items"]) == 20, r.json

        def portfolio() -> None:
            r = client.get(f"/api/v1/people/{world.learner_id}/portfolio", headers=learner)
            # Not parsed while timed: decoding 1.6 MB of JSON in the server's own process would time
            # the client, and its 20,000 objects would add to the server's garbage collections.
            head = b'{"learnerId":"%s","standings":%d,' % (str(world.learner_id).encode(), world.standings)
            assert r.status_code == 200 and r.data.startswith(head), r.data[:200]

        def check_portfolio() -> None:
            r = client.get(f"/api/v1/people/{world.learner_id}/portfolio", headers=learner)
            assert r.status_code == 200 and r.json["standings"] == world.standings, r.json
            assert sum(len(bloc["children"]) for bloc in r.json["frameworks"][0]["nodes"]) == world.standings

        def standings() -> None:
            r = client.get(f"/api/v1/people/{world.learner_id}/standings?perPage=20", headers=learner)
            assert r.status_code == 200 and r.json["total"] == world.standings

        routes = (
            ("GET /reviews/queue (20 per page)", queue),
            ("GET /people/{id}/portfolio (whole tree)", portfolio),
            ("GET /people/{id}/standings (20 per page)", standings),
        )
        world.grow(SMALL, SMALL)
        check_portfolio()
        small = {name: count_statements(engine, fn) for name, fn in routes}
        world.grow(PENDING, STANDINGS)
        check_portfolio()
        large = {name: count_statements(engine, fn) for name, fn in routes}

        def me() -> None:
            assert client.get("/api/v1/people/me", headers=tutor).status_code == 200

        base = summary(timed(minimal, N))
        rows = [{"route": "GET /healthz (minimal route)", **base, "ratio": 1.0, "sql small": "-", "sql large": "-"}]
        who = summary(timed(me, N))
        rows.append(
            {
                "route": "GET /people/me (minimal authenticated route)",
                **who,
                "ratio": who["p95_ms"] / base["p95_ms"],
                "sql small": count_statements(engine, me),
                "sql large": count_statements(engine, me),
            }
        )
        for name, fn in routes:
            stats = summary(timed(fn, N if "portfolio" not in name else N // 4, warmup=5))
            rows.append(
                {
                    "route": name,
                    **stats,
                    "ratio": stats["p95_ms"] / base["p95_ms"],
                    "sql small": small[name],
                    "sql large": large[name],
                }
            )
        print(
            f"bench_review on {backend}, one core: {PENDING:,} pending claims in the tutor's queue, "
            f"{STANDINGS:,} standings in the portfolio (small: {SMALL} of each); ratio = route p95 / minimal p95"
        )
        print(table(rows, ["route", "p50_ms", "p95_ms", "ratio", "sql small", "sql large"]))
        if small != large:
            raise SystemExit(f"SQL statements per request grew with the data: {small} -> {large}")


if __name__ == "__main__":
    main()
