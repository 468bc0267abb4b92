"""What the pages read from the address, written once: the page number of a list (and how many pages
it has), an id, and the query string of the next link (which keeps a language asked in the address)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from flask import request

from app.web.i18n import LANGS


def page_number(name: str = "page", *, top: int = 1_000_000, values: Mapping[str, Any] | None = None) -> int:
    """The page asked in ``name`` (of the address, or of ``values``), from 1 to ``top``; 1 when unreadable."""
    source = request.args if values is None else values
    try:
        return max(1, min(int(source.get(name, 1)), top))
    except ValueError:
        return 1


def pages_count(total: int, per_page: int) -> int:
    """How many pages ``total`` items fill, ``per_page`` a page; at least one."""
    return max(1, -(-total // per_page))


def read_uuid(value: Any) -> uuid.UUID | None:
    """The id written in ``value``; ``None`` when there is none or it is not an id."""
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def lang_query(**more: Any) -> str:
    """A query string keeping ``?lang=`` (and ``more``, empty values left out), with its ``?``; empty when
    there is nothing."""
    pairs = [(k, str(v)) for k, v in more.items() if v]
    if request.args.get("lang") in LANGS:
        pairs.append(("lang", str(request.args["lang"])))
    return "?" + urlencode(pairs) if pairs else ""
