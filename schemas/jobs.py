"""Background jobs: a job resource (state, progress, result or error) and the forms that start one."""

from __future__ import annotations

from marshmallow import fields, validate

from schemas.base import CamelSchema
from schemas.frameworks import ImportFormSchema

JOB_STATES = ("queued", "running", "succeeded", "failed")


class JobProgressSchema(CamelSchema):
    done = fields.Integer(metadata={"description": "Units done (records, badges issued…)."})
    total = fields.Integer(allow_none=True, metadata={"description": "Units in all, when known."})
    step_key = fields.String(allow_none=True, metadata={"description": "Catalogue key of the current step."})
    step_values = fields.Dict(metadata={"description": "Values of the step's words."})
    step_fr = fields.String(allow_none=True, metadata={"description": "The current step in French."})
    step_en = fields.String(allow_none=True, metadata={"description": "The current step in English."})


class JobErrorItemSchema(CamelSchema):
    pointer = fields.String()
    detail = fields.String()


class JobErrorSchema(CamelSchema):
    key = fields.String(metadata={"description": "Catalogue key, e.g. job_error_interrupted."})
    values = fields.Dict()
    detail = fields.String(allow_none=True, metadata={"description": "The service's own words (English)."})
    errors = fields.List(fields.Nested(JobErrorItemSchema))
    fr = fields.String(allow_none=True)
    en = fields.String(allow_none=True)


class JobSchema(CamelSchema):
    id = fields.UUID()
    kind = fields.String(metadata={"description": "framework_import, bulk_award or dossier_generation"})
    kind_fr = fields.String(allow_none=True)
    kind_en = fields.String(allow_none=True)
    state = fields.String(validate=validate.OneOf(JOB_STATES))
    started_by = fields.UUID(allow_none=True)
    acting_for = fields.UUID(allow_none=True)
    progress = fields.Nested(JobProgressSchema)
    result = fields.Dict(allow_none=True, metadata={"description": "What the work returned (succeeded)."})
    error = fields.Nested(JobErrorSchema, allow_none=True)
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
    heartbeat_at = fields.DateTime(allow_none=True)


class JobQuerySchema(CamelSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class FrameworkImportJobFormSchema(ImportFormSchema):
    """The form of POST /frameworks/imports."""


class BulkAwardJobFormSchema(CamelSchema):
    issuer_id = fields.UUID(required=True)
    mode = fields.String(
        load_default="all_or_nothing", validate=validate.OneOf(("dry_run", "all_or_nothing", "skip_invalid"))
    )
    achievement_id = fields.UUID()


class DossierJobSchema(CamelSchema):
    dossier_id = fields.UUID(required=True)
