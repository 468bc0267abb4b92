"""Verification: checking any badge, and the public documents and pages anyone can open.

A top domain: stands on issuing. Modules: ``verification`` (our own credentials and anybody
else's), ``intake`` (the one front door of the JSON endpoint and the form: limits, upload,
fetcher, rate), ``public_docs`` (public JSON documents) and ``public_pages`` (what public pages
show).
"""

from __future__ import annotations

from app.services.verification.intake import (
    MAX_CREDENTIAL_BYTES,
    MAX_RECIPIENT_CHARS,
    MAX_URL_CHARS,
    from_document,
    from_file,
    from_text,
    from_url,
    read_upload,
    recipient_of,
    spend,
    upload_limit,
    verify_fetcher,
)
from app.services.verification.public_docs import (
    KeyState,
    achievement_document,
    achievement_version,
    credential_by_short_code,
    credential_document,
    credential_jwt,
    issuer_document,
    key_document,
    key_state,
    resolve,
    status_list_document,
)
from app.services.verification.public_pages import (
    Image,
    achievement_image,
    badge_name,
    baked_badge,
    credential_page,
    evidence_document,
    issuer_image,
    issuer_key,
    issuer_view,
    public_credential,
    public_evidence,
    qr_image,
    status_list,
)
from app.services.verification.verification import Outcome, ReportCache, Submission, verify_submission

__all__ = [
    "Image",
    "KeyState",
    "MAX_CREDENTIAL_BYTES",
    "MAX_RECIPIENT_CHARS",
    "MAX_URL_CHARS",
    "Outcome",
    "ReportCache",
    "Submission",
    "achievement_document",
    "achievement_image",
    "achievement_version",
    "badge_name",
    "baked_badge",
    "credential_by_short_code",
    "credential_document",
    "credential_jwt",
    "credential_page",
    "evidence_document",
    "from_document",
    "from_file",
    "from_text",
    "from_url",
    "issuer_document",
    "issuer_image",
    "issuer_key",
    "issuer_view",
    "key_document",
    "key_state",
    "public_credential",
    "public_evidence",
    "qr_image",
    "read_upload",
    "recipient_of",
    "resolve",
    "spend",
    "status_list",
    "status_list_document",
    "upload_limit",
    "verify_fetcher",
    "verify_submission",
]
