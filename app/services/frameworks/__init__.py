"""Frameworks: competency frameworks imported from files (RNCP, ESCO, CASE...), browsed, published.

Stands on identity; the file parsers live in ``app.importers``. Modules: ``imports`` (one
transaction per file), ``store`` (bulk rows and versions), ``query`` (lists, trees, search),
``publish`` (public URLs, alignments, CASE export) and ``fts`` (SQLite full-text index).
"""

from __future__ import annotations

from app.services.frameworks.fts import is_fts_table
from app.services.frameworks.imports import import_framework_file, import_uploads, sha256_of
from app.services.frameworks.publish import competency_view, export_cfpackage, get_by_case_id
from app.services.frameworks.query import framework_tree, get_framework, list_frameworks, search_competencies, tokens

__all__ = [
    "competency_view",
    "export_cfpackage",
    "framework_tree",
    "get_by_case_id",
    "get_framework",
    "import_framework_file",
    "import_uploads",
    "is_fts_table",
    "list_frameworks",
    "search_competencies",
    "sha256_of",
    "tokens",
]
