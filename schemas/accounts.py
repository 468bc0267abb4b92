"""Accounts, tokens, memberships and facilitations."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from marshmallow import ValidationError, fields, pre_dump, validate, validates_schema

from schemas.base import CamelSchema, PageArgs, required_text, text
from schemas.vocab import ProfileTypes, Roles, ScopeTypes


class LoginSchema(CamelSchema):
    email = fields.Email(required=True, validate=validate.Length(max=320))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024), load_only=True)


class RefreshSchema(CamelSchema):
    refresh_token = fields.String(required=True, validate=validate.Length(min=10, max=200))


class TokenPairSchema(CamelSchema):
    access_token = fields.String()
    refresh_token = fields.String()
    token_type = fields.Constant("Bearer")
    expires_in = fields.Integer()
    person_id = fields.UUID()


class PersonCreateSchema(CamelSchema):
    display_name = required_text(200)
    email = fields.Email(validate=validate.Length(max=320), allow_none=True)
    password = fields.String(validate=validate.Length(min=12, max=1024), load_only=True)
    profile_type = fields.String(validate=validate.OneOf(ProfileTypes), load_default="autre")
    is_assisted = fields.Boolean(load_default=False)
    locale = fields.String(validate=validate.OneOf(["fr", "en"]), load_default="fr")
    # Put the new person straight into a project (as learner or tutor).
    project_id = fields.UUID()
    project_role = fields.String(validate=validate.OneOf(["learner", "tutor"]), load_default="learner")

    @validates_schema
    def _assisted_or_email(self, data: dict, **_kwargs: object) -> None:
        if not data.get("is_assisted") and not data.get("email"):
            raise ValidationError("An e-mail is required unless the account is assisted.", "email")
        if data.get("password") and not data.get("email"):
            raise ValidationError("A password needs an e-mail to log in with.", "password")
        if data.get("password") and data.get("is_assisted"):
            # Its facilitators act for an assisted account; one that logs in acts for itself.
            raise ValidationError("An assisted account has no password of its own.", "password")


class PersonUpdateSchema(CamelSchema):
    display_name = text(200, min_len=1)
    locale = fields.String(validate=validate.OneOf(["fr", "en"]))
    show_name_publicly = fields.Boolean()
    did = text(500, allow_none=True)


class PersonSchema(CamelSchema):
    id = fields.UUID(dump_only=True)
    display_name = fields.String()
    email = fields.String(allow_none=True)
    profile_type = fields.Function(lambda p: p.profile_type.value)
    is_assisted = fields.Boolean()
    locale = fields.String()
    show_name_publicly = fields.Boolean()
    did = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()


class MeSchema(PersonSchema):
    memberships = fields.List(fields.Nested(lambda: MembershipSchema()))
    acting_for = fields.UUID(allow_none=True)

    @pre_dump
    def _flatten(self, me: Any, **_kwargs: object) -> Any:
        # One flat object: the person's own fields beside their roles.
        person = {name: getattr(me.person, name) for name in PersonSchema._declared_fields}
        return SimpleNamespace(**person, memberships=me.memberships, acting_for=me.acting_for)


class MembershipCreateSchema(CamelSchema):
    person_id = fields.UUID(required=True)
    role = fields.String(required=True, validate=validate.OneOf(Roles))
    scope_type = fields.String(required=True, validate=validate.OneOf(ScopeTypes))
    scope_id = fields.UUID(allow_none=True, load_default=None)


class MembershipSchema(CamelSchema):
    id = fields.UUID()
    person_id = fields.UUID()
    role = fields.Function(lambda m: m.role.value)
    scope_type = fields.Function(lambda m: m.scope_type.value)
    scope_id = fields.UUID(allow_none=True)
    created_at = fields.AwareDateTime()


class MembershipQuerySchema(PageArgs):
    person_id = fields.UUID()
    scope_type = fields.String(validate=validate.OneOf(ScopeTypes))
    scope_id = fields.UUID()


class FacilitationCreateSchema(CamelSchema):
    facilitator_id = fields.UUID(required=True)
    learner_id = fields.UUID(required=True)


class FacilitationSchema(CamelSchema):
    id = fields.UUID()
    facilitator_id = fields.UUID()
    learner_id = fields.UUID()
    created_at = fields.AwareDateTime()
