"""Revocation and suspension: every format changes in the same transaction.

Revoking sets the credential's bit in the issuer's revocation list and re-signs that list;
suspending does the same in the suspension twin (same index); unsuspending clears it. The row's
state and reason change with the bits, and the OB 2.0 hosted assertion (HTTP 410), the OB 2.0
revocation list and the verification page are all derived from that row, so they change at
the same commit. Each action is audited. The status-list row is locked first (the same lock
order as issuing), so concurrent revocations never lose a bit.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Credential, CredentialState, StatusList
from app.platform.errors import Conflict, FieldError, InvalidInput, flush_versioned
from app.services.identity import audit
from app.services.identity.access import Grants
from app.services.issuing.awarding import managed_credential
from app.services.issuing.keys import load_keyring
from app.services.issuing.signing import IssuingSettings, set_status_bit, sign_status_list


def _reason(reason: str | None, required: bool = True) -> str | None:
    text = (reason or "").strip()
    if required and not text:
        raise InvalidInput("Give a reason.", errors=[FieldError("#/reason", "Required.")])
    return text or None


def _locked(session: Session, list_id: uuid.UUID | None) -> StatusList:
    status_list = session.scalar(select(StatusList).where(StatusList.id == list_id).with_for_update())
    if status_list is None:  # pragma: no cover - every issued credential has its lists
        raise Conflict("This credential has no status list.")
    return status_list


def _flip(session: Session, credential: Credential, which: str, value: bool, settings: IssuingSettings) -> None:
    list_id = credential.status_list_id if which == "revocation" else credential.suspension_list_id
    status_list = _locked(session, list_id)
    assert credential.status_index is not None
    if set_status_bit(status_list, credential.status_index, value):
        sign_status_list(status_list, load_keyring(session, credential.issuer_id, settings.keks), settings)


def _check_issued(credential: Credential, action: str) -> None:
    if credential.state is CredentialState.REVOKED:
        raise Conflict("This credential is already revoked.")
    if credential.state in (CredentialState.PROPOSED, CredentialState.DECLINED):
        raise Conflict(f"A {credential.state.value} award was never issued: there is nothing to {action}.")


def revoke(
    session: Session, grants: Grants, credential_id: uuid.UUID, reason: str | None, *, settings: IssuingSettings
) -> Credential:
    """Revoke for good (a suspended credential too); revoking twice is a 409."""
    credential = managed_credential(session, grants, credential_id)
    _check_issued(credential, "revoke")
    text = _reason(reason)
    now = settings.clock()
    _flip(session, credential, "revocation", True, settings)
    if credential.state is CredentialState.SUSPENDED:
        _flip(session, credential, "suspension", False, settings)  # revoked says it all
    credential.state, credential.revoked_at, credential.status_reason = CredentialState.REVOKED, now, text
    flush_versioned(session, "status list")
    audit.record(
        session,
        grants.actor,
        "credential.revoked",
        "credential",
        credential.id,
        {"reason": text, "index": credential.status_index},
        clock=settings.clock,
    )
    return credential


def suspend(
    session: Session, grants: Grants, credential_id: uuid.UUID, reason: str | None, *, settings: IssuingSettings
) -> Credential:
    """Suspend an issued credential until unsuspended."""
    credential = managed_credential(session, grants, credential_id)
    _check_issued(credential, "suspend")
    if credential.state is CredentialState.SUSPENDED:
        raise Conflict("This credential is already suspended.")
    text = _reason(reason)
    _flip(session, credential, "suspension", True, settings)
    credential.state, credential.suspended_at, credential.status_reason = (
        CredentialState.SUSPENDED,
        settings.clock(),
        text,
    )
    flush_versioned(session, "status list")
    audit.record(
        session,
        grants.actor,
        "credential.suspended",
        "credential",
        credential.id,
        {"reason": text, "index": credential.status_index},
        clock=settings.clock,
    )
    return credential


def unsuspend(
    session: Session, grants: Grants, credential_id: uuid.UUID, reason: str | None, *, settings: IssuingSettings
) -> Credential:
    """Lift a suspension: the credential is valid again in every format."""
    credential = managed_credential(session, grants, credential_id)
    if credential.state is not CredentialState.SUSPENDED:
        raise Conflict(f"Only a suspended credential can be unsuspended (this one is {credential.state.value}).")
    text = _reason(reason, required=False)
    _flip(session, credential, "suspension", False, settings)
    credential.state, credential.suspended_at, credential.status_reason = CredentialState.ISSUED, None, None
    flush_versioned(session, "status list")
    audit.record(
        session,
        grants.actor,
        "credential.unsuspended",
        "credential",
        credential.id,
        {"reason": text, "index": credential.status_index},
        clock=settings.clock,
    )
    return credential
