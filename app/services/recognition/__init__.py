"""Recognition: claims of competencies, tutors' reviews, rating scales and learners' standings.

Stands on contributions and identity. Modules: ``claims``, ``reviews``, ``scales`` (levels and
review rules), ``standing`` (current level per competency, portfolio) and ``notifications``
(the workflow's e-mails).
"""

from __future__ import annotations

from app.services.recognition.claims import (
    claim_detail,
    create_claim,
    list_claims,
    resubmit_claim,
    update_claim,
    withdraw_claim,
)
from app.services.recognition.reviews import review_claim, review_queue
from app.services.recognition.scales import DEFAULT_SCALE, get_territory_rules, set_framework_rules, set_territory_rules
from app.services.recognition.standing import ScopedStanding, list_standings, portfolio, standings_within

__all__ = [
    "DEFAULT_SCALE",
    "ScopedStanding",
    "claim_detail",
    "create_claim",
    "get_territory_rules",
    "list_claims",
    "list_standings",
    "portfolio",
    "resubmit_claim",
    "review_claim",
    "review_queue",
    "set_framework_rules",
    "set_territory_rules",
    "standings_within",
    "update_claim",
    "withdraw_claim",
]
