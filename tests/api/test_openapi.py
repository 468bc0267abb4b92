"""The OpenAPI description and its Swagger UI, served without any network access."""

from __future__ import annotations

import json


def test_openapi_json_lists_the_paths(client):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200 and r.mimetype == "application/json"
    spec = json.loads(r.data)
    assert spec["openapi"].startswith("3.") and spec["info"]["title"] == "Blason API"
    for path in (
        "/api/v1/auth/login",
        "/api/v1/territories",
        "/api/v1/projects/{project_id}",
        "/api/v1/contributions",
        "/api/v1/contributions/{contribution_id}/evidence/files",
        "/api/v1/evidence/{evidence_id}/file",
        "/api/v1/memberships",
        "/api/v1/people",
    ):
        assert path in spec["paths"], path
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    # Every error is documented as problem+json; list bodies are camelCase envelopes.
    assert "Problem" in spec["components"]["schemas"]
    assert {"items", "total", "page", "perPage"} <= set(spec["components"]["schemas"]["ProjectPage"]["properties"])
    assert spec["paths"]["/api/v1/auth/login"]["post"]["security"] == []


def test_openapi_refs_all_resolve(client):
    spec = client.get("/api/v1/openapi.json").json
    schemas = spec["components"]["schemas"]
    refs = set()

    def walk(node):  # type: ignore[no-untyped-def]
        if isinstance(node, dict):
            if "$ref" in node:
                refs.add(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec)
    for ref in refs:
        section, name = ref.split("/")[-2:]
        assert name in spec["components"][section], ref
    assert schemas


def test_swagger_ui_page_and_assets_are_local(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "/api/v1/docs/assets/swagger-ui-bundle.js" in html
    assert "/api/v1/openapi.json" in html
    assert "://" not in html.replace("http://www.w3.org", "")  # nothing fetched from a CDN
    bundle = client.get("/api/v1/docs/assets/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and len(bundle.data) > 100_000
    assert b"SwaggerUIBundle" in bundle.data
    bundle.close()
    css = client.get("/api/v1/docs/assets/swagger-ui.css")
    assert css.status_code == 200
    css.close()


def test_swagger_assets_do_not_escape_their_folder(client):
    for path in ("../../../../etc/passwd", "..%2f..%2fsetup.py", "%2e%2e/%2e%2e/app/config.py"):
        r = client.get(f"/api/v1/docs/assets/{path}")
        assert r.status_code == 404
