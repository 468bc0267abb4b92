"""Every list the API answers is a page {items, total, page, perPage}, never a bare array (issue 12)."""

from __future__ import annotations

from typing import Any

API = "/api/v1"
METHODS = ("get", "post", "put", "patch", "delete")


def test_no_operation_answers_a_bare_array(client) -> None:  # type: ignore[no-untyped-def]
    spec = client.get(f"{API}/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    bare, pages = [], 0
    for path, item in spec["paths"].items():
        for method in METHODS:
            for status, response in item.get(method, {}).get("responses", {}).items():
                if not status.startswith("2"):
                    continue
                schema: dict[str, Any] = response.get("content", {}).get("application/json", {}).get("schema", {})
                if "$ref" in schema:
                    schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
                if schema.get("type") == "array":
                    bare.append(f"{method.upper()} {path} {status}")
                elif {"items", "total", "page", "perPage"} <= set(schema.get("properties", {})):
                    pages += 1
    assert not bare, bare
    assert pages >= 18


def test_achievement_versions_are_a_page(client, make_person, grant, headers) -> None:  # type: ignore[no-untyped-def]
    admin = make_person(display_name="Ada Admin")
    grant(admin, "platform_admin")
    h = headers(admin)
    issuer = client.post(
        f"{API}/issuers", json={"name": "Cnam Bretagne", "url": "https://cnam.example.fr"}, headers=h
    ).get_json()
    achievement = client.post(
        f"{API}/achievements",
        json={
            "issuerId": issuer["id"],
            "name": "Tenir un stand",
            "description": "Accueillir le public.",
            "criteria": "Avoir tenu un stand.",
        },
        headers=h,
    ).get_json()
    listed = client.get(f"{API}/achievements/{achievement['id']}/versions", headers=h)
    assert listed.status_code == 200
    body = listed.get_json()
    assert (body["total"], body["page"], body["perPage"]) == (1, 1, 20)
    assert [v["id"] for v in body["items"]] == [achievement["id"]] and body["items"][0]["version"] == 1
    beyond = client.get(f"{API}/achievements/{achievement['id']}/versions", query_string={"page": 2}, headers=h)
    assert beyond.get_json()["items"] == [] and beyond.get_json()["total"] == 1
