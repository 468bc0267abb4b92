"""Verification: checking any badge, and the public documents and pages anyone can open.

A top domain: stands on issuing. Modules: ``verification`` (our own credentials and anybody
else's), ``public_docs`` (public JSON documents) and ``public_pages`` (what public pages show).
"""
from __future__ import annotations

from app.services.verification.public_docs import (KeyState, achievement_document, achievement_version,
                                                   credential_by_short_code, credential_document,
                                                   credential_jwt, issuer_document, key_document, key_state,
                                                   resolve, status_list_document)
from app.services.verification.public_pages import (Image, achievement_image, badge_name, baked_badge,
                                                    credential_page, evidence_document, issuer_image,
                                                    issuer_key, issuer_view, public_credential,
                                                    public_evidence, status_list)
from app.services.verification.verification import (Outcome, ReportCache, Submission, check_depth,
                                                    parse_text_credential, verify_submission)

__all__ = [
    "Image", "KeyState", "Outcome", "ReportCache", "Submission", "achievement_document", "achievement_image",
    "achievement_version", "badge_name", "baked_badge", "check_depth", "credential_by_short_code",
    "credential_document", "credential_jwt", "credential_page", "evidence_document", "issuer_document",
    "issuer_image", "issuer_key", "issuer_view", "key_document", "key_state", "parse_text_credential",
    "public_credential", "public_evidence", "resolve", "status_list", "status_list_document",
    "verify_submission",
]
