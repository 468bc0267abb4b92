"""gunicorn settings, read by ``gunicorn wsgi:app`` started from this folder (or ``-c gunicorn.conf.py``).

The access log never shows credentials: dossier download tokens (and any ``*token*``,
``password``, ``secret``, ``signature`` or ``api_key`` query value) are written ``[redacted]``.
"""

logger_class = "app.gunicorn_logger.GunicornLogger"
