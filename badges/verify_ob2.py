"""Verification of Open Badges 2.0 assertions: signed (RS256 JWS) and hosted."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .credentials import hash_identity, normalise_email
from .errors import BadgeError, ProofError, ResolutionError
from .jws import OB2_ALGORITHMS, decode_jws, verify_jws
from .keys import load_public_pem
from .report import VerificationReport
from .timeutil import parse_datetime

if TYPE_CHECKING:
    from .verify_ob3 import Context


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _id_of(value: Any) -> Any:
    return value.get("id") if isinstance(value, dict) else value


def _load(value: Any, context: Context) -> dict[str, Any]:
    """Return an embedded object, or resolve a URL to one."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        document = context.resolvers.get_document(value)
        if isinstance(document, dict):
            return document
    raise ProofError("cannot resolve a linked OB 2.0 document")


def _badge_and_issuer(assertion: dict[str, Any], context: Context, report: VerificationReport) -> dict[str, Any] | None:
    problems = [name for name in ("id", "recipient", "badge", "verification", "issuedOn") if name not in assertion]
    if problems or assertion.get("type") not in ("Assertion", ["Assertion"]):
        report.add(
            "structure",
            "fail",
            "L'assertion Open Badges 2.0 est incomplète.",
            "Incomplete OB 2.0 assertion: missing " + ", ".join(problems or ["type"]),
        )
        return None
    try:
        badge = _load(assertion["badge"], context)
        issuer = _load(badge.get("issuer"), context)
    except BadgeError as exc:
        report.add("structure", "fail", "Badge ou émetteur introuvable.", f"BadgeClass or issuer unavailable: {exc}")
        return None
    if badge.get("type") not in ("BadgeClass", ["BadgeClass"]) or issuer.get("type") not in (
        "Issuer",
        "Profile",
        ["Issuer"],
        ["Profile"],
    ):
        report.add("structure", "fail", "Badge ou émetteur mal formé.", "Malformed BadgeClass or issuer profile.")
        return None
    report.add("structure", "pass", "Structure conforme.", "Well-formed OB 2.0 assertion.")
    return issuer


def verify_ob2_signed(token: str, context: Context, *, fmt: str) -> VerificationReport:
    """Verify an OB 2.0 signed assertion (RS256 JWS, key linked from the issuer profile)."""
    report = VerificationReport(format=fmt)
    try:
        decoded = decode_jws(token)
    except ProofError as exc:
        report.add("format", "fail", "JWS illisible.", f"Unreadable JWS: {exc}")
        return report
    assertion = decoded.payload
    report.credential = assertion
    report.add("format", "pass", "Assertion Open Badges 2.0 signée.", "Signed OB 2.0 assertion.")
    issuer = _badge_and_issuer(assertion, context, report)
    if issuer is None:
        return report
    verification = assertion.get("verification") or {}
    creator = verification.get("creator") if isinstance(verification, dict) else None
    try:
        if not isinstance(creator, str):
            raise ProofError("verification.creator is missing")
        key_document = context.resolvers.get_key(creator)
        if not isinstance(key_document, dict) or "publicKeyPem" not in key_document:
            raise ProofError("the creator is not a CryptographicKey")
        key = load_public_pem(key_document["publicKeyPem"])
        verify_jws(token, key, OB2_ALGORITHMS, strict_ob3=False)
    except BadgeError as exc:
        report.add("proof", "fail", "La signature est invalide.", f"Invalid signature: {exc}")
        return report
    report.add("proof", "pass", "Signature valide (RS256).", "Valid RS256 signature.")
    listed = [_id_of(item) for item in _as_list(issuer.get("publicKey", []))]
    if key_document.get("owner") == issuer.get("id") and creator in listed:
        report.add("issuer_key", "pass", "La clé appartient bien à l'émetteur.", "The key belongs to the issuer.")
    else:
        report.add(
            "issuer_key",
            "fail",
            "La clé n'est pas rattachée au profil de l'émetteur.",
            "The key is not linked both ways with the issuer profile.",
        )
    _revocation(assertion, issuer, context, report)
    _finish(assertion, context, report)
    return report


