"""Competency frameworks: lists, trees, competencies, search results, import reports."""

from __future__ import annotations

from marshmallow import fields, validate

from schemas.base import CamelSchema, PageArgs, required_text, text

SourceTypes = ["rncp", "esco", "case", "custom"]
ImportFormats = ["rncp-xml", "rncp-csv", "esco-csv", "case-json", "custom-csv", "custom-json"]


def _value(attr: str) -> fields.Function:
    def get(obj: object) -> object:
        for part in attr.split("."):
            obj = getattr(obj, part)
        return getattr(obj, "value", obj)

    return fields.Function(get)


class FrameworkQuerySchema(PageArgs):
    source_type = fields.String(validate=validate.OneOf(SourceTypes))
    q = text(200)
    current = fields.Boolean(load_default=True, metadata={"description": "Current versions only."})


class FwVersionSchema(CamelSchema):
    id = fields.UUID()
    version = fields.Integer()
    version_label = fields.String(allow_none=True)
    is_current = fields.Boolean()
    imported_at = fields.AwareDateTime()


class FwFrameworkBriefSchema(FwVersionSchema):
    source_type = _value("source_type")
    source_key = fields.String()
    title = fields.String()
    language = fields.String()


class FrameworkSchema(CamelSchema):
    id = fields.UUID(attribute="framework.id")
    source_type = _value("framework.source_type")
    source_key = fields.String(attribute="framework.source_key")
    version = fields.Integer(attribute="framework.version")
    version_label = fields.String(attribute="framework.version_label", allow_none=True)
    title = fields.String(attribute="framework.title")
    language = fields.String(attribute="framework.language")
    uri = fields.String(attribute="framework.uri", metadata={"description": "The source's own page."}, allow_none=True)
    is_current = fields.Boolean(attribute="framework.is_current")
    imported_at = fields.AwareDateTime(attribute="framework.imported_at")
    source_filename = fields.String(attribute="framework.source_filename", allow_none=True)
    source_sha256 = fields.String(attribute="framework.source_sha256", allow_none=True)
    content_sha256 = fields.String(attribute="framework.content_sha256", allow_none=True)
    case_id = fields.UUID(
        attribute="framework.case_id", allow_none=True, metadata={"description": "CASE CFDocument id."}
    )
    url = fields.String(metadata={"description": "Stable public URL (HTML or JSON)."})
    kinds = fields.Dict(
        keys=fields.String(), values=fields.Integer(), metadata={"description": "Number of nodes of each kind."}
    )
    versions = fields.List(fields.Nested(FwVersionSchema))


class FwCompetencyBriefSchema(CamelSchema):
    id = fields.UUID(attribute="competency.id")
    kind = fields.String(attribute="competency.kind")
    code = fields.String(attribute="competency.code", allow_none=True)
    label = fields.String(attribute="competency.label")
    url = fields.String()


class FwNodeSchema(FwCompetencyBriefSchema):
    description = fields.String(attribute="competency.description", allow_none=True)
    confidence = _value("competency.confidence")
    children_count = fields.Integer()
    children = fields.List(fields.Nested(lambda: FwNodeSchema))


class TreeQuerySchema(PageArgs):
    parent_id = fields.UUID(metadata={"description": "List this node's children instead of the roots."})
    depth = fields.Integer(load_default=3, validate=validate.Range(min=1, max=5))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class FwAssociationSchema(CamelSchema):
    type = fields.String(attribute="association_type")
    target_key = fields.String(allow_none=True)
    target_uri = fields.String(allow_none=True)
    target_id = fields.UUID(allow_none=True)
    target_label = fields.Function(lambda a: (a.meta or {}).get("target_label"))
    external = fields.Function(lambda a: (a.meta or {}).get("external"))


