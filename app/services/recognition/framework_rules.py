"""A framework's own review rules as they stand: its scale (or the default one) and whether a second
review is required; read by the platform administrator before changing them."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from app.models import Framework, RatingScale
from app.platform.errors import NotFound, PermissionDenied
from app.services.identity.access import Grants, require_login
from app.services.recognition.scales import DEFAULT_SCALE, ReviewRules, Scale, _scale


def get_framework_rules(session: Session, grants: Grants, framework_id: uuid.UUID) -> tuple[ReviewRules, bool]:
    """The framework's rules, and whether the scale is its own (False: the default scale applies)."""
    require_login(grants)
    framework = session.get(Framework, framework_id)
    if framework is None:
        raise NotFound("Framework not found.")
    if not grants.platform_admin:
        raise PermissionDenied("Only platform administrators read a framework's review rules here.")
    scale: Scale = DEFAULT_SCALE
    if framework.rating_scale_id:
        row = session.get(RatingScale, framework.rating_scale_id)
        if row is not None:
            scale = _scale(row)
    return ReviewRules(framework.requires_second_review, scale), framework.rating_scale_id is not None
