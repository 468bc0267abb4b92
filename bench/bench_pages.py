"""The signed-in pages against the JSON API calls that serve the same data, in the same run.

The world of bench_review.py (a tutor's queue of 10,000 pending claims, a learner with 2,000
standings), measured through the WSGI stack with the Flask test client on one core: p50/p95 server
time of each page (a web session cookie) and of its API call (a bearer token), their p95 ratio, SQL
statements per request, and the bytes a first visit transfers (the HTML and every stylesheet,
script and font it links; user images excluded). Targets: page p95 within 1.5x its API call's, and
under 100 KB. When a page shows what several API calls serve, its counterpart is those calls one
after the other (their times add up). The learner is given one badge before the badge pages' rows.
A page a helper has not built yet is skipped with a note.
Run: .venv/bin/python bench/bench_pages.py; on PostgreSQL, set BLASON_BENCH_DATABASE_URL to the URL
of a database it may empty (postgresql+psycopg://user@host/name). No options.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select  # noqa: E402
from werkzeug.exceptions import NotFound  # noqa: E402

from app.db import database_of, db  # noqa: E402
from app.models import Claim, ClaimStatus, Membership, Person, Role, ScopeType  # noqa: E402
from app.runtime import runtime  # noqa: E402
from app.services.identity import access, web_sessions  # noqa: E402
from app.services.issuing import achievements, awarding, issuers  # noqa: E402
from app.web.session_cookie import COOKIE  # noqa: E402
from bench._common import bench_app, pin_one_core, summary, table  # noqa: E402
from bench.bench_review import PENDING, STANDINGS, World, count_statements  # noqa: E402

N = 200
TARGET_RATIO = 1.5
TARGET_BYTES = 100 * 1024
LINKED = re.compile(r"""<(?:link[^>]+rel=["']?stylesheet[^>]*href|script[^>]+src)=["']?([^"' >]+)""", re.I)
FONTS = re.compile(r"""url\(["']?([^"')]+\.(?:woff2?|ttf|otf))["']?\)""", re.I)


def first_visit_bytes(client: Any, path: str) -> tuple[int, int]:
    """Bytes of the page's HTML and of every stylesheet, script and font it links (each fetched once)."""
    html = client.get(path).get_data(as_text=True)
    seen: set[str] = set()
    total = len(html.encode())
    queue = [u for u in LINKED.findall(html) if u.startswith("/")]
    queue += [u for u in FONTS.findall(html) if u.startswith("/")]  # fonts named by inline styles
    while queue:
        url = queue.pop()
        if url in seen:
            continue
        seen.add(url)
        body = client.get(url).data
        total += len(body)
        if url.endswith(".css"):
            queue += [u for u in FONTS.findall(body.decode()) if u.startswith("/")]
    return total, len(seen)


def award_badge(app: Any, learner_id: uuid.UUID) -> uuid.UUID:
    """Give the learner one badge, as an issuer's administrator awards it (every format signed)."""
    with app.app_context():
        rt, s = runtime(app), db.session
        admin = Person(display_name="Émettrice", email="issuer@bench")
        s.add(admin)
        s.flush()
        s.add(Membership(person_id=admin.id, role=Role.PLATFORM_ADMIN, scope_type=ScopeType.PLATFORM))
        s.flush()
        grants = access.load_grants(s, admin.id)
        issuer = issuers.create_issuer(
            s, grants, {"name": "Bench", "url": "https://bench.example.fr"}, settings=rt.issuing
        )
        grants = access.load_grants(s, admin.id)
        achievement = achievements.create_achievement(
            s,
            grants,
            issuer.id,
            {
                "name": "Animer une réunion",
                "description": "Bench.",
                "criteria": "Bench.",
                "achievement_type": "Competency",
            },
            storage=rt.storage,
            urls=rt.issuing.urls,
        )
        credential = awarding.award(s, grants, achievement.id, {"learner_id": learner_id}, settings=rt.issuing)
        s.commit()
        return credential.id


