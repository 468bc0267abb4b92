"""Issuers, their keys, and achievements (badge classes)."""
from __future__ import annotations

import uuid

from flask.views import MethodView
from flask_smorest.fields import Upload
from marshmallow import Schema

from app.api import Blueprint
from app.api.awards import blp as awards_blp
from app.api.identity import ETAG_HEADER, IF_MATCH_PARAMETER, current_grants, etag, expected_version, with_etag
from app.db import db
from app.models import KeyPurpose
from app.runtime import runtime
from app.services.issuing import achievements, issuers
from app.services.issuing.signing import IssuingSettings
from schemas.base import page_of
from schemas.issuing import (AchievementCreateSchema, AchievementQuerySchema, AchievementSchema,
                             AchievementUpdateSchema, IssuerCreateSchema, IssuerQuerySchema, IssuerSchema,
                             IssuerUpdateSchema, KeyCompromiseSchema, KeyRotateSchema, KeySchema)

blp = Blueprint("issuing", __name__, description="Issuers, signing keys and achievements (badge classes)")


class ImageFileSchema(Schema):
    file = Upload(required=True)


def issuing_settings() -> IssuingSettings:
    """The public base URL, key-encryption keys and clock of this app, for the issuing services."""
    return runtime().issuing


def max_upload() -> int:
    return int(runtime().settings["MAX_UPLOAD_BYTES"])


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
        issuer = issuers.update_issuer(db.session, current_grants(), issuer_id, data,
                                       expected_version=expected_version(), settings=issuing_settings())
        db.session.commit()
        return issuer, with_etag(issuer)


@blp.route("/issuers/<uuid:issuer_id>/image")
class IssuerImage(MethodView):
    @blp.arguments(ImageFileSchema, location="files")
    @blp.response(200, IssuerSchema)
    def post(self, files, issuer_id: uuid.UUID):
        """Upload the issuer's image (PNG or SVG, checked defensively)."""
        issuer = issuers.set_issuer_image(db.session, current_grants(), issuer_id, files["file"].stream,
                                          storage=runtime().storage, max_bytes=max_upload(),
                                          settings=issuing_settings())
        db.session.commit()
        return issuer


@blp.route("/issuers/<uuid:issuer_id>/keys")
class Keys(MethodView):
    @blp.response(200, KeySchema(many=True))
    def get(self, issuer_id: uuid.UUID):
        """Every key of the issuer: active, retired and compromised (public parts only)."""
        return issuers.list_keys(db.session, current_grants(), issuer_id)


@blp.route("/issuers/<uuid:issuer_id>/keys/rotate")
class RotateKeys(MethodView):
    @blp.arguments(KeyRotateSchema)
    @blp.response(201, KeySchema(many=True))
    def post(self, data, issuer_id: uuid.UUID):
        """New active keys (all purposes, or those named); the old ones are retired but still verify."""
        purposes = [KeyPurpose(p) for p in data.get("purposes") or []] or None
        created = issuers.rotate_keys(db.session, current_grants(), issuer_id, purposes, settings=issuing_settings())
        db.session.commit()
        return created


@blp.route("/issuers/<uuid:issuer_id>/keys/<uuid:key_id>/compromise")
class CompromiseKey(MethodView):
    @blp.arguments(KeyCompromiseSchema)
    @blp.response(200, KeySchema)
    def post(self, data, issuer_id: uuid.UUID, key_id: uuid.UUID):
        """Flag a key compromised (replaced if active); the credentials it signed are flagged."""
        key = issuers.compromise_key(db.session, current_grants(), issuer_id, key_id, data["reason"],
                                     settings=issuing_settings())
        db.session.commit()
        return key


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
        achievement = achievements.create_achievement(db.session, current_grants(), issuer_id, data,
                                                      storage=runtime().storage, urls=settings.urls,
                                                      clock=settings.clock)
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
        achievement = achievements.update_achievement(db.session, current_grants(), achievement_id, data,
                                                      expected_version=expected_version(), urls=settings.urls,
                                                      clock=settings.clock)
        db.session.commit()
        return achievements.detail(db.session, achievement, settings.urls), etag(achievement.lock_version)


@blp.route("/achievements/<uuid:achievement_id>/versions")
class AchievementVersions(MethodView):
    @blp.response(200, AchievementSchema(many=True))
    def get(self, achievement_id: uuid.UUID):
        """Every version, oldest first."""
        return achievements.list_versions(db.session, current_grants(), achievement_id, urls=issuing_settings().urls)


@blp.route("/achievements/<uuid:achievement_id>/image")
class AchievementImage(MethodView):
    @blp.arguments(ImageFileSchema, location="files")
    @blp.response(200, AchievementSchema)
    def post(self, files, achievement_id: uuid.UUID):
        """Upload the badge image (PNG or SVG; no script, external reference or decompression bomb)."""
        settings = issuing_settings()
        achievement = achievements.set_image(db.session, current_grants(), achievement_id, files["file"].stream,
                                             storage=runtime().storage, max_bytes=max_upload(), clock=settings.clock)
        db.session.commit()
        return achievements.detail(db.session, achievement, settings.urls)


BLUEPRINTS = (blp, awards_blp)
