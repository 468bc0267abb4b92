"""Issuer administrator pages: the issuer's profile and image, signing keys, achievements (image,
alignments, award rule, versions).

URLs under ``/emetteur`` (the hub ``/emetteur``).
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("pages_issuer", __name__)
