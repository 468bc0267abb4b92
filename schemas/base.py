"""Base schemas: camelCase on the wire, unknown fields refused, paginated lists."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate, validates_schema


def camelcase(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


NUL_MESSAGE = "NUL characters are not allowed."
SURROGATE_MESSAGE = "Text must be valid Unicode: lone surrogates (\\ud800-\\udfff) are not allowed."


def text_problem(value: str) -> str | None:
    """Why a string cannot be stored or sent back, or None when it can."""
    # No human text needs NUL and PostgreSQL refuses it; a lone surrogate ("\\ud800" in JSON) parses
    # but has no UTF-8 form, so every write or response that carries it fails.
    if "\x00" in value:
        return NUL_MESSAGE
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return SURROGATE_MESSAGE
    return None


def unstorable_text(data: Any) -> dict[Any, Any]:
    """Marshmallow-shaped errors for every bad string (value or key) at any depth of the data."""
    errors: dict[Any, Any] = {}
    # Iterative, so a deep document cannot overflow the stack here.
    stack: list[tuple[Any, tuple[Any, ...]]] = [(data, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, str):
            problem = text_problem(node)
            if problem:
                _put(errors, path, problem)
        elif isinstance(node, Mapping):
            for key, value in node.items():
                problem = text_problem(key) if isinstance(key, str) else None
                if problem:  # the key itself cannot be named: report it on its object
                    _put(errors, (*path, "_schema"), problem)
                else:
                    stack.append((value, (*path, key)))
        elif isinstance(node, (list, tuple)):
            stack.extend((value, (*path, index)) for index, value in enumerate(node))
    return errors


def _put(errors: dict[Any, Any], path: tuple[Any, ...], message: str) -> None:
    node = errors
    for part in path[:-1]:
        node = node.setdefault(part, {})
    key = path[-1] if path else "_schema"
    if message not in node.setdefault(key, []):
        node[key].append(message)


class CamelSchema(Schema):
    """Field names are snake_case in Python and camelCase in JSON."""

    class Meta:
        unknown = RAISE

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        field_obj.data_key = camelcase(field_obj.data_key or field_name)

    @pre_load
    def _refuse_unstorable_text(self, data: Any, **_kwargs: object) -> Any:
        bad = unstorable_text(data)
        if bad:
            raise ValidationError(bad)
        return data


class PageArgs(CamelSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class PageSchema(CamelSchema):
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


_PAGES: dict[str, type[Schema]] = {}


def page_of(item: type[Schema]) -> type[Schema]:
    """The list envelope {items, total, page, perPage} for an item schema (one class each)."""
    name = item.__name__.removesuffix("Schema") + "PageSchema"
    if name not in _PAGES:
        _PAGES[name] = type(name, (PageSchema,), {"items": fields.List(fields.Nested(item), required=True)})
    return _PAGES[name]


def text(max_len: int, min_len: int = 0, **kwargs: Any) -> fields.String:
    """A string field with a length limit (over-long strings are refused, not truncated)."""
    return fields.String(validate=validate.Length(min=min_len, max=max_len), **kwargs)


def decimal(places: int, minimum: int, maximum: int, **kwargs: Any) -> fields.Decimal:
    """A bounded decimal number, its bounds documented as numbers (apispec would print "0.00")."""
    return fields.Decimal(
        places=places,
        as_string=False,
        validate=validate.Range(min=minimum, max=maximum),
        metadata={"minimum": minimum, "maximum": maximum},
        **kwargs,
    )


def required_text(max_len: int, **kwargs: Any) -> fields.String:
    return fields.String(required=True, validate=validate.Length(min=1, max=max_len), **kwargs)


class ProblemErrorSchema(Schema):
    pointer = fields.String()
    detail = fields.String()


class ProblemSchema(Schema):
    """RFC 9457 problem details, as every error is returned."""

    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    instance = fields.String()
    errors = fields.List(fields.Nested(ProblemErrorSchema))


class PeriodMixin:
    """For schemas with start_date and end_date: the end may not come before the start."""

    @validates_schema
    def _period(self, data: dict[str, Any], **_kwargs: object) -> None:
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            raise ValidationError("The end date is before the start date.", "endDate")
