"""The dashboard page against the API call with the same figures, in the same run.

A world of 100,000 submitted contributions (2,000 learners, 40 projects over 5 territories; the
coordinator's territory holds 80 %), 250,000 claims (60 % validated, 20 % waiting, over 18 months)
and 500,000 reviews, 20,000 badges, built with bulk inserts (executemany, and INSERT … SELECT for the
reviews). Measured through the WSGI stack with the Flask test client on one core, page and API call
in turns: p50/p95 of ``/tableau-de-bord`` (a web session) against
``/api/v1/territories/{id}/dashboard`` (a bearer token), then the platform's, their p95 ratio and
SQL statements per request. Target: page p95 within 1.5x its API call's.

Run: .venv/bin/python bench/bench_dashboard.py [--scale 0.1] [--requests 30]; on PostgreSQL, set
BLASON_BENCH_DATABASE_URL to the URL of a database it may empty (postgresql+psycopg://user@host/name).
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, text  # noqa: E402

from app.db import database_of, db  # noqa: E402
from app.models import (  # noqa: E402
    Achievement,
    AchievementVersion,
    Claim,
    ClaimStatus,
    Competency,
    Contribution,
    ContributionStatus,
    Credential,
    CredentialState,
    Framework,
    Issuer,
    Membership,
    Person,
    Project,
    Role,
    ScopeType,
    SocialFunction,
    SourceType,
    Territory,
)
from app.runtime import runtime  # noqa: E402
from app.services.identity import auth, web_sessions  # noqa: E402
from app.web.session_cookie import COOKIE  # noqa: E402
from bench._common import bench_app, pin_one_core, summary, table  # noqa: E402
from bench.bench_review import count_statements  # noqa: E402

CONTRIBUTIONS = 100_000
CLAIMS_PER_CONTRIBUTION = 2.5  # 250,000 claims
REVIEWS_PER_CLAIM = 2  # 500,000 reviews
BADGES = 20_000
LEARNERS = 2_000
TERRITORIES = 5
PROJECTS = 40
BLOCS, PER_BLOC = 10, 10
CHUNK = 20_000
TARGET_RATIO = 1.5
NOW = datetime.now(UTC)
FUNCTIONS = [f.value for f in SocialFunction]


def chunks(rows: Iterator[dict[str, Any]], size: int = CHUNK) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class World:
    """The seeded world's ids and its callers' credentials (a session cookie and a token each)."""

    def __init__(self, app: Any, scale: float) -> None:
        self.app = app
        n_contributions = max(100, int(CONTRIBUTIONS * scale))
        with app.app_context():
            s = db.session
            territories = [Territory(name=f"Territoire {t}") for t in range(TERRITORIES)]
            framework = Framework(source_type=SourceType.CUSTOM, source_key="bench", title="Animer un tiers-lieu")
            coordinator = Person(display_name="Hélène", email="helene@bench")
            admin = Person(display_name="Paul", email="paul@bench")
            tutor = Person(display_name="Karim", email="karim@bench")
            s.add_all([*territories, framework, coordinator, admin, tutor])
            s.flush()
            main = territories[0]
            s.add_all(
                [
                    Membership(
                        person_id=coordinator.id,
                        role=Role.COORDINATOR,
                        scope_type=ScopeType.TERRITORY,
                        scope_id=main.id,
                    ),
                    Membership(person_id=admin.id, role=Role.PLATFORM_ADMIN, scope_type=ScopeType.PLATFORM),
                ]
            )
            # 80 % of the projects (and so of the work) in the coordinator's territory.
            projects = [
                Project(
                    territory_id=(main if p < PROJECTS * 4 // 5 else territories[1 + p % (TERRITORIES - 1)]).id,
                    title=f"Projet {p:02d}",
                    social_functions=[FUNCTIONS[p % 6], FUNCTIONS[(p + 2) % 6]] if p % 3 else [FUNCTIONS[p % 6]],
                )
                for p in range(PROJECTS)
            ]
            blocs = [
                Competency(framework_id=framework.id, source_key=f"B{b}", kind="bloc", code=f"B{b}", label=f"Bloc {b}")
                for b in range(BLOCS)
            ]
            learner_ids = [uuid.uuid4() for _ in range(LEARNERS)]
            learners = [{"id": i, "display_name": f"L{n}", "email": f"l{n}@bench"} for n, i in enumerate(learner_ids)]
            s.add_all([*projects, *blocs])
            s.flush()
            s.execute(insert(Person), learners)
            leaves = [
                {
                    "id": uuid.uuid4(),
                    "framework_id": framework.id,
                    "parent_id": blocs[i // PER_BLOC].id,
                    "source_key": f"C{i}",
                    "kind": "competence",
                    "code": f"C{i:03d}",
                    "label": f"Compétence {i}",
                }
                for i in range(BLOCS * PER_BLOC)
            ]
            s.execute(insert(Competency), leaves)
            issuer = Issuer(name="Émetteur du territoire", url="https://bench.example.fr", territory_id=main.id)
            s.add(issuer)
            s.flush()
            achievement = Achievement(issuer_id=issuer.id)
            s.add(achievement)
            s.flush()
            version = AchievementVersion(achievement_id=achievement.id, name="Badge", description="Bench.")
            s.add(version)
            s.flush()
            self.territory_id = main.id
            project_ids = [p.id for p in projects]
            leaf_ids = [c["id"] for c in leaves]
            s.commit()

            contributions: list[tuple[uuid.UUID, uuid.UUID, uuid.UUID, datetime]] = []

            def contribution_rows() -> Iterator[dict[str, Any]]:
                for i in range(n_contributions):
                    learner = learner_ids[i % LEARNERS]
                    when = NOW - timedelta(minutes=(i * 7919) % (540 * 24 * 60))  # spread over 18 months
                    row = (uuid.uuid4(), project_ids[(i * 31) % PROJECTS], learner, when)
                    contributions.append(row)
                    yield {
                        "id": row[0],
                        "project_id": row[1],
                        "learner_id": learner,
                        "created_by_id": learner,
                        "title": f"Atelier {i}",
                        "hours": Decimal(1 + i % 8) / 2,
                        "status": ContributionStatus.SUBMITTED,
                        "submitted_at": when,
                        "created_at": when,
                        "updated_at": when,
                    }

            for batch in chunks(contribution_rows()):
                s.execute(insert(Contribution), batch)
            s.commit()

            statuses = [ClaimStatus.VALIDATED] * 6 + [ClaimStatus.PENDING] * 2 + [ClaimStatus.REJECTED]
            statuses += [ClaimStatus.NEEDS_EVIDENCE]

            def claim_rows() -> Iterator[dict[str, Any]]:
                n_claims = int(n_contributions * CLAIMS_PER_CONTRIBUTION)
                for i in range(n_claims):
                    contribution_id, project_id, learner, when = contributions[i % len(contributions)]
                    status = statuses[i % len(statuses)]
                    decided = status in (ClaimStatus.VALIDATED, ClaimStatus.REJECTED, ClaimStatus.NEEDS_EVIDENCE)
                    yield {
                        "id": uuid.uuid4(),
                        "contribution_id": contribution_id,
                        "project_id": project_id,
                        "competency_id": leaf_ids[(i * 13) % len(leaf_ids)],
                        "learner_id": learner,
                        "created_by_id": learner,
                        "justification": "J'ai animé l'atelier.",
                        "status": status,
                        "level": "acquis" if status is ClaimStatus.VALIDATED else None,
                        "decided_at": when + timedelta(days=3) if decided else None,
                        "created_at": when,
                        "updated_at": when,
                    }

            for batch in chunks(claim_rows()):
                s.execute(insert(Claim), batch)
            s.commit()
            self._reviews(s, tutor.id)
            n_badges = max(10, int(BADGES * scale))

            def badge_rows() -> Iterator[dict[str, Any]]:
                for i in range(n_badges):
                    yield {
                        "id": uuid.uuid4(),
                        "issuer_id": issuer.id,
                        "achievement_version_id": version.id,
                        "learner_id": learner_ids[i % LEARNERS],
                        "state": CredentialState.ISSUED if i % 20 else CredentialState.REVOKED,
                        "short_code": f"B{i:09d}",
                        "awarded_at": NOW - timedelta(hours=(i * 61) % (540 * 24)),
                    }

            for batch in chunks(badge_rows()):
                s.execute(insert(Credential), batch)
            s.commit()
            rt = runtime(app)
            self.cookies = {
                who.id: web_sessions.start(s, who.id, replacing=None, settings=rt.web_sessions)
                for who in (coordinator, admin)
            }
            self.tokens = {
                who.id: auth._issue(s, who, uuid.uuid4(), rt.tokens).access_token for who in (coordinator, admin)
            }
            self.coordinator_id, self.admin_id = coordinator.id, admin.id
            s.commit()
            self.sizes = {"contributions": n_contributions, "claims": int(n_contributions * CLAIMS_PER_CONTRIBUTION)}
            self.sizes["reviews"] = self.sizes["claims"] * REVIEWS_PER_CLAIM
            self.sizes["badges"] = n_badges

    @staticmethod
    def _reviews(s: Any, tutor_id: uuid.UUID) -> None:
        """Two reviews per claim, in one INSERT … SELECT (ids made by the database)."""
        postgres = s.get_bind().dialect.name == "postgresql"
        new_id = "gen_random_uuid()" if postgres else "lower(hex(randomblob(16)))"
        tutor = str(tutor_id) if postgres else tutor_id.hex
        s.execute(
            text(
                f"INSERT INTO reviews (id, claim_id, reviewer_id, decision, level, comment, round, final, created_at) "
                f"SELECT {new_id}, c.id, :tutor, CASE WHEN k.n = 1 THEN 'needs_evidence' ELSE 'validated' END, "
                f"'acquis', 'Vu.', k.n, :final, c.created_at "
                f"FROM claims c CROSS JOIN (SELECT 1 AS n UNION ALL SELECT 2) k"
            ),
            {"tutor": tutor, "final": True},
        )
        s.commit()


def interleaved(page: Callable[[], None], api: Callable[[], None], n: int) -> tuple[list[float], list[float]]:
    """Time the page and its API call in turns, so both meet the same machine (other load, caches)."""
    for _ in range(3):
        page()
        api()
    page_times: list[float] = []
    api_times: list[float] = []
    for _ in range(n):
        for fn, out in ((page, page_times), (api, api_times)):
            start = time.perf_counter()
            fn()
            out.append(time.perf_counter() - start)
    return page_times, api_times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full world (0.1 for a quick run)")
    parser.add_argument("--requests", type=int, default=30, help="timed requests of each page and API call")
    args = parser.parse_args()
    pin_one_core()
    with bench_app() as app:
        backend = app.extensions["blason"].settings.database_url.split(":", 1)[0]
        engine = database_of(app).engine
        started = time.perf_counter()
        world = World(app, args.scale)
        built = time.perf_counter() - started
        if engine.dialect.name == "postgresql":  # as autovacuum would after a bulk load: plans from real statistics
            with engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")

        def page(person: uuid.UUID, path: str, must: str) -> Callable[[], None]:
            client = app.test_client()
            client.set_cookie(COOKIE, world.cookies[person])

            def call() -> None:
                r = client.get(path)
                assert r.status_code == 200 and must.encode() in r.data, (path, r.status_code, r.data[:300])

            return call

        def api(person: uuid.UUID, path: str) -> Callable[[], None]:
            client = app.test_client()
            headers = {"Authorization": f"Bearer {world.tokens[person]}"}

            def call() -> None:
                r = client.get(path, headers=headers)
                assert r.status_code == 200, (path, r.status_code, r.data[:300])

            return call

        tid = world.territory_id
        pairs = [
            (
                "GET /tableau-de-bord (the coordinator's territory)",
                page(world.coordinator_id, "/tableau-de-bord", '<svg role="img"'),
                "GET /api/v1/territories/{id}/dashboard",
                api(world.coordinator_id, f"/api/v1/territories/{tid}/dashboard"),
            ),
            (
                "GET /tableau-de-bord (administrator: the platform)",
                page(world.admin_id, "/tableau-de-bord", '<svg role="img"'),
                "GET /api/v1/platform/dashboard",
                api(world.admin_id, "/api/v1/platform/dashboard"),
            ),
            (
                "GET /tableau-de-bord/by_project.csv",
                page(world.coordinator_id, f"/tableau-de-bord/by_project.csv?territoire={tid}", "projet_id"),
                "GET …/dashboard?format=csv&table=by_project",
                api(world.coordinator_id, f"/api/v1/territories/{tid}/dashboard?format=csv&table=by_project"),
            ),
        ]
        rows, misses = [], []
        for name, page_fn, api_name, api_fn in pairs:
            page_sql, api_sql = count_statements(engine, page_fn), count_statements(engine, api_fn)
            page_times, api_times = interleaved(page_fn, api_fn, args.requests)
            p, a = summary(page_times), summary(api_times)
            ratio = p["p95_ms"] / a["p95_ms"]
            if ratio > TARGET_RATIO:
                misses.append(name)
            rows.append(
                {
                    "page": name,
                    "p50 ms": p["p50_ms"],
                    "p95 ms": p["p95_ms"],
                    "API call": api_name,
                    "API p50 ms": a["p50_ms"],
                    "API p95 ms": a["p95_ms"],
                    "p95 ratio": f"{ratio:.2f}",
                    "SQL page/API": f"{page_sql}/{api_sql}",
                    "target": "met" if ratio <= TARGET_RATIO else "MISSED",
                }
            )
        sizes = ", ".join(f"{v:,} {k}" for k, v in world.sizes.items())
        print(
            f"bench_dashboard on {backend}, one core, {args.requests} requests each (scale {args.scale}): {sizes}; "
            f"world built in {built:.0f} s; ratio = page p95 / API p95 (target <= {TARGET_RATIO})"
        )
        columns = ["page", "p50 ms", "p95 ms", "API call", "API p50 ms", "API p95 ms", "p95 ratio", "SQL page/API"]
        print(table(rows, [*columns, "target"]))
        if misses:
            raise SystemExit(f"target missed: {', '.join(misses)}")


if __name__ == "__main__":
    main()
