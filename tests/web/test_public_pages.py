"""The credential's verification page and its downloads: HTML for people, JSON for machines."""

from __future__ import annotations

import io
import json
import re
import uuid
from datetime import timedelta

import pytest

import badges
from app.db import utcnow
from app.models import Credential, CredentialState
from app.services.issuing import issuers
from app.services.verification import public_pages
from tests.issuing_fixtures import issuing_settings
from tests.public_fixtures import BASE, HTML, Issued


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def test_page_in_french_shows_the_badge_and_a_live_verdict(client, issued: Issued) -> None:
    page = client.get(issued.path, headers=HTML)
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = _text(page)
    assert '<html lang="fr">' in html
    assert "Badge authentique" in html and "Animer une réunion publique" in html
    assert "Collectif des territoires" in html and "Compétence 1" in html and "Compétence 2" in html
    assert "Réunion du 3 mars." in html and "https://example.fr/photo-atelier" in html
    assert "Acquis" in html or "acquis" in html
    # The learner did not allow their name: it is not on the page.
    assert issued.setup.learner.display_name not in html and "Nom non publié" in html
    assert "à la demande" not in html  # nobody asked: the page does not say they did
    # The checks behind the verdict, for those who want them, without JavaScript.
    assert "<details>" in html and "Signature" in html and "réussi" in html and "<script" not in html
    assert "https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME" in html
    assert f"{issued.path}/qr.svg" in html and f"{issued.path}/badge.png" in html
    assert page.headers["Cache-Control"] == "public, max-age=0, s-maxage=60, must-revalidate"
    assert client.get(issued.path).headers["Cache-Control"] == "public, max-age=60"
    assert page.headers["Vary"] == "Accept, Accept-Language" and page.headers["ETag"]
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert client.get(issued.path, headers={**HTML, "If-None-Match": page.headers["ETag"]}).status_code == 304


def test_page_in_english_on_request(client, issued: Issued) -> None:
    for response in (
        client.get(f"{issued.path}?lang=en", headers=HTML),
        client.get(issued.path, headers={**HTML, "Accept-Language": "en-GB,en;q=0.9"}),
    ):
        html = _text(response)
        assert '<html lang="en">' in html and "Genuine badge" in html and "Verification details" in html
        # The level reached, signed in French in the credential, is read in the page's language.
        assert "<dd>acquired</dd>" in html and "<dd>acquis</dd>" not in html
        # English labels take no space before a colon; French ones a no-break space.
        assert "Short address :" not in html and "Short address: " in html
    french = client.get(issued.path, headers=HTML).get_data(as_text=True)
    assert "<dd>acquis</dd>" in french and "Adresse courte\u00a0: " in french
    assert 'hreflang="fr"' in _text(client.get(f"{issued.path}?lang=en", headers=HTML))


def test_recipient_name_only_when_the_learner_allows_it(client, session, issuing, award) -> None:
    issuing.learner.show_name_publicly = True
    session.commit()
    credential = award()
    assert "Léa Apprenante" in _text(client.get(f"/credentials/{credential.id}", headers=HTML))
    session.get(Credential, credential.id).show_name = False  # the badge's own choice wins over the profile's
    session.commit()
    assert "Léa Apprenante" not in _text(client.get(f"/credentials/{credential.id}", headers=HTML))


