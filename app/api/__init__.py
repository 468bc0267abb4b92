"""The JSON API under /api/v1, described by OpenAPI generated from the marshmallow schemas."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import flask_smorest
from flask import Flask, Request, send_from_directory
from flask_smorest import Api
from webargs.flaskparser import FlaskParser

from schemas.base import ProblemSchema

API_PREFIX = "/api/v1"


class _Parser(FlaskParser):
    def _raw_load_json(self, req: Request) -> Any:
        try:
            return super()._raw_load_json(req)
        except RecursionError:  # "[[[[…" nested past the interpreter's limit: still just bad JSON
            raise json.JSONDecodeError("JSON nested too deeply", "[", 0) from None


class Blueprint(flask_smorest.Blueprint):
    """The blueprint every API module uses, so every body goes through the same parser."""

    ARGUMENTS_PARSER = _Parser()


class BlasonApi(Api):
    """Documents every error response as RFC 9457 problem+json."""

    ERROR_SCHEMA = ProblemSchema


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
            "info": {"description": "Skills recognition and Open Badges for learning territories. "
                                    "Errors are RFC 9457 problem+json; lists are "
                                    "{items, total, page, perPage}; JSON is camelCase."},
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                                           "bearerFormat": "JWT"}}},
            "security": [{"bearer": []}],
        },
    )
    api = BlasonApi(app)
    from app.api import accounts, claims, contributions, dossiers, frameworks, issuing, territories, verify

    blueprints = [accounts.blp, territories.blp, contributions.blp, claims.blp, frameworks.blp,
                  *issuing.BLUEPRINTS, dossiers.blp, verify.blp]
    for blueprint in blueprints:
        api.register_blueprint(blueprint, url_prefix=API_PREFIX)

    assets = _swagger_assets()

    @app.get(f"{API_PREFIX}/docs/assets/<path:filename>")
    def swagger_assets(filename: str):  # type: ignore[no-untyped-def]
        return send_from_directory(assets, filename, max_age=86400)

    return api
