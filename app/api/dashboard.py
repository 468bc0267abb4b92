"""Dashboards: a territory's figures (its coordinators) and the platform's (administrators), as JSON
or, with ``?format=csv&table=<name>``, one table as CSV (the tables the pages draw)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response
from flask.views import MethodView

from app.api import Blueprint
from app.api.caller import current_grants
from app.db import db
from app.runtime import runtime
from app.services.territories import dashboard
from schemas.dashboard import DashboardQuerySchema, DashboardSchema

blp = Blueprint("dashboard", __name__, description="Figures of a territory or of the platform")

CSV_DOC = {"content_type": "text/csv", "schema": {"type": "string"}, "description": "One table as CSV (;)"}


def _answer(figures: dashboard.Dashboard, args: dict[str, Any], name: str) -> Any:
    if args["format"] != "csv":
        return figures
    table = args["table"] or ""
    return Response(
        dashboard.table_csv(figures, table),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}-{table}.csv"'},
    )


@blp.route("/territories/<uuid:territory_id>/dashboard")
class TerritoryDashboard(MethodView):
    @blp.arguments(DashboardQuerySchema, location="query")
    @blp.response(200, DashboardSchema)
    @blp.alt_response(200, success=True, **CSV_DOC)
    def get(self, args, territory_id: uuid.UUID):
        """A territory's figures (its coordinators, platform admins); 404 for any other territory."""
        figures = dashboard.territory_dashboard(db.session, current_grants(), territory_id, now=runtime().clock())
        return _answer(figures, args, f"tableau-de-bord-{territory_id}")


@blp.route("/platform/dashboard")
class PlatformDashboard(MethodView):
    @blp.arguments(DashboardQuerySchema, location="query")
    @blp.response(200, DashboardSchema)
    @blp.alt_response(200, success=True, **CSV_DOC)
    def get(self, args):
        """The whole platform's figures, by territory (platform admins)."""
        figures = dashboard.platform_dashboard(db.session, current_grants(), now=runtime().clock())
        return _answer(figures, args, "tableau-de-bord-plateforme")
