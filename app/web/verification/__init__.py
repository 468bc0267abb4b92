"""Verification pages, open to everyone: the credential page and its downloads, the `/verify` form,
issuer, achievement, key, status and evidence documents, and the Open Badges 2.0 documents."""

from app.web.verification.public import register

__all__ = ["register"]
