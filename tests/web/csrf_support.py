"""Forms in tests carry their CSRF token, as a browser's do: read from a page the client opened."""

from __future__ import annotations

import re
from typing import Any

TOKEN = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def csrf_token(client: Any, page: str = "/connexion") -> str:
    """The token of the forms ``client`` is shown (its cookie set on the way)."""
    match = TOKEN.search(client.get(page).get_data(as_text=True))
    assert match, f"{page} shows no form with a CSRF token"
    return match.group(1)
