"""CNAM jury officer pages: find a learner, request a jury dossier, consent, generate (a job),
download, regenerate, check a ZIP sent back, the cohort of a certification and its CSV.

URLs under ``/jury``.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("pages_jury", __name__)
