"""POST /verify: verify any badge — ours or another issuer's — without an account, rate-limited.

Accepts JSON ``{"credential": <object or JWT/JSON string>}`` or ``{"url": "https://…"}`` (an
OB 2.0 hosted assertion, a credential URL, a short URL of ours), or ``multipart/form-data``
with a ``file`` (a baked PNG/SVG image, or a JSON/JWT file); ``recipient`` (an e-mail address
or DID) is checked against the badge when given. Answers 200 with the badges/ report and a
verdict; request errors are problem+json (400, 413, 415, 422; 429 with Retry-After). An issuer's
server that cannot be reached (unknown name, refused, reset, TLS, past the deadline) is the verdict
``unreachable``, never an error; a URL that cannot be valid is a 422 naming ``#/url``.

Limits, upload reading, fetcher and rate limit are the intake's, shared with the ``/verify`` form
(``app.services.verification.intake``). Rate limit: a moving window per client IP
(``request.remote_addr``, read through ``TRUSTED_PROXIES`` reverse proxies), ``VERIFY_RATE_BURST``
requests at once (default 20) and ``VERIFY_RATE_PER_MINUTE`` on average (default 30), shared with
the form and ``POST /dossiers/verify``; in Redis, shared by every worker, when
``RATE_LIMIT_REDIS_URL`` is set (``app.platform.rate_limit``).
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask.views import MethodView
from flask_smorest import abort
from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, validates_schema
from werkzeug.exceptions import TooManyRequests

from app.api import Blueprint
from app.db import db, reads_only
from app.platform.errors import FieldError, InvalidInput
from app.platform.urls import Urls
from app.runtime import runtime
from app.services.verification import intake, verification
from app.services.verification.intake import verify_fetcher
from schemas.base import CamelSchema, text

blp = Blueprint("verification", __name__, description="Verify any Open Badge (public, rate-limited)")


class VerifyRequestSchema(CamelSchema):
    credential = fields.Raw(
        metadata={"description": "An OB 3.0 credential (object), or a VC-JWT, OB 2.0 JWS or JSON text"}
    )
    url = text(
        intake.MAX_URL_CHARS, min_len=1, metadata={"description": "An OB 2.0 hosted assertion or a credential URL"}
    )
    recipient = text(
        intake.MAX_RECIPIENT_CHARS, metadata={"description": "An e-mail address or DID to match against the badge"}
    )

    @validates_schema
    def _one_input(self, data: dict[str, Any], **_kwargs: object) -> None:
        given = [name for name in ("credential", "url") if data.get(name) not in (None, "")]
        if len(given) != 1:
            raise ValidationError("Send exactly one of credential or url.", "credential")
        if "credential" in given and not isinstance(data["credential"], (dict, str)):
            raise ValidationError("A credential is a JSON object or a string.", "credential")


class VerifyFileSchema(Schema):
    file = Upload(required=True, metadata={"description": "A baked PNG or SVG, or a JSON or JWT file"})
    recipient = fields.String()


class CheckSchema(CamelSchema):
    name = fields.String()
    outcome = fields.String()
    reason_fr = fields.String()
    reason_en = fields.String()


class VerificationSchema(CamelSchema):
    verdict = fields.String(
        metadata={
            "description": "genuine, revoked, suspended, expired, not_yet_valid, "
            "unknown_key, key_compromised, status_unknown, "
            "wrong_recipient, invalid, unreadable or unreachable "
            "(an issuer's server could not be reached in time)"
        }
    )
    verdict_fr = fields.String()
    verdict_en = fields.String()
    valid = fields.Boolean()
    format = fields.String()
    checks = fields.List(fields.Nested(CheckSchema))
    status_reason = fields.String()
    verification_url = fields.String(metadata={"description": "Our verification page, for our own badges"})
    credential = fields.Raw(allow_none=True)


def check_rate() -> None:
    """Spend one verification of the caller's (shared with /verify and POST /dossiers/verify); 429 when none is left."""
    wait = intake.spend(runtime().verify_limiter, request.remote_addr)
    if wait is not None:
        raise TooManyRequests("Too many verifications from this address; try again later.", retry_after=wait)


def _read_submission() -> verification.Submission:
    """Parse a JSON or multipart request into a submission (errors as 400/413/415/422)."""
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise InvalidInput(
                "Attach the badge as 'file'.", errors=[FieldError("#/file", "Missing data for required field.")]
            )
        content = intake.read_upload(upload.stream, intake.upload_limit(runtime().settings.max_upload_bytes))
        return intake.from_file(content, intake.recipient_of(request.form.get("recipient")))
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        body = None
    if body is None:
        abort(400, messages={"json": ["Invalid JSON body."]})
    if not isinstance(body, dict):
        abort(422, messages={"json": {"_schema": ["Send a JSON object."]}})
    data: dict[str, Any] = {}
    try:
        data = VerifyRequestSchema().load(body)  # type: ignore[arg-type] # a dict: checked above
    except ValidationError as exc:
        abort(422, messages={"json": exc.messages})
    recipient, credential = intake.recipient_of(data.get("recipient")), data.get("credential")
    if data.get("url"):  # the schema let exactly one of url and credential through
        return intake.from_url(data["url"], recipient)
    if isinstance(credential, dict):
        return intake.from_document(credential, recipient)
    return intake.from_text(str(credential), recipient)  # a string: the schema lets nothing else through


@blp.route("/verify")
class Verify(MethodView):
    @reads_only
    @blp.public
    @blp.doc(
        requestBody={
            "required": True,
            "content": {
                "application/json": {"schema": VerifyRequestSchema},
                "multipart/form-data": {"schema": VerifyFileSchema},
            },
        }
    )
    @blp.response(200, VerificationSchema)
    @blp.alt_response(429, description="Too many verifications from this address (Retry-After)")
    def post(self):
        """Verify a badge: credential (object or text), OB 2.0 URL, or baked image; the verdict and every check."""
        check_rate()
        rt = runtime()
        urls = Urls(rt.settings.public_base_url)
        outcome = verification.verify_submission(
            db.session, _read_submission(), urls=urls, fetcher=verify_fetcher(), now=rt.clock()
        )
        return outcome.summary(urls)
