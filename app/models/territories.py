"""Territories and their projects."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, new_id, utcnow
from app.models._types import enum_column


class ExperimentationLevel(str, enum.Enum):
    COOPERATION = "cooperation"  # initier une dynamique de coopération
    MADE_IN_LOCAL = "made_in_local"  # produire « made in local »
    EXPERIMENTATION_SITE = "experimentation_site"  # créer un lieu d'expérimentation


class SocialFunction(str, enum.Enum):
    PRODUIRE = "produire"
    SE_NOURRIR = "se_nourrir"
    SE_LOGER = "se_loger"
    S_EDUQUER = "s_eduquer"
    S_EPANOUIR = "s_epanouir"
    SE_SOIGNER = "se_soigner"


class ProjectStatus(str, enum.Enum):
    PLANNED = "planned"
    ACTIVE = "active"
    COMPLETED = "completed"
    ARCHIVED = "archived"


class Territory(Base):
    __tablename__ = "territories"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    experimentation_level: Mapped[ExperimentationLevel | None] = mapped_column(enum_column(ExperimentationLevel))
    siren: Mapped[str | None] = mapped_column(String(9))
    insee_code: Mapped[str | None] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    projects: Mapped[list[Project]] = relationship(back_populates="territory")

    __mapper_args__ = {"version_id_col": version}


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    territory_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("territories.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    start_date: Mapped[date | None]
    end_date: Mapped[date | None]
    status: Mapped[ProjectStatus] = mapped_column(enum_column(ProjectStatus), default=ProjectStatus.ACTIVE)
    # A small ordered set of SocialFunction values; JSON keeps it in one row on both backends.
    social_functions: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    territory: Mapped[Territory] = relationship(back_populates="projects")

    __mapper_args__ = {"version_id_col": version}
