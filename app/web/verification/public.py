"""Public documents (no login): one URL per issued thing, HTML for people and JSON for machines.

Content negotiation: ``?format=json`` / ``?format=html`` first, then the Accept header — HTML
only when the client prefers ``text/html`` (browsers), JSON otherwise (``*/*``, curl, verifiers).
Every answer is ``Cache-Control: public`` with a short ``max-age`` where revocation must show
quickly (credentials, status lists, OB 2.0 assertions and revocation lists; the verification
page itself is revalidated by browsers on every view and kept 60 s by shared caches, so a
revoked badge never shows "genuine" to someone who saw it a minute ago), an ETag, ``Vary:
Accept, Accept-Language``, and ``Access-Control-Allow-Origin: *`` so browser-based verifiers
and wallets can read the JSON.

This module holds the shared helpers and the issuer, key, achievement and status-list URLs;
:mod:`app.web.verification.page` the credential's page and downloads; :mod:`app.web.verification.ob2` Open Badges 2.0.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any, TypeVar

from flask import Blueprint, Flask, Response, current_app, request
from werkzeug.wrappers import Response as BaseResponse

from app.db import db
from app.platform.urls import Urls
from app.problems import API_WORDS, problem
from app.runtime import runtime
from app.services.verification import public_docs, public_pages
from app.services.verification.verification import ReportCache
from app.web import pages
from app.web.i18n import Words, current_lang

bp = Blueprint("public", __name__)
R = TypeVar("R", bound=BaseResponse)

JSON_TYPES = ("application/json", "application/ld+json", "application/did+ld+json")
SHORT = 60  # revocation must show quickly: credentials, status lists, OB 2.0 assertions
LIVE = 0  # the verification page: browsers revalidate (ETag), shared caches keep it SHORT seconds
MEDIUM = 300  # issuer profiles, keys, achievements
LONG = 86400  # content that never changes at its URL (QR codes)


# ---------------------------------------------------------------------------------------------
# Shared helpers


def urls() -> Urls:
    return Urls(runtime().settings.public_base_url)


def now() -> datetime:
    return runtime().clock()


def report_cache() -> ReportCache:
    """This process's cache of verification reports on our own credentials (see ReportCache)."""
    cache = current_app.extensions.get("blason.report_cache")
    if cache is None:
        cache = current_app.extensions["blason.report_cache"] = ReportCache()
    return cache  # type: ignore[no-any-return]


def wants_html() -> bool:
    asked = request.args.get("format")
    if asked in ("json", "html"):
        return asked == "html"
    return request.accept_mimetypes.best_match([*JSON_TYPES, "text/html"]) == "text/html"


def cacheable(response: R, max_age: int, *, etag: bool = True) -> R:
    """Public caching headers, an ETag, and a 304 when the client already has this version."""
    response.headers["Cache-Control"] = (
        f"public, max-age={max_age}" if max_age else f"public, max-age=0, s-maxage={SHORT}, must-revalidate"
    )
    response.headers["Vary"] = "Accept, Accept-Language"
    response.headers["Access-Control-Allow-Origin"] = "*"
    if etag and response.status_code in (200, 410):
        response.add_etag()
        response.make_conditional(request)
    return response


def json_response(document: Any, *, max_age: int, status: int = 200) -> BaseResponse:
    """A JSON document; ``application/ld+json`` when the client asked for it by name."""
    mimetype = "application/ld+json" if "ld+json" in (request.headers.get("Accept") or "") else "application/json"
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return cacheable(Response(body, status=status, mimetype=mimetype), max_age)


def words() -> Words:
    return Words(current_lang())


def render_page(template: str, *, max_age: int, status: int = 200, **context: Any) -> BaseResponse:
    """A public page (through the one page door, :func:`app.web.pages.render_page`), cached ``max_age`` seconds."""
    return cacheable(pages.render_page(template, status=status, **context), max_age)


def missing(detail: str = "Nothing is published at this address.") -> BaseResponse:
    if wants_html():
        response = render_page("public/missing.html", max_age=SHORT, status=404)
        return response
    return problem(404, "not-found", API_WORDS("problem.not_found"), detail)


def gone(detail: str) -> BaseResponse:
    return problem(410, "gone", API_WORDS("problem.gone"), detail)


def image_response(
    image: public_pages.Image, *, max_age: int, filename: str | None = None, download: bool = False
) -> BaseResponse:
    response = Response(image.data, mimetype=image.media_type)
    if filename:
        response.headers["Content-Disposition"] = f'{"attachment" if download else "inline"}; filename="{filename}"'
    if image.media_type == "image/svg+xml":
        # An SVG opened on its own is a document: nothing in it may run or load.
        response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    return cacheable(response, max_age)


# ---------------------------------------------------------------------------------------------
# Issuers and their keys


@bp.get("/issuers/<uuid:issuer_id>")
def issuer(issuer_id: uuid.UUID) -> BaseResponse:
    """The issuer id: its controller document (Multikeys) and profile; an HTML profile for people."""
    view = public_pages.issuer_view(db.session, issuer_id)
    if view is None:
        return missing("No issuer has this id.")
    if not wants_html():
        return json_response(public_docs.issuer_document(view.issuer, view.keys, urls()), max_age=MEDIUM)
    return render_page(
        "public/issuer.html",
        view=view,
        urls=urls(),
        max_age=MEDIUM,
        key_states=[public_docs.key_state(k) for k in view.keys],
    )


