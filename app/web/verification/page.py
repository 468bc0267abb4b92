"""The credential's URL — where a QR code lands — and its downloads, short URL and public evidence.

``/credentials/{id}`` is the OB 3.0 credential id: a browser gets the verification page (the
verdict computed live from our own documents, no network), a machine the signed credential
(``application/vc+jwt`` in Accept: the VC-JWT). Downloads: ``.json`` and ``.jwt`` (attachments),
``/jwt`` (text), ``/badge.png`` and ``/badge.svg`` (baked), ``/qr.svg`` and ``/qr.png`` (the
short URL ``/c/{code}``, which answers 303 to the page). ``/evidence/{id}``: a public evidence item
(page, JSON, file, photo preview), which the verification page lists and shows.
"""

from __future__ import annotations

import uuid

from flask import Blueprint, Response, current_app, redirect, request
from sqlalchemy.engine import Engine
from werkzeug.http import generate_etag
from werkzeug.wrappers import Response as BaseResponse

from app.db import database_of, db
from app.platform.filenames import slug
from app.platform.storage import iter_file
from app.problems import API_WORDS, problem
from app.runtime import runtime
from app.services.verification import public_docs, public_pages
from app.web import session_cookie
from app.web.contributions import size_text
from app.web.i18n import current_lang
from app.web.verification.public import (
    LIVE,
    LONG,
    SHORT,
    cacheable,
    gone,
    image_response,
    json_response,
    missing,
    now,
    render_page,
    report_cache,
    urls,
    wants_html,
    words,
)

bp = Blueprint("verify_page", __name__)

JWT_TYPES = ("application/vc+jwt", "application/jwt")


def _credential(credential_id: uuid.UUID):  # type: ignore[no-untyped-def]
    return public_pages.public_credential(db.session, credential_id)


FORMATS = ("html", "json", "jwt")  # the documented ?format= values


def _wants_jwt() -> bool:
    """``?format=jwt``, or an Accept header that names a JWT type itself and prefers it.

    ``*/*`` (what curl, requests and fetch send) never means the JWT: a wildcard gets the JSON.
    """
    asked = request.args.get("format")
    if asked is not None:
        return asked == "jwt"
    accept = request.accept_mimetypes
    named = any(value.lower() in JWT_TYPES for value, _quality in accept)
    return named and accept.best_match(["application/json", "text/html", *JWT_TYPES]) in JWT_TYPES


def _jwt_response(token: str, *, mimetype: str, filename: str | None = None) -> BaseResponse:
    response = Response(token, mimetype=mimetype)
    if filename:
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return cacheable(response, SHORT)


@bp.get("/credentials/<uuid:credential_id>")
def credential(credential_id: uuid.UUID) -> BaseResponse:
    """The verification page (HTML), the signed OB 3.0 credential (JSON) or its VC-JWT."""
    asked = request.args.get("format")
    if asked is not None and asked not in FORMATS:
        detail = "format must be html, json or jwt."
        return problem(
            400,
            "bad-request",
            API_WORDS("problem.invalid_request"),
            detail,
            [{"pointer": "#/query/format", "detail": detail}],
        )
    if not _wants_jwt() and wants_html():
        return _page(credential_id)
    found = _credential(credential_id)
    if found is None:
        return missing("No badge has this id.")
    if _wants_jwt():
        if not found.ob3_jwt:
            return missing("This badge has no VC-JWT form.")
        return _jwt_response(found.ob3_jwt, mimetype="application/vc+jwt")
    return json_response(public_docs.credential_document(found), max_age=SHORT)


def page_cache() -> public_pages.RenderedPages:
    """This process's rendered verification pages (see RenderedPages)."""
    cache = current_app.extensions.get("blason.rendered_pages")
    if cache is None:
        cache = current_app.extensions["blason.rendered_pages"] = public_pages.RenderedPages()
    return cache  # type: ignore[no-any-return]


CACHED_QUERY = ("lang", "format")  # any other query is rendered, never kept (no cache flooding)


def _page(credential_id: uuid.UUID) -> BaseResponse:
    """The verification page: kept rendered while nothing it shows has changed (one statement says so).

    The key is taken before the page is built, so a write in between makes a page newer than its
    key (the next request renders again), never the reverse. Signed-in readers get their own
    header (name, menu, forms): their pages are rendered every time and never kept.
    """
    cache = page_cache()
    keep = session_cookie.current() is None and all(name in CACHED_QUERY for name in request.args)
    key: tuple[object, ...] | None = None
    if keep:
        known = cache.evidence_of(credential_id)
        # A page seen before is checked outside the request's unit of work (a hit opens none);
        # a first one inside it, after its evidence ids, so that the page read is never older.
        engine = _engine() if known is not None else None
        if known is None:
            known = public_pages.credential_evidence_ids(db.session, credential_id, urls())
            cache.remember_evidence(credential_id, known)
        state = public_pages.page_state(db.session, credential_id, known, engine=engine)
        if state is not None:
            key = (credential_id, current_lang(), request.query_string, *public_pages.page_key(state, now()))
            hit = cache.get(key)
            if hit is not None:
                return _rendered(hit.html, hit.etag)
    found = _credential(credential_id)
    if found is None:
        return missing("No badge has this id.")
    view = public_pages.credential_page(db.session, found, urls=urls(), now=now(), cache=report_cache())
    response = render_page("public/credential.html", view=view, size_text=size_text, max_age=LIVE)
    if key is not None and response.status_code == 200:
        html = response.get_data()
        cache.put(key, html, generate_etag(html))
    return response


