"""Platform administrator pages: framework imports (a job), frameworks and their versions, the review
rules and scale of a framework.

URLs under ``/administration``.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("pages_admin", __name__)
