"""From a tutor's validation to an issued badge, through the API only."""

from __future__ import annotations

from app.runtime import runtime
from app.services.identity import access
from app.services.issuing import achievements, issuers

API = "/api/v1"


def test_validation_awards_the_badge_automatically(app, client, headers, session, world, make_person, grant):
    admin = make_person(display_name="Iris Émettrice")
    grant(admin, "platform_admin")
    admin_grants = access.load_grants(session, admin.id)
    issuer = issuers.create_issuer(
        session,
        admin_grants,
        {"name": "Collectif", "url": "https://collectif.example.fr"},
        settings=runtime(app).issuing,
    )
    achievements.create_achievement(
        session,
        admin_grants,
        issuer.id,
        {
            "name": "Animer une réunion publique",
            "description": "Animation validée par un tuteur.",
            "criteria": "Une réunion publique animée.",
            "achievement_type": "Competency",
            "competency_ids": [world.competency.id],
            "award_mode": "auto",
            "award_rule": {"type": "all", "competencyIds": [str(world.competency.id)], "minLevel": "acquis"},
        },
        storage=runtime(app).storage,
        urls=runtime(app).issuing.urls,
    )
    session.commit()
    learner, tutor = headers(world.learner), headers(world.tutor)

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
    assert client.get(f"{API}/me/badges", headers=learner).json["total"] == 0

    review = client.post(
        f"{API}/claims/{claim.json['id']}/reviews",
        headers={**tutor, "If-Match": claim.headers["ETag"]},
        json={"decision": "validated", "level": "acquis", "comment": "Très bien menée."},
    )
    assert review.status_code == 201, review.json

    badges_page = client.get(f"{API}/me/badges", headers=learner).json
    assert badges_page["total"] == 1, badges_page
    badge = badges_page["items"][0]
    assert badge["state"] == "issued"
    detail = client.get(f"{API}/credentials/{badge['id']}", headers=headers(admin)).json
    assert detail["ob3Credential"]["proof"][0]["cryptosuite"] == "eddsa-rdfc-2022"
    assert detail["ob3Jwt"].count(".") == 2 and detail["ob2Jws"].count(".") == 2

    # The learner shares it; whoever scans the QR code lands on the page and sees it genuine.
    share = client.get(f"{API}/me/badges/{badge['id']}/share", headers=learner).json
    base = runtime(app).settings.public_base_url
    assert share["shortUrl"].startswith(base + "/c/")
    qr = client.get(share["qrSvgUrl"].removeprefix(base))
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml"
    landing = client.get(share["shortUrl"].removeprefix(base), headers={"Accept": "text/html"})
    assert landing.status_code == 303
    page = client.get(landing.headers["Location"].removeprefix(base), headers={"Accept": "text/html"})
    assert page.status_code == 200 and "Badge authentique" in page.get_data(as_text=True)
    assert "Animer une réunion publique" in page.get_data(as_text=True)

    # The issuer revokes it: the page, the status list and the OB 2.0 assertion all say so.
    revoked = client.post(
        f"{API}/credentials/{badge['id']}/revoke", headers=headers(admin), json={"reason": "Délivré par erreur"}
    )
    assert revoked.status_code == 200, revoked.json
    page = client.get(landing.headers["Location"].removeprefix(base), headers={"Accept": "text/html"})
    assert "Badge révoqué" in page.get_data(as_text=True)
    assert client.get(f"/ob2/assertions/{badge['id']}").status_code == 410
