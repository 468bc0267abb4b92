"""Contributions: what learners did in a project, and the evidence attached to it.

Stands on identity. Modules: ``contributions`` and ``evidence``.
"""

from __future__ import annotations

from app.services.contributions.contributions import (
    create_contribution,
    delete_contribution,
    get_contribution,
    list_contributions,
    submit_contribution,
    update_contribution,
)
from app.services.contributions.evidence import (
    add_evidence,
    can_read,
    get_evidence,
    list_evidence,
    open_evidence_file,
    update_evidence,
    upload_evidence,
)

__all__ = [
    "add_evidence",
    "can_read",
    "create_contribution",
    "delete_contribution",
    "get_contribution",
    "get_evidence",
    "list_contributions",
    "list_evidence",
    "open_evidence_file",
    "submit_contribution",
    "update_contribution",
    "update_evidence",
    "upload_evidence",
]