def _engine() -> Engine | None:
    """The engine the request's sessions are bound to, when it is one (a test binds them to its connection)."""
    bind = database_of(current_app).factory.kw.get("bind")
    return bind if isinstance(bind, Engine) else None


def _rendered(html: bytes, etag: str) -> BaseResponse:
    response = Response(html, mimetype="text/html")
    response.set_etag(etag)
    return cacheable(response, LIVE)  # 304 when the reader already has it


@bp.get("/credentials/<uuid:credential_id>.json")
def credential_json(credential_id: uuid.UUID) -> BaseResponse:
    """The signed OB 3.0 credential as a file to keep."""
    found = _credential(credential_id)
    if found is None:
        return missing("No badge has this id.")
    response = json_response(public_docs.credential_document(found), max_age=SHORT)
    response.headers["Content-Disposition"] = f'attachment; filename="badge-{credential_id}.json"'
    return response


@bp.get("/credentials/<uuid:credential_id>.jwt")
def credential_jwt_file(credential_id: uuid.UUID) -> BaseResponse:
    found = _credential(credential_id)
    token = public_docs.credential_jwt(found) if found else None
    if token is None:
        return missing("This badge has no VC-JWT form.")
    return _jwt_response(token, mimetype="application/vc+jwt", filename=f"badge-{credential_id}.jwt")


@bp.get("/credentials/<uuid:credential_id>/jwt")
def credential_jwt(credential_id: uuid.UUID) -> BaseResponse:
    """The VC-JWT as text, readable in a browser."""
    found = _credential(credential_id)
    token = public_docs.credential_jwt(found) if found else None
    if token is None:
        return missing("This badge has no VC-JWT form.")
    return _jwt_response(token, mimetype="text/plain")


@bp.get("/credentials/<uuid:credential_id>/badge.<any(png, svg):extension>")
def baked(credential_id: uuid.UUID, extension: str) -> BaseResponse:
    """The badge image with the signed credential baked in (only while the badge is valid)."""
    return _baked(credential_id, extension, ob2=False)


@bp.get("/credentials/<uuid:credential_id>/badge-ob2.svg")
def baked_ob2(credential_id: uuid.UUID) -> BaseResponse:
    """The SVG with the signed OB 2.0 assertion baked in, for tools that read only OB 2.0."""
    return _baked(credential_id, "svg", ob2=True)


def _baked(credential_id: uuid.UUID, extension: str, *, ob2: bool) -> BaseResponse:
    found = _credential(credential_id)
    if found is None:
        return missing("No badge has this id.")
    if ob2 and not found.ob2_jws:
        return missing("This badge has no signed Open Badges 2.0 form.")
    if found.state.value != "issued":
        return cacheable(gone(f"This badge is {found.state.value}: it is no longer handed out as an image."), SHORT)
    data = public_pages.baked_badge(db.session, runtime().storage, found, extension, urls=urls(), ob2=ob2)
    name = slug(public_pages.badge_name(db.session, found), fallback="badge") + ("-ob2" if ob2 else "")
    image = public_pages.Image(data, "image/png" if extension == "png" else "image/svg+xml", None)
    return image_response(image, max_age=SHORT, filename=f"{name}.{extension}", download=True)


@bp.get("/credentials/<uuid:credential_id>/qr.<any(png, svg):extension>")
def qr(credential_id: uuid.UUID, extension: str) -> BaseResponse:
    """The QR code of the short URL (inline; ``?download=1`` for a file)."""
    found = _credential(credential_id)
    if found is None:
        return missing("No badge has this id.")
    target = urls().short(found.short_code)
    image = public_pages.qr_image(target, extension, title=words().get("qr_alt", url=target))
    return image_response(
        image, max_age=LONG, filename=f"qr-{found.short_code}.{extension}", download=bool(request.args.get("download"))
    )


@bp.get("/c/<code>")
def short(code: str) -> BaseResponse:
    """The short URL a QR code carries: 303 to the verification page."""
    found = public_docs.credential_by_short_code(db.session, code[:16]) if code.isalnum() else None
    if found is None or public_pages.public_credential(db.session, found.id) is None:
        return missing("No badge has this short address.")
    target = urls().credential(found.id)
    if request.args.get("lang") in ("fr", "en"):
        target += f"?lang={request.args['lang']}"
    return cacheable(redirect(target, 303), SHORT, etag=False)


@bp.get("/evidence/<uuid:evidence_id>")
def evidence(evidence_id: uuid.UUID) -> BaseResponse:
    """A public evidence item: a page, its JSON, its file (``?download=1``) or a photo's preview (``?preview=1``).

    The preview is a reduced copy (480 px a side at most, re-encoded without EXIF: no place, no
    device), the size a phone shows; the file is the uploaded bytes, named with the extension of
    what it really is.
    """
    item = public_pages.public_evidence(db.session, evidence_id)
    if item is None:
        return missing("No public evidence has this id.")
    if request.args.get("preview"):
        image = public_pages.evidence_preview(runtime().storage, item)
        if image is None:
            return missing("This evidence has no preview.")
        return image_response(image, max_age=SHORT)
    if request.args.get("download") and item.file_sha256:
        if not runtime().storage.exists(item.file_sha256):
            return missing("This evidence file is no longer stored.")
        handle = runtime().storage.open(item.file_sha256)
        response = Response(iter_file(handle), mimetype=item.media_type or "application/octet-stream")
        name = public_pages.download_name(item.filename, item.title, item.media_type)
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
        response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
        return cacheable(response, SHORT, etag=False)
    document = public_pages.evidence_document(item, urls())
    if not wants_html():
        return json_response(document, max_age=SHORT)
    return render_page("public/evidence.html", item=item, document=document, max_age=SHORT)
