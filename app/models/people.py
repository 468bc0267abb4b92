"""People, their memberships (role in a scope), facilitations and refresh tokens."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, new_id, utcnow
from app.models._types import enum_column


class ProfileType(str, enum.Enum):
    HABITANT_ENTREPRENEUR = "habitant_entrepreneur"
    AGENT_INNOVATEUR = "agent_innovateur"
    ELU = "elu"
    ETUDIANT_FACILITATEUR = "etudiant_facilitateur"
    BENEVOLE = "benevole"
    DEMANDEUR_EMPLOI = "demandeur_emploi"
    AUTRE = "autre"


class Role(str, enum.Enum):
    PLATFORM_ADMIN = "platform_admin"
    COORDINATOR = "coordinator"
    TUTOR = "tutor"
    LEARNER = "learner"
    ISSUER_ADMIN = "issuer_admin"
    JURY_OFFICER = "jury_officer"


class ScopeType(str, enum.Enum):
    PLATFORM = "platform"
    TERRITORY = "territory"
    PROJECT = "project"
    ISSUER = "issuer"
    CERTIFICATION = "certification"


# Which scope each role lives in; memberships are checked against it when created.
ROLE_SCOPES: dict[Role, ScopeType] = {
    Role.PLATFORM_ADMIN: ScopeType.PLATFORM,
    Role.COORDINATOR: ScopeType.TERRITORY,
    Role.TUTOR: ScopeType.PROJECT,
    Role.LEARNER: ScopeType.PROJECT,
    Role.ISSUER_ADMIN: ScopeType.ISSUER,
    Role.JURY_OFFICER: ScopeType.CERTIFICATION,
}


class Person(Base):
    __tablename__ = "people"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    profile_type: Mapped[ProfileType] = mapped_column(enum_column(ProfileType), default=ProfileType.AUTRE)
    is_assisted: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str] = mapped_column(String(8), default="fr")
    did: Mapped[str | None] = mapped_column(String(500))
    show_name_publicly: Mapped[bool] = mapped_column(Boolean, default=False)
    # When the person last answered "show my name on my badges' public pages?" (None: never asked yet).
    show_name_chosen_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("person_id", "role", "scope_type", "scope_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), index=True)
    role: Mapped[Role] = mapped_column(enum_column(Role))
    scope_type: Mapped[ScopeType] = mapped_column(enum_column(ScopeType))
    # Polymorphic scope: a territory, project, issuer or certification (framework competency) id;
    # None for the platform scope.
    scope_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("people.id"))


class Facilitation(Base):
    """A facilitator may act for an assisted learner (who may have no e-mail)."""

    __tablename__ = "facilitations"
    __table_args__ = (UniqueConstraint("facilitator_id", "learner_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    facilitator_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), index=True)
    learner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class RefreshToken(Base):
    """A refresh token, stored only as its SHA-256; rotation chains tokens of one family."""

    __tablename__ = "refresh_tokens"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), index=True)
    family_id: Mapped[uuid.UUID] = mapped_column(index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class WebSession(Base):
    """A signed-in browser: the SHA-256 of its cookie's random token, never the token itself."""

    __tablename__ = "web_sessions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]  # absolute: the idle limit is counted from last_seen_at
    # The assisted learner a facilitator acts for in this browser (issue 13, later pages).
    acting_for_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("people.id"))


class LinkPurpose(str, enum.Enum):
    INVITATION = "invitation"
    RESET = "reset"


class AccountLink(Base):
    """A single-use link sent by e-mail to choose a password: only its random token's SHA-256 is kept."""

    __tablename__ = "account_links"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), index=True)
    purpose: Mapped[LinkPurpose] = mapped_column(enum_column(LinkPurpose))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
