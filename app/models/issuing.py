"""Issuers, their signing keys and status lists; achievements (versioned) and credentials."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, new_id, utcnow
from app.models._types import enum_column


class KeyPurpose(str, enum.Enum):
    DATA_INTEGRITY = "data_integrity"  # Ed25519, eddsa-rdfc-2022
    VC_JWT = "vc_jwt"  # P-256, ES256
    OB2 = "ob2"  # RSA-2048, RS256


class KeyStatus(str, enum.Enum):
    ACTIVE = "active"
    RETIRED = "retired"
    COMPROMISED = "compromised"


class IssuerIdentifier(str, enum.Enum):
    """The id an issuer's new OB 3.0 credentials carry: its https URL, or the did:web derived from it."""

    HTTPS = "https"
    DID_WEB = "did:web"


class StatusPurpose(str, enum.Enum):
    REVOCATION = "revocation"
    SUSPENSION = "suspension"


class AwardMode(str, enum.Enum):
    AUTO = "auto"
    APPROVAL = "approval"
    MANUAL = "manual"


class CredentialState(str, enum.Enum):
    PROPOSED = "proposed"
    ISSUED = "issued"
    REVOKED = "revoked"
    SUSPENDED = "suspended"
    DECLINED = "declined"


class Issuer(Base):
    __tablename__ = "issuers"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(2000))
    email: Mapped[str | None] = mapped_column(String(320))
    description: Mapped[str] = mapped_column(Text, default="")
    image_sha256: Mapped[str | None] = mapped_column(ForeignKey("stored_files.sha256"))
    territory_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("territories.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # Credentials already issued keep the id they were signed with; OB 2.0 documents always use https.
    identifier: Mapped[IssuerIdentifier] = mapped_column(
        enum_column(IssuerIdentifier), default=IssuerIdentifier.HTTPS, server_default=IssuerIdentifier.HTTPS.value
    )

    __mapper_args__ = {"version_id_col": version}


class SigningKey(Base):
    """An issuer key; the private half only encrypted, under a named key-encryption key."""

    __tablename__ = "signing_keys"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    issuer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("issuers.id"), index=True)
    purpose: Mapped[KeyPurpose] = mapped_column(enum_column(KeyPurpose))
    algorithm: Mapped[str] = mapped_column(String(16))
    kid: Mapped[str] = mapped_column(String(200), unique=True)
    public_jwk: Mapped[dict[str, Any]] = mapped_column()
    public_key_multibase: Mapped[str | None] = mapped_column(String(200))
    public_pem: Mapped[str] = mapped_column(Text)
    encrypted_private_key: Mapped[bytes] = mapped_column(LargeBinary)
    kek_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[KeyStatus] = mapped_column(enum_column(KeyStatus), default=KeyStatus.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None]
    compromised_at: Mapped[datetime | None]


class StatusList(Base):
    """A Bitstring status list of one issuer and purpose, stored as its raw bits."""

    __tablename__ = "status_lists"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    issuer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("issuers.id"), index=True)
    purpose: Mapped[StatusPurpose] = mapped_column(enum_column(StatusPurpose))
    size: Mapped[int] = mapped_column(Integer, default=131072)
    next_index: Mapped[int] = mapped_column(Integer, default=0)
    bits: Mapped[bytes] = mapped_column(LargeBinary)
    # One bit per index already handed out (indexes are random and never reused); only the
    # revocation list allocates, its suspension twin reuses the same index.
    allocated: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The suspension list paired with a revocation list (and back): same size, same indexes.
    twin_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("status_lists.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    signed_credential: Mapped[dict[str, Any] | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class Achievement(Base):
    """A badge class; its content lives in versions (issued credentials keep theirs)."""

    __tablename__ = "achievements"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    issuer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("issuers.id"), index=True)
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    award_mode: Mapped[AwardMode] = mapped_column(enum_column(AwardMode), default=AwardMode.MANUAL)
    is_archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The optimistic lock sent as the ETag: it counts every edit, while ``current_version`` only
    # counts content versions (an edit before the first award changes the current one in place).
    lock_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": lock_version}


