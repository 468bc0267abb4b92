"""Helper of the OpenID4VCI independent check (.ci/independent_check.sh), against a running Blason.

``offers BASE``: sign in as the demo learner (Lucie) through the API and print the credential offers
the JavaScript client needs (one per format, and one per refusal case), as JSON.

``check BASE RECEIVED SAMPLES``: verify what the client received with ``badges.verify`` (the
documents fetched from the running server), and write them in the form ``verify.mjs`` reads.
Exit status 1 on any failure.
"""

from __future__ import annotations

import json
import sys
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import badges  # noqa: E402
from badges.jws import decode_jws  # noqa: E402

LEARNER = "lucie.perrin@demo.blason.fr"
PASSWORD = "demo-blason-2026"
LDP, JWT = "OpenBadgeCredential_ldp_vc", "OpenBadgeCredential_jwt_vc_json"


def _call(url: str, body: Any = None, token: str | None = None, accept: str = "application/json") -> Any:
    headers = {"Accept": accept}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers), timeout=30) as answer:  # noqa: S310 - loopback
        return json.loads(answer.read())


def offers(base: str, password: str = PASSWORD) -> dict[str, Any]:
    token = _call(f"{base}/api/v1/auth/login", {"email": LEARNER, "password": password})["accessToken"]
    mine = _call(f"{base}/api/v1/me/badges", token=token)["items"]
    badge = next(item for item in mine if item.get("state", "issued") == "issued")

    def offer(configuration: str, tx: bool = False) -> dict[str, Any]:
        body = {"configurations": [configuration], "txCode": tx}
        made = _call(f"{base}/api/v1/me/badges/{badge['id']}/wallet-offers", body, token=token)
        return {"uri": made["offerUri"], "txCode": made["txCode"]}

    return {
        "issuer": base,
        "ldp_vc": offer(LDP),
        "jwt_vc_json": offer(JWT, tx=True),  # the shared-screen case: the right transaction code
        "replay": offer(LDP),
        "wrong_tx_code": offer(LDP, tx=True),
        "stale_nonce": offer(LDP),
        "other_key": offer(JWT),
    }


def check(base: str, received_path: str, samples_path: str) -> int:
    received = json.loads(Path(received_path).read_text())
    documents: dict[str, Any] = {}

    def fetch(url: str) -> Any:
        if not url.startswith(base + "/"):
            raise badges.ResolutionError(f"not this server: {url}")
        if url not in documents:
            documents[url] = _call(url.split("#")[0])
        return documents[url]

    resolvers = badges.Resolvers(document=fetch)
    holder = received["holder"]
    failures = 0
    samples: dict[str, Any] = {"now": received["now"], "documents": {}, "dataIntegrity": {}, "jwt": {}}
    for fmt, credential in received["credentials"].items():
        report = badges.verify(credential, resolvers=resolvers)
        payload = decode_jws(credential).payload if isinstance(credential, str) else credential
        bound = payload["credentialSubject"]["id"] == holder[fmt]
        ok = report.valid and bound
        print(f"{'ok  ' if ok else 'FAIL'} badges.verify: {fmt} from the wallet client (holder bound: {bound})")
        if not ok:
            print(json.dumps(report.to_json(), ensure_ascii=False)[:600])
            failures += 1
        if fmt == "ldp_vc":
            samples["dataIntegrity"]["OpenID4VCI ldp_vc"] = credential
            issuer_id = credential["issuer"]["id"]
            samples["documents"][issuer_id] = _call(issuer_id)
        else:
            kid = decode_jws(credential).header["kid"]
            samples["jwt"]["OpenID4VCI jwt_vc_json"] = {"token": credential, "jwk": {**_call(kid), "kid": kid}}
    for case, outcome in received["refusals"].items():
        ok = outcome.get("refused") is True
        print(f"{'ok  ' if ok else 'FAIL'} refused by Blason: {case} ({outcome.get('detail', '')[:160]})")
        failures += not ok
    Path(samples_path).write_text(json.dumps(samples, ensure_ascii=False))
    return 1 if failures else 0


def main() -> int:
    command, *args = sys.argv[1:]
    if command == "offers":
        json.dump(offers(*args), sys.stdout)
        return 0
    if command == "check":
        return check(*args)
    raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    sys.exit(main())
