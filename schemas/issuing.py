"""Issuers, keys, achievements, awards, bulk awards, revocation and the learner's badges."""

from __future__ import annotations

from marshmallow import fields, validate

from schemas.base import CamelSchema, PageArgs, required_text, text

KEY_PURPOSES = ("data_integrity", "vc_jwt", "ob2")
CREDENTIAL_STATES = ("proposed", "issued", "revoked", "suspended", "declined")


class HttpUrl(fields.Url):
    """An absolute http(s) URL of at most 2,000 characters."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(schemes={"http", "https"}, require_tld=False, validate=validate.Length(max=2000), **kwargs)  # type: ignore[arg-type]


# Issuers and keys ----------------------------------------------------------------------------


class IssuerCreateSchema(CamelSchema):
    name = required_text(200)
    url = HttpUrl(required=True)
    email = fields.Email(allow_none=True, validate=validate.Length(max=320))
    description = text(5000)
    territory_id = fields.UUID(allow_none=True)


ISSUER_IDENTIFIERS = ("https", "did:web")
IDENTIFIER_HELP = (
    "The issuer id new Open Badges 3.0 credentials carry: 'https' (the issuer's URL, the default) or "
    "'did:web' (the did:web derived from it, resolved at /issuers/{id}/did.json). Credentials issued "
    "before keep theirs; Open Badges 2.0 documents always use https."
)


class IssuerUpdateSchema(CamelSchema):
    name = text(200, min_len=1)
    url = HttpUrl()
    email = fields.Email(allow_none=True, validate=validate.Length(max=320))
    description = text(5000)
    identifier = fields.String(validate=validate.OneOf(ISSUER_IDENTIFIERS), metadata={"description": IDENTIFIER_HELP})


class IssuerSchema(CamelSchema):
    id = fields.UUID()
    name = fields.String()
    url = fields.String()
    email = fields.String(allow_none=True)
    description = fields.String()
    territory_id = fields.UUID(allow_none=True)
    image_sha256 = fields.String(allow_none=True)
    created_at = fields.DateTime()
    identifier = fields.Function(
        lambda i: i.identifier.value, metadata={"description": IDENTIFIER_HELP, "enum": list(ISSUER_IDENTIFIERS)}
    )


class IssuerQuerySchema(PageArgs):
    mine = fields.Boolean(load_default=False)


class KeySchema(CamelSchema):
    id = fields.UUID()
    kid = fields.String()
    purpose = fields.Function(lambda k: k.purpose.value)
    algorithm = fields.String()
    status = fields.Function(lambda k: k.status.value)
    public_jwk = fields.Dict()
    public_key_multibase = fields.String(allow_none=True)
    created_at = fields.DateTime()
    retired_at = fields.DateTime(allow_none=True)
    compromised_at = fields.DateTime(allow_none=True)


class KeyRotateSchema(CamelSchema):
    purposes = fields.List(fields.String(validate=validate.OneOf(KEY_PURPOSES)), validate=validate.Length(max=3))


class KeyCompromiseSchema(CamelSchema):
    reason = required_text(2000)


# Achievements ---------------------------------------------------------------------------------


class AwardRuleSchema(CamelSchema):
    type = fields.String(required=True, validate=validate.OneOf(("all", "at_least", "manual")))
    competency_ids = fields.List(fields.UUID(), validate=validate.Length(max=200))
    k = fields.Integer(validate=validate.Range(min=1, max=200))
    min_level = text(64, allow_none=True)
    min_hours = fields.Float(allow_none=True, validate=validate.Range(min=0, max=100000))


class ResultDescriptionInSchema(CamelSchema):
    name = required_text(200)
    result_type = text(64)
    allowed_value = fields.List(text(200), validate=validate.Length(max=50))


class AchievementCreateSchema(CamelSchema):
    issuer_id = fields.UUID(required=True)
    name = required_text(200)
    description = required_text(5000)
    criteria = required_text(10000)
    achievement_type = text(64)
    tags = fields.List(text(64, min_len=1), validate=validate.Length(max=30))
    competency_ids = fields.List(fields.UUID(), validate=validate.Length(max=200))
    award_rule = fields.Nested(AwardRuleSchema)
    award_mode = fields.String(validate=validate.OneOf(("auto", "approval")))
    result_description = fields.Nested(ResultDescriptionInSchema, allow_none=True)
    valid_for_days = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=36500))


class AchievementUpdateSchema(CamelSchema):
    name = text(200, min_len=1)
    description = text(5000, min_len=1)
    criteria = text(10000, min_len=1)
    achievement_type = text(64)
    tags = fields.List(text(64, min_len=1), validate=validate.Length(max=30))
    competency_ids = fields.List(fields.UUID(), validate=validate.Length(max=200))
    award_rule = fields.Nested(AwardRuleSchema)
    award_mode = fields.String(validate=validate.OneOf(("auto", "approval")))
    result_description = fields.Nested(ResultDescriptionInSchema, allow_none=True)
    valid_for_days = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=36500))
    is_archived = fields.Boolean()


class AchievementSchema(CamelSchema):
    id = fields.UUID()
    issuer_id = fields.UUID()
    current_version = fields.Integer()
    version = fields.Integer()
    award_mode = fields.String()
    is_archived = fields.Boolean()
    name = fields.String()
    description = fields.String()
    criteria = fields.String()
    achievement_type = fields.String()
    tags = fields.List(fields.String())
    award_rule = fields.Dict()
    result_descriptions = fields.List(fields.Dict())
    valid_for_days = fields.Integer(allow_none=True)
    image_sha256 = fields.String(allow_none=True)
    first_awarded_at = fields.DateTime(allow_none=True)
    alignments = fields.List(fields.Dict())
    url = fields.String()
    image_url = fields.String()


class AchievementQuerySchema(PageArgs):
    issuer_id = fields.UUID()


# Awards and credentials -------------------------------------------------------------------------


class AwardCreateSchema(CamelSchema):
    learner_id = fields.UUID()
    email = fields.Email(validate=validate.Length(max=320))
    evidence_url = HttpUrl()
    narrative = text(5000)
    result_level = text(64)


class ReasonSchema(CamelSchema):
    reason = required_text(2000)


class OptionalReasonSchema(CamelSchema):
    reason = text(2000, allow_none=True)


class CredentialSchema(CamelSchema):
    id = fields.UUID()
    issuer_id = fields.UUID()
    achievement_version_id = fields.UUID()
    learner_id = fields.UUID()
    state = fields.Function(lambda c: c.state.value)
    origin = fields.String()
    short_code = fields.String()
    awarded_at = fields.DateTime()
    valid_from = fields.DateTime(allow_none=True)
    valid_until = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)
    suspended_at = fields.DateTime(allow_none=True)
    status_reason = fields.String(allow_none=True)
    status_index = fields.Integer(allow_none=True)
    verification_url = fields.String()
    short_url = fields.String()
    ob2_assertion_url = fields.String()


class CredentialDetailSchema(CredentialSchema):
    award_data = fields.Dict()
    ob3_credential = fields.Dict(allow_none=True)
    ob3_jwt = fields.String(allow_none=True)
    ob2_assertion = fields.Dict(allow_none=True)
    ob2_jws = fields.String(allow_none=True)


class CredentialQuerySchema(PageArgs):
    issuer_id = fields.UUID()
    achievement_id = fields.UUID()
    learner_id = fields.UUID()
    state = fields.String(validate=validate.OneOf(CREDENTIAL_STATES))


# Bulk -------------------------------------------------------------------------------------------


class BulkFormSchema(CamelSchema):
    mode = fields.String(load_default="dry_run", validate=validate.OneOf(("dry_run", "all_or_nothing", "skip_invalid")))
    achievement_id = fields.UUID()


class RowErrorSchema(CamelSchema):
    pointer = fields.String()
    detail = fields.String()


class BulkRowSchema(CamelSchema):
    line = fields.Integer()
    status = fields.String()
    errors = fields.List(fields.Nested(RowErrorSchema))
    learner_id = fields.UUID(allow_none=True)
    achievement_id = fields.UUID(allow_none=True)
    credential_id = fields.UUID(allow_none=True)


class BulkReportSchema(CamelSchema):
    mode = fields.String()
    total = fields.Integer()
    valid = fields.Integer()
    invalid = fields.Integer()
    already_awarded = fields.Integer()
    duplicates = fields.Integer()
    issued = fields.Integer()
    rows = fields.List(fields.Nested(BulkRowSchema))


# Standing events ----------------------------------------------------------------------------------


class ProcessEventsSchema(CamelSchema):
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class EventReportSchema(CamelSchema):
    events = fields.Integer()
    processed = fields.Integer()
    failed = fields.Integer()
    issued = fields.List(fields.UUID())
    proposed = fields.List(fields.UUID())


# The learner's side ---------------------------------------------------------------------------------


class BadgeSchema(CamelSchema):
    id = fields.Function(lambda b: str(b.credential.id))
    state = fields.Function(lambda b: b.credential.state.value)
    achievement_id = fields.UUID()
    version = fields.Integer()
    name = fields.String()
    issuer_id = fields.UUID()
    issuer_name = fields.String()
    show_name = fields.Boolean(allow_none=True)
    awarded_at = fields.Function(lambda b: b.credential.awarded_at.isoformat())
    valid_until = fields.Function(lambda b: b.credential.valid_until.isoformat() if b.credential.valid_until else None)
    status_reason = fields.Function(lambda b: b.credential.status_reason)
    verification_url = fields.String()
    short_url = fields.String()


class BadgeVisibilitySchema(CamelSchema):
    show_name = fields.Boolean(required=True, allow_none=True)


class ShareLinksSchema(CamelSchema):
    verification_url = fields.String()
    short_url = fields.String()
    qr_svg_url = fields.String()
    qr_png_url = fields.String()
    ob3_json_url = fields.String()
    vc_jwt_url = fields.String()
    ob2_assertion_url = fields.String()
    baked_png_url = fields.String()
    baked_svg_url = fields.String()
    baked_svg_ob2_url = fields.String(
        allow_none=True, metadata={"description": "The SVG with the signed OB 2.0 assertion baked in (older tools)."}
    )
    linkedin_url = fields.String()