class AchievementVersion(Base):
    __tablename__ = "achievement_versions"
    __table_args__ = (UniqueConstraint("achievement_id", "version"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    achievement_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("achievements.id"), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    criteria_narrative: Mapped[str] = mapped_column(Text, default="")
    achievement_type: Mapped[str] = mapped_column(String(64), default="Badge")
    image_sha256: Mapped[str | None] = mapped_column(ForeignKey("stored_files.sha256"))
    tags: Mapped[list[Any]] = mapped_column(default=list)
    result_descriptions: Mapped[list[Any]] = mapped_column(default=list)
    # {"type": "all"|"at_least"|"manual", "k": int, "competencyIds": [...], "minLevel": str,
    #  "minHours": number}
    award_rule: Mapped[dict[str, Any]] = mapped_column(default=dict)
    valid_for_days: Mapped[int | None] = mapped_column(Integer)
    first_awarded_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AwardRuleCompetency(Base):
    """A competency an achievement version's award rule looks at (found from standing events)."""

    __tablename__ = "award_rule_competencies"
    __table_args__ = (UniqueConstraint("achievement_version_id", "competency_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    achievement_version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("achievement_versions.id"), index=True)
    competency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("competencies.id"), index=True)


class AchievementAlignment(Base):
    __tablename__ = "achievement_alignments"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    achievement_version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("achievement_versions.id"), index=True)
    competency_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("competencies.id"))
    alignment: Mapped[dict[str, Any]] = mapped_column()


class Credential(Base):
    """One award of an achievement version; every signed form is stored, never recomputed."""

    __tablename__ = "credentials"
    __table_args__ = (
        UniqueConstraint("status_list_id", "status_index"),
        UniqueConstraint("issuer_id", "idempotency_key"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    issuer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("issuers.id"), index=True)
    achievement_version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("achievement_versions.id"), index=True)
    learner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), index=True)
    state: Mapped[CredentialState] = mapped_column(enum_column(CredentialState), default=CredentialState.PROPOSED)
    short_code: Mapped[str] = mapped_column(String(16), unique=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    recipient_hash: Mapped[str | None] = mapped_column(String(100))
    recipient_salt: Mapped[str | None] = mapped_column(String(64))
    recipient_did: Mapped[str | None] = mapped_column(String(500))
    awarded_at: Mapped[datetime] = mapped_column(default=utcnow)
    valid_from: Mapped[datetime | None]
    valid_until: Mapped[datetime | None]
    ob3_credential: Mapped[dict[str, Any] | None] = mapped_column()
    ob3_jwt: Mapped[str | None] = mapped_column(Text)
    ob2_assertion: Mapped[dict[str, Any] | None] = mapped_column()
    ob2_jws: Mapped[str | None] = mapped_column(Text)
    status_list_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("status_lists.id"))
    status_index: Mapped[int | None] = mapped_column(Integer)
    # The suspension twin of the revocation list; the credential uses the same index in it.
    suspension_list_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("status_lists.id"))
    # manual, auto, bulk: how the award came about (approval keeps the original origin).
    origin: Mapped[str] = mapped_column(String(16), default="manual")
    # What a proposal will be issued with (evidence, result, narrative) once approved.
    award_data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The learner's choice for this badge's public page; None follows their profile setting.
    show_name: Mapped[bool | None] = mapped_column(Boolean)
    signing_key_ids: Mapped[list[Any]] = mapped_column(default=list)
    revoked_at: Mapped[datetime | None]
    suspended_at: Mapped[datetime | None]
    status_reason: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("people.id"))
    # The optimistic lock sent as the ETag of /me/badges/{id}: every change counts (the learner's
    # name choice, and the issuer's revocation or suspension alike).
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}
