"""gunicorn's logger with credentials taken out of the access log (``gunicorn.conf.py`` names it)."""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from app.access_log import redact_atoms


class GunicornLogger(Logger):  # type: ignore[misc]
    """Every access-log atom (request line, query, referer, headers) goes through ``redact_atoms``."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, object]:
        return redact_atoms(super().atoms(resp, req, environ, request_time))
