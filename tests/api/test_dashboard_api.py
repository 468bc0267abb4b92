"""GET /api/v1/territories/{id}/dashboard and /api/v1/platform/dashboard: the service's figures as
camelCase JSON, one table as CSV, and nothing of a territory to anyone outside it."""

from __future__ import annotations

import csv
import io

V1 = "/api/v1"


def test_a_territory_as_json(client, small, headers):  # noqa: F811
    response = client.get(f"{V1}/territories/{small.territory.id}/dashboard", headers=headers(small.coordinator))
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["territoryId"] == str(small.territory.id) and body["territoryName"] == small.territory.name
    assert body["totals"] == {"contributions": 4, "hours": 10.75, "validated": 3, "waiting": 3, "badges": 3}
    garden = next(r for r in body["byProject"] if r["label"] == "Jardin partagé")
    assert garden == {
        "key": str(small.p2.id),
        "label": "Jardin partagé",
        "contributions": 2,
        "hours": 4.25,
        "validated": 1,
    }
    assert [r["key"] for r in body["byFunction"]][:2] == ["produire", "se_nourrir"]
    assert body["byFunction"][0]["validated"] == 2
    assert len(body["byMonth"]) == 12 and set(body["byMonth"][0]) == {
        "month",
        "contributions",
        "hours",
        "validated",
        "badges",
    }
    assert [(b["code"], b["validated"]) for b in body["blocs"]] == [("B1", 2)]
    assert [f["validated"] for f in body["frameworks"]] == [2, 1]
    assert [w["bucket"] for w in body["waiting"]] == ["under_7_days", "7_to_30_days", "over_30_days"]
    assert sum(w["claims"] for w in body["waiting"]) == 3
    assert body["byTerritory"] == []


def test_a_table_as_csv(client, small, headers):  # noqa: F811
    url = f"{V1}/territories/{small.territory.id}/dashboard?format=csv&table=by_project"
    response = client.get(url, headers=headers(small.coordinator))
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    assert rows[0] == ["projet_id", "projet", "contributions", "heures", "competences_validees"]
    assert [str(small.p2.id), "Jardin partagé", "2", "4.25", "1"] in rows
    assert len(rows) == 4  # the header and the territory's three projects


def test_csv_without_a_table_of_this_dashboard_is_422(client, small, headers):  # noqa: F811
    h = headers(small.coordinator)
    base = f"{V1}/territories/{small.territory.id}/dashboard?format=csv"
    for query in ("", "&table=by_territory"):
        response = client.get(base + query, headers=h)
        assert response.status_code == 422, query
        assert response.mimetype == "application/problem+json"
    assert client.get(base + "&table=nope", headers=h).status_code == 422


def test_another_territory_does_not_exist(client, small, headers):  # noqa: F811
    response = client.get(f"{V1}/territories/{small.territory.id}/dashboard", headers=headers(small.other_coordinator))
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert small.territory.name not in response.get_data(as_text=True)
    # The tutor of one of its projects sees the territory, not its figures.
    assert (
        client.get(f"{V1}/territories/{small.territory.id}/dashboard", headers=headers(small.tutor)).status_code == 403
    )
    assert client.get(f"{V1}/territories/{small.territory.id}/dashboard").status_code == 401


def test_the_platform_for_administrators(client, small, headers):  # noqa: F811
    response = client.get(f"{V1}/platform/dashboard", headers=headers(small.admin))
    assert response.status_code == 200
    body = response.get_json()
    assert body["territoryId"] is None and body["byProject"] == []
    assert body["totals"]["contributions"] == 5 and body["totals"]["hours"] == 110.75
    other = next(r for r in body["byTerritory"] if r["key"] == str(small.other.id))
    assert other == {
        "key": str(small.other.id),
        "label": "Autre territoire",
        "contributions": 1,
        "hours": 100.0,
        "validated": 1,
    }
    csv_answer = client.get(f"{V1}/platform/dashboard?format=csv&table=by_territory", headers=headers(small.admin))
    assert csv_answer.status_code == 200 and "Autre territoire;1;100.00;1" in csv_answer.get_data(as_text=True)
    assert client.get(f"{V1}/platform/dashboard", headers=headers(small.coordinator)).status_code == 403


def test_documented_in_openapi(client):
    spec = client.get(f"{V1}/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/territories/{territory_id}/dashboard"]["get"]
    assert "text/csv" in operation["responses"]["200"]["content"]
    assert "/api/v1/platform/dashboard" in spec["paths"]
