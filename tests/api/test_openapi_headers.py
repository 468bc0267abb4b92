"""The request headers the API reads are declared in its OpenAPI: If-Match and X-Act-For (issue 12)."""

from __future__ import annotations

import inspect
from typing import Any

from tests.api.support import declared_parameters

API = "/api/v1"
METHODS = ("get", "post", "put", "patch", "delete")


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, item[method]) for path, item in spec["paths"].items() for method in METHODS if method in item
    ]


def header_names(spec: dict[str, Any], operation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in declared_parameters(spec, operation) if p["in"] == "header"}


# Operations authorised by a program, not a person: the W3C VC-API and its OAuth token endpoint take
# an issuer's client credentials or that client's token (app.web.vc_api), never a person's token, so
# there is nobody to act for and X-Act-For must not be offered there.
CLIENT_AUTHENTICATED = {("post", "/oauth/token"), ("post", "/credentials/issue"), ("post", "/credentials/verify")}


def person_authenticated(spec: dict[str, Any], operation: dict[str, Any]) -> bool:
    """Whether an operation takes a person's bearer token (the global security, or one naming it)."""
    security = operation.get("security", spec["security"])
    return any("bearer" in requirement for requirement in security)


def test_x_act_for_is_declared_once_and_on_every_operation_that_needs_a_login(client) -> None:  # type: ignore[no-untyped-def]
    spec = client.get(f"{API}/openapi.json").get_json()
    [act_for] = [name for name, p in spec["components"]["parameters"].items() if p["name"] == "X-Act-For"]
    assert spec["components"]["parameters"][act_for]["in"] == "header"
    logged_in = public = 0
    by_client = set()
    for path, method, operation in operations(spec):
        refs = [p.get("$ref") for p in operation.get("parameters", [])]
        if operation.get("security") == []:
            public += 1
            assert f"#/components/parameters/{act_for}" not in refs, (method, path)
        elif not person_authenticated(spec, operation):
            by_client.add((method, path))
            assert f"#/components/parameters/{act_for}" not in refs, (method, path)
        else:
            logged_in += 1
            assert refs.count(f"#/components/parameters/{act_for}") == 1, (method, path)
    assert logged_in > 50 and public > 3
    # Only the known client-authenticated operations escape the rule.
    assert by_client == CLIENT_AUTHENTICATED


def test_every_operation_that_reads_if_match_declares_it(app, client) -> None:  # type: ignore[no-untyped-def]
    spec = client.get(f"{API}/openapi.json").get_json()
    conditional = []
    for rule in app.url_map.iter_rules():
        view_class = getattr(app.view_functions[rule.endpoint], "view_class", None)
        for method in sorted((rule.methods or set()) & {"POST", "PUT", "PATCH", "DELETE"}):
            handler = getattr(view_class, method.lower(), None)
            if handler is None or "expected_version()" not in inspect.getsource(handler):
                continue
            path = rule.rule.replace("<uuid:", "{").replace("<int:", "{").replace("<", "{").replace(">", "}")
            declared = header_names(spec, spec["paths"][path][method.lower()])
            assert declared.get("If-Match", {}).get("required") is True, (method, path)
            conditional.append((method, path))
    assert ("PATCH", "/api/v1/territories/{territory_id}") in conditional
    assert ("PATCH", "/api/v1/projects/{project_id}") in conditional


def test_query_arguments_stay_beside_declared_headers(client) -> None:  # type: ignore[no-untyped-def]
    spec = client.get(f"{API}/openapi.json").get_json()
    listing = spec["paths"][f"{API}/territories"]["get"]
    names = {p["name"] for p in declared_parameters(spec, listing)}
    assert {"q", "page", "perPage", "X-Act-For"} <= names
