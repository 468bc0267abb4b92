"""The JSON API under /api/v1, described by OpenAPI generated from the marshmallow schemas."""

from __future__ import annotations

import http
import json
from pathlib import Path
from typing import Any, TypeVar

import flask_smorest
from flask import Flask, Request, request, send_from_directory
from flask.json.provider import DefaultJSONProvider
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from webargs.flaskparser import FlaskParser
from werkzeug.routing import Map, Rule

from app.api.caller import ACT_FOR_PARAMETER, HEADER_PARAMETERS
from app.problems import MEDIA_TYPE as PROBLEM_MEDIA_TYPE
from app.routing import current_view
from app.services.identity import access
from schemas import vc_api as vc_api_schemas
from schemas.base import ProblemSchema

API_PREFIX = "/api/v1"


# Open Badges documents nest about ten levels, and verification names a credential deeper than its
# own limit (422); a body past this one is refused (400) before anything can recurse on it.
MAX_JSON_DEPTH = 256
_BODY = "(request body)"  # webargs reads an empty document as "no body": ours is never empty


def parse_json(raw: str | bytes) -> Any:
    """Parse a request body: bad UTF-8, bad JSON and JSON nested too deeply are all JSONDecodeError."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise json.JSONDecodeError(f"Not UTF-8: {exc.reason}", _BODY, 0) from None
    try:
        value = json.loads(raw)
    except RecursionError:  # "[[[[…" nested past the interpreter's limit: still just bad JSON
        raise json.JSONDecodeError("JSON nested too deeply", _BODY, 0) from None
    # Measured without recursion; a document that parsed can still be too deep to validate or store.
    level: list[Any] = [value]
    for _depth in range(MAX_JSON_DEPTH + 1):
        level = [
            child
            for node in level
            if isinstance(node, (dict, list))
            for child in (node.values() if isinstance(node, dict) else node)
        ]
        if not level:
            return value
    raise json.JSONDecodeError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels", _BODY, 0)


class _Parser(FlaskParser):
    def _raw_load_json(self, req: Request) -> Any:
        if not req.is_json:
            return super()._raw_load_json(req)  # webargs' "missing"
        return parse_json(req.get_data(cache=True))


class _JSONProvider(DefaultJSONProvider):
    """Flask's request.get_json() parses with the same function (only bodies use loads)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return parse_json(s)


F = TypeVar("F")


def _document_headers(doc: dict[str, Any], doc_info: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
    """Add the parameters of ``@blp.doc`` to the generated ones, and X-Act-For where a login is needed."""
    manual = doc_info.get("manual_doc", {})
    # flask-smorest lets a manual parameter list replace the generated one (query arguments): merge.
    parameters = [*doc.get("parameters", []), *manual.pop("parameters", [])]
    if manual.get("security") != []:
        parameters.append(ACT_FOR_PARAMETER)
    if parameters:
        doc["parameters"] = parameters
    return doc


class Blueprint(flask_smorest.Blueprint):
    """The blueprint every API module uses, so every body goes through the same parser.

    Every operation needs a login (401 without a token) unless marked ``@blp.public``.
    """

    ARGUMENTS_PARSER = _Parser()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._prepare_doc_cbks.append(_document_headers)

    def public(self, view: F) -> F:
        """An operation anyone may call without a token: let through the login door, documented so."""
        view.blason_public = True  # type: ignore[attr-defined]
        return self.doc(security=[])(view)  # type: ignore[no-any-return]


def _login_door(blueprints: frozenset[str]) -> Any:
    def require_login() -> None:
        """401 before anything else for an anonymous call to an operation that is not public."""
        if request.blueprint not in blueprints or getattr(current_view(), "blason_public", False):
            return
        from app.api.caller import current_grants

        access.require_login(current_grants())

    return require_login


class BlasonApi(Api):
    """Documents every error response as RFC 9457 problem+json."""

    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self) -> None:
        # Errors are sent as application/problem+json (app.problems): say so, not application/json.
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_MEDIA_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_MEDIA_TYPE)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, response, lazy=True)


def _swagger_assets() -> Path:
    import swagger_ui_bundle

    return Path(swagger_ui_bundle.swagger_ui_path)


def init_api(app: Flask) -> Api:
    app.config.update(
        API_TITLE="Blason API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=API_PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="/docs",
        # Served from the installed swagger-ui-bundle package: the page works offline.
        OPENAPI_SWAGGER_UI_URL=f"{API_PREFIX}/docs/assets/",
        API_SPEC_OPTIONS={
            "info": {
                "description": "Skills recognition and Open Badges for learning territories. "
                "Errors are RFC 9457 problem+json; lists are "
                "{items, total, page, perPage}; JSON is camelCase."
            },
            "components": {
                "securitySchemes": {
                    "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                    **vc_api_schemas.SECURITY_SCHEMES,
                },
                "parameters": HEADER_PARAMETERS,
            },
            "security": [{"bearer": []}],
        },
    )
    provider = _JSONProvider(app)
    vars(provider).update(vars(app.json))  # keep create_app's dump settings (sort_keys, ensure_ascii)
    app.json = provider
    api = BlasonApi(app)
    from app.api import (
        contributions,
        dashboard,
        dossiers,
        frameworks,
        identity,
        issuing,
        jobs as jobs_api,
        recognition,
        territories,
        verification,
    )

    blueprints = [
        identity.blp,
        territories.blp,
        dashboard.blp,
        contributions.blp,
        recognition.blp,
        frameworks.blp,
        issuing.blp,
        dossiers.blp,
        jobs_api.blp,
        verification.blp,
    ]
    for blueprint in blueprints:
        api.register_blueprint(blueprint, url_prefix=API_PREFIX)
    app.before_request(_login_door(frozenset(b.name for b in blueprints)))
    # The W3C VC-API and its token endpoint (app.web.vc_api) live outside /api/v1: described here.
    for path, operations in vc_api_schemas.PATHS.items():
        rule = Rule(path, endpoint=path)
        Map([rule])  # bound, as flask-smorest's spec plugin reads a path from its rule
        api.spec.path(rule=rule, operations=operations)

    assets = _swagger_assets()

    @app.get(f"{API_PREFIX}/docs/assets/<path:filename>")
    def swagger_assets(filename: str):  # type: ignore[no-untyped-def]
        return send_from_directory(assets, filename, max_age=86400)

    return api