@bp.get("/issuers/<uuid:issuer_id>/image")
def issuer_image(issuer_id: uuid.UUID) -> BaseResponse:
    image = public_pages.issuer_image(db.session, runtime().storage, issuer_id)
    return image_response(image, max_age=MEDIUM) if image else missing("This issuer has no image.")


@bp.get("/issuers/<uuid:issuer_id>/jwks.json")
def jwks(issuer_id: uuid.UUID) -> BaseResponse:
    """Every public key of the issuer as a JWK Set, with its state (kept SHORT: compromise shows fast)."""
    view = public_pages.issuer_view(db.session, issuer_id)
    if view is None:
        return problem(404, "not-found", API_WORDS("problem.not_found"), "No issuer has this id.")
    body = json.dumps(public_docs.jwks_document(view.issuer, view.keys, urls()), separators=(",", ":"))
    return cacheable(Response(body, mimetype="application/jwk-set+json"), SHORT)


@bp.get("/issuers/<uuid:issuer_id>/did.json")
def did_document(issuer_id: uuid.UUID) -> BaseResponse:
    """The DID document of the issuer's did:web (where did:web resolution fetches it)."""
    view = public_pages.issuer_view(db.session, issuer_id)
    if view is None:
        return problem(404, "not-found", API_WORDS("problem.not_found"), "No issuer has this id.")
    document = public_docs.did_document(view.issuer, view.keys, urls())
    mimetype = "application/did+ld+json" if "did+ld+json" in (request.headers.get("Accept") or "") else None
    response = json_response(document, max_age=SHORT)
    if mimetype:
        response.mimetype = mimetype
    return response


@bp.get("/issuers/<uuid:issuer_id>/keys/<kid>")
def key(issuer_id: uuid.UUID, kid: str) -> BaseResponse:
    """A bare JWK (VC-JWT ``kid``) or a Multikey document (Data Integrity)."""
    found = public_pages.issuer_key(db.session, issuer_id, kid)
    if found is None:
        return missing("No key of this issuer has this id.")
    row, key_row = found
    document = public_docs.key_document(row, key_row, urls())
    if not wants_html():
        return json_response(document, max_age=MEDIUM)
    return render_page(
        "public/document.html",
        title=words().key,
        document=document,
        max_age=MEDIUM,
        facts=_key_facts(public_docs.key_state(key_row)),
        back=(urls().issuer(row.id), row.name),
    )


def _key_facts(state: public_docs.KeyState) -> list[tuple[str, str]]:
    t = words()
    status = t.get(f"key_status_{state.status}")
    return [
        (t.algorithm, state.algorithm),
        (t.kind, state.purpose),
        (t.status, status),
        (t.created, t.date(state.created_at)),
    ]


# ---------------------------------------------------------------------------------------------
# Achievements and status lists


@bp.get("/achievements/<uuid:achievement_id>/v/<int:version>")
def achievement(achievement_id: uuid.UUID, version: int) -> BaseResponse:
    loaded = public_docs.achievement_version(db.session, achievement_id, version)
    if loaded is None:
        return missing("No badge has this id.")
    document = public_docs.achievement_document(*loaded, urls())
    if not wants_html():
        return json_response(document, max_age=MEDIUM)
    achievement_row, version_row, _alignments = loaded
    issuer_row = public_pages.issuer_view(db.session, achievement_row.issuer_id)
    return render_page(
        "public/achievement.html",
        document=document,
        version=version_row,
        achievement=achievement_row,
        issuer=issuer_row.issuer if issuer_row else None,
        urls=urls(),
        max_age=MEDIUM,
    )


@bp.get("/achievements/<uuid:achievement_id>/v/<int:version>/image")
def achievement_image(achievement_id: uuid.UUID, version: int) -> BaseResponse:
    image = public_pages.achievement_image(db.session, runtime().storage, achievement_id, version)
    if image is None:
        return missing("No badge has this id.")
    extension = "png" if image.media_type == "image/png" else "svg"
    return image_response(image, max_age=MEDIUM, filename=f"badge-{achievement_id}-v{version}.{extension}")


@bp.get("/status/<uuid:list_id>")
def status_list(list_id: uuid.UUID) -> BaseResponse:
    """The signed BitstringStatusListCredential, re-signed at every revocation or suspension."""
    row = public_pages.status_list(db.session, list_id)
    document = public_docs.status_list_document(row) if row else None
    if row is None or document is None:
        return missing("No status list has this id.")
    if not wants_html():
        return json_response(document, max_age=SHORT)
    t = words()
    facts = [(t.kind, t.get(f"purpose_{row.purpose.value}")), (t.updated, t.date(row.updated_at))]
    return render_page(
        "public/document.html",
        title=t.status_list,
        intro=t.status_list_more,
        facts=facts,
        document=document,
        back=(urls().issuer(row.issuer_id), t.issuer_page),
        max_age=SHORT,
    )


def register(app: Flask) -> None:
    """Register every public blueprint (documents, verification page and form, Open Badges 2.0)."""
    from app.web.verification import form as verify_form, ob2, page as verify_page, trust

    for blueprint in (bp, verify_page.bp, verify_form.bp, ob2.bp, trust.bp):
        app.register_blueprint(blueprint)
