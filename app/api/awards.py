"""Awards, credentials, bulk awards, revocation, the award queue, and the learner's badges."""
from __future__ import annotations

import uuid

from flask.views import MethodView
from flask_smorest.fields import Upload
from marshmallow import Schema

from app.api import Blueprint
from app.api.identity import ETAG_HEADER, IF_MATCH_PARAMETER, current_grants, etag, expected_version
from app.db import db
from app.runtime import runtime
from app.services.issuing import awarding, bulk, revocation, wallet
from app.services.issuing.signing import IssuingSettings
from schemas.base import PageArgs, page_of
from schemas.issuing import (AwardCreateSchema, BadgeSchema, BadgeVisibilitySchema, BulkFormSchema,
                             BulkReportSchema, CredentialDetailSchema, CredentialQuerySchema, CredentialSchema,
                             EventReportSchema, OptionalReasonSchema, ProcessEventsSchema, ReasonSchema,
                             ShareLinksSchema)

blp = Blueprint("awards", __name__, description="Awards, credentials, revocation and the learner's badges")


class CsvFileSchema(Schema):
    file = Upload(required=True)


def _settings() -> IssuingSettings:
    return runtime().issuing


@blp.route("/achievements/<uuid:achievement_id>/awards")
class Awards(MethodView):
    @blp.arguments(AwardCreateSchema)
    @blp.response(201, CredentialSchema)
    def post(self, data, achievement_id: uuid.UUID):
        """Award the current version to a learner (issued at once in every format); 409 if already awarded."""
        settings = _settings()
        credential = awarding.award(db.session, current_grants(), achievement_id, data, settings=settings)
        db.session.commit()
        return awarding.view(credential, settings.urls)


@blp.route("/issuers/<uuid:issuer_id>/bulk-awards")
class BulkAwards(MethodView):
    @blp.arguments(BulkFormSchema, location="form")
    @blp.arguments(CsvFileSchema, location="files")
    @blp.response(200, BulkReportSchema)
    def post(self, form, files, issuer_id: uuid.UUID):
        """CSV (email or person_id, achievement_id, evidence_url?, narrative?, result_level?), ≤ 5,000 rows.

        ``mode``: dry_run (a report per row, nothing written), all_or_nothing (422 if any row is
        invalid) or skip_invalid. Rows already awarded are skipped: re-sending a file is harmless.
        """
        report = bulk.bulk_award(db.session, current_grants(), issuer_id, files["file"].stream, mode=form["mode"],
                                 achievement_id=form.get("achievement_id"), settings=_settings(),
                                 max_bytes=int(runtime().settings["MAX_UPLOAD_BYTES"]))
        db.session.commit()
        return report


@blp.route("/credentials")
class Credentials(MethodView):
    @blp.arguments(CredentialQuerySchema, location="query")
    @blp.response(200, page_of(CredentialSchema))
    def get(self, args):
        """Credentials of the issuers one administers (proposals included: filter state=proposed)."""
        return awarding.list_credentials(db.session, current_grants(), urls=_settings().urls, **args)


@blp.route("/credentials/<uuid:credential_id>")
class CredentialView(MethodView):
    @blp.response(200, CredentialDetailSchema)
    def get(self, credential_id: uuid.UUID):
        """A credential with its stored signed forms (its issuer's admins and its learner)."""
        credential = awarding.get_credential(db.session, current_grants(), credential_id)
        return awarding.view(credential, _settings().urls)


def _decision(action, credential_id: uuid.UUID, *args):  # type: ignore[no-untyped-def]
    settings = _settings()
    credential = action(db.session, current_grants(), credential_id, *args, settings=settings)
    db.session.commit()
    return awarding.view(credential, settings.urls)


@blp.route("/credentials/<uuid:credential_id>/approve")
class Approve(MethodView):
    @blp.response(200, CredentialSchema)
    def post(self, credential_id: uuid.UUID):
        """Issue a proposed award (from an approval-mode rule)."""
        return _decision(awarding.approve, credential_id)


@blp.route("/credentials/<uuid:credential_id>/decline")
class Decline(MethodView):
    @blp.arguments(ReasonSchema)
    @blp.response(200, CredentialSchema)
    def post(self, data, credential_id: uuid.UUID):
        """Turn a proposal down, with a reason."""
        return _decision(awarding.decline, credential_id, data["reason"])


@blp.route("/credentials/<uuid:credential_id>/revoke")
class Revoke(MethodView):
    @blp.arguments(ReasonSchema)
    @blp.response(200, CredentialSchema)
    def post(self, data, credential_id: uuid.UUID):
        """Revoke, with a reason: status list, OB 2.0 assertion (410) and revocation list change together."""
        return _decision(revocation.revoke, credential_id, data["reason"])


@blp.route("/credentials/<uuid:credential_id>/suspend")
class Suspend(MethodView):
    @blp.arguments(ReasonSchema)
    @blp.response(200, CredentialSchema)
    def post(self, data, credential_id: uuid.UUID):
        """Suspend, with a reason, until unsuspended."""
        return _decision(revocation.suspend, credential_id, data["reason"])


@blp.route("/credentials/<uuid:credential_id>/unsuspend")
class Unsuspend(MethodView):
    @blp.arguments(OptionalReasonSchema)
    @blp.response(200, CredentialSchema)
    def post(self, data, credential_id: uuid.UUID):
        """Lift a suspension."""
        return _decision(revocation.unsuspend, credential_id, data.get("reason"))


@blp.route("/award-events/process")
class ProcessEvents(MethodView):
    @blp.arguments(ProcessEventsSchema)
    @blp.response(200, EventReportSchema)
    def post(self, data):
        """Run one batch of the award queue now (platform admins; normally run after reviews and by cron)."""
        report = awarding.run_award_events(db.session, current_grants(), settings=_settings(), limit=data["limit"])
        db.session.commit()
        return report


@blp.route("/me/badges")
class MyBadges(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_of(BadgeSchema))
    def get(self, args):
        """My badges (issued, suspended, revoked), newest first."""
        return wallet.my_badges(db.session, current_grants(), urls=_settings().urls, **args)


@blp.route("/me/badges/<uuid:credential_id>")
class MyBadge(MethodView):
    @blp.response(200, BadgeSchema, headers=ETAG_HEADER)
    def get(self, credential_id: uuid.UUID):
        """One of my badges; its ETag goes back in If-Match."""
        badge = wallet.get_badge(db.session, current_grants(), credential_id, urls=_settings().urls)
        return badge, etag(badge.credential.version)

    @blp.arguments(BadgeVisibilitySchema)
    @blp.response(200, BadgeSchema, headers=ETAG_HEADER)
    @blp.doc(parameters=[IF_MATCH_PARAMETER])
    def patch(self, data, credential_id: uuid.UUID):
        """Choose whether my name appears on this badge's public page (null: as my profile says; If-Match)."""
        badge = wallet.set_show_name(db.session, current_grants(), credential_id, data["show_name"],
                                     expected_version=expected_version(), urls=_settings().urls)
        db.session.commit()
        return badge, etag(badge.credential.version)


@blp.route("/me/badges/<uuid:credential_id>/share")
class ShareLinks(MethodView):
    @blp.response(200, ShareLinksSchema)
    def get(self, credential_id: uuid.UUID):
        """Links to share a badge: page, short URL (QR target), QR images, downloads, LinkedIn."""
        return wallet.share_links(db.session, current_grants(), credential_id, urls=_settings().urls)