def test_machines_get_the_signed_credential(client, issued: Issued) -> None:
    credential = issued.credential
    for response in (
        client.get(issued.path),
        client.get(issued.path, headers={"Accept": "application/json"}),
        client.get(f"{issued.path}?format=json", headers=HTML),
    ):
        assert response.status_code == 200 and response.mimetype == "application/json"
        assert response.json == credential.ob3_credential
        assert response.headers["Access-Control-Allow-Origin"] == "*"
    ld = client.get(issued.path, headers={"Accept": "application/ld+json"})
    assert ld.mimetype == "application/ld+json" and ld.json["proof"]
    jwt = client.get(issued.path, headers={"Accept": "application/vc+jwt"})
    assert jwt.mimetype == "application/vc+jwt" and jwt.get_data(as_text=True) == credential.ob3_jwt
    text = client.get(f"{issued.path}/jwt")
    assert text.mimetype == "text/plain" and text.get_data(as_text=True) == credential.ob3_jwt
    download = client.get(f"{issued.path}.json")
    assert download.json == credential.ob3_credential
    assert download.headers["Content-Disposition"] == f'attachment; filename="badge-{credential.id}.json"'
    token = client.get(f"{issued.path}.jwt")
    assert token.get_data(as_text=True) == credential.ob3_jwt and "attachment" in token.headers["Content-Disposition"]


@pytest.mark.parametrize(
    ("query", "accept", "expected"),
    [
        ("", "*/*", "application/json"),  # curl, requests, fetch
        ("", "application/json, */*;q=0.5", "application/json"),
        ("", "application/json, application/vc+jwt;q=0.5", "application/json"),
        ("", "application/vc+jwt", "application/vc+jwt"),
        ("", "application/jwt", "application/vc+jwt"),
        ("", "application/vc+jwt, */*;q=0.1", "application/vc+jwt"),
        ("", "text/html", "text/html"),
        ("?format=json", "application/vc+jwt", "application/json"),
        ("?format=jwt", "*/*", "application/vc+jwt"),
        ("?format=jwt", "text/html", "application/vc+jwt"),
        ("?format=html", "*/*", "text/html"),
    ],
)
def test_content_negotiation_follows_the_readme(client, issued: Issued, query: str, accept: str, expected: str) -> None:
    response = client.get(f"{issued.path}{query}", headers={"Accept": accept})
    assert response.status_code == 200 and response.mimetype == expected
    if expected == "application/json":
        assert response.json == issued.credential.ob3_credential
    if expected == "application/vc+jwt":
        assert response.get_data(as_text=True) == issued.credential.ob3_jwt


def test_an_unknown_format_is_named_and_a_badge_without_jwt_says_so(client, session, issued: Issued) -> None:
    unknown = client.get(f"{issued.path}?format=xml", headers={"Accept": "*/*"})
    assert unknown.status_code == 400 and unknown.mimetype == "application/problem+json"
    assert unknown.json["errors"][0]["pointer"] == "#/query/format"
    session.get(Credential, issued.credential.id).ob3_jwt = None
    session.commit()
    assert client.get(f"{issued.path}?format=jwt").status_code == 404
    assert client.get(issued.path, headers={"Accept": "application/vc+jwt"}).status_code == 404


def test_short_url_and_qr_codes(client, issued: Issued) -> None:
    credential = issued.credential
    short = client.get(f"/c/{credential.short_code}")
    assert short.status_code == 303 and short.headers["Location"] == issued.url
    assert client.get(f"/c/{credential.short_code}?lang=en").headers["Location"] == issued.url + "?lang=en"
    target = f"{BASE}/c/{credential.short_code}"
    svg = client.get(f"{issued.path}/qr.svg")
    assert svg.mimetype == "image/svg+xml" and "inline" in svg.headers["Content-Disposition"]
    expected_path = re.search(r' d="([^"]+)"', badges.qr_svg(target)).group(1)  # type: ignore[union-attr]
    assert f' d="{expected_path}"' in svg.get_data(as_text=True)
    png = client.get(f"{issued.path}/qr.png?download=1")
    assert png.data == badges.qr_png(target) and png.headers["Content-Disposition"].startswith("attachment")
    assert png.headers["Cache-Control"] == "public, max-age=86400"
    assert client.get("/c/nope0000", headers=HTML).status_code == 404
    assert client.get("/c/..%2Fetc").status_code == 404


