"""Territories and projects."""

from __future__ import annotations

from marshmallow import fields, validate

from schemas.base import CamelSchema, PageArgs, PeriodMixin, required_text, text
from schemas.vocab import ExperimentationLevels, ProjectStatuses, SocialFunctions


def _enum_value(attr: str):  # type: ignore[no-untyped-def]
    return fields.Function(lambda obj: getattr(getattr(obj, attr), "value", None))


class TerritoryCreateSchema(CamelSchema):
    name = required_text(200)
    description = text(10000, load_default="")
    experimentation_level = fields.String(validate=validate.OneOf(ExperimentationLevels), allow_none=True)
    siren = fields.String(validate=validate.Regexp(r"^\d{9}$", error="SIREN is 9 digits."), allow_none=True)
    insee_code = fields.String(
        validate=validate.Regexp(r"^(\d{5}|2[AB]\d{3})$", error="INSEE code is 5 characters."), allow_none=True
    )


class TerritoryUpdateSchema(TerritoryCreateSchema):
    name = text(200, min_len=1)
    description = text(10000)


class TerritorySchema(CamelSchema):
    id = fields.UUID()
    name = fields.String()
    description = fields.String()
    experimentation_level = _enum_value("experimentation_level")
    siren = fields.String(allow_none=True)
    insee_code = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    version = fields.Integer()


class TerritoryQuerySchema(PageArgs):
    q = text(200)


class ProjectCreateSchema(PeriodMixin, CamelSchema):
    territory_id = fields.UUID(required=True)
    title = required_text(200)
    description = text(10000, load_default="")
    start_date = fields.Date(allow_none=True)
    end_date = fields.Date(allow_none=True)
    status = fields.String(validate=validate.OneOf(ProjectStatuses), load_default="active")
    social_functions = fields.List(
        fields.String(validate=validate.OneOf(SocialFunctions)), required=True, validate=validate.Length(min=1, max=6)
    )


class ProjectUpdateSchema(PeriodMixin, CamelSchema):
    title = text(200, min_len=1)
    description = text(10000)
    start_date = fields.Date(allow_none=True)
    end_date = fields.Date(allow_none=True)
    status = fields.String(validate=validate.OneOf(ProjectStatuses))
    social_functions = fields.List(
        fields.String(validate=validate.OneOf(SocialFunctions)), validate=validate.Length(min=1, max=6)
    )


class ProjectSchema(CamelSchema):
    id = fields.UUID()
    territory_id = fields.UUID()
    title = fields.String()
    description = fields.String()
    start_date = fields.Date(allow_none=True)
    end_date = fields.Date(allow_none=True)
    status = _enum_value("status")
    social_functions = fields.List(fields.String())
    created_at = fields.AwareDateTime()
    version = fields.Integer()


class ProjectQuerySchema(PageArgs):
    territory_id = fields.UUID()
    status = fields.String(validate=validate.OneOf(ProjectStatuses))
    social_function = fields.String(validate=validate.OneOf(SocialFunctions))
    q = text(200)
