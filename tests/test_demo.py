"""The demo data set loads once, through the real CLI, its logins work, and every role has something to do."""

from __future__ import annotations

from sqlalchemy import func, select

from app.models import Claim, Contribution, Credential, Evidence, Framework, Issuer, Person, Project, Territory
from app.runtime import runtime


def test_load_demo_cli_is_idempotent_and_logins_work(runner, session, client, app):
    result = runner.invoke(args=["blason", "load-demo"])
    assert result.exit_code == 0, result.output
    assert "lucie.perrin@demo.blason.fr" in result.output and "(no e-mail)" in result.output
    counts = {
        m.__name__: session.scalar(select(func.count()).select_from(m))
        for m in (Territory, Project, Person, Contribution, Evidence, Framework, Issuer, Claim, Credential)
    }
    assert runner.invoke(args=["blason", "load-demo"]).exit_code == 0
    assert {
        m.__name__: session.scalar(select(func.count()).select_from(m))
        for m in (Territory, Project, Person, Contribution, Evidence, Framework, Issuer, Claim, Credential)
    } == counts
    assert counts["Territory"] >= 1 and counts["Project"] >= 2 and counts["Evidence"] >= 3
    assistant = session.scalar(select(Person).where(Person.display_name == "Marcel Dubreuil"))
    assert assistant.email is None and assistant.is_assisted

    password = runtime(app).settings.demo_password
    r = client.post("/api/v1/auth/login", json={"email": "helene.martin@demo.blason.fr", "password": password})
    assert r.status_code == 200, r.json
    token = r.json["accessToken"]
    mine = client.get(
        "/api/v1/contributions", headers={"Authorization": f"Bearer {token}", "X-Act-For": str(assistant.id)}
    )
    assert mine.status_code == 200 and mine.json["total"] == 1
    assert mine.json["items"][0]["learnerId"] == str(assistant.id)


def _token(client, app, email):  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/auth/login", json={"email": email, "password": runtime(app).settings.demo_password})
    assert r.status_code == 200, r.json
    return {"Authorization": f"Bearer {r.json['accessToken']}"}


def test_every_demo_role_has_something_to_do(runner, session, client, app):
    assert runner.invoke(args=["blason", "load-demo"]).exit_code == 0
    karim = _token(client, app, "karim.benali@demo.blason.fr")
    queue = client.get("/api/v1/reviews/queue", headers=karim).json
    waiting = sorted(
        (item["learner"]["displayName"], item["competency"]["code"])
        for item in queue["items"]
        if item["claim"]["status"] == "pending"
    )
    assert waiting == [("Lucie Perrin", "VB1.3"), ("Marcel Dubreuil", "VB2.1")]
    lucie = _token(client, app, "lucie.perrin@demo.blason.fr")
    badges = client.get("/api/v1/me/badges", headers=lucie).json
    assert [(b["name"], b["state"]) for b in badges["items"]] == [("Animer un jardin partagé", "issued")]
    found = client.get("/api/v1/competencies/search", query_string={"q": "réparer un appareil"}, headers=lucie).json
    assert any(hit["code"] == "VB2.1" for hit in found["items"])
    helene = _token(client, app, "helene.martin@demo.blason.fr")
    assert client.get("/api/v1/issuers", headers=helene).json["total"] >= 1
