"""Issuing: issuers and their keys, achievements, awards, signed credentials, revocation, wallet.

Stands on recognition (standings feed award rules) and identity. Modules: ``issuers``, ``keys``,
``achievements``, ``awarding`` (rules, events, manual awards), ``award_scope``, ``bulk`` (CSV),
``signing`` (every signed form of one award), ``revocation``, ``wallet`` (the learner's side)
and ``certificates`` (printable PDF).
"""

from __future__ import annotations

from app.services.issuing.achievements import (
    alignments_of,
    create_achievement,
    detail,
    get_achievement,
    list_achievements,
    list_versions,
    ob3_achievement,
    set_image,
    to_badges_alignment,
    update_achievement,
)
from app.services.issuing.awarding import (
    approve,
    award,
    decline,
    get_credential,
    list_credentials,
    process_award_events,
    run_award_events,
    view,
)
from app.services.issuing.bulk import bulk_award
from app.services.issuing.certificates import certificate_pdf
from app.services.issuing.issuers import (
    compromise_key,
    create_issuer,
    get_issuer,
    list_issuers,
    list_keys,
    rotate_keys,
    set_issuer_image,
    update_issuer,
)
from app.services.issuing.keys import issuer_keys, rewrap_keys
from app.services.issuing.revocation import revoke, suspend, unsuspend
from app.services.issuing.signing import IssuingSettings, issuer_profile
from app.services.issuing.wallet import get_badge, my_badges, set_show_name, share_links

__all__ = [
    "IssuingSettings",
    "alignments_of",
    "approve",
    "award",
    "bulk_award",
    "certificate_pdf",
    "compromise_key",
    "create_achievement",
    "create_issuer",
    "decline",
    "detail",
    "get_achievement",
    "get_badge",
    "get_credential",
    "get_issuer",
    "issuer_keys",
    "issuer_profile",
    "list_achievements",
    "list_credentials",
    "list_issuers",
    "list_keys",
    "list_versions",
    "my_badges",
    "ob3_achievement",
    "process_award_events",
    "revoke",
    "rewrap_keys",
    "rotate_keys",
    "run_award_events",
    "set_image",
    "set_issuer_image",
    "set_show_name",
    "share_links",
    "suspend",
    "to_badges_alignment",
    "unsuspend",
    "update_achievement",
    "update_issuer",
    "view",
]
