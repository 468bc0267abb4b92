"""A background job's page: its progress (refreshed by a small script, or a refresh link without one)
and, at the end, its outcome in words and where to go next.

URL ``/taches/<id>``.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("pages_jobs", __name__)
