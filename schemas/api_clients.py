"""VC-API clients of an issuer: registration (the secret shown once) and the list."""

from __future__ import annotations

from marshmallow import fields, validate

from schemas.base import CamelSchema, required_text

SCOPES = ("issue", "verify")


class ApiClientCreateSchema(CamelSchema):
    name = required_text(200, metadata={"description": "What the program is, for the issuer's administrators"})
    scopes = fields.List(
        fields.String(validate=validate.OneOf(SCOPES)),
        required=True,
        validate=validate.Length(min=1, max=2),
        metadata={"description": "issue (sign credentials as the issuer) and/or verify"},
    )


class ApiClientSchema(CamelSchema):
    id = fields.UUID()
    client_id = fields.String(metadata={"description": "The client_id to send to POST /oauth/token"})
    name = fields.String()
    scopes = fields.List(fields.String())
    issuer_id = fields.UUID()
    created_at = fields.DateTime()
    revoked_at = fields.DateTime(allow_none=True)


class ApiClientCreatedSchema(ApiClientSchema):
    client_secret = fields.String(metadata={"description": "Shown this once only: Blason keeps nothing but its hash"})