def test_baked_images_carry_the_credential(client, session, issued: Issued, settings) -> None:
    for extension in ("png", "svg"):
        response = client.get(f"{issued.path}/badge.{extension}")
        assert response.status_code == 200, response.data[:200]
        assert (
            response.headers["Content-Disposition"] == f'attachment; filename="animer-une-reunion-publique.{extension}"'
        )
        baked = badges.unbake(response.data)
        assert baked is not None and baked.version == "ob3"
        assert json.loads(baked.text) == issued.credential.ob3_credential
        report = badges.verify(response.data, resolvers=_own_resolvers(session, settings))
        assert report.valid, report.to_json()
    png = client.get(f"{issued.path}/badge.png").data
    assert badges.unbake_png(badges.bake_png(png, "x", "ob3")) is not None
    # The generated PNG also carries the signed OB 2.0 assertion for older backpacks.
    assert b"iTXtopenbadges\x00" in png and issued.credential.ob2_jws.encode() in png


def _own_resolvers(session, settings):  # type: ignore[no-untyped-def]
    from app.services.verification.verification import resolvers_for

    return resolvers_for(session, settings.urls, None)


def test_uploaded_png_is_baked_and_an_svg_wraps_it(client, session, issuing, award, app) -> None:
    import io

    from app.runtime import runtime
    from app.services.issuing import achievements
    from tests.api.support import png_bytes

    achievements.set_image(
        session,
        issuing.grants(session),
        issuing.achievement.id,
        io.BytesIO(png_bytes(8, 8)),
        storage=runtime(app).storage,
        max_bytes=1 << 20,
    )
    session.commit()
    credential = award()
    image = client.get(f"/achievements/{issuing.achievement.id}/v/1/image")
    assert image.mimetype == "image/png" and image.data == png_bytes(8, 8)
    png = client.get(f"/credentials/{credential.id}/badge.png").data
    assert png.startswith(b"\x89PNG") and badges.unbake(png).text.startswith("{")  # type: ignore[union-attr]
    svg = client.get(f"/credentials/{credential.id}/badge.svg").data
    assert b"data:image/png;base64," in svg and badges.unbake(svg).version == "ob3"  # type: ignore[union-attr]


def test_proposals_and_unknown_ids_do_not_exist(client, session, issued: Issued) -> None:
    assert client.get(f"/credentials/{uuid.uuid4()}", headers=HTML).status_code == 404
    missing = client.get(f"/credentials/{uuid.uuid4()}")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    session.get(Credential, issued.credential.id).state = CredentialState.PROPOSED
    session.commit()
    for suffix in ("", ".json", "/jwt", "/badge.png", "/qr.svg"):
        assert client.get(issued.path + suffix).status_code == 404, suffix
    assert client.get(f"/c/{issued.credential.short_code}").status_code == 404
    assert client.get(f"/ob2/assertions/{issued.credential.id}").status_code == 404


def test_expired_and_not_yet_valid(client, session, issuing, award, make_achievement) -> None:
    past = utcnow() - timedelta(days=10)
    expiring = make_achievement(issuing.issuer, issuing.admin, name="Badge éphémère", valid_for_days=2)
    old = award(achievement=expiring, settings_=issuing_settings(clock=lambda: past))
    html = _text(client.get(f"/credentials/{old.id}", headers=HTML))
    assert "Badge expiré" in html and "Ce badge était valable jusqu&#39;au" in html
    future = make_achievement(issuing.issuer, issuing.admin, name="Badge de demain")
    later = award(achievement=future, settings_=issuing_settings(clock=lambda: utcnow() + timedelta(days=30)))
    assert "Badge pas encore valable" in _text(client.get(f"/credentials/{later.id}", headers=HTML))


def test_compromised_key_is_said_in_words(client, session, issued: Issued, settings) -> None:
    setup = issued.setup
    key_id = next(
        k
        for k in public_pages.issuer_view(session, setup.issuer.id).keys  # type: ignore[union-attr]
        if k.purpose.value == "data_integrity"
    ).id
    assert "Badge authentique" in _text(client.get(issued.path, headers=HTML))
    issuers.compromise_key(session, setup.grants(session), setup.issuer.id, key_id, "Fuite", settings=settings)
    session.commit()
    html = _text(client.get(issued.path, headers=HTML))
    assert "Signature douteuse" in html and "compromise" in html


