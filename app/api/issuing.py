"""Issuing: issuers, their keys, achievements (badge classes), awards, credentials, bulk awards,
revocation, the award queue, and the learner's badges."""

from __future__ import annotations

import uuid

from flask.views import MethodView
from flask_smorest.fields import Upload
from marshmallow import Schema

from app.api import Blueprint
from app.api.caller import ETAG_HEADER, IF_MATCH_PARAMETER, current_grants, etag, expected_version, with_etag
from app.db import db
from app.mailing import send_after_commit
from app.platform.pagination import page_of_list
from app.runtime import runtime
from app.services.issuing import (
    achievements,
    api_clients,
    awarding,
    badge_mail,
    bulk,
    issuers,
    oid4vci_copies,
    revocation,
    wallet,
)
from app.services.issuing.oid4vci import create_offer
from app.services.issuing.signing import IssuingSettings
from schemas.api_clients import ApiClientCreatedSchema, ApiClientCreateSchema, ApiClientSchema
from schemas.base import PageArgs, page_of
from schemas.issuing import (
    AchievementCreateSchema,
    AchievementQuerySchema,
    AchievementSchema,
    AchievementUpdateSchema,
    AwardCreateSchema,
    BadgeSchema,
    BadgeVisibilitySchema,
    BulkFormSchema,
    BulkReportSchema,
    CredentialQuerySchema,
    CredentialSchema,
    EventReportSchema,
    IssuerCreateSchema,
    IssuerQuerySchema,
    IssuerSchema,
    IssuerUpdateSchema,
    KeyCompromiseSchema,
    KeyRotateSchema,
    KeySchema,
    OptionalReasonSchema,
    ProcessEventsSchema,
    ReasonSchema,
    ShareLinksSchema,
)
from schemas.oid4vci import (
    CredentialDetailWithCopiesSchema,
    CredentialWithCopiesSchema,
    WalletOfferCreateSchema,
    WalletOfferSchema,
)

blp = Blueprint(
    "issuing",
    __name__,
    description="Issuers, signing keys, achievements (badge classes), awards, "
    "credentials, revocation and the learner's badges",
)


class ImageFileSchema(Schema):
    file = Upload(required=True)


class CsvFileSchema(Schema):
    file = Upload(required=True)


def issuing_settings() -> IssuingSettings:
    """The public base URL, key-encryption keys and clock of this app, for the issuing services."""
    return runtime().issuing


def max_upload() -> int:
    return runtime().settings.max_upload_bytes


@blp.route("/issuers")
class Issuers(MethodView):
    @blp.arguments(IssuerQuerySchema, location="query")
    @blp.response(200, page_of(IssuerSchema))
    def get(self, args):
        """Issuers (``mine=true``: those one administers)."""
        return issuers.list_issuers(db.session, current_grants(), **args)

    @blp.arguments(IssuerCreateSchema)
    @blp.response(201, IssuerSchema)
    def post(self, data):
        """Create an issuer with its Ed25519, P-256 and RSA-2048 keys and its status lists."""
        issuer = issuers.create_issuer(db.session, current_grants(), data, settings=issuing_settings())
        db.session.commit()
        return issuer


@blp.route("/issuers/<uuid:issuer_id>")
class IssuerView(MethodView):
    @blp.response(200, IssuerSchema, headers=ETAG_HEADER)
    def get(self, issuer_id: uuid.UUID):
        """One issuer's profile; its ETag goes back in If-Match."""
        issuer = issuers.get_issuer(db.session, current_grants(), issuer_id)
        return issuer, with_etag(issuer)

    @blp.arguments(IssuerUpdateSchema)
    @blp.response(200, IssuerSchema, headers=ETAG_HEADER)
    @blp.doc(parameters=[IF_MATCH_PARAMETER])
    def patch(self, data, issuer_id: uuid.UUID):
        """Edit the profile (If-Match required; new credentials embed the new profile)."""
        issuer = issuers.update_issuer(
            db.session,
            current_grants(),
            issuer_id,
            data,
            expected_version=expected_version(),
            settings=issuing_settings(),
        )
        db.session.commit()
        return issuer, with_etag(issuer)


