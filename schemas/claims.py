"""Claims, reviews, the tutor queue, standings, portfolios and review rules."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from schemas.base import CamelSchema, PageArgs, required_text, text
from schemas.contributions import EvidenceSchema
from schemas.frameworks import FwHitSchema

ClaimStatuses = ("pending", "needs_evidence", "validated", "rejected", "withdrawn")
Decisions = ("validated", "rejected", "needs_evidence")
LEVEL_CODE = validate.Regexp(r"^[a-z0-9_]{1,64}$", error="A level code is 1-64 of a-z, 0-9 and _.")


def _value(attr: str) -> fields.Function:
    """An enum attribute as its value (already-plain strings pass through)."""
    return fields.Function(lambda obj: getattr(getattr(obj, attr), "value", getattr(obj, attr)))


def _stage(claim: Any) -> str:
    if claim.status.value == "pending":
        return "second_review" if claim.first_reviewer_id else "review"
    return str(claim.status.value)


# Input


class ClaimCreateSchema(CamelSchema):
    contribution_id = fields.UUID(required=True)
    competency_id = fields.UUID(required=True)
    justification = required_text(10000)
    self_assessment = fields.String(validate=LEVEL_CODE, allow_none=True)


class ClaimUpdateSchema(CamelSchema):
    justification = text(10000, min_len=1)
    self_assessment = fields.String(validate=LEVEL_CODE, allow_none=True)


class ClaimResubmitSchema(ClaimUpdateSchema):
    """After needs_evidence: an explanation, unless evidence was added to the contribution."""

    explanation = text(10000)


class ReviewCreateSchema(CamelSchema):
    decision = fields.String(required=True, validate=validate.OneOf(Decisions))
    level = fields.String(validate=LEVEL_CODE, allow_none=True)
    comment = required_text(10000)

    @validates_schema
    def _rules(self, data: dict[str, Any], **_kwargs: object) -> None:
        if not data.get("comment", "").strip():
            raise ValidationError("A decision always comes with a comment.", "comment")
        if data["decision"] == "validated" and not data.get("level"):
            raise ValidationError("A validation needs a level of the scale.", "level")
        if data["decision"] != "validated" and data.get("level"):
            raise ValidationError("Only a validation has a level.", "level")


class LevelInputSchema(CamelSchema):
    code = fields.String(required=True, validate=LEVEL_CODE)
    label_fr = required_text(200)
    label_en = text(200)
    proficient = fields.Boolean(load_default=False)


class ScaleInputSchema(CamelSchema):
    name = required_text(200)
    levels = fields.List(fields.Nested(LevelInputSchema), required=True, validate=validate.Length(min=2, max=10))


class ReviewRulesUpdateSchema(CamelSchema):
    """Omitted fields are left as they are; ``scale: null`` goes back to the default scale."""

    requires_second_review = fields.Boolean()
    scale = fields.Nested(ScaleInputSchema, allow_none=True)


class ClaimQuerySchema(PageArgs):
    contribution_id = fields.UUID()
    learner_id = fields.UUID()
    competency_id = fields.UUID()
    status = fields.String(validate=validate.OneOf(ClaimStatuses))


class QueueQuerySchema(PageArgs):
    project_id = fields.UUID()
    learner_id = fields.UUID()
    framework_id = fields.UUID()
    state = fields.String(validate=validate.OneOf(ClaimStatuses), load_default="pending")


class StandingQuerySchema(PageArgs):
    framework_id = fields.UUID()
    proficient = fields.Boolean()


class PortfolioQuerySchema(CamelSchema):
    framework_id = fields.UUID()


# Output


class LevelSchema(CamelSchema):
    code = fields.String()
    label_fr = fields.String()
    label_en = fields.String()
    proficient = fields.Boolean()


class ScaleSchema(CamelSchema):
    id = fields.UUID(allow_none=True, metadata={"description": "null for the default scale."})
    name = fields.String()
    levels = fields.List(fields.Nested(LevelSchema))


class ReviewRulesSchema(CamelSchema):
    requires_second_review = fields.Boolean()
    scale = fields.Nested(ScaleSchema)


class ClaimSchema(CamelSchema):
    id = fields.UUID()
    contribution_id = fields.UUID()
    project_id = fields.UUID()
    competency_id = fields.UUID()
    learner_id = fields.UUID()
    justification = fields.String()
    self_assessment = fields.String(allow_none=True)
    status = _value("status")
    stage = fields.Function(_stage)
    round = fields.Integer()
    level = fields.String(allow_none=True)
    first_reviewer_id = fields.UUID(allow_none=True)
    decided_at = fields.AwareDateTime(allow_none=True)
    created_by_id = fields.UUID()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    version = fields.Integer()


class RevisionSchema(CamelSchema):
    number = fields.Integer()
    kind = fields.String()
    justification = fields.String()
    self_assessment = fields.String(allow_none=True)
    explanation = fields.String()
    author_id = fields.UUID()
    created_at = fields.AwareDateTime()


class ReviewSchema(CamelSchema):
    id = fields.UUID()
    claim_id = fields.UUID()
    reviewer_id = fields.UUID()
    reviewer_name = fields.String()
    decision = _value("decision")
    level = fields.String(allow_none=True)
    proficient = fields.Boolean(allow_none=True)
    comment = fields.String()
    round = fields.Integer()
    final = fields.Boolean()
    created_at = fields.AwareDateTime()


class ClaimDetailSchema(CamelSchema):
    claim = fields.Nested(ClaimSchema)
    revisions = fields.List(fields.Nested(RevisionSchema))
    reviews = fields.List(fields.Nested(ReviewSchema))
    scale = fields.Nested(ScaleSchema, attribute="rules.scale")
    requires_second_review = fields.Boolean(attribute="rules.second_review")


class CompetencyBriefSchema(CamelSchema):
    id = fields.UUID()
    framework_id = fields.UUID()
    code = fields.String(allow_none=True)
    label = fields.String()
    kind = fields.String()


class FrameworkBriefSchema(CamelSchema):
    id = fields.UUID()
    title = fields.String()
    source_type = _value("source_type")
    version = fields.Integer()


class PersonBriefSchema(CamelSchema):
    id = fields.UUID()
    display_name = fields.String()


class ContributionBriefSchema(CamelSchema):
    id = fields.UUID()
    project_id = fields.UUID()
    title = fields.String()
    narrative = fields.String()
    role = fields.String()
    start_date = fields.Date(allow_none=True)
    end_date = fields.Date(allow_none=True)
    hours = fields.Float(allow_none=True)
    submitted_at = fields.AwareDateTime(allow_none=True)


class ProjectBriefSchema(CamelSchema):
    id = fields.UUID()
    territory_id = fields.UUID()
    title = fields.String()


class QueueItemSchema(CamelSchema):
    claim = fields.Nested(ClaimSchema)
    stage = fields.String()
    can_decide = fields.Boolean()
    competency = fields.Nested(CompetencyBriefSchema)
    framework = fields.Nested(FrameworkBriefSchema)
    learner = fields.Nested(PersonBriefSchema)
    contribution = fields.Nested(ContributionBriefSchema)
    project = fields.Nested(ProjectBriefSchema)
    evidence = fields.List(fields.Nested(EvidenceSchema))
    reviews = fields.List(fields.Nested(ReviewSchema))
    scale = fields.Nested(ScaleSchema, attribute="rules.scale")
    requires_second_review = fields.Boolean(attribute="rules.second_review")


class StandingEntrySchema(CamelSchema):
    competency_id = fields.UUID()
    framework_id = fields.UUID()
    code = fields.String()
    label = fields.String()
    level = fields.String(allow_none=True)
    state = fields.String()
    proficient = fields.Boolean()
    decided_at = fields.AwareDateTime(allow_none=True)
    decided_by_id = fields.UUID(allow_none=True)
    review_id = fields.UUID(allow_none=True)


class StandingSchema(CamelSchema):
    level = fields.String(allow_none=True)
    state = fields.String()
    proficient = fields.Boolean()
    decided_at = fields.AwareDateTime(allow_none=True)
    decided_by_id = fields.UUID(allow_none=True)
    review_id = fields.UUID(allow_none=True)


class EvidenceRefSchema(CamelSchema):
    id = fields.UUID()
    contribution_id = fields.UUID()
    kind = fields.String()
    title = fields.String()


class NodeSchema(CamelSchema):
    id = fields.UUID()
    code = fields.String(allow_none=True)
    label = fields.String()
    kind = fields.String()
    standing = fields.Nested(StandingSchema, allow_none=True)
    reviews = fields.List(fields.Nested(ReviewSchema))
    evidence = fields.List(fields.Nested(EvidenceRefSchema))
    children = fields.List(fields.Nested(lambda: NodeSchema()))


class FrameworkTreeSchema(CamelSchema):
    id = fields.UUID()
    title = fields.String()
    source_type = fields.String()
    version = fields.Integer()
    version_label = fields.String(allow_none=True)
    nodes = fields.List(fields.Nested(NodeSchema))


class PortfolioSchema(CamelSchema):
    """Documents the portfolio, which its service writes as this JSON document itself (thousands
    of nodes, too many to dump through nested schemas); a test compares the two."""

    learner_id = fields.UUID()
    standings = fields.Integer()
    frameworks = fields.List(fields.Nested(FrameworkTreeSchema))


class CompetencySuggestionsSchema(CamelSchema):
    """The competencies best matching a contribution's title and narrative, best first (at most ten)."""

    items = fields.List(fields.Nested(FwHitSchema))
