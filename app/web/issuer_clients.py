"""Issuer administrator pages: the programs allowed to use the W3C VC-API for an issuer.

``/emetteur/<id>/clients-api`` lists the issuer's clients and registers a new one (a name, and
what it may do: sign badges as the issuer, verify badges); the answer shows the client's id and
secret once, never again (Blason keeps only its hash). ``.../<client>/revoquer`` says what
revoking does, then does it. Every page calls :mod:`app.services.issuing.api_clients` with the
caller's grants, as the API does; another issuer's client is answered as unknown.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, Response, redirect, request
from werkzeug.wrappers import Response as BaseResponse

from app.db import db
from app.runtime import runtime
from app.services.issuing import api_clients, issuer_admin
from app.services.issuing.api_clients import CLIENT_SCOPES
from app.web import pages, signed_in as who
from app.web.i18n import Words, current_lang
from app.web.issuer_forms import Form
from app.web.request_args import lang_query, page_number, pages_count
from app.web.signed_in import signed_in

bp = Blueprint("pages_issuer_clients", __name__)

PER_PAGE = 20


def _page(template: str, issuer: Any, *, status: int = 200, **context: Any) -> Response:
    done = request.args.get("fait")
    response = pages.render_page(
        template,
        status=status,
        lq=lang_query,
        issuer=issuer,
        scopes=CLIENT_SCOPES,
        done=done if done == "revoque" else None,
        base_url=runtime().settings.public_base_url.rstrip("/"),
        **context,
    )
    response.headers["Cache-Control"] = "no-store"  # a page may carry a secret shown once
    return response


def _list_page(issuer: Any, form: Form | None = None, *, status: int = 200, **context: Any) -> Response:
    found = api_clients.list_clients(db.session, who.grants(), issuer.id, page=page_number(), per_page=PER_PAGE)
    return _page(
        "web/issuer/clients.html",
        issuer,
        status=status,
        found=found,
        pages_count=pages_count(found.total, PER_PAGE),
        form=form or Form({"nom": "", "droits": list(CLIENT_SCOPES)}),
        **context,
    )


def _read_form() -> Form:
    t = Words(current_lang())
    form = Form({"nom": request.form.get("nom", "").strip(), "droits": request.form.getlist("droits")})
    if not form.values["nom"]:
        form.errors["nom"] = t.vcapi_error_name
    elif len(form.values["nom"]) > api_clients.MAX_NAME:
        form.errors["nom"] = t.get("vcapi_error_name_long", n=api_clients.MAX_NAME)
    if not form.values["droits"] or any(s not in CLIENT_SCOPES for s in form.values["droits"]):
        form.errors["droits"] = t.vcapi_error_scopes
    return form


@bp.route("/emetteur/<uuid:issuer_id>/clients-api", methods=["GET", "POST"])
@signed_in
def clients(issuer_id: uuid.UUID) -> Response:
    """The issuer's VC-API clients; the form registers one and shows its secret this once."""
    grants = who.grants()
    issuer = issuer_admin.managed_issuer(db.session, grants, issuer_id)
    if request.method == "GET":
        return _list_page(issuer)
    form = _read_form()
    if form.errors:
        return _list_page(issuer, form, status=422)
    rt = runtime()
    created = api_clients.create_client(
        db.session,
        grants,
        issuer.id,
        form.values["nom"],
        form.values["droits"],
        passwords=rt.passwords,
        settings=rt.issuing,
    )
    db.session.commit()
    # Not a redirect: the secret exists only in this answer (no-store), never in a URL or a session.
    return _page("web/issuer/client_created.html", issuer, created=created.client, secret=created.secret)


@bp.route("/emetteur/<uuid:issuer_id>/clients-api/<uuid:client_ref>/revoquer", methods=["GET", "POST"])
@signed_in
def revoke(issuer_id: uuid.UUID, client_ref: uuid.UUID) -> BaseResponse:
    """Say what revoking does; on confirmation, the client's secret and tokens stop working."""
    grants = who.grants()
    issuer = issuer_admin.managed_issuer(db.session, grants, issuer_id)
    client = api_clients.get_client(db.session, grants, issuer.id, client_ref)
    if request.method == "GET":
        return _page("web/issuer/client_revoke.html", issuer, client=client)
    api_clients.revoke_client(db.session, grants, issuer.id, client.id, settings=runtime().issuing)
    db.session.commit()
    return redirect(f"/emetteur/{issuer.id}/clients-api" + lang_query(fait="revoque"), 303)
