"""Issuer administrator pages: the approval queue, a manual award, bulk award from CSV (a job), and
the credentials issued (search, revoke, suspend, unsuspend).

URLs under ``/emetteur/attributions``, ``/emetteur/envois``, ``/emetteur/badges-emis``.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("pages_awards", __name__)
