"""Pages of query results."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int


def paginate(session: Session, stmt: Select[Any], page: int, per_page: int) -> Page[Any]:
    """Run ``stmt`` (a select of one entity) for one page, with the unpaginated total.

    The page is chosen on ids alone, then its rows are loaded: sorting narrow rows is several
    times cheaper than sorting whole ones when many rows match.
    """
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    entity = stmt.column_descriptions[0]["entity"]
    ids = list(session.scalars(stmt.with_only_columns(entity.id).limit(per_page).offset((page - 1) * per_page)))
    items = list(session.scalars(stmt.where(entity.id.in_(ids)))) if ids else []
    return Page(items, total, page, per_page)


def page_of_list(items: Sequence[T], page: int = 1, per_page: int | None = None) -> Page[T]:
    """One page of rows already in memory (kept by a rule SQL does not express); all of them without ``per_page``."""
    if per_page is None:
        return Page(list(items), len(items), 1, max(len(items), 1))
    return Page(list(items[(page - 1) * per_page : page * per_page]), len(items), page, per_page)


LIKE_ESCAPE = "\\"


def contains_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, its % and _ taken literally (use with ``escape=LIKE_ESCAPE``)."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
