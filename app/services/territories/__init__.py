"""Territories: learning territories and their projects.

Stands on identity. Modules: ``territories``, ``dashboard`` (the figures of a territory or the platform).
"""

from __future__ import annotations

from app.services.territories.territories import (
    create_project,
    create_territory,
    get_project,
    get_territory,
    list_projects,
    list_territories,
    update_project,
    update_territory,
)

__all__ = [
    "create_project",
    "create_territory",
    "get_project",
    "get_territory",
    "list_projects",
    "list_territories",
    "update_project",
    "update_territory",
]
