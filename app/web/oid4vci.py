"""OpenID for Verifiable Credential Issuance 1.0: the issuer side (metadata, token, nonce, credential)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("oid4vci", __name__)
