"""From a tutor's validation to a badge verified by scanning its QR code — the API and public pages only."""

from __future__ import annotations

import io
import re

import badges
from tests.public_fixtures import BASE, HTML

API = "/api/v1"


def _issue_through_the_api(client, headers, world, make_person, grant):  # type: ignore[no-untyped-def]
    admin = make_person(display_name="Iris Émettrice")
    grant(admin, "platform_admin")
    h = headers(admin)
    issuer = client.post(
        f"{API}/issuers",
        headers=h,
        json={
            "name": "Collectif des territoires",
            "url": "https://collectif.example.fr",
            "email": "badges@collectif.example.fr",
        },
    ).json
    achievement = client.post(
        f"{API}/achievements",
        headers=h,
        json={
            "issuerId": issuer["id"],
            "name": "Animer une réunion publique",
            "description": "Animation validée.",
            "criteria": "Une réunion publique animée, validée par un tuteur.",
            "achievementType": "Competency",
            "competencyIds": [str(world.competency.id)],
            "awardMode": "auto",
            "awardRule": {"type": "all", "competencyIds": [str(world.competency.id)], "minLevel": "acquis"},
        },
    )
    assert achievement.status_code == 201, achievement.json
    learner, tutor = headers(world.learner), headers(world.tutor)
    etag = client.get(f"{API}/people/me", headers=learner).headers["ETag"]
    assert (
        client.patch(
            f"{API}/people/me", headers={**learner, "If-Match": etag}, json={"showNamePublicly": True}
        ).status_code
        == 200
    )
    evidence = client.post(
        f"{API}/contributions/{world.contribution.id}/evidence",
        headers=learner,
        json={
            "kind": "link",
            "title": "Affiche de la réunion",
            "url": "https://mairie.example.fr/affiche.pdf",
            "visibility": "public",
        },
    )
    assert evidence.status_code == 201, evidence.json
    claim = client.post(
        f"{API}/claims",
        headers=learner,
        json={
            "contributionId": str(world.contribution.id),
            "competencyId": str(world.competency.id),
            "justification": "J'ai animé la réunion du conseil de quartier.",
            "selfAssessment": "acquis",
        },
    )
    assert claim.status_code == 201, claim.json
    review = client.post(
        f"{API}/claims/{claim.json['id']}/reviews",
        headers={**tutor, "If-Match": claim.headers["ETag"]},
        json={"decision": "validated", "level": "maitrise", "comment": "Très bien menée."},
    )
    assert review.status_code == 201, review.json
    if client.get(f"{API}/me/badges", headers=learner).json["total"] == 0:  # no review hook: run the queue
        assert client.post(f"{API}/award-events/process", headers=h, json={"limit": 10}).status_code == 200
    [badge] = client.get(f"{API}/me/badges", headers=learner).json["items"]
    return h, learner, badge


def test_from_validation_to_a_scanned_and_verified_badge(client, headers, world, make_person, grant) -> None:
    admin, learner, badge = _issue_through_the_api(client, headers, world, make_person, grant)
    share = client.get(f"{API}/me/badges/{badge['id']}/share", headers=learner).json

    # The QR code encodes the short URL; scanning it lands on the verification page.
    short = share["shortUrl"]
    qr = client.get(share["qrSvgUrl"].removeprefix(BASE)).get_data(as_text=True)
    expected = re.search(r' d="([^"]+)"', badges.qr_svg(short)).group(1)  # type: ignore[union-attr]
    assert f' d="{expected}"' in qr
    landing = client.get(short.removeprefix(BASE), headers=HTML)
    assert landing.status_code == 303 and landing.headers["Location"] == share["verificationUrl"]
    page = re.sub(
        r"\s+", " ", client.get(share["verificationUrl"].removeprefix(BASE), headers=HTML).get_data(as_text=True)
    )
    assert "Badge authentique" in page and "Animer une réunion publique" in page
    assert "Léa Apprenante" in page and "Affiche de la réunion" in page and "maîtrisé" in page.lower()
    assert world.competency.label in page
    linkedin = share["linkedinUrl"].replace("&", "&amp;")
    assert linkedin in page

    # Anyone can check the downloads with the public verifier.
    for url in (share["bakedPngUrl"], share["bakedSvgUrl"]):
        image = client.get(url.removeprefix(BASE)).data
        r = client.post(
            f"{API}/verify", data={"file": (io.BytesIO(image), "badge")}, content_type="multipart/form-data"
        )
        assert r.json["verdict"] == "genuine", r.json
    jwt = client.get(share["vcJwtUrl"].removeprefix(BASE)).get_data(as_text=True)
    assert client.post(f"{API}/verify", json={"credential": jwt}).json["verdict"] == "genuine"
    assert client.post(f"{API}/verify", json={"url": share["ob2AssertionUrl"]}).json["verdict"] == "genuine"

    # The issuer revokes: every format says so at once.
    revoked = client.post(f"{API}/credentials/{badge['id']}/revoke", headers=admin, json={"reason": "Doublon"})
    assert revoked.status_code == 200, revoked.json
    page = client.get(share["verificationUrl"].removeprefix(BASE), headers=HTML).get_data(as_text=True)
    assert "Badge révoqué" in page and "Doublon" in page
    for body in ({"credential": jwt}, {"url": share["ob2AssertionUrl"]}, {"url": short}):
        assert client.post(f"{API}/verify", json=body).json["verdict"] == "revoked", body
    assert client.get(share["ob2AssertionUrl"].removeprefix(BASE)).status_code == 410
