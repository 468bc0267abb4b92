"""Trust material for verifying with no network, and a credential's compact signed form (BL1).

* ``/trust/issuers.jws`` — the trust list (issuers, their keys and the keys' states), a compact
  JWS signed by the platform key (``typ: blason-trust-list+jwt``); ``/trust/issuers.json`` is
  its payload, unsigned, for people to read.
* ``/trust/status.jws`` — the status bundle (every status list's current bits), signed the same
  way (``typ: blason-status-bundle+jwt``).
* ``/credentials/{id}/offline-qr.svg`` and ``.png`` — the compact form as an alphanumeric QR code
  (error correction M); ``/credentials/{id}/offline.txt`` — the same ``BL1:`` text. Served for
  revoked and suspended badges too: it is what the holder carries, and the status bundle tells
  the verifier the rest.

All public, ``Cache-Control: public, max-age=300`` (the trust material) or 60 s (a credential's
compact form, which changes when the learner shows or hides their name), ETag, CORS ``*``.
"""

from __future__ import annotations

import json
import uuid

from flask import Blueprint, Response, request
from werkzeug.wrappers import Response as BaseResponse

from app.db import db
from app.runtime import runtime
from app.services.verification import offline, public_pages
from app.web.verification.public import SHORT, cacheable, image_response, missing, now, urls, words

bp = Blueprint("trust", __name__)

JWS_TYPE = "application/jose"


def _jws(material: offline.SignedMaterial) -> BaseResponse:
    response = Response(material.token, mimetype=JWS_TYPE)
    return cacheable(response, offline.MAX_AGE)


@bp.get("/trust/issuers.jws")
def issuers_jws() -> BaseResponse:
    """The trust list, signed by the platform key."""
    rt = runtime()
    return _jws(offline.signed_trust_list(db.session, urls(), rt.platform_key, now()))


@bp.get("/trust/issuers.json")
def issuers_json() -> BaseResponse:
    """The trust list's payload, unsigned, for people (verifiers use the .jws)."""
    document = offline.trust_list(db.session, urls(), now()).payload()
    body = json.dumps(document, ensure_ascii=False, indent=1)
    return cacheable(Response(body, mimetype="application/json"), offline.MAX_AGE)


@bp.get("/trust/status.jws")
def status_jws() -> BaseResponse:
    """Every status list's current bits, signed by the platform key."""
    rt = runtime()
    return _jws(offline.signed_status_bundle(db.session, urls(), rt.platform_key, now()))


@bp.get("/credentials/<uuid:credential_id>/offline-qr.<any(png, svg):extension>")
def offline_qr(credential_id: uuid.UUID, extension: str) -> BaseResponse:
    """The compact signed form as a QR code (alphanumeric, error correction M); ``?download=1`` for a file."""
    text = offline.public_compact(db.session, credential_id, runtime().issuing)
    if text is None:
        return missing("No badge has this id.")
    qr = offline.offline_qr(text, extension, title=words().get("offlineqr_alt"))
    response = image_response(
        public_pages.Image(qr.data, qr.media_type, None),
        max_age=SHORT,
        filename=f"badge-hors-ligne-{credential_id}.{extension}",
        download=bool(request.args.get("download")),
    )
    response.headers["X-QR-Version"] = str(qr.version)
    return response


@bp.get("/credentials/<uuid:credential_id>/offline.txt")
def offline_text(credential_id: uuid.UUID) -> BaseResponse:
    """The compact signed form as text (``BL1:`` + Base45)."""
    text = offline.public_compact(db.session, credential_id, runtime().issuing)
    if text is None:
        return missing("No badge has this id.")
    response = Response(text, mimetype="text/plain")
    return cacheable(response, SHORT)
