"""Trust material for offline verification and a credential's compact signed form (issue 17)."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest

import badges
from app.api import verification as verify_api
from app.db import utcnow
from app.models import Credential, KeyPurpose
from app.runtime import runtime
from app.services.issuing import keys, revocation, wallet
from app.services.verification import offline
from badges import compact
from tests.public_fixtures import BASE, Issued, NoNetwork
from tests.web.csrf_support import csrf_token


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
    found = bundle.find(issued.credential.status_list_id)  # keyed by the list's UUID, its URL alongside
    assert found is not None and found.url == f"{BASE}/status/{issued.credential.status_list_id}"
    assert found.purpose == "revocation" and str(issued.credential.status_list_id) in bundle.payload()["lists"]
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
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml" and int(svg.headers["X-QR-Version"]) <= 13
    png = client.get(f"{issued.path}/offline-qr.png")
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG")
    trust = compact.load_trust_list(client.get("/trust/issuers.jws").get_data(as_text=True), _platform(app))
    bundle = compact.load_status_bundle(client.get("/trust/status.jws").get_data(as_text=True), _platform(app))
    report = compact.verify_compact(payload, trust_list=trust, status_bundle=bundle)
    assert report.valid, report.to_json()
    assert report.credential is not None and report.credential["credentialId"] == str(issued.credential.id)
    assert report.credential["url"] == f"{BASE}/c/{issued.credential.short_code}"  # the short address, signed
    assert report.credential["id"] == f"{BASE}/credentials/{issued.credential.id}"
    assert report.credential["issuer"]["name"]  # from the trust list: the payload leaves it out
    # The learner did not choose to show their name: it is not in the payload.
    assert "holderName" not in report.credential
    assert client.get("/credentials/00000000-0000-0000-0000-000000000000/offline.txt").status_code == 404


def _verify(client, text: str):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/verify", json={"credential": text})


def test_the_api_and_the_form_take_a_bl1_text_and_follow_revocation(
    client, session, issued: Issued, settings, monkeypatch
) -> None:

    monkeypatch.setattr(verify_api, "verify_fetcher", NoNetwork)
    payload = client.get(f"{issued.path}/offline.txt").get_data(as_text=True)
    answer = _verify(client, payload)
    assert answer.status_code == 200 and answer.json["verdict"] == "genuine", answer.json
    assert answer.json["format"] == "bl1-cose" and answer.json["verificationUrl"] == issued.url
    assert answer.json["credential"]["credentialId"] == str(issued.credential.id)
    form = client.post(
        "/verify",
        data={"badge": payload, "csrf_token": csrf_token(client), "file": (io.BytesIO(b""), "")},
        content_type="multipart/form-data",
    )
    assert form.status_code == 200 and "Badge authentique" in form.get_data(as_text=True)

    revocation.revoke(session, issued.setup.grants(session), issued.credential.id, "Erreur.", settings=settings)
    session.commit()
    assert _verify(client, payload).json["verdict"] == "revoked"
    # The compact form is still served (the holder carries it); the status bundle tells the rest.
    assert client.get(f"{issued.path}/offline.txt").get_data(as_text=True) == payload
    bundle = compact.load_status_bundle(
        client.get("/trust/status.jws").get_data(as_text=True), _platform(client.application)
    )
    trust = compact.load_trust_list(
        client.get("/trust/issuers.jws").get_data(as_text=True), _platform(client.application)
    )
    report = compact.verify_compact(payload, trust_list=trust, status_bundle=bundle)
    assert not report.valid and report.check("status").reason_fr.startswith("Révoqué selon les listes du")  # type: ignore[union-attr]


def test_a_compromised_key_and_the_holder_name(client, session, issued: Issued, settings) -> None:

    credential = session.get(Credential, issued.credential.id)
    learner = issued.setup.learner
    wallet.set_show_name(
        session,
        issued.setup.grants(session, learner),
        credential.id,
        True,
        expected_version=credential.version,
        urls=settings.urls,
    )
    session.commit()
    shown = client.get(f"{issued.path}/offline.txt").get_data(as_text=True)
    assert compact.CompactBadge.from_claims(compact.decode_compact(shown).claims).holder_name == learner.display_name
    assert _verify(client, shown).json["verdict"] == "genuine"
    row = keys.active_key(session, credential.issuer_id, KeyPurpose.DATA_INTEGRITY)
    keys.mark_compromised(session, issued.setup.grants(session), credential.issuer_id, row.id, "Vol.", settings.keks)
    session.commit()
    answer = _verify(client, shown)
    assert answer.json["verdict"] == "key_compromised", answer.json
    # A new compact form is signed with the replacement key, and verifies.
    fresh = client.get(f"{issued.path}/offline.txt").get_data(as_text=True)
    assert fresh != shown
    trust = compact.load_trust_list(
        client.get("/trust/issuers.jws").get_data(as_text=True), _platform(client.application)
    )
    assert compact.verify_compact(fresh, trust_list=trust).valid
    assert not compact.verify_compact(shown, trust_list=trust).valid
    # Online, the platform still says the badge's own signed forms came from the compromised key.
    assert _verify(client, fresh).json["verdict"] == "key_compromised"
    assert offline.public_compact(session, credential.id, settings) == fresh


def test_trust_material_is_redated_and_follows_changes(app, session, issued: Issued) -> None:
    urls, key = runtime(app).issuing.urls, runtime(app).platform_key
    clock = [1000.0]
    first = offline.signed_status_bundle(session, urls, key, utcnow(), monotonic=lambda: clock[0])
    assert (
        offline.signed_status_bundle(session, urls, key, utcnow() + timedelta(seconds=5), monotonic=lambda: clock[0])
        == first
    )
    clock[0] += offline.MAX_AGE + 1
    later = offline.signed_status_bundle(
        session, urls, key, utcnow() + timedelta(minutes=6), monotonic=lambda: clock[0]
    )
    assert later.iat > first.iat


def test_cli_exports_the_trust_material_and_verifies_with_no_network(runner, client, issued: Issued, tmp_path) -> None:
    done = runner.invoke(args=["blason", "trust-export", str(tmp_path)])
    assert done.exit_code == 0, done.output
    assert {p.name for p in tmp_path.iterdir()} == {"issuers.jws", "status.jws", "platform.jwk.json"}
    payload = client.get(f"{issued.path}/offline.txt").get_data(as_text=True)
    (tmp_path / "badge.txt").write_text(payload, encoding="ascii")
    args = ["--trust-list", str(tmp_path / "issuers.jws"), "--status", str(tmp_path / "status.jws")]
    key = ["--platform-key", str(tmp_path / "platform.jwk.json")]
    done = runner.invoke(args=["blason", "verify-offline", payload, *args, *key])
    assert done.exit_code == 0 and "authentique" in done.output and "Animer une réunion publique" in done.output
    done = runner.invoke(args=["blason", "verify-offline", f"@{tmp_path / 'badge.txt'}", *args])
    assert done.exit_code == 0, done.output
    tampered = payload[:-8] + ("A" if payload[-8] != "A" else "B") + payload[-7:]
    assert runner.invoke(args=["blason", "verify-offline", tampered, *args]).exit_code == 1
    other = tmp_path / "other.jwk.json"
    other.write_text(json.dumps(badges.generate_key("Ed25519").public.jwk()), encoding="utf-8")
    assert runner.invoke(args=["blason", "verify-offline", payload, *args, "--platform-key", str(other)]).exit_code == 2


def test_the_certificate_prints_both_qr_codes_and_they_scan(app, client, issued: Issued, tmp_path) -> None:
    import shutil
    import subprocess

    from tests.web.page_support import sign_in_as

    sign_in_as(client, app, issued.setup.learner)
    pdf = client.get(f"/mes-badges/{issued.credential.id}/attestation.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    pdftoppm, zbarimg = shutil.which("pdftoppm"), shutil.which("zbarimg")
    if pdftoppm is None or zbarimg is None:
        pytest.skip("poppler-utils / zbar-tools are not installed")
    (tmp_path / "c.pdf").write_bytes(pdf.data)
    subprocess.run([pdftoppm, "-r", "200", "-png", str(tmp_path / "c.pdf"), str(tmp_path / "p")], check=True)
    [page] = sorted(tmp_path.glob("p*.png"))
    found = subprocess.run([zbarimg, "-q", "--raw", str(page)], capture_output=True, text=True).stdout.split("\n")
    payload = client.get(f"{issued.path}/offline.txt").get_data(as_text=True)
    assert f"{BASE}/c/{issued.credential.short_code}" in found and payload in found
    text = subprocess.run(["pdftotext", str(tmp_path / "c.pdf"), "-"], capture_output=True, text=True).stdout
    assert "Vérification sans réseau" in text


def test_mes_badges_shows_the_signed_qr_code_beside_the_address_one(app, client, issued: Issued) -> None:
    from tests.web.page_support import sign_in_as

    sign_in_as(client, app, issued.setup.learner)
    page = client.get(f"/mes-badges/{issued.credential.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Vérification sans réseau" in html
    for link in (
        f"{issued.url}/offline-qr.svg",
        f"{issued.url}/offline-qr.png?download=1",
        f"{issued.url}/offline.txt",
    ):
        assert link in html, link
        assert client.get(link.replace(BASE, "")).status_code == 200
