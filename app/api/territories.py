"""Territories and their projects."""

from __future__ import annotations

import uuid

from flask.views import MethodView

from app.api import Blueprint
from app.api.caller import ETAG_HEADER, IF_MATCH_PARAMETER, current_grants, expected_version, with_etag
from app.db import db
from app.services.recognition import scales
from app.services.territories import territories
from schemas.base import page_of
from schemas.claims import ReviewRulesSchema, ReviewRulesUpdateSchema
from schemas.territories import (
    ProjectCreateSchema,
    ProjectQuerySchema,
    ProjectSchema,
    ProjectUpdateSchema,
    TerritoryCreateSchema,
    TerritoryQuerySchema,
    TerritorySchema,
    TerritoryUpdateSchema,
)

blp = Blueprint("territories", __name__, description="Learning territories and their projects")


@blp.route("/territories")
class Territories(MethodView):
    @blp.arguments(TerritoryQuerySchema, location="query")
    @blp.response(200, page_of(TerritorySchema))
    def get(self, args):
        """Territories the caller belongs to (all for platform admins)."""
        return territories.list_territories(db.session, current_grants(), **args)

    @blp.arguments(TerritoryCreateSchema)
    @blp.response(201, TerritorySchema)
    def post(self, data):
        """Create a territory (platform admins)."""
        territory = territories.create_territory(db.session, current_grants(), data)
        db.session.commit()
        return territory, with_etag(territory)


@blp.route("/territories/<uuid:territory_id>")
class TerritoryView(MethodView):
    @blp.response(200, TerritorySchema, headers=ETAG_HEADER)
    def get(self, territory_id: uuid.UUID):
        """One territory; its ETag is the version to send back in If-Match."""
        territory = territories.get_territory(db.session, current_grants(), territory_id)
        return territory, with_etag(territory)

    @blp.arguments(TerritoryUpdateSchema)
    @blp.doc(parameters=[IF_MATCH_PARAMETER])
    @blp.response(200, TerritorySchema, headers=ETAG_HEADER)
    def patch(self, data, territory_id: uuid.UUID):
        """Change a territory (its coordinators)."""
        territory = territories.update_territory(
            db.session, current_grants(), territory_id, data, expected_version=expected_version()
        )
        db.session.commit()
        return territory, with_etag(territory)


@blp.route("/projects")
class Projects(MethodView):
    @blp.arguments(ProjectQuerySchema, location="query")
    @blp.response(200, page_of(ProjectSchema))
    def get(self, args):
        """Projects the caller may see, filtered by territory, status, social function or title."""
        return territories.list_projects(db.session, current_grants(), **args)

    @blp.arguments(ProjectCreateSchema)
    @blp.response(201, ProjectSchema)
    def post(self, data):
        """Create a project in a territory one coordinates."""
        project = territories.create_project(db.session, current_grants(), data)
        db.session.commit()
        return project, with_etag(project)


@blp.route("/projects/<uuid:project_id>")
class ProjectView(MethodView):
    @blp.response(200, ProjectSchema, headers=ETAG_HEADER)
    def get(self, project_id: uuid.UUID):
        """One project."""
        project = territories.get_project(db.session, current_grants(), project_id)
        return project, with_etag(project)

    @blp.arguments(ProjectUpdateSchema)
    @blp.doc(parameters=[IF_MATCH_PARAMETER])
    @blp.response(200, ProjectSchema, headers=ETAG_HEADER)
    def patch(self, data, project_id: uuid.UUID):
        """Change a project (the territory's coordinators)."""
        project = territories.update_project(
            db.session, current_grants(), project_id, data, expected_version=expected_version()
        )
        db.session.commit()
        return project, with_etag(project)


@blp.route("/territories/<uuid:territory_id>/review-rules")
class TerritoryRules(MethodView):
    @blp.response(200, ReviewRulesSchema)
    def get(self, territory_id: uuid.UUID):
        """The territory's rating scale and second-review rule."""
        return scales.get_territory_rules(db.session, current_grants(), territory_id)

    @blp.arguments(ReviewRulesUpdateSchema)
    @blp.response(200, ReviewRulesSchema)
    def put(self, data, territory_id: uuid.UUID):
        """Set the territory's own scale and second-review rule (its coordinators)."""
        rules = scales.set_territory_rules(db.session, current_grants(), territory_id, data)
        db.session.commit()
        return rules