def test_revocation_shows_in_every_format_at_once(client, session, issued: Issued, headers) -> None:
    credential, setup = issued.credential, issued.setup
    admin = headers(setup.admin)
    assert "Badge authentique" in _text(client.get(issued.path, headers=HTML))  # the report is now cached
    r = client.post(f"/api/v1/credentials/{credential.id}/revoke", json={"reason": "Obtenu par erreur"}, headers=admin)
    assert r.status_code == 200, r.json

    html = _text(client.get(issued.path, headers=HTML))
    assert "Badge révoqué" in html and "Obtenu par erreur" in html and "authentique" not in html
    assert "linkedin.com" not in html and "badge.png" not in html
    status_url = credential.ob3_credential["credentialStatus"]["statusListCredential"]
    status = client.get(status_url.removeprefix(BASE))
    assert status.status_code == 200 and status.headers["Cache-Control"] == "public, max-age=60"
    bits = badges.StatusList.decode(status.json["credentialSubject"]["encodedList"])
    assert bits.get(credential.status_index) is True
    hosted = client.get(f"/ob2/assertions/{credential.id}")
    assert hosted.status_code == 410
    assert hosted.json["revoked"] is True and "Obtenu par erreur" in hosted.json["revocationReason"]
    listing = client.get(f"/ob2/issuers/{setup.issuer.id}/revocations").json
    revoked = {item["id"]: item.get("revocationReason") for item in listing["revokedAssertions"]}
    assert f"{BASE}/ob2/assertions/{credential.id}" in revoked and f"urn:uuid:{credential.id}" in revoked
    assert client.get(f"{issued.path}/badge.png").status_code == 410
    assert client.get(f"{issued.path}/badge-ob2.svg").status_code == 410
    verdict = client.post("/api/v1/verify", json={"credential": credential.ob3_jwt}).json
    assert verdict["verdict"] == "revoked" and verdict["valid"] is False


def test_suspension_then_unsuspension(client, session, issued: Issued, headers) -> None:
    credential, setup = issued.credential, issued.setup
    admin = headers(setup.admin)
    assert "Badge authentique" in _text(client.get(issued.path, headers=HTML))
    assert (
        client.post(
            f"/api/v1/credentials/{credential.id}/suspend", json={"reason": "Enquête en cours"}, headers=admin
        ).status_code
        == 200
    )
    html = _text(client.get(issued.path, headers=HTML))
    assert "Badge suspendu" in html and "Enquête en cours" in html
    assert client.get(f"/ob2/assertions/{credential.id}").status_code == 410
    assert client.post("/api/v1/verify", json={"credential": credential.ob3_credential}).json["verdict"] == "suspended"
    hosted = client.post("/api/v1/verify", json={"url": f"{BASE}/ob2/assertions/{credential.id}"}).json
    assert hosted["verdict"] == "suspended" and hosted["statusReason"] == "Enquête en cours"
    suspension_list = client.get(f"/status/{credential.suspension_list_id}").json
    assert badges.StatusList.decode(suspension_list["credentialSubject"]["encodedList"]).get(credential.status_index)

    assert client.post(f"/api/v1/credentials/{credential.id}/unsuspend", json={}, headers=admin).status_code == 200
    assert "Badge authentique" in _text(client.get(issued.path, headers=HTML))
    assert client.get(f"/ob2/assertions/{credential.id}").status_code == 200
    suspension_list = client.get(f"/status/{credential.suspension_list_id}").json
    assert not badges.StatusList.decode(suspension_list["credentialSubject"]["encodedList"]).get(
        credential.status_index
    )
    listing = client.get(f"/ob2/issuers/{setup.issuer.id}/revocations").json
    assert listing["revokedAssertions"] == []


