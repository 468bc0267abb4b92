"""Coordinator pages: people of the territory (search, a person's page, invitation, assisted accounts
and their facilitators, roles).

URLs under ``/personnes``.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("pages_people", __name__)
