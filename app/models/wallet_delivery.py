"""Credentials delivered into wallets (OpenID4VCI): offers and the copies they produced.

Every secret handed out (pre-authorized code, transaction code, access token, nonce) is kept only
as its SHA-256: a copy of the database lets nobody take a credential.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, new_id, utcnow


class WalletOffer(Base):
    """A credential offer (pre-authorized code flow) for one credential; its code works once."""

    __tablename__ = "wallet_offers"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    credential_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("credentials.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    tx_code_hash: Mapped[str | None] = mapped_column(String(64))
    # The credential configurations offered (OpenBadgeCredential_ldp_vc, ..._jwt_vc_json).
    configuration_ids: Mapped[list[Any]] = mapped_column(default=list)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    # Wrong transaction codes sent with this offer's code; the offer dies after a few.
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class WalletAccessToken(Base):
    """A short-lived bearer token the token endpoint gave for an offer's code."""

    __tablename__ = "wallet_access_tokens"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    offer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("wallet_offers.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class WalletNonce(Base):
    """A ``c_nonce`` from the nonce endpoint: a key proof must carry it, and it works once."""

    __tablename__ = "wallet_nonces"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    nonce_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]


class WalletCopy(Base):
    """A credential signed for a holder's wallet: the same award, bound to the holder's DID."""

    __tablename__ = "wallet_copies"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    credential_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("credentials.id"), index=True)
    offer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("wallet_offers.id"), index=True)
    holder_did: Mapped[str] = mapped_column(Text)
    # ldp_vc (the document with its Data Integrity proof) or jwt_vc_json (the compact JWT).
    format: Mapped[str] = mapped_column(String(16))
    document: Mapped[dict[str, Any] | None] = mapped_column()
    jwt: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
