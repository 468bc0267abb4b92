"""Password reset by e-mail link: asking for a link, and choosing the new password with its token."""

from __future__ import annotations

from marshmallow import fields, validate

from schemas.base import CamelSchema


class PasswordResetRequestSchema(CamelSchema):
    email = fields.Email(required=True, validate=validate.Length(max=320))


class PasswordResetConfirmSchema(CamelSchema):
    token = fields.String(required=True, validate=validate.Length(min=1, max=200), load_only=True)
    # The rule of every password (PersonCreateSchema): 12 to 1024 characters.
    password = fields.String(required=True, validate=validate.Length(min=12, max=1024), load_only=True)