@blp.route("/issuers/<uuid:issuer_id>/image")
class IssuerImage(MethodView):
    @blp.arguments(ImageFileSchema, location="files")
    @blp.response(200, IssuerSchema)
    def post(self, files, issuer_id: uuid.UUID):
        """Upload the issuer's image (PNG or SVG, checked defensively)."""
        issuer = issuers.set_issuer_image(
            db.session,
            current_grants(),
            issuer_id,
            files["file"].stream,
            storage=runtime().storage,
            max_bytes=max_upload(),
            settings=issuing_settings(),
        )
        db.session.commit()
        return issuer


@blp.route("/issuers/<uuid:issuer_id>/keys")
class Keys(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_of(KeySchema))
    def get(self, args, issuer_id: uuid.UUID):
        """Every key of the issuer: active, retired and compromised (public parts only), oldest first."""
        return issuers.list_keys(db.session, current_grants(), issuer_id, **args)


@blp.route("/issuers/<uuid:issuer_id>/keys/rotate")
class RotateKeys(MethodView):
    @blp.arguments(KeyRotateSchema)
    @blp.response(201, page_of(KeySchema))
    def post(self, data, issuer_id: uuid.UUID):
        """New active keys (all purposes, or those named), as one page; the old ones are retired but still verify."""
        created = issuers.rotate_keys(
            db.session, current_grants(), issuer_id, data.get("purposes"), settings=issuing_settings()
        )
        db.session.commit()
        return page_of_list(created)


@blp.route("/issuers/<uuid:issuer_id>/keys/<uuid:key_id>/compromise")
class CompromiseKey(MethodView):
    @blp.arguments(KeyCompromiseSchema)
    @blp.response(200, KeySchema)
    def post(self, data, issuer_id: uuid.UUID, key_id: uuid.UUID):
        """Flag a key compromised (replaced if active); the credentials it signed are flagged."""
        key = issuers.compromise_key(
            db.session, current_grants(), issuer_id, key_id, data["reason"], settings=issuing_settings()
        )
        db.session.commit()
        return key


@blp.route("/issuers/<uuid:issuer_id>/api-clients")
class ApiClients(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_of(ApiClientSchema))
    def get(self, args, issuer_id: uuid.UUID):
        """The issuer's VC-API clients (OAuth 2.0 client credentials), active first; never their secrets."""
        return api_clients.list_clients(db.session, current_grants(), issuer_id, **args)

    @blp.arguments(ApiClientCreateSchema)
    @blp.response(201, ApiClientCreatedSchema)
    def post(self, data, issuer_id: uuid.UUID):
        """Register a program for POST /credentials/issue and /credentials/verify; its secret is shown this once."""
        created = api_clients.create_client(
            db.session,
            current_grants(),
            issuer_id,
            data["name"],
            data["scopes"],
            passwords=runtime().passwords,
            settings=issuing_settings(),
        )
        db.session.commit()
        return {**{c: getattr(created.client, c) for c in ApiClientSchema().fields}, "client_secret": created.secret}


@blp.route("/issuers/<uuid:issuer_id>/api-clients/<uuid:client_ref>/revoke")
class RevokeApiClient(MethodView):
    @blp.response(200, ApiClientSchema)
    def post(self, issuer_id: uuid.UUID, client_ref: uuid.UUID):
        """Revoke a client: its secret and the tokens it holds stop working at once."""
        client = api_clients.revoke_client(
            db.session, current_grants(), issuer_id, client_ref, settings=issuing_settings()
        )
        db.session.commit()
        return client


@blp.route("/achievements")
class Achievements(MethodView):
    @blp.arguments(AchievementQuerySchema, location="query")
    @blp.response(200, page_of(AchievementSchema))
    def get(self, args):
        """Achievements (current versions), optionally of one issuer."""
        return achievements.list_achievements(db.session, current_grants(), urls=issuing_settings().urls, **args)

    @blp.arguments(AchievementCreateSchema)
    @blp.response(201, AchievementSchema)
    def post(self, data):
        """Create a badge class; its default image is a generated SVG showing its name."""
        settings = issuing_settings()
        issuer_id = data.pop("issuer_id")
        achievement = achievements.create_achievement(
            db.session,
            current_grants(),
            issuer_id,
            data,
            storage=runtime().storage,
            urls=settings.urls,
            clock=settings.clock,
        )
        db.session.commit()
        return achievements.detail(db.session, achievement, settings.urls)


