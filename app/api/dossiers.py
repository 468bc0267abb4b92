"""Jury dossiers (request, consent, generate, download, verify), cohort tables, the learner
record and printable certificates."""

from __future__ import annotations

import uuid

from flask import Response, request
from flask.views import MethodView
from flask_smorest.fields import Upload
from marshmallow import Schema, fields

from app.api import Blueprint
from app.api.caller import current_grants
from app.api.verification import check_rate
from app.db import db, writes
from app.mailing import send_after_commit
from app.platform.storage import iter_file
from app.platform.urls import Urls
from app.runtime import runtime
from app.services.dossiers import consent_mail, lifecycle as dossiers, records
from app.services.dossiers.lifecycle import DossierSettings
from app.services.issuing import certificates
from app.services.verification import offline
from schemas.base import page_of
from schemas.dossiers import (
    CohortQuerySchema,
    CohortSchema,
    DossierGeneratedSchema,
    DossierLinkSchema,
    DossierQuerySchema,
    DossierRequestSchema,
    DossierSchema,
    DossierVerificationSchema,
)

blp = Blueprint("dossiers", __name__, description="Jury (VAE) dossiers, cohorts, learner records, certificates")
ZIP = "application/zip"


class ZipUploadSchema(Schema):
    file = Upload(required=True)


class TokenArgs(Schema):
    token = fields.String(required=True)


def settings() -> DossierSettings:
    return runtime().dossiers


@blp.before_request
def _verify_limit() -> None:
    # A dossier can be far larger than an evidence upload; only the verification accepts it, and
    # only jury officers and admins send the biggest. Anyone else shares the rate limit of the
    # badge verifier, checked before a byte of the body is read.
    if request.endpoint == "dossiers.Verify":
        check_rate()
        grants = current_grants()
        trusted = grants.platform_admin or bool(grants.jury_officer_for)
        limits = runtime().settings
        request.max_content_length = (
            limits.max_dossier_verify_bytes if trusted else limits.max_dossier_verify_bytes_anonymous
        )


@blp.route("/dossiers")
class Dossiers(MethodView):
    @blp.arguments(DossierQuerySchema, location="query")
    @blp.response(200, page_of(DossierSchema))
    def get(self, args):
        """One's own dossiers, and those of the certifications one serves as jury officer."""
        return dossiers.list_dossiers(db.session, current_grants(), **args)

    @blp.arguments(DossierRequestSchema)
    @blp.response(201, DossierSchema)
    def post(self, data):
        """Ask for a dossier: for oneself (consent given) or, as jury officer, for a learner (consent awaited)."""
        dossier = dossiers.request_dossier(db.session, current_grants(), data, clock=runtime().clock)
        send_after_commit(consent_mail.consent_requested(db.session, dossier, settings=runtime().dossiers))
        db.session.commit()
        return dossier


@blp.route("/dossiers/<uuid:dossier_id>")
class DossierView(MethodView):
    @blp.response(200, DossierSchema)
    def get(self, dossier_id: uuid.UUID):
        """A dossier: its status, consent, and the gaps of its last generation."""
        return dossiers.get_dossier(db.session, current_grants(), dossier_id)


@blp.route("/dossiers/<uuid:dossier_id>/consent")
class Consent(MethodView):
    @blp.response(200, DossierSchema)
    def post(self, dossier_id: uuid.UUID):
        """The learner consents to the dossier being generated for the jury."""
        dossier = dossiers.consent(db.session, current_grants(), dossier_id, clock=runtime().clock)
        db.session.commit()
        return dossier


@blp.route("/dossiers/<uuid:dossier_id>/refuse")
class Refuse(MethodView):
    @blp.response(200, DossierSchema)
    def post(self, dossier_id: uuid.UUID):
        """The learner refuses, or withdraws consent."""
        dossier = dossiers.refuse(db.session, current_grants(), dossier_id, clock=runtime().clock)
        db.session.commit()
        return dossier


@blp.route("/dossiers/<uuid:dossier_id>/generate")
class Generate(MethodView):
    @blp.response(201, DossierGeneratedSchema)
    def post(self, dossier_id: uuid.UUID):
        """Generate the ZIP now (synchronously, streamed to storage); answers the gaps and a download link."""
        config = settings()
        result = dossiers.generate(db.session, current_grants(), dossier_id, settings=config)
        storage, new_key, replaced_key = config.storage, result.dossier.archive_key, result.replaced_key
        db.on_abandon(lambda: dossiers.discard_archive(storage, new_key))  # no row will point to it
        db.after_commit(lambda: dossiers.discard_archive(storage, replaced_key))  # no row points to it any more
        link = dossiers.download_link(db.session, current_grants(), dossier_id, settings=config)
        db.session.commit()
        return dossiers.generated_view(result, link)


