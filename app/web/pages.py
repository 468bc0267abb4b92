"""The one door of every HTML page: :func:`render_page`.

A page is rendered in the reader's language (``?lang=``, then Accept-Language, then French) with a
link to the same page in the other language. Its security headers (Content-Security-Policy with
``frame-ancestors 'none'``, Referrer-Policy, X-Content-Type-Options) are set in one place,
:mod:`app.web.security_headers`, for every response of the app — pages rendered here and those we
do not render ourselves (the Swagger UI of ``/api/v1/docs``) alike.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Response, render_template, request

from app.web.i18n import LANGS, Words, current_lang


def render_page(template: str, *, status: int = 200, **context: Any) -> Response:
    """Render ``template`` as an HTML page in the reader's language, with a link to the other one."""
    lang = current_lang()
    other = LANGS[1 - LANGS.index(lang)]
    other_url = request.path + "?" + urlencode({**request.args.to_dict(), "lang": other})
    html = render_template(template, lang=lang, t=Words(lang), other_lang=other, other_url=other_url, **context)
    return Response(html, status=status, mimetype="text/html")
