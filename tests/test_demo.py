"""The demo data set loads once, through the real CLI, and its logins work."""
from __future__ import annotations

from sqlalchemy import func, select

from app.models import Contribution, Evidence, Person, Project, Territory
from app.runtime import runtime


def test_load_demo_cli_is_idempotent_and_logins_work(runner, session, client, app):
    result = runner.invoke(args=["blason", "load-demo"])
    assert result.exit_code == 0, result.output
    assert "lucie.perrin@demo.blason.fr" in result.output and "(no e-mail)" in result.output
    counts = {m.__name__: session.scalar(select(func.count()).select_from(m))
              for m in (Territory, Project, Person, Contribution, Evidence)}
    assert runner.invoke(args=["blason", "load-demo"]).exit_code == 0
    assert {m.__name__: session.scalar(select(func.count()).select_from(m))
            for m in (Territory, Project, Person, Contribution, Evidence)} == counts
    assert counts["Territory"] >= 1 and counts["Project"] >= 2 and counts["Evidence"] >= 3
    assistant = session.scalar(select(Person).where(Person.display_name == "Marcel Dubreuil"))
    assert assistant.email is None and assistant.is_assisted

    password = runtime(app).settings.demo_password
    r = client.post("/api/v1/auth/login", json={"email": "helene.martin@demo.blason.fr", "password": password})
    assert r.status_code == 200, r.json
    token = r.json["accessToken"]
    mine = client.get("/api/v1/contributions", headers={"Authorization": f"Bearer {token}",
                                                         "X-Act-For": str(assistant.id)})
    assert mine.status_code == 200 and mine.json["total"] == 1
    assert mine.json["items"][0]["learnerId"] == str(assistant.id)
