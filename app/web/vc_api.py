"""The W3C VC-API issuer and verifier services (POST /credentials/issue, /credentials/verify)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("vc_api", __name__)