def interleaved(page: Callable[[], None], api: Callable[[], None], n: int) -> tuple[list[float], list[float]]:
    """Time the page and its API call in turns, so both meet the same machine (other load, caches)."""
    for _ in range(10):
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
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    pin_one_core()
    with bench_app() as app:
        backend = app.extensions["blason"].settings.database_url.split(":", 1)[0]
        engine = database_of(app).engine
        world = World(app)
        world.grow(PENDING, STANDINGS)
        if engine.dialect.name == "postgresql":  # as autovacuum would after a bulk load: plans from real statistics
            with engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")
        with app.app_context():
            settings = runtime(app).web_sessions
            tutor_cookie = web_sessions.start(db.session, world.tutor_id, replacing=None, settings=settings)
            learner_cookie = web_sessions.start(db.session, world.learner_id, replacing=None, settings=settings)
            db.session.commit()
            first_claim = db.session.scalar(
                select(Claim.id)
                .where(Claim.status == ClaimStatus.PENDING, Claim.project_id == world.project)
                .order_by(Claim.created_at, Claim.id)
                .limit(1)
            )
        tutor_page, learner_page = app.test_client(), app.test_client()
        tutor_page.set_cookie(COOKIE, tutor_cookie)
        learner_page.set_cookie(COOKIE, learner_cookie)
        api = app.test_client()
        tutor = {"Authorization": f"Bearer {world.tutor_token}"}
        learner = {"Authorization": f"Bearer {world.learner_token}"}

        def page(client: Any, path: str, must: str) -> tuple[Any, Callable[[], None]]:
            def call() -> None:
                r = client.get(path)
                assert r.status_code == 200 and must.encode() in r.data, (path, r.status_code, r.data[:300])

            return client, call

        def api_call(headers: dict[str, str], *paths: str) -> Callable[[], None]:
            """The API calls that serve a page's data, one after the other (their times add up)."""

            def call() -> None:
                for path in paths:
                    r = api.get(path, headers=headers)
                    assert r.status_code == 200, (path, r.status_code, r.data[:300])

            return call

        v1 = "/api/v1"
        with app.app_context():
            claim_learner = db.session.scalar(select(Claim.learner_id).where(Claim.id == first_claim))
            own_claim = db.session.scalar(
                select(Claim.id).where(Claim.learner_id == world.learner_id).order_by(Claim.created_at).limit(1)
            )
        own = world.own_contribution
        badge: dict[str, Any] = {}

        def give_badge() -> None:
            badge["id"] = award_badge(app, world.learner_id)

        # (page, path, (client, call), [(API call, call), ...], set-up before the row): the first API
        # call is the one the target compares with; the others are printed for reference.
        pairs: list[tuple[str, Callable[[], str], Callable[[], tuple[Any, Callable[[], None]]], Any, Any]] = [
            (
                "GET /a-valider (first page of 10,000)",
                lambda: "/a-valider",
                lambda: page(tutor_page, "/a-valider", "10\u202f000 demandes attendent votre avis"),
                lambda: [(f"GET {v1}/reviews/queue?perPage=20", api_call(tutor, f"{v1}/reviews/queue?perPage=20"))],
                None,
            ),
            (
                "GET /a-valider/{claim}",
                lambda: f"/a-valider/{first_claim}",
                lambda: page(tutor_page, f"/a-valider/{first_claim}", "Envoyer mon avis"),
                lambda: [
                    (
                        f"GET {v1}/reviews/queue?learnerId=…&perPage=1 (the claim with its context)",
                        api_call(tutor, f"{v1}/reviews/queue?learnerId={claim_learner}&perPage=1"),
                    ),
                    (
                        f"GET {v1}/claims/{{id}} (the claim and its reviews only)",
                        api_call(tutor, f"{v1}/claims/{first_claim}"),
                    ),
                ],
                None,
            ),
            (
                "GET /mes-competences (2,000 standings)",
                lambda: "/mes-competences",
                lambda: page(learner_page, "/mes-competences", "<h1"),
                lambda: [
                    (
                        f"GET {v1}/people/{{id}}/portfolio (levels, tutors, comments)",
                        api_call(learner, f"{v1}/people/{world.learner_id}/portfolio"),
                    ),
                    (
                        f"GET {v1}/people/{{id}}/standings?perPage=20 (levels only)",
                        api_call(learner, f"{v1}/people/{world.learner_id}/standings?perPage=20"),
                    ),
                ],
                None,
            ),
            (
                "GET /mes-contributions",
                lambda: "/mes-contributions",
                lambda: page(learner_page, "/mes-contributions", "<h1"),
                lambda: [(f"GET {v1}/contributions", api_call(learner, f"{v1}/contributions"))],
                None,
            ),
            (
                "GET /mes-contributions/{id} (2,000 claims, 200 shown)",
                lambda: f"/mes-contributions/{own}",
                lambda: page(learner_page, f"/mes-contributions/{own}", "<h1"),
                lambda: [
                    (
                        f"GET {v1}/contributions/{{id}}, its /evidence, /claims?contributionId=… (2 pages of 100)",
                        api_call(
                            learner,
                            f"{v1}/contributions/{own}",
                            f"{v1}/contributions/{own}/evidence",
                            f"{v1}/claims?contributionId={own}&perPage=100",
                            f"{v1}/claims?contributionId={own}&perPage=100&page=2",
                        ),
                    )
                ],
                None,
            ),
            (
                "GET /mes-demandes/{claim} (validated)",
                lambda: f"/mes-demandes/{own_claim}",
                lambda: page(learner_page, f"/mes-demandes/{own_claim}", "<h1"),
                lambda: [
                    (
                        f"GET {v1}/claims/{{id}} (the claim, its revisions and reviews)",
                        api_call(learner, f"{v1}/claims/{own_claim}"),
                    )
                ],
                None,
            ),
            (
                "GET /mes-badges (no badge yet)",
                lambda: "/mes-badges",
                lambda: page(learner_page, "/mes-badges", "<h1"),
                lambda: [(f"GET {v1}/me/badges", api_call(learner, f"{v1}/me/badges"))],
                None,
            ),
            (
                "GET /mes-badges (one badge)",
                lambda: "/mes-badges",
                lambda: page(learner_page, "/mes-badges", "Vous avez 1 badge"),
                lambda: [(f"GET {v1}/me/badges", api_call(learner, f"{v1}/me/badges"))],
                give_badge,
            ),
            (
                "GET /mes-badges/{id}",
                lambda: f"/mes-badges/{badge['id']}",
                lambda: page(learner_page, f"/mes-badges/{badge['id']}", "Copier le lien"),
                lambda: [
                    (
                        f"GET {v1}/me/badges/{{id}} and its /share (links)",
                        api_call(learner, f"{v1}/me/badges/{badge['id']}", f"{v1}/me/badges/{badge['id']}/share"),
                    ),
                    (f"GET {v1}/me/badges/{{id}} (the badge only)", api_call(learner, f"{v1}/me/badges/{badge['id']}")),
                ],
                None,
            ),
        ]
        rows, notes, misses = [], [], []
        urls = app.url_map.bind("localhost")
        for name, path_of, page_of, apis_of, set_up in pairs:
            if set_up is not None:
                set_up()
            path = path_of()
            try:
                urls.match(path, method="GET")
            except NotFound:
                notes.append(f"{name}: skipped, the page is not built yet")
                continue
            client, fn = page_of()
            apis = apis_of()
            page_sql = count_statements(engine, fn)
            size, assets = first_visit_bytes(client, path)
            for rank, (api_name, api_fn) in enumerate(apis):
                api_sql = count_statements(engine, api_fn)
                page_times, api_times = interleaved(fn, api_fn, N)
                page_stats, api_stats = summary(page_times), summary(api_times)
                ratio = page_stats["p95_ms"] / api_stats["p95_ms"]
                ok = ratio <= TARGET_RATIO and size < TARGET_BYTES
                if rank == 0 and not ok:
                    misses.append(name)
                rows.append(
                    {
                        "page": name if rank == 0 else "″ (reference)",
                        "p50 ms": page_stats["p50_ms"],
                        "p95 ms": page_stats["p95_ms"],
                        "API call": api_name,
                        "API p50 ms": api_stats["p50_ms"],
                        "API p95 ms": api_stats["p95_ms"],
                        "p95 ratio": f"{ratio:.2f}",
                        "SQL page/API": f"{page_sql}/{api_sql}",
                        "first visit KB": f"{size / 1024:.1f}" + (f" ({assets} files)" if assets else ""),
                        "targets": ("met" if ok else "MISSED") if rank == 0 else "-",
                    }
                )
        print(
            f"bench_pages on {backend}, one core, {N} requests each: {PENDING:,} pending claims in the tutor's queue, "
            f"{STANDINGS:,} standings for the learner; ratio = page p95 / API p95 "
            f"(targets: <= {TARGET_RATIO}, first visit < {TARGET_BYTES // 1024} KB)"
        )
        columns = ["page", "p50 ms", "p95 ms", "API call", "API p50 ms", "API p95 ms", "p95 ratio"]
        print(table(rows, [*columns, "SQL page/API", "first visit KB", "targets"]))
        for note in notes:
            print("note:", note)
        if misses:
            raise SystemExit(f"targets missed: {', '.join(misses)}")


if __name__ == "__main__":
    main()
