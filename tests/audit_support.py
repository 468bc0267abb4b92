"""Tests that commit for real put the audit chain back as they found it, so later tests see an intact log."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from app.models import AuditEvent, AuditHead

Mark = tuple[int, str] | None  # the head's (last_seq, last_hash), or None when the chain was empty


def audit_mark(s: Session) -> Mark:
    """Where the chain stands now."""
    head = s.get(AuditHead, 1)
    return (head.last_seq, head.last_hash) if head else None


def restore_audit(s: Session, before: Mark) -> None:
    """Delete the events written since ``before`` and put the head back (flushed, not committed)."""
    s.execute(delete(AuditEvent).where(AuditEvent.seq > (before[0] if before else 0)))
    head = s.get(AuditHead, 1)
    if before is None and head is not None:
        s.delete(head)
    elif head is not None and before is not None:
        head.last_seq, head.last_hash = before
    s.flush()