@blp.route("/achievements/<uuid:achievement_id>")
class AchievementView(MethodView):
    @blp.response(200, AchievementSchema, headers=ETAG_HEADER)
    def get(self, achievement_id: uuid.UUID):
        """An achievement and its current version; its ETag (edits, not versions) goes back in If-Match."""
        achievement = achievements.get_achievement(db.session, current_grants(), achievement_id)
        return achievements.detail(db.session, achievement, issuing_settings().urls), etag(achievement.lock_version)

    @blp.arguments(AchievementUpdateSchema)
    @blp.response(200, AchievementSchema, headers=ETAG_HEADER)
    @blp.doc(parameters=[IF_MATCH_PARAMETER])
    def patch(self, data, achievement_id: uuid.UUID):
        """Edit (If-Match required); once awarded, a content change creates a new version."""
        settings = issuing_settings()
        achievement = achievements.update_achievement(
            db.session,
            current_grants(),
            achievement_id,
            data,
            expected_version=expected_version(),
            urls=settings.urls,
            clock=settings.clock,
        )
        db.session.commit()
        return achievements.detail(db.session, achievement, settings.urls), etag(achievement.lock_version)


@blp.route("/achievements/<uuid:achievement_id>/versions")
class AchievementVersions(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_of(AchievementSchema))
    def get(self, args, achievement_id: uuid.UUID):
        """Every version, oldest first."""
        return achievements.list_versions(
            db.session, current_grants(), achievement_id, urls=issuing_settings().urls, **args
        )


@blp.route("/achievements/<uuid:achievement_id>/image")
class AchievementImage(MethodView):
    @blp.arguments(ImageFileSchema, location="files")
    @blp.response(200, AchievementSchema)
    def post(self, files, achievement_id: uuid.UUID):
        """Upload the badge image (PNG or SVG; no script, external reference or decompression bomb)."""
        settings = issuing_settings()
        achievement = achievements.set_image(
            db.session,
            current_grants(),
            achievement_id,
            files["file"].stream,
            storage=runtime().storage,
            max_bytes=max_upload(),
            clock=settings.clock,
        )
        db.session.commit()
        return achievements.detail(db.session, achievement, settings.urls)


@blp.route("/achievements/<uuid:achievement_id>/awards")
class Awards(MethodView):
    @blp.arguments(AwardCreateSchema)
    @blp.response(201, CredentialSchema)
    def post(self, data, achievement_id: uuid.UUID):
        """Award the current version to a learner (issued at once in every format); 409 if already awarded."""
        settings = issuing_settings()
        credential = awarding.award(db.session, current_grants(), achievement_id, data, settings=settings)
        send_after_commit(badge_mail.badges_issued(db.session, [credential.id], settings=settings))
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
        settings = issuing_settings()
        report = bulk.bulk_award(
            db.session,
            current_grants(),
            issuer_id,
            files["file"].stream,
            mode=form["mode"],
            achievement_id=form.get("achievement_id"),
            settings=settings,
            max_bytes=runtime().settings.max_upload_bytes,
        )
        issued = [row.credential_id for row in report.rows if row.credential_id is not None]
        send_after_commit(badge_mail.badges_issued(db.session, issued, settings=settings))
        db.session.commit()
        return report


@blp.route("/credentials")
class Credentials(MethodView):
    @blp.arguments(CredentialQuerySchema, location="query")
    @blp.response(200, page_of(CredentialWithCopiesSchema))
    def get(self, args):
        """Credentials of the issuers one administers (filter state=proposed for proposals), with their wallet copies."""
        return oid4vci_copies.list_with_copies(db.session, current_grants(), urls=issuing_settings().urls, **args)


@blp.route("/credentials/<uuid:credential_id>")
class CredentialView(MethodView):
    @blp.response(200, CredentialDetailWithCopiesSchema)
    def get(self, credential_id: uuid.UUID):
        """A credential with its stored signed forms and its wallet copies (its issuer's admins and its learner)."""
        urls = issuing_settings().urls
        return oid4vci_copies.credential_with_copies(db.session, current_grants(), credential_id, urls=urls)


def _decision(action, credential_id: uuid.UUID, *args, tell=None):  # type: ignore[no-untyped-def]
    """Run an issuer admin's decision on a credential; ``tell`` composes the holder's e-mails."""
    settings = issuing_settings()
    credential = action(db.session, current_grants(), credential_id, *args, settings=settings)
    if tell is not None:
        send_after_commit(tell(db.session, credential, settings=settings))
    db.session.commit()
    return awarding.view(credential, settings.urls)