def test_issuer_keys_achievement_and_ob2_documents(client, session, issued: Issued) -> None:
    credential, setup = issued.credential, issued.setup
    issuer_url = f"/issuers/{setup.issuer.id}"
    controller = client.get(issuer_url, headers={"Accept": "application/ld+json"})
    assert controller.mimetype == "application/ld+json" and controller.json["id"] == BASE + issuer_url
    method = (
        credential.ob3_credential["proof"][0]["verificationMethod"]
        if isinstance(credential.ob3_credential["proof"], list)
        else credential.ob3_credential["proof"]["verificationMethod"]
    )
    assert method in controller.json["assertionMethod"] and controller.json["name"] == "Collectif des territoires"
    page = _text(client.get(issuer_url, headers=HTML))
    assert "Collectif des territoires" in page and "Clés de signature publiées" in page
    assert "Animer une réunion publique" in page
    # The page links the issuer's published keys and names its did:web.
    assert f"{issuer_url}/jwks.json" in page and f"{issuer_url}/did.json" in page
    assert "did:web:" in page and f":issuers:{setup.issuer.id}" in page

    kid = badges.jws.decode_jws(credential.ob3_jwt).header["kid"]
    jwk = client.get(kid.removeprefix(BASE))
    assert jwk.status_code == 200 and jwk.json["kty"] == "EC" and "d" not in jwk.json and "keys" not in jwk.json
    assert jwk.json["kid"] == kid
    assert "Algorithme" in _text(client.get(kid.removeprefix(BASE), headers=HTML))

    achievement = client.get(f"/achievements/{setup.achievement.id}/v/1").json
    assert achievement == {
        "@context": achievement["@context"],
        **credential.ob3_credential["credentialSubject"]["achievement"],
    }
    assert "Compétences reconnues" in _text(client.get(f"/achievements/{setup.achievement.id}/v/1", headers=HTML))
    image = client.get(f"/achievements/{setup.achievement.id}/v/1/image")
    assert image.mimetype == "image/svg+xml" and b"<script" not in image.data

    ob2 = credential.ob2_assertion
    assert client.get(f"/ob2/assertions/{credential.id}").json == ob2
    assert client.get(f"/ob2/assertions/{credential.id}", headers=HTML).headers["Location"] == issued.url
    badgeclass = client.get(ob2["badge"].removeprefix(BASE)).json
    profile = client.get(badgeclass["issuer"].removeprefix(BASE)).json
    assert badgeclass["type"] == "BadgeClass" and profile["type"] in ("Profile", "Issuer")
    signed = badges.jws.decode_jws(credential.ob2_jws).payload
    key = client.get(signed["verification"]["creator"].removeprefix(BASE)).json
    assert key["type"] == "CryptographicKey" and key["publicKeyPem"].startswith("-----BEGIN PUBLIC KEY")
    assert "Open Badges 2.0" in _text(client.get(badgeclass["issuer"].removeprefix(BASE), headers=HTML))
    status_page = _text(client.get(f"/status/{credential.status_list_id}", headers=HTML))
    assert "Liste de statuts" in status_page and "révocation" in status_page
    for path in (
        f"/issuers/{uuid.uuid4()}",
        f"{issuer_url}/keys/nope",
        f"/achievements/{uuid.uuid4()}/v/1",
        f"/status/{uuid.uuid4()}",
        f"/ob2/issuers/{uuid.uuid4()}",
        "/ob2/keys/nope",
        f"/ob2/badgeclasses/{uuid.uuid4()}",
        f"/issuers/{setup.issuer.id}/image",
    ):
        assert client.get(path).status_code == 404, path