class CompetencySchema(CamelSchema):
    id = fields.UUID(attribute="competency.id")
    url = fields.String()
    framework = fields.Nested(FwFrameworkBriefSchema)
    framework_url = fields.String()
    kind = fields.String(attribute="competency.kind")
    source_key = fields.String(attribute="competency.source_key")
    code = fields.String(attribute="competency.code", allow_none=True)
    label = fields.String(attribute="competency.label")
    description = fields.String(attribute="competency.description", allow_none=True)
    uri = fields.String(attribute="competency.uri", allow_none=True)
    raw_text = fields.String(
        attribute="competency.raw_text",
        allow_none=True,
        metadata={"description": "Source text verbatim (RNCP: the legal wording)."},
    )
    confidence = _value("competency.confidence")
    language = fields.String(attribute="competency.language", allow_none=True)
    position = fields.Integer(attribute="competency.position")
    case_id = fields.UUID(attribute="competency.case_id", allow_none=True)
    meta = fields.Dict(attribute="competency.meta")
    parents = fields.List(
        fields.Nested(FwCompetencyBriefSchema),
        attribute="parent_nodes",
        metadata={"description": "Ancestors, root first."},
    )
    children = fields.List(fields.Nested(FwNodeSchema))
    children_count = fields.Integer()
    associations = fields.List(fields.Nested(FwAssociationSchema))
    replaced_by = fields.List(fields.Nested(FwFrameworkBriefSchema))
    alignments = fields.List(
        fields.Dict(), metadata={"description": "Open Badges 3.0 Alignment objects; the first is this competency."}
    )


class SearchQuerySchema(PageArgs):
    q = required_text(200)
    lang = fields.String(validate=validate.Length(min=2, max=8))
    source_type = fields.String(validate=validate.OneOf(SourceTypes))
    framework_id = fields.UUID()
    kind = text(32)
    include_old = fields.Boolean(load_default=False, metadata={"description": "Search old versions too."})


class FwHitSchema(FwCompetencyBriefSchema):
    description = fields.String(attribute="competency.description", allow_none=True)
    language = fields.String(attribute="competency.language", allow_none=True)
    rank = fields.Integer(
        metadata={
            "description": "0 exact label or code, 1 label prefix, 2 all words in label, 3 elsewhere; "
            "4 some of the words (listed after the others when fewer than a page hold every word)."
        }
    )
    framework = fields.Nested(FwFrameworkBriefSchema)


class ImportFormSchema(CamelSchema):
    format = fields.String(
        validate=validate.OneOf(ImportFormats), metadata={"description": "Detected from the bytes when absent."}
    )
    language = fields.String(validate=validate.Length(min=2, max=8), metadata={"description": "ESCO"})
    version = text(40, metadata={"description": "ESCO release, e.g. 1.2.0"})
    title = text(300, metadata={"description": "Custom format: framework title"})


class FwCountsSchema(CamelSchema):
    fiches = fields.Integer()
    blocs = fields.Integer()
    competences = fields.Integer()
    skill_groups = fields.Integer()
    skills = fields.Integer()
    items = fields.Integer()
    associations = fields.Integer()
    warnings = fields.Integer()


class ImportedFrameworkSchema(CamelSchema):
    id = fields.UUID()
    source_type = fields.String()
    source_key = fields.String()
    title = fields.String()
    version = fields.Integer()
    status = fields.String(metadata={"description": "created | unchanged"})
    competencies = fields.Integer()
    restores = fields.Integer(
        allow_none=True, metadata={"description": "Created with the content of this older version, made current again."}
    )


class ImportWarningSchema(CamelSchema):
    reason = fields.String()
    line = fields.Integer()
    element = fields.String()
    source_key = fields.String(metadata={"description": "The item (or bloc, fiche, concept) it concerns."})
    file = fields.String()
    count = fields.Integer(metadata={"description": "How many rows it stands for, when rows were skipped."})


class ImportReportSchema(CamelSchema):
    filename = fields.String()
    format = fields.String()
    counts = fields.Nested(FwCountsSchema)
    created = fields.Integer()
    unchanged = fields.Integer()
    frameworks = fields.List(
        fields.Nested(ImportedFrameworkSchema),
        attribute="first_frameworks",
        metadata={"description": "First 100 frameworks of the file."},
    )
    warnings = fields.List(fields.Nested(ImportWarningSchema), metadata={"description": "First 50."})
    warnings_total = fields.Integer()
    skipped = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={
            "description": "Rows left out of the import, counted by reason (e.g. ESCO relations to absent concepts)."
        },
    )
