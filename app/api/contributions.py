"""Contributions and their evidence."""

from __future__ import annotations

import uuid

from flask import Response
from flask.views import MethodView
from flask_smorest.fields import Upload
from marshmallow import Schema

from app.api import Blueprint
from app.api.caller import ETAG_HEADER, IF_MATCH_PARAMETER, current_grants, expected_version, with_etag
from app.db import db
from app.platform.storage import iter_file
from app.runtime import runtime
from app.services.contributions import contributions, evidence
from schemas.base import PageArgs, page_of
from schemas.contributions import (
    ContributionCreateSchema,
    ContributionQuerySchema,
    ContributionSchema,
    ContributionUpdateSchema,
    EvidenceCreateSchema,
    EvidenceSchema,
    EvidenceUpdateSchema,
    EvidenceUploadSchema,
)

blp = Blueprint("contributions", __name__, description="What learners did, and the evidence for it")


class FileSchema(Schema):
    file = Upload(required=True)


@blp.route("/contributions")
class Contributions(MethodView):
    @blp.arguments(ContributionQuerySchema, location="query")
    @blp.response(200, page_of(ContributionSchema))
    def get(self, args):
        """One's own contributions, and submitted ones of the projects one tutors or coordinates."""
        return contributions.list_contributions(db.session, current_grants(), **args)

    @blp.arguments(ContributionCreateSchema)
    @blp.response(201, ContributionSchema)
    def post(self, data):
        """Record a draft contribution (as the learner, or for them with X-Act-For)."""
        contribution = contributions.create_contribution(db.session, current_grants(), data)
        db.session.commit()
        return contribution, with_etag(contribution)


@blp.route("/contributions/<uuid:contribution_id>")
class ContributionView(MethodView):
    @blp.response(200, ContributionSchema)
    def get(self, contribution_id: uuid.UUID):
        """One contribution; its ETag is the version to send in If-Match when editing."""
        contribution = contributions.get_contribution(db.session, current_grants(), contribution_id)
        return contribution, with_etag(contribution)

    @blp.arguments(ContributionUpdateSchema)
    @blp.response(200, ContributionSchema)
    @blp.doc(parameters=[IF_MATCH_PARAMETER])
    def patch(self, data, contribution_id: uuid.UUID):
        """Edit a draft; If-Match is required and a stale version gets 409."""
        contribution = contributions.update_contribution(
            db.session,
            current_grants(),
            contribution_id,
            data,
            expected_version=expected_version(),
            clock=runtime().clock,
        )
        db.session.commit()
        return contribution, with_etag(contribution)

    @blp.response(204)
    def delete(self, contribution_id: uuid.UUID):
        """Delete a draft that has no evidence."""
        contributions.delete_contribution(db.session, current_grants(), contribution_id)
        db.session.commit()


@blp.route("/contributions/<uuid:contribution_id>/submit")
class Submit(MethodView):
    @blp.response(200, ContributionSchema)
    def post(self, contribution_id: uuid.UUID):
        """Submit a draft to the project's tutors."""
        contribution = contributions.submit_contribution(
            db.session, current_grants(), contribution_id, clock=runtime().clock
        )
        db.session.commit()
        return contribution, with_etag(contribution)


@blp.route("/contributions/<uuid:contribution_id>/evidence")
class EvidenceList(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_of(EvidenceSchema))
    def get(self, args, contribution_id: uuid.UUID):
        """The evidence of a contribution the caller may read, oldest first."""
        return evidence.list_evidence(db.session, current_grants(), contribution_id, **args)

    @blp.arguments(EvidenceCreateSchema)
    @blp.response(201, EvidenceSchema)
    def post(self, data, contribution_id: uuid.UUID):
        """Attach a link or a text."""
        item = evidence.add_evidence(db.session, current_grants(), contribution_id, data)
        db.session.commit()
        return item


@blp.route("/contributions/<uuid:contribution_id>/evidence/files")
class EvidenceUpload(MethodView):
    @blp.arguments(EvidenceUploadSchema, location="form")
    @blp.arguments(FileSchema, location="files")
    @blp.response(201, EvidenceSchema)
    def post(self, data, files, contribution_id: uuid.UUID):
        """Upload a file (multipart/form-data: file, title, visibility); type checked from its bytes."""
        upload = files["file"]
        item = evidence.upload_evidence(
            db.session,
            current_grants(),
            contribution_id,
            upload.stream,
            upload.filename,
            data,
            storage=runtime().storage,
            max_bytes=runtime().settings.max_upload_bytes,
        )
        db.session.commit()
        return item


@blp.route("/evidence/<uuid:evidence_id>")
class EvidenceView(MethodView):
    @blp.response(200, EvidenceSchema, headers=ETAG_HEADER)
    def get(self, evidence_id: uuid.UUID):
        """One evidence item, if its visibility allows the caller; its ETag goes back in If-Match."""
        item = evidence.get_evidence(db.session, current_grants(), evidence_id)
        return item, with_etag(item)

    @blp.arguments(EvidenceUpdateSchema)
    @blp.response(200, EvidenceSchema, headers=ETAG_HEADER)
    @blp.doc(parameters=[IF_MATCH_PARAMETER])
    def patch(self, data, evidence_id: uuid.UUID):
        """Change an evidence item's title or visibility (If-Match required)."""
        item = evidence.update_evidence(
            db.session, current_grants(), evidence_id, data, expected_version=expected_version()
        )
        db.session.commit()
        return item, with_etag(item)


@blp.route("/evidence/<uuid:evidence_id>/file")
class EvidenceFile(MethodView):
    @blp.response(200, {"format": "binary", "type": "string"}, content_type="application/octet-stream")
    def get(self, evidence_id: uuid.UUID):
        """Download a file evidence (only for those its visibility allows)."""
        item, handle = evidence.open_evidence_file(db.session, current_grants(), evidence_id, storage=runtime().storage)
        return Response(
            iter_file(handle),
            mimetype=item.media_type,
            headers={
                "Content-Disposition": "attachment",
                "X-Content-Type-Options": "nosniff",
                "Cache-Control": "private, no-store",
                "Content-Length": str(item.size),
            },
        )
