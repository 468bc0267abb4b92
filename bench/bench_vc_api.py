"""POST /credentials/verify (W3C VC-API) against the badges/ verifier alone, in the same run.

An Open Badges 3.0 credential is signed through POST /credentials/issue (a registered client's
token from POST /oauth/token), then verified N times through POST /credentials/verify: the bearer
token checked (signature, client not revoked), the body checked, the issuer's controller document
read from the database, the eddsa-rdfc-2022 proof verified, the VC-API result written. The
baseline is ``badges.verify`` on the same credential with the controller document in memory (no
HTTP, no database): the ratio is what the service adds. The issue endpoint is timed the same way,
against ``badges.sign_data_integrity`` alone.
Run: .venv/bin/python bench/bench_vc_api.py [--count 300]  [BLASON_BENCH_DATABASE_URL=postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import badges  # noqa: E402
from app.db import db  # noqa: E402
from app.runtime import runtime  # noqa: E402
from app.services.identity import access  # noqa: E402
from app.services.identity.audit import Actor  # noqa: E402
from app.services.issuing import api_clients, issuers  # noqa: E402
from app.services.verification import public_docs  # noqa: E402
from bench._common import bench_app, pin_one_core, summary, table, timed  # noqa: E402

SYSTEM = access.Grants(Actor(None), platform_admin=True)


def credential_for(issuer_url: str, n: int = 0) -> dict[str, Any]:
    return {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        ],
        "id": f"urn:uuid:00000000-0000-4000-8000-{n:012d}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer_url, "type": ["Profile"], "name": "Banc d'essai"},
        "validFrom": "2026-01-01T00:00:00Z",
        "name": "Tenir un stand",
        "credentialSubject": {
            "id": "did:example:learner",
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "https://partenaire.example.fr/achievements/1",
                "type": ["Achievement"],
                "name": "Tenir un stand",
                "description": "Accueillir le public.",
                "criteria": {"narrative": "Avoir tenu un stand."},
            },
        },
    }


def run(count: int) -> list[dict[str, Any]]:
    with bench_app() as app:
        with app.app_context():
            rt = runtime(app)
            issuer = issuers.create_issuer(
                db.session,
                SYSTEM,
                {"name": "Banc d'essai", "url": "https://bench.example.fr", "email": "bench@example.fr"},
                settings=rt.issuing,
            )
            created = api_clients.create_client(
                db.session, SYSTEM, issuer.id, "Banc", ["issue", "verify"], passwords=rt.passwords, settings=rt.issuing
            )
            db.session.commit()
            issuer_url = rt.issuing.urls.issuer(issuer.id)
            _status, controller = public_docs.resolve(db.session, rt.issuing.urls, issuer_url)  # type: ignore[misc]
            dialect = db.engine.dialect.name
        client = app.test_client()
        answer = client.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, auth=(created.client.client_id, created.secret)
        )
        headers = {"Authorization": f"Bearer {answer.json['access_token']}"}
        issued = client.post("/credentials/issue", json={"credential": credential_for(issuer_url)}, headers=headers)
        assert issued.status_code == 201, issued.json
        signed = issued.json["verifiableCredential"]

        def verify_http() -> None:
            r = client.post("/credentials/verify", json={"verifiableCredential": signed}, headers=headers)
            assert r.status_code == 200 and r.json["verified"], r.json

        resolvers = badges.Resolvers.from_mapping({issuer_url: controller})

        def verify_alone() -> None:
            assert badges.verify(signed, resolvers=resolvers).valid

        numbers = iter(range(1, 10**9))

        def issue_http() -> None:
            r = client.post(
                "/credentials/issue", json={"credential": credential_for(issuer_url, next(numbers))}, headers=headers
            )
            assert r.status_code == 201, r.json

        key = badges.generate_key("Ed25519")
        method = f"{issuer_url}#{key.public.multibase()}"

        def sign_alone() -> None:
            badges.sign_data_integrity(
                credential_for(issuer_url, next(numbers)), key, method, created=datetime.now(UTC)
            )

        rows = []
        for name, service, baseline in (
            ("POST /credentials/verify", verify_http, verify_alone),
            ("POST /credentials/issue", issue_http, sign_alone),
        ):
            measured = summary(timed(service, count, warmup=10))
            alone = summary(timed(baseline, count, warmup=10))
            rows.append(
                {
                    "database": dialect,
                    "operation": name,
                    "requests": count,
                    "service req/s": measured["rps"],
                    "p50 ms": measured["p50_ms"],
                    "p95 ms": measured["p95_ms"],
                    "badges/ alone /s": alone["rps"],
                    "overhead ×": alone["rps"] / measured["rps"],
                }
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=300)
    args = parser.parse_args()
    pin_one_core()
    rows = run(args.count)
    print(f"W3C VC-API through the service against badges/ alone ({rows[0]['database']}, one core):")
    columns = ["operation", "requests", "service req/s", "p50 ms", "p95 ms", "badges/ alone /s", "overhead ×"]
    print(table(rows, columns))


if __name__ == "__main__":
    main()