def test_public_evidence_only_while_public(app, client, session, world) -> None:
    from app.models import Evidence, EvidenceKind, Visibility

    item = Evidence(
        contribution_id=world.contribution.id,
        kind=EvidenceKind.TEXT,
        title="Compte rendu",
        text="Trente habitants présents.",
        visibility=Visibility.PUBLIC,
        created_by_id=world.learner.id,
    )
    session.add(item)
    session.commit()
    page = client.get(f"/evidence/{item.id}", headers=HTML)
    assert page.status_code == 200 and "Trente habitants présents." in _text(page)
    assert client.get(f"/evidence/{item.id}").json["name"] == "Compte rendu"
    session.get(Evidence, item.id).visibility = Visibility.TUTORS
    session.commit()
    assert client.get(f"/evidence/{item.id}").status_code == 404

    from app.models import StoredFile
    from app.runtime import runtime

    blob = runtime(app).storage.put(io.BytesIO(b"%PDF-1.7 compte rendu"), 1 << 20)
    if session.get(StoredFile, blob.sha256) is None:
        session.add(StoredFile(sha256=blob.sha256, size=blob.size, crc32=blob.crc32, media_type="application/pdf"))
        session.flush()
    file_item = Evidence(
        contribution_id=world.contribution.id,
        kind=EvidenceKind.FILE,
        title="Compte rendu signé",
        visibility=Visibility.PUBLIC,
        file_sha256=blob.sha256,
        filename="../../cr.pdf",
        media_type="application/pdf",
        size=blob.size,
        created_by_id=world.learner.id,
    )
    session.add(file_item)
    session.commit()
    assert "Télécharger le fichier" in _text(client.get(f"/evidence/{file_item.id}", headers=HTML))
    download = client.get(f"/evidence/{file_item.id}?download=1")
    assert download.data == b"%PDF-1.7 compte rendu" and download.mimetype == "application/pdf"
    # Saved under an ASCII name with the extension of what the file is (never a path).
    assert download.headers["Content-Disposition"] == 'attachment; filename="cr.pdf"'
    assert download.headers["Content-Security-Policy"].startswith("sandbox")
    download.close()


def test_status_list_is_the_signed_credential(client, session, issued: Issued, settings) -> None:
    document = client.get(f"/status/{issued.credential.status_list_id}").json
    report = badges.verify(document, resolvers=_own_resolvers(session, settings))
    assert report.check("proof").outcome == "pass", report.to_json()  # type: ignore[union-attr]
    assert document["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]


def test_report_cache_is_bounded() -> None:
    from app.services.verification.verification import ReportCache

    cache = ReportCache(size=2)
    report = badges.VerificationReport(format="x")
    report.add("proof", "pass", "ok", "ok")
    for key in ("a", "b", "c"):
        cache.put((key,), report)
    assert cache.get(("a",)) is None and cache.get(("c",)).valid  # type: ignore[union-attr]
    copy = cache.get(("b",))
    copy.add("status", "fail", "x", "x")  # type: ignore[union-attr]
    assert cache.get(("b",)).check("status") is None  # type: ignore[union-attr]


def test_the_ob2_baked_svg_carries_the_signed_ob2_assertion_and_verifies(client, session, issued: Issued) -> None:
    """The SVG that OB 2.0 tools read (one SVG carries one version), offered and named apart on the page."""
    credential = issued.credential
    response = client.get(f"{issued.path}/badge-ob2.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert "-ob2.svg" in response.headers["Content-Disposition"]
    baked = badges.unbake(response.data)
    assert baked is not None and baked.version == "ob2" and baked.text == credential.ob2_jws
    verdict = client.post(
        "/api/v1/verify",
        data={"file": (io.BytesIO(response.data), "badge-ob2.svg")},
        content_type="multipart/form-data",
    ).json
    assert verdict["verdict"] == "genuine" and verdict["format"].startswith("svg"), verdict
    page = client.get(issued.path, headers=HTML).get_data(as_text=True)
    assert f"{issued.path}/badge-ob2.svg" in page and "SVG : Open Badges 2.0, pour les outils plus anciens" in page
    assert "SVG : Open Badges 3.0" in page
    session.get(Credential, credential.id).ob2_jws = None
    session.commit()
    assert client.get(f"{issued.path}/badge-ob2.svg").status_code == 404
    assert "badge-ob2.svg" not in client.get(issued.path, headers=HTML).get_data(as_text=True)
