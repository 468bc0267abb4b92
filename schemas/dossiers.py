"""Jury dossiers, their verification report, the cohort table and the learner record."""

from __future__ import annotations

from marshmallow import fields, validate

from schemas.base import CamelSchema, PageArgs


class DossierRequestSchema(CamelSchema):
    certification_id = fields.UUID(required=True, metadata={"description": "An imported RNCP fiche version."})
    learner_id = fields.UUID(load_default=None, metadata={"description": "Omitted: oneself (consent given)."})
    bloc_ids = fields.List(
        fields.UUID(),
        load_default=None,
        validate=validate.Length(max=100),
        metadata={"description": "Omitted or empty: every bloc (total validation)."},
    )


class DossierQuerySchema(PageArgs):
    certification_id = fields.UUID()
    learner_id = fields.UUID()


class DossierGapSchema(CamelSchema):
    annex = fields.String()
    evidence_id = fields.String()
    title = fields.String()
    path = fields.String(allow_none=True)
    sha256 = fields.String(allow_none=True)
    reason = fields.String()


class DossierSchema(CamelSchema):
    id = fields.UUID()
    learner_id = fields.UUID()
    requested_by_id = fields.UUID()
    certification_id = fields.UUID()
    bloc_ids = fields.List(fields.String())
    status = fields.Function(lambda d: d.status.value)
    consented_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    generated_at = fields.DateTime(allow_none=True)
    size = fields.Integer(attribute="archive_size", allow_none=True)
    manifest_sha256 = fields.String(allow_none=True)
    gaps = fields.List(fields.Nested(DossierGapSchema))


class DossierLinkSchema(CamelSchema):
    url = fields.String()
    expires_at = fields.DateTime()


class DossierGeneratedSchema(CamelSchema):
    dossier = fields.Nested(DossierSchema)
    size = fields.Integer()
    annexes = fields.Integer()
    gaps = fields.List(fields.Nested(DossierGapSchema))
    warning = fields.String(allow_none=True)
    download = fields.Nested(DossierLinkSchema)


class DossierVerificationSchema(CamelSchema):
    valid = fields.Boolean()
    readable = fields.Boolean()
    manifest_found = fields.Boolean()
    signature_valid = fields.Boolean()
    dossier_id = fields.String(allow_none=True)
    generated_at = fields.String(allow_none=True)
    checked = fields.Integer()
    missing = fields.List(fields.String())
    added = fields.List(fields.String())
    altered = fields.List(fields.String())
    unsafe = fields.List(fields.String())
    gaps = fields.List(fields.Dict())
    problems = fields.List(fields.String())


class CohortQuerySchema(CamelSchema):
    format = fields.String(load_default=None, validate=validate.OneOf(["json", "csv"]))


class CohortBlocSchema(CamelSchema):
    id = fields.UUID()
    code = fields.String(allow_none=True)
    label = fields.String()
    competences = fields.Integer()


class CoverageSchema(CamelSchema):
    bloc_id = fields.UUID()
    code = fields.String(allow_none=True)
    acquis = fields.Integer()
    partiellement = fields.Integer()
    non = fields.Integer()
    total = fields.Integer()


class CohortRowSchema(CamelSchema):
    learner_id = fields.UUID()
    learner_name = fields.String()
    dossier_id = fields.UUID()
    blocs = fields.List(fields.Nested(CoverageSchema))


class CohortSchema(CamelSchema):
    certification_id = fields.UUID()
    code = fields.String(allow_none=True)
    title = fields.String()
    framework_version = fields.Integer()
    blocs = fields.List(fields.Nested(CohortBlocSchema))
    items = fields.List(fields.Nested(CohortRowSchema))
