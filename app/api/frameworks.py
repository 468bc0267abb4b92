"""Competency frameworks: browse, search, import (synchronous: the answer is the import report)."""

from __future__ import annotations

import uuid

from flask import request
from flask.views import MethodView
from flask_smorest.fields import Upload
from marshmallow import Schema

from app.api import Blueprint
from app.api.caller import current_grants
from app.db import db
from app.runtime import runtime
from app.services.frameworks import (
    imports as frameworks_import,
    publish as frameworks_publish,
    query as frameworks_query,
    sizes as frameworks_sizes,
)
from app.services.recognition import scales
from schemas.base import page_of
from schemas.claims import ReviewRulesSchema, ReviewRulesUpdateSchema
from schemas.frameworks import (
    CompetencySchema,
    FrameworkQuerySchema,
    FrameworkSchema,
    FwHitSchema,
    FwNodeSchema,
    ImportFormSchema,
    ImportReportSchema,
    SearchQuerySchema,
    TreeQuerySchema,
)

blp = Blueprint("frameworks", __name__, description="Competency frameworks (RNCP, ESCO, CASE, custom)")


class FrameworkFileSchema(Schema):
    file = Upload(required=True, metadata={"description": "The file; repeat for ESCO release files."})


def _base() -> str:
    return runtime().settings.public_base_url


@blp.route("/frameworks")
class Frameworks(MethodView):
    @blp.arguments(FrameworkQuerySchema, location="query")
    @blp.response(200, page_of(FrameworkSchema))
    def get(self, args):
        """Frameworks (current versions unless current=false), each with all its versions."""
        page = frameworks_query.list_frameworks(db.session, current_grants(), **args, base_url=_base())
        frameworks_sizes.fill_kinds(db.session, page.items)
        return page


@blp.route("/frameworks/imports")
class FrameworkImports(MethodView):
    @blp.arguments(ImportFormSchema, location="form")
    @blp.arguments(FrameworkFileSchema, location="files")
    @blp.response(201, ImportReportSchema)
    def post(self, data, files):
        """Import a framework file (platform or issuer admins); synchronous, answers the report.

        multipart/form-data: ``file`` (RNCP XML/zip, RNCP CSV zip, ESCO CSV/zip, CASE JSON,
        custom CSV/JSON; several ``file`` parts for the ESCO files of one release), optional
        ``format``, ``language``/``version`` (ESCO), ``title`` (custom). Bad files answer 422
        naming the problem (with line and column) and import nothing.
        """
        uploads = [(f.stream, f.filename or "upload") for f in request.files.getlist("file")]
        report = frameworks_import.import_uploads(
            db.session,
            current_grants(),
            uploads,
            format=data.pop("format", None),
            options=data,
            max_bytes=runtime().settings.max_upload_bytes,
            clock=runtime().clock,
        )
        db.session.commit()
        return report


@blp.route("/frameworks/<uuid:framework_id>")
class FrameworkView(MethodView):
    @blp.response(200, FrameworkSchema)
    def get(self, framework_id: uuid.UUID):
        """One framework version, its versions and its size by kind."""
        return frameworks_query.get_framework(db.session, current_grants(), framework_id, base_url=_base())


@blp.route("/frameworks/<uuid:framework_id>/tree")
class FrameworkTree(MethodView):
    @blp.arguments(TreeQuerySchema, location="query")
    @blp.response(200, page_of(FwNodeSchema))
    def get(self, args, framework_id: uuid.UUID):
        """A page of the roots (or of parentId's children), ``depth`` levels deep, with child counts."""
        return frameworks_query.framework_tree(db.session, current_grants(), framework_id, **args, base_url=_base())


@blp.route("/frameworks/<uuid:framework_id>/case")
class FrameworkCase(MethodView):
    @blp.response(200)
    def get(self, framework_id: uuid.UUID):
        """The framework version as a CASE 1.0 CFPackage (also public at /frameworks/{id}/case)."""
        frameworks_query.get_framework(db.session, current_grants(), framework_id)
        return frameworks_publish.export_cfpackage(db.session, framework_id, _base())


@blp.route("/competencies/search")
class CompetencySearch(MethodView):
    @blp.arguments(SearchQuerySchema, location="query")
    @blp.response(200, page_of(FwHitSchema))
    def get(self, args):
        """Search competencies across frameworks: every word must match, accents and case ignored."""
        return frameworks_query.search_competencies(db.session, current_grants(), **args, base_url=_base())


@blp.route("/competencies/<uuid:competency_id>")
class CompetencyView(MethodView):
    @blp.response(200, CompetencySchema)
    def get(self, competency_id: uuid.UUID):
        """One competency: ancestors, children, source text, confidence, relations, OB 3.0 alignments."""
        return frameworks_publish.competency_view(db.session, current_grants(), competency_id, base_url=_base())


@blp.route("/frameworks/<uuid:framework_id>/review-rules")
class FrameworkRules(MethodView):
    @blp.arguments(ReviewRulesUpdateSchema)
    @blp.response(200, ReviewRulesSchema)
    def put(self, data, framework_id: uuid.UUID):
        """Set a framework's own scale and second-review rule (platform administrators)."""
        rules = scales.set_framework_rules(db.session, current_grants(), framework_id, data)
        db.session.commit()
        return rules