@blp.route("/dossiers/<uuid:dossier_id>/link")
class DownloadLink(MethodView):
    @blp.response(201, DossierLinkSchema)
    def post(self, dossier_id: uuid.UUID):
        """A new short-lived download link for a generated dossier."""
        return dossiers.download_link(db.session, current_grants(), dossier_id, settings=settings())


@blp.route("/dossiers/<uuid:dossier_id>/download")
class Download(MethodView):
    @writes  # audited
    @blp.arguments(TokenArgs, location="query")
    @blp.response(200, {"format": "binary", "type": "string"}, content_type=ZIP)
    @blp.public
    def get(self, args, dossier_id: uuid.UUID):
        """Download the ZIP through an expiring link (no other credential needed; audited)."""
        dossier, handle, size = dossiers.open_download(db.session, dossier_id, args["token"], settings=settings())
        db.session.commit()
        return Response(
            iter_file(handle),
            mimetype=ZIP,
            headers={
                "Content-Disposition": f'attachment; filename="dossier-{dossier.id}.zip"',
                "Content-Length": str(size),
                "Cache-Control": "private, no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )


@blp.route("/dossiers/verify")
class Verify(MethodView):
    @blp.arguments(ZipUploadSchema, location="files")
    @blp.response(200, DossierVerificationSchema)
    @blp.alt_response(
        413,
        description="Larger than the cap: BLASON_MAX_DOSSIER_VERIFY_BYTES_ANONYMOUS without "
        "an account, BLASON_MAX_DOSSIER_VERIFY_BYTES for jury officers and admins",
    )
    @blp.alt_response(429, description="Too many verifications from this address (Retry-After)")
    @blp.public
    def post(self, files):
        """Check a dossier ZIP against its signed manifest (public, rate-limited): missing, added, altered files."""
        rt = runtime()
        assert rt.platform_key is not None
        return dossiers.verify_upload(files["file"].stream, public=rt.platform_key.public)


@blp.route("/platform")
class Platform(MethodView):
    @blp.response(200)
    @blp.public
    def get(self):
        """The platform's public key: controller document (CLR proofs) and JWK (dossier manifests)."""
        config = settings()
        return dossiers.platform_document(config.urls, config.platform_key)


@blp.route("/certifications/<uuid:fiche_id>/cohort")
class CohortView(MethodView):
    @writes  # audited
    @blp.arguments(CohortQuerySchema, location="query")
    @blp.response(200, CohortSchema)
    @blp.alt_response(200, success=True, content_type="text/csv", schema={"type": "string"}, description="CSV")
    def get(self, args, fiche_id: uuid.UUID):
        """Learners × blocs coverage (acquis / partiellement / non) for jury officers of this certification."""
        data = dossiers.cohort(db.session, current_grants(), fiche_id)
        db.session.commit()
        if args["format"] == "csv" or (args["format"] is None and request.accept_mimetypes.best == "text/csv"):
            return Response(
                dossiers.cohort_csv(data),
                mimetype="text/csv",
                headers={"Content-Disposition": f'attachment; filename="cohorte-{data.code or fiche_id}.csv"'},
            )
        return data


@blp.route("/people/me/record")
class Record(MethodView):
    @writes  # audited
    @blp.response(200, {"format": "binary", "type": "string"}, content_type=ZIP)
    def get(self):
        """All of one's own data as a ZIP with index.json (data portability; audited)."""
        rt = runtime()
        record = records.learner_record(
            db.session, current_grants(), storage=rt.storage, urls=Urls(rt.settings.public_base_url), clock=rt.clock
        )
        db.session.commit()
        return Response(
            records.stream_record(record, rt.storage),
            mimetype=ZIP,
            headers={
                "Content-Disposition": f'attachment; filename="mes-donnees-{record.person_id}.zip"',
                "Cache-Control": "private, no-store",
            },
        )


@blp.route("/credentials/<uuid:credential_id>/certificate.pdf")
class Certificate(MethodView):
    @blp.response(200, {"format": "binary", "type": "string"}, content_type="application/pdf")
    def get(self, credential_id: uuid.UUID):
        """A printable A4 certificate in French (the learner and the issuer's admins)."""
        rt = runtime()
        credential, pdf = certificates.certificate_pdf(
            db.session,
            current_grants(),
            credential_id,
            storage=rt.storage,
            urls=Urls(rt.settings.public_base_url),
            offline=lambda found: offline.compact_of(db.session, found, rt.issuing),  # the second, signed QR code
        )
        return Response(
            pdf,
            mimetype="application/pdf",
            headers={
                "Content-Disposition": f'inline; filename="attestation-{credential.id}.pdf"',
                "Cache-Control": "private, no-store",
            },
        )
