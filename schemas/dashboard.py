"""The dashboard's figures: a territory's or the platform's (GET …/dashboard)."""

from __future__ import annotations

from marshmallow import fields, validate

from schemas.base import CamelSchema

TABLES = ("by_function", "by_project", "by_territory", "by_month", "frameworks", "blocs", "waiting")


class DashboardQuerySchema(CamelSchema):
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]))
    # With format=csv: the one table to download (by_project for a territory, by_territory for the platform).
    table = fields.String(load_default=None, validate=validate.OneOf(TABLES))


class TotalsSchema(CamelSchema):
    contributions = fields.Integer()
    hours = fields.Float()
    validated = fields.Integer()
    waiting = fields.Integer()
    badges = fields.Integer()


class RowSchema(CamelSchema):
    key = fields.String(metadata={"description": "The social function's code, or the project's or territory's id"})
    label = fields.String()
    contributions = fields.Integer()
    hours = fields.Float()
    validated = fields.Integer()


class MonthSchema(CamelSchema):
    month = fields.String(metadata={"description": "YYYY-MM (UTC)"})
    contributions = fields.Integer()
    hours = fields.Float()
    validated = fields.Integer()
    badges = fields.Integer()


class RankedSchema(CamelSchema):
    id = fields.UUID()
    code = fields.String(allow_none=True, metadata={"description": "A bloc's code; a framework's version label"})
    label = fields.String()
    framework = fields.String()
    validated = fields.Integer()


class WaitingSchema(CamelSchema):
    bucket = fields.String(metadata={"description": "under_7_days, 7_to_30_days or over_30_days"})
    claims = fields.Integer()


class DashboardSchema(CamelSchema):
    territory_id = fields.UUID(allow_none=True)
    territory_name = fields.String(allow_none=True)
    computed_at = fields.AwareDateTime()
    totals = fields.Nested(TotalsSchema)
    by_function = fields.List(fields.Nested(RowSchema))
    by_project = fields.List(fields.Nested(RowSchema))
    by_territory = fields.List(fields.Nested(RowSchema))
    by_month = fields.List(fields.Nested(MonthSchema))
    frameworks = fields.List(fields.Nested(RankedSchema))
    blocs = fields.List(fields.Nested(RankedSchema))
    waiting = fields.List(fields.Nested(WaitingSchema))
