"""Server-rendered pages (French first, English available)."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Flask

bp = Blueprint("web", __name__)


@bp.get("/healthz")
def health():  # type: ignore[no-untyped-def]
    return {"status": "ok"}


def readable_json(value: Any) -> str:
    """A document as indented JSON to show in a page: real characters, escaped as page text like any other.

    Jinja's ``tojson`` writes ' < > & as ``\\u0027``... (safe inside a script), which readers see literally.
    """
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


def init_web(app: Flask) -> None:
    from app.web import (
        account,
        acting,
        admin,
        awards,
        badges,
        claims,
        contributions,
        csrf,
        dashboard,
        frameworks,
        i18n,
        issuer,
        issuer_clients,
        jobs,
        jury,
        offline_verifier,
        oid4vci,
        passwords,
        people,
        security_headers,
        session_cookie,
        signed_in,
        territory,
        tutor,
        vc_api,
        verification,
    )

    i18n.init_app(app)  # Flask-Babel: the page's language, _() and |day in templates
    app.add_template_filter(readable_json)
    security_headers.register(app)  # nosniff everywhere; CSP and Referrer-Policy on every page
    session_cookie.register(app)  # who is signed in: the server-side session the cookie names
    csrf.register(app)  # then every form's token, before any view of an unsafe method
    app.register_blueprint(bp)
    signed_in.register(app)  # every template's ``viewer``: name, learner acted for, menu by role
    app.register_blueprint(account.bp)  # /, /connexion, /deconnexion, /langue
    signed_in_pages = (contributions, claims, badges, tutor, acting, passwords, dashboard, territory, people)
    for pages_of in (*signed_in_pages, issuer, issuer_clients, awards, jobs, admin, jury):  # the signed-in application
        app.register_blueprint(pages_of.bp)
    app.register_blueprint(frameworks.bp)
    verification.register(app)  # credential documents, verification page, OB 2.0
    app.register_blueprint(offline_verifier.bp)  # /verifier-hors-ligne/: verify a compact signed badge offline
    app.register_blueprint(oid4vci.bp)  # wallets: OpenID4VCI issuer metadata, token, nonce, credential
    app.register_blueprint(vc_api.bp)  # other systems: W3C VC-API issue and verify
