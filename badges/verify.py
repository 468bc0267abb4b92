"""Verify any supported credential form and return a structured, bilingual report."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from .baking import unbake
from .compact import PREFIX as COMPACT_PREFIX, verify_with_resolvers
from .errors import BadgeError
from .jws import decode_jws
from .report import Resolvers, VerificationReport
from .verify_ob2 import verify_ob2_hosted, verify_ob2_signed
from .verify_ob3 import PROFILES, Context, verify_ob3_document, verify_ob3_jwt

_JWS = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")


def verify(
    data: bytes | str | dict[str, Any],
    *,
    resolvers: Resolvers | None = None,
    now: datetime | None = None,
    recipient: str | None = None,
    profile: str = "badge",
) -> VerificationReport:
    """Verify a compact JWS, credential JSON, OB 2.0 assertion (signed, hosted or its URL),
    or a baked PNG/SVG; ``recipient`` is a known e-mail address or DID to match.

    ``profile`` "badge" holds every credential to the Open Badges / CLR rules; "vc" verifies any
    VC Data Model 2.0 or 1.1 credential (Data Integrity, VC-JWT, enveloped): proof, issuer and
    key, dates and status, with the Open Badges rules for Open Badges and CLR credentials only.
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown verification profile {profile!r}; one of {PROFILES}")
    context = Context(
        resolvers=resolvers or Resolvers(), now=now or datetime.now(UTC), recipient=recipient, profile=profile
    )
    try:
        return _dispatch(data, context, prefix="")
    except BadgeError as exc:
        report = VerificationReport(format="unknown")
        report.add("format", "fail", "Format non reconnu ou illisible.", f"Unrecognised or unreadable format: {exc}")
        return report


def _dispatch(data: bytes | str | dict[str, Any], context: Context, *, prefix: str) -> VerificationReport:
    if isinstance(data, bytes):
        stripped = data.lstrip()
        if stripped.startswith((b"\x89PNG", b"<")):
            baked = unbake(data)
            if baked is None:
                report = VerificationReport(format="image")
                report.add(
                    "format",
                    "fail",
                    "Aucun badge n'est intégré à cette image.",
                    "No credential is baked into this image.",
                )
                return report
            return _dispatch(baked.text, context, prefix=f"{baked.container}+")
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            report = VerificationReport(format="unknown")
            report.add("format", "fail", "Données illisibles.", "Unreadable data.")
            return report
    if isinstance(data, str):
        text = data.strip()
        if text.startswith(COMPACT_PREFIX):
            # A compact signed badge (BL1): checked against the trust list and status bundle its
            # platform publishes, as the resolvers answer them (see badges.compact).
            return verify_with_resolvers(text, context.resolvers, context.now)
        if _JWS.match(text):
            decoded = decode_jws(text)
            if decoded.payload.get("type") == "Assertion" or (
                "@context" in decoded.payload
                and "openbadges" in str(decoded.payload["@context"])
                and "vc" not in decoded.payload
                and "credentials" not in str(decoded.payload["@context"])
            ):
                return verify_ob2_signed(text, context, fmt=prefix + "ob2-jws")
            return verify_ob3_jwt(text, context, fmt=prefix + "vc-jwt")
        if text.startswith("{"):
            try:
                parsed = json.loads(text)
            except ValueError:
                report = VerificationReport(format=prefix + "json")
                report.add("format", "fail", "JSON invalide.", "Invalid JSON.")
                return report
            return _dispatch(parsed, context, prefix=prefix)
        if text.startswith(("https://", "http://")):
            return verify_ob2_hosted(text, context, fmt=prefix + "ob2-hosted")
        report = VerificationReport(format=prefix + "unknown")
        report.add("format", "fail", "Format non reconnu.", "Unrecognised format.")
        return report
    if not isinstance(data, dict):
        report = VerificationReport(format="unknown")
        report.add("format", "fail", "Format non reconnu.", "Unrecognised format.")
        return report
    types = data.get("type")
    type_list = types if isinstance(types, list) else [types]
    if "Assertion" in type_list:
        return verify_ob2_hosted(data, context, fmt=prefix + "ob2-hosted")
    return verify_ob3_document(data, context, fmt=prefix + "vc-data-integrity")
