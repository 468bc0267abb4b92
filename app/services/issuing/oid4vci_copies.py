"""OpenID4VCI wallet copies: building and signing them, and showing them to those who may see them.

A wallet copy is the same award (achievement, learner data, dates, evidence) with a new id,
``credentialSubject.id`` set to the holder's DID, signed now with the issuer's current keys under
the identifier the original carries (its https URL or its did:web, see
:func:`~app.services.issuing.signing.signing_ids`), and with the original's ``credentialStatus``
entry: revoking the award flips every copy in the same step.

Who sees the copies: the learner (and whoever acts for them) on *Mes badges*, the issuer's
administrators and platform administrators in the issuer's lists and the credentials API — the
same people who may read the credential itself.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

import badges
from app.models import Credential, KeyPurpose, WalletCopy, WalletOffer
from app.platform.pagination import Page
from app.platform.urls import Urls
from app.services.identity.access import Grants
from app.services.issuing import awarding, wallet
from app.services.issuing.keys import load_keyring, require_caller
from app.services.issuing.oid4vci_proofs import ProtocolError
from app.services.issuing.signing import IssuingSettings, signing_ids


def sign_copy(
    session: Session,
    credential: Credential,
    offer: WalletOffer,
    holder_did: str,
    fmt: str,
    *,
    settings: IssuingSettings,
) -> WalletCopy:
    """The wallet copy of ``credential`` for ``holder_did``, signed now in ``fmt`` (stored, flushed)."""
    if credential.ob3_credential is None:
        raise ProtocolError("credential_request_denied", "This badge has no Open Badges 3.0 form.")
    now = settings.clock()
    ring = load_keyring(session, credential.issuer_id, settings.keks)
    copy_id = uuid.uuid4()
    document = copy.deepcopy(credential.ob3_credential)
    document.pop("proof", None)
    document["id"] = f"urn:uuid:{copy_id}"
    document["credentialSubject"]["id"] = holder_did
    issuer = document.get("issuer")
    identifier = str(issuer["id"] if isinstance(issuer, dict) else issuer)
    di_row, jwt_row = ring.row(KeyPurpose.DATA_INTEGRITY), ring.row(KeyPurpose.VC_JWT)
    assert di_row.public_key_multibase is not None
    method, kid = signing_ids(
        settings.urls, credential.issuer_id, identifier, multibase=di_row.public_key_multibase, kid=jwt_row.kid
    )
    row = WalletCopy(
        id=copy_id, credential_id=credential.id, offer_id=offer.id, holder_did=holder_did, format=fmt, created_at=now
    )
    if fmt == "ldp_vc":
        row.document = badges.sign_data_integrity(document, ring.key(KeyPurpose.DATA_INTEGRITY), method, created=now)
    else:
        row.jwt = badges.sign_vc_jwt(document, ring.key(KeyPurpose.VC_JWT), kid=kid)
    session.add(row)
    session.flush()
    return row


def copies_of(session: Session, credential_id: uuid.UUID) -> list[WalletCopy]:
    """The wallet copies of one credential, oldest first (the caller has checked who may see it)."""
    return _copies_by_credential(session, [credential_id]).get(credential_id, [])


def _copies_by_credential(session: Session, credential_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, list[WalletCopy]]:
    found: dict[uuid.UUID, list[WalletCopy]] = {}
    if not credential_ids:
        return found
    stmt = (
        select(WalletCopy)
        .where(WalletCopy.credential_id.in_(list(credential_ids)))
        .order_by(WalletCopy.created_at, WalletCopy.id)
    )
    for row in session.scalars(stmt):
        found.setdefault(row.credential_id, []).append(row)
    return found


def my_copies(session: Session, grants: Grants, credential_id: uuid.UUID) -> list[WalletCopy]:
    """The wallet copies of one of my badges (someone else's badge does not exist)."""
    credential = wallet.my_credential(session, grants, credential_id)
    return copies_of(session, credential.id)


def copies_by_credential(
    session: Session, grants: Grants, credential_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, list[WalletCopy]]:
    """The wallet copies of these credentials, oldest first, keeping only the credentials the caller
    may read: their issuer's administrators, their learner, platform administrators."""
    require_caller(grants)
    visible = select(Credential.id).where(Credential.id.in_(list(credential_ids)))
    if not grants.platform_admin:
        visible = visible.where(
            or_(Credential.issuer_id.in_(grants.issuer_admin_of), Credential.learner_id == grants.actor.id)
        )
    return _copies_by_credential(session, set(session.scalars(visible)))


@dataclass
class WithCopies:
    """A credential view (:class:`~app.services.issuing.awarding.CredentialView`) and its wallet copies."""

    view: awarding.CredentialView
    wallet_copies: list[WalletCopy]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.view, name)


def credential_with_copies(session: Session, grants: Grants, credential_id: uuid.UUID, *, urls: Urls) -> WithCopies:
    """A credential (for its issuer's admins and its learner) with the wallet copies taken of it."""
    credential = awarding.get_credential(session, grants, credential_id)
    return WithCopies(awarding.view(credential, urls), copies_of(session, credential.id))


def list_with_copies(session: Session, grants: Grants, *, urls: Urls, **filters: Any) -> Page[WithCopies]:
    """:func:`~app.services.issuing.awarding.list_credentials`, each with its wallet copies."""
    found = awarding.list_credentials(session, grants, urls=urls, **filters)
    copies = copies_by_credential(session, grants, [v.credential.id for v in found.items])
    items = [WithCopies(v, copies.get(v.credential.id, [])) for v in found.items]
    return Page(items, found.total, found.page, found.per_page)
