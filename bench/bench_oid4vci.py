"""The OpenID4VCI round trip (offer → token → nonce → credential) against signing the same credential alone.

Each round: the learner makes an offer (service call, committed), then a wallet with its own
Ed25519 key (did:key) trades the pre-authorized code at POST /api/oid4vci/token, gets a c_nonce
at POST /api/oid4vci/nonce and asks POST /api/oid4vci/credential with a JWT key proof: the token
and nonce looked up and spent, the proof verified, the issuer's keys decrypted, the wallet copy
signed (eddsa-rdfc-2022) and stored, an audit event written. The baseline, in the same run, is
``badges.sign_data_integrity`` of the same document alone (no HTTP, no database): the ratio is
what the protocol and the service add.
Run: .venv/bin/python bench/bench_oid4vci.py [--count 200]  [BLASON_BENCH_DATABASE_URL=postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jwt as pyjwt  # noqa: E402

import badges  # noqa: E402
from app.db import db  # noqa: E402
from app.models import Person, ProfileType  # noqa: E402
from app.platform.rate_limit import RateLimit  # noqa: E402
from app.runtime import runtime  # noqa: E402
from app.services.identity import access  # noqa: E402
from app.services.identity.audit import Actor  # noqa: E402
from app.services.issuing import awarding, oid4vci, oid4vci_proofs  # noqa: E402
from app.web import oid4vci as views  # noqa: E402
from bench._common import bench_app, bench_badge, pin_one_core, summary, table, timed  # noqa: E402

SYSTEM = access.Grants(Actor(None), platform_admin=True)


def _setup(app: Any) -> tuple[Any, Any]:
    rt = runtime(app)
    settings = rt.issuing
    session = db.session
    _issuer, achievement = bench_badge(session, settings, rt.storage)
    learner = Person(display_name="Léa", email=f"lea-{uuid.uuid4().hex[:6]}@example.fr", profile_type=ProfileType.AUTRE)
    session.add(learner)
    session.commit()
    credential = awarding.award(session, SYSTEM, achievement.id, {"learner_id": learner.id}, settings=settings)
    session.commit()
    return learner, credential


def run(count: int) -> list[dict[str, Any]]:
    with bench_app() as app, app.app_context():
        app.extensions[views._LIMIT_KEY] = RateLimit(10**9, 10**9, name="bench")  # measure the work, not the door
        settings = runtime(app).issuing
        learner, credential = _setup(app)
        grants = access.load_grants(db.session, learner.id)
        holder = badges.keys.ed25519_key_from_seed(b"h" * 32)
        kid, pem = holder.public.did_key_verification_method(), holder.private_pem().decode()
        client = app.test_client()
        base = settings.urls.base

        def round_trip() -> None:
            made = oid4vci.create_offer(db.session, grants, credential.id, with_tx_code=False, settings=settings)
            db.session.commit()
            offer = json.loads(parse_qs(urlsplit(made.offer_uri).query)["credential_offer"][0])
            code = offer["grants"][oid4vci.PRE_AUTHORIZED_GRANT]["pre-authorized_code"]
            token = client.post(
                "/api/oid4vci/token", data={"grant_type": oid4vci.PRE_AUTHORIZED_GRANT, "pre-authorized_code": code}
            ).json["access_token"]
            nonce = client.post("/api/oid4vci/nonce").json["c_nonce"]
            proof = pyjwt.encode(
                {"aud": base, "iat": int(time.time()), "nonce": nonce},
                pem,
                algorithm="EdDSA",
                headers={"typ": oid4vci_proofs.PROOF_TYPE, "kid": kid},
            )
            answer = client.post(
                "/api/oid4vci/credential",
                json={
                    "credential_configuration_id": "OpenBadgeCredential_ldp_vc",
                    "proof": {"proof_type": "jwt", "jwt": proof},
                },
                headers={"Authorization": f"Bearer {token}"},
            )
            assert answer.status_code == 200, answer.json

        document = dict(credential.ob3_credential)
        document.pop("proof", None)
        document["credentialSubject"] = {**document["credentialSubject"], "id": holder.public.did_key()}
        key = badges.generate_key("Ed25519")
        method = f"{document['issuer']['id']}#{key.public.multibase()}"

        def sign_alone() -> None:
            badges.sign_data_integrity(document, key, method, created=datetime.now(UTC))

        service = summary(timed(round_trip, count, warmup=5))
        alone = summary(timed(sign_alone, count, warmup=5))
        database = db.engine.dialect.name if db.engine is not None else "?"
    ratio = alone["rps"] / service["rps"]
    return [
        {"what": "OpenID4VCI offer → token → nonce → credential (ldp_vc)", "database": database, **service, "x": ratio},
        {"what": "badges.sign_data_integrity alone (same document)", "database": database, **alone, "x": 1.0},
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=200)
    args = parser.parse_args()
    pin_one_core()
    rows = run(args.count)
    print(f"OpenID4VCI round trip through the service against signing alone ({rows[0]['database']}, one core):")
    print(table(rows, ["what", "rps", "p50_ms", "p95_ms", "p99_ms", "x"]))


if __name__ == "__main__":
    main()
