"""How many nodes of each kind the frameworks of a listing hold (``FrameworkView.kinds``).

``get_framework`` counts one framework's kinds; listings fill the same field for a whole page
with one grouped query, so the list and the single-framework answers agree.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Competency
from app.services.frameworks.query import FrameworkView


def fill_kinds(session: Session, views: Sequence[FrameworkView]) -> None:
    """Set ``kinds`` ({kind: count}) on every view of a page of frameworks (already authorised)."""
    ids = [view.framework.id for view in views]
    if not ids:
        return
    counts: dict[object, dict[str, int]] = {}
    for framework_id, kind, count in session.execute(
        select(Competency.framework_id, Competency.kind, func.count())
        .where(Competency.framework_id.in_(ids))
        .group_by(Competency.framework_id, Competency.kind)
    ):
        counts.setdefault(framework_id, {})[kind] = count
    for view in views:
        view.kinds = counts.get(view.framework.id, {})
