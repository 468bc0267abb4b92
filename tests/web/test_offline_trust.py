"""Trust material for offline verification and a credential's compact signed form (issue 17)."""

from __future__ import annotations

import badges
from app.runtime import runtime
from badges import compact
from tests.public_fixtures import BASE, Issued


def _platform(app) -> badges.PublicKey:  # type: ignore[no-untyped-def]
    return runtime(app).platform_key.public


def test_trust_list_and_status_bundle_are_signed_public_and_cached(app, client, issued: Issued) -> None:
    response = client.get("/trust/issuers.jws")
    assert response.status_code == 200 and response.mimetype == "application/jose"
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert response.headers["Access-Control-Allow-Origin"] == "*" and response.headers["ETag"]
    assert client.get("/trust/issuers.jws", headers={"If-None-Match": response.headers["ETag"]}).status_code == 304
    trust = compact.load_trust_list(response.get_data(as_text=True), _platform(app))
    assert trust.iss == BASE
    issuer_id = f"{BASE}/issuers/{issued.credential.issuer_id}"
    [entry] = [i for i in trust.issuers if i.id == issuer_id]
    assert entry.ids[0] == issuer_id and entry.ids[1].startswith("did:web:")
    assert {k.algorithm for k in entry.keys} == {"EdDSA", "ES256"} and {k.status for k in entry.keys} == {"active"}
    readable = client.get("/trust/issuers.json").get_json()
    assert readable["version"] == 1 and readable["issuers"][0]["keys"][0]["jwk"]["kty"] in ("OKP", "EC")

    status = client.get("/trust/status.jws")
    assert status.status_code == 200 and status.headers["Cache-Control"] == "public, max-age=300"
    bundle = compact.load_status_bundle(status.get_data(as_text=True), _platform(app))
    assert issued.credential.status_list_id is not None
    assert f"{BASE}/status/{issued.credential.status_list_id}" in bundle.lists
    # Signed by the platform key: another key does not open them.
    other = badges.generate_key("Ed25519").public
    try:
        compact.load_status_bundle(status.get_data(as_text=True), other)
    except badges.ProofError:
        pass
    else:  # pragma: no cover
        raise AssertionError("a status bundle opened with another key")


def test_offline_qr_and_text_verify_against_the_published_material(app, client, issued: Issued) -> None:
    text = client.get(f"{issued.path}/offline.txt")
    assert text.status_code == 200 and text.mimetype == "text/plain"
    payload = text.get_data(as_text=True)
    assert payload.startswith("BL1:")
    svg = client.get(f"{issued.path}/offline-qr.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml" and int(svg.headers["X-QR-Version"]) <= 18
    png = client.get(f"{issued.path}/offline-qr.png")
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG")
    trust = compact.load_trust_list(client.get("/trust/issuers.jws").get_data(as_text=True), _platform(app))
    bundle = compact.load_status_bundle(client.get("/trust/status.jws").get_data(as_text=True), _platform(app))
    report = compact.verify_compact(payload, trust_list=trust, status_bundle=bundle)
    assert report.valid, report.to_json()
    assert report.credential is not None and report.credential["credentialId"] == str(issued.credential.id)
    # The learner did not choose to show their name: it is not in the payload.
    assert "holderName" not in report.credential
    assert client.get("/credentials/00000000-0000-0000-0000-000000000000/offline.txt").status_code == 404
