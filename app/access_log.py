"""Request logs without secrets: query values that are credentials are replaced before logging.

A dossier download link carries its token in the query string (it must work when clicked in an
e-mail), and request lines are logged whole: by werkzeug's development server (the ``werkzeug``
logger, filtered here, installed by ``create_app``) and by gunicorn's access log in production
(``GunicornLogger``, named by ``gunicorn.conf.py``).
"""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"
# Any parameter whose name says it is a credential: token, access_token, resetToken, password, ...
_SECRET_QUERY = re.compile(
    r"(?i)((?:^|[?&;])[\w.\-]*(?:token|password|passwd|secret|signature|api[_\-]?key)=)"
    r"[^&;\s\"'#]*"
)
# The pages of an e-mailed password link carry its token in the path (issue 13's accounts pages).
_SECRET_PATH = re.compile(r"(/(?:invitation|mot-de-passe)/)[^/?&;\s\"'#]+")
# gunicorn names request headers "{name}i"; their values are hidden whole.
_SECRET_HEADER_ATOMS = {"{authorization}i", "{cookie}i", "{proxy-authorization}i", "{x-api-key}i"}


def redact(text: str) -> str:
    """Replace the value of every credential-like query parameter, and a link token in a path, in ``text``."""
    return _SECRET_PATH.sub(r"\1" + REDACTED, _SECRET_QUERY.sub(r"\1" + REDACTED, text))


class RedactSecrets(logging.Filter):
    """Rewrite a log record whose message shows a credential in a query string."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed record is logging's to report, not ours
            return True
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


REDACT_SECRETS = RedactSecrets()


def install() -> None:
    """Filter the development server's request log (idempotent)."""
    logging.getLogger("werkzeug").addFilter(REDACT_SECRETS)


def redact_atoms(atoms: dict[str, object]) -> dict[str, object]:
    """gunicorn access-log atoms without credentials: query values redacted, secret headers hidden."""
    return {
        name: REDACTED if name.lower() in _SECRET_HEADER_ATOMS else redact(value) if isinstance(value, str) else value
        for name, value in atoms.items()
    }