def _issued(session, credential, *, settings):  # type: ignore[no-untyped-def]
    return badge_mail.badges_issued(session, [credential.id], settings=settings)


@blp.route("/credentials/<uuid:credential_id>/approve")
class Approve(MethodView):
    @blp.response(200, CredentialSchema)
    def post(self, credential_id: uuid.UUID):
        """Issue a proposed award (from an approval-mode rule)."""
        return _decision(awarding.approve, credential_id, tell=_issued)


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
        return _decision(revocation.revoke, credential_id, data["reason"], tell=badge_mail.badge_status_changed)


@blp.route("/credentials/<uuid:credential_id>/suspend")
class Suspend(MethodView):
    @blp.arguments(ReasonSchema)
    @blp.response(200, CredentialSchema)
    def post(self, data, credential_id: uuid.UUID):
        """Suspend, with a reason, until unsuspended."""
        return _decision(revocation.suspend, credential_id, data["reason"], tell=badge_mail.badge_status_changed)


@blp.route("/credentials/<uuid:credential_id>/unsuspend")
class Unsuspend(MethodView):
    @blp.arguments(OptionalReasonSchema)
    @blp.response(200, CredentialSchema)
    def post(self, data, credential_id: uuid.UUID):
        """Lift a suspension."""
        return _decision(revocation.unsuspend, credential_id, data.get("reason"), tell=badge_mail.badge_status_changed)


@blp.route("/award-events/process")
class ProcessEvents(MethodView):
    @blp.arguments(ProcessEventsSchema)
    @blp.response(200, EventReportSchema)
    def post(self, data):
        """Run one batch of the award queue now (platform admins; normally run after reviews and by cron)."""
        settings = issuing_settings()
        report = awarding.run_award_events(db.session, current_grants(), settings=settings, limit=data["limit"])
        send_after_commit(badge_mail.badges_issued(db.session, report.issued, settings=settings))
        db.session.commit()
        return report


@blp.route("/me/badges")
class MyBadges(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_of(BadgeSchema))
    def get(self, args):
        """My badges (issued, suspended, revoked), newest first."""
        return wallet.my_badges(db.session, current_grants(), urls=issuing_settings().urls, **args)


@blp.route("/me/badges/<uuid:credential_id>")
class MyBadge(MethodView):
    @blp.response(200, BadgeSchema, headers=ETAG_HEADER)
    def get(self, credential_id: uuid.UUID):
        """One of my badges; its ETag goes back in If-Match."""
        badge = wallet.get_badge(db.session, current_grants(), credential_id, urls=issuing_settings().urls)
        return badge, etag(badge.credential.version)

    @blp.arguments(BadgeVisibilitySchema)
    @blp.response(200, BadgeSchema, headers=ETAG_HEADER)
    @blp.doc(parameters=[IF_MATCH_PARAMETER])
    def patch(self, data, credential_id: uuid.UUID):
        """Choose whether my name appears on this badge's public page (null: as my profile says; If-Match)."""
        badge = wallet.set_show_name(
            db.session,
            current_grants(),
            credential_id,
            data["show_name"],
            expected_version=expected_version(),
            urls=issuing_settings().urls,
        )
        db.session.commit()
        return badge, etag(badge.credential.version)


@blp.route("/me/badges/<uuid:credential_id>/share")
class ShareLinks(MethodView):
    @blp.response(200, ShareLinksSchema)
    def get(self, credential_id: uuid.UUID):
        """Links to share a badge: page, short URL (QR target), QR images, downloads, LinkedIn."""
        return wallet.share_links(db.session, current_grants(), credential_id, urls=issuing_settings().urls)


@blp.route("/me/badges/<uuid:credential_id>/wallet-offers")
class WalletOffers(MethodView):
    @blp.arguments(WalletOfferCreateSchema)
    @blp.response(201, WalletOfferSchema)
    def post(self, data, credential_id: uuid.UUID):
        """Put one of my badges into a wallet: an OpenID4VCI credential offer (link, QR code, one-use code)."""
        made = create_offer(
            db.session,
            current_grants(),
            credential_id,
            with_tx_code=data["tx_code"],
            configurations=data["configurations"],
            settings=issuing_settings(),
        )
        db.session.commit()
        return made