def verify_ob2_hosted(data: dict[str, Any] | str, context: Context, *, fmt: str) -> VerificationReport:
    """Verify an OB 2.0 hosted assertion: the copy at its id URL is the source of truth."""
    report = VerificationReport(format=fmt)
    url: Any = data if isinstance(data, str) else data.get("id")
    report.add("format", "pass", "Assertion Open Badges 2.0 hébergée.", "Hosted OB 2.0 assertion.")
    try:
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise ProofError("a hosted assertion id is an HTTP(S) URL")
        hosted = context.resolvers.get_document(url)
    except ResolutionError as exc:
        if exc.gone:  # the issuer withdrew it: that is the verdict, with the reason its host gives
            reason = _revocation_reason(exc.document)
            report.add(
                "status",
                "fail",
                "Ce badge a été révoqué." + (f" Raison donnée par l'émetteur : {reason}" if reason else ""),
                "Revoked (HTTP 410 Gone)." + (f" Reason given by the issuer: {reason}" if reason else ""),
            )
            return report
        report.add("proof", "fail", "L'assertion hébergée est introuvable.", f"Hosted assertion unavailable: {exc}")
        return report
    except BadgeError as exc:
        report.add("proof", "fail", "Assertion hébergée invalide.", str(exc))
        return report
    if (
        not isinstance(hosted, dict)
        or hosted.get("id") != url
        or (isinstance(data, dict) and _comparable(hosted) != _comparable(data))
    ):
        report.add(
            "proof", "fail", "La copie hébergée ne correspond pas.", "The hosted copy does not match this assertion."
        )
        return report
    report.credential = hosted
    if hosted.get("revoked") is True:
        report.add("status", "fail", "Ce badge a été révoqué.", "Revoked.")
    issuer = _badge_and_issuer(hosted, context, report)
    if issuer is None:
        return report
    report.add(
        "proof", "pass", "Assertion hébergée retrouvée chez l'émetteur.", "Hosted assertion retrieved from its URL."
    )
    issuer_id = issuer.get("id")
    same_origin = isinstance(issuer_id, str) and (urlsplit(issuer_id)[:2] == urlsplit(url)[:2])
    declared = issuer.get("verification")
    scope: dict[str, Any] = declared if isinstance(declared, dict) else {}
    starts = [s for s in _as_list(scope.get("startsWith", [])) if isinstance(s, str)]
    if same_origin or any(url.startswith(prefix) for prefix in starts):
        report.add(
            "issuer_key",
            "pass",
            "L'assertion est hébergée par l'émetteur.",
            "The assertion is hosted within the issuer's scope.",
        )
    else:
        report.add(
            "issuer_key",
            "fail",
            "L'assertion n'est pas hébergée par l'émetteur.",
            "The assertion is hosted outside the issuer's scope.",
        )
    if report.check("status") is None:
        _revocation(hosted, issuer, context, report)
    _finish(hosted, context, report)
    return report


def _comparable(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key != "image"}


def _revocation(
    assertion: dict[str, Any], issuer: dict[str, Any], context: Context, report: VerificationReport
) -> None:
    url = issuer.get("revocationList")
    if not url:
        report.add("status", "skipped", "Aucune liste de révocation publiée.", "No revocation list to check.")
        return
    try:
        listing = _load(url, context)
    except BadgeError as exc:
        report.add("status", "fail", "Liste de révocation inaccessible.", f"Revocation list unavailable: {exc}")
        return
    revoked = {
        _id_of(item) or (item.get("uid") if isinstance(item, dict) else None): item
        for item in _as_list(listing.get("revokedAssertions", []))
    }
    if assertion.get("id") in revoked:
        reason = _revocation_reason(revoked[assertion.get("id")])
        report.add(
            "status",
            "fail",
            "Ce badge a été révoqué." + (f" Raison donnée par l'émetteur : {reason}" if reason else ""),
            "Revoked." + (f" Reason given by the issuer: {reason}" if reason else ""),
        )
    else:
        report.add("status", "pass", "Non révoqué.", "Not revoked.")


def _revocation_reason(said: Any) -> str | None:
    """The ``revocationReason`` a 410 answer or a revocation list entry gives, as short plain text."""
    reason = said.get("revocationReason") if isinstance(said, dict) else None
    if not isinstance(reason, str) or not reason.strip():
        return None
    return " ".join(reason.split())[:300]


def _finish(assertion: dict[str, Any], context: Context, report: VerificationReport) -> None:
    try:
        issued = parse_datetime(assertion["issuedOn"])
        expires = parse_datetime(assertion["expires"]) if "expires" in assertion else None
    except (KeyError, BadgeError):
        report.add("validity", "fail", "Dates illisibles.", "Unreadable dates.")
    else:
        if context.now < issued:
            report.add("validity", "fail", "Ce badge n'est pas encore valide.", "Issued in the future.")
        elif expires is not None and context.now > expires:
            report.add("validity", "fail", "Ce badge a expiré.", "Expired.")
        else:
            report.add("validity", "pass", "Dates de validité respectées.", "Within validity dates.")
    if context.recipient is None:
        report.add(
            "recipient",
            "skipped",
            "Destinataire non vérifié (aucune identité fournie).",
            "Recipient not checked (no identity given).",
        )
        return
    recipient = assertion.get("recipient") or {}
    identity = str(recipient.get("identity", ""))
    matched = False
    for candidate in {context.recipient, normalise_email(context.recipient)}:
        if recipient.get("hashed"):
            algorithm = identity.split("$", 1)[0]
            try:
                matched = (
                    matched
                    or hash_identity(candidate, recipient.get("salt") or "", algorithm).lower() == identity.lower()
                )
            except BadgeError:
                pass
        else:
            matched = matched or candidate == identity
    if matched:
        report.add(
            "recipient",
            "pass",
            "Le badge appartient bien à cette personne.",
            "The assertion was issued to this recipient.",
        )
    else:
        report.add(
            "recipient",
            "fail",
            "Le badge n'a pas été délivré à cette personne.",
            "The assertion was not issued to this recipient.",
        )
