"""Pages: passwords (being built for issue 13)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("pages_passwords", __name__)
