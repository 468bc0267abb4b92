"""Coordinator pages: the territory, its projects (social functions, tutors), review rules and scale.

URLs under ``/territoire``.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("pages_territory", __name__)
