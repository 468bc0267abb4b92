"""Contributions and evidence."""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from schemas.base import CamelSchema, PageArgs, PeriodMixin, decimal, required_text, text
from schemas.vocab import ContributionStatuses, Visibilities


class CoContributorSchema(CamelSchema):
    person_id = fields.UUID(allow_none=True)
    name = required_text(200)


class ContributionCreateSchema(PeriodMixin, CamelSchema):
    project_id = fields.UUID(required=True)
    title = required_text(200)
    narrative = text(20000, load_default="")
    role = text(200, load_default="")
    start_date = fields.Date(allow_none=True)
    end_date = fields.Date(allow_none=True)
    hours = decimal(2, 0, 10000, allow_none=True)
    co_contributors = fields.List(
        fields.Nested(CoContributorSchema), load_default=list, validate=validate.Length(max=50)
    )


class ContributionUpdateSchema(PeriodMixin, CamelSchema):
    title = text(200, min_len=1)
    narrative = text(20000)
    role = text(200)
    start_date = fields.Date(allow_none=True)
    end_date = fields.Date(allow_none=True)
    hours = decimal(2, 0, 10000, allow_none=True)
    co_contributors = fields.List(fields.Nested(CoContributorSchema), validate=validate.Length(max=50))


class ContributionSchema(CamelSchema):
    id = fields.UUID()
    project_id = fields.UUID()
    learner_id = fields.UUID()
    title = fields.String()
    narrative = fields.String()
    role = fields.String()
    start_date = fields.Date(allow_none=True)
    end_date = fields.Date(allow_none=True)
    hours = fields.Float(allow_none=True)
    status = fields.Function(lambda c: c.status.value)
    submitted_at = fields.AwareDateTime(allow_none=True)
    co_contributors = fields.List(fields.Nested(CoContributorSchema))
    created_by_id = fields.UUID()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    version = fields.Integer()


class ContributionQuerySchema(PageArgs):
    project_id = fields.UUID()
    learner_id = fields.UUID()
    status = fields.String(validate=validate.OneOf(ContributionStatuses))


class EvidenceCreateSchema(CamelSchema):
    """A link or a text (files are uploaded as multipart/form-data)."""

    kind = fields.String(required=True, validate=validate.OneOf(["link", "text"]))
    title = required_text(200)
    visibility = fields.String(validate=validate.OneOf(Visibilities), load_default="tutors")
    url = fields.Url(schemes={"http", "https"}, validate=validate.Length(max=2000))
    text = text(50000)

    @validates_schema
    def _content(self, data: dict, **_kwargs: object) -> None:
        if data["kind"] == "link" and not data.get("url"):
            raise ValidationError("A link needs a url.", "url")
        if data["kind"] == "text" and not data.get("text"):
            raise ValidationError("A text evidence needs its text.", "text")


class EvidenceUploadSchema(CamelSchema):
    """The form fields that come with an uploaded file."""

    title = required_text(200)
    visibility = fields.String(validate=validate.OneOf(Visibilities), load_default="tutors")


class EvidenceUpdateSchema(CamelSchema):
    title = text(200, min_len=1)
    visibility = fields.String(validate=validate.OneOf(Visibilities))


class EvidenceSchema(CamelSchema):
    id = fields.UUID()
    contribution_id = fields.UUID()
    kind = fields.Function(lambda e: e.kind.value)
    title = fields.String()
    visibility = fields.Function(lambda e: e.visibility.value)
    url = fields.String(allow_none=True)
    text = fields.String(allow_none=True)
    filename = fields.String(allow_none=True)
    media_type = fields.String(allow_none=True)
    size = fields.Integer(allow_none=True)
    sha256 = fields.String(attribute="file_sha256", allow_none=True)
    created_at = fields.AwareDateTime()
