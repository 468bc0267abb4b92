"""Verification of Open Badges 3.0 credentials on the VC Data Model 1.1, and of VC 2.0
``EnvelopedVerifiableCredential`` wrappers.

Early OB 3.0 issuers built their credentials on ``https://www.w3.org/2018/credentials/v1``
(``issuanceDate``/``expirationDate``), secured with an embedded ``Ed25519Signature2020`` or
``DataIntegrityProof`` (``eddsa-rdfc-2022``) proof, or as a VC-JWT 1.1 (the credential in a
``vc`` claim). They are verified like OB 3.0 on VC 2.0 (signature, issuer/key link, dates,
status, recipient, endorsements) and refused only for a real reason. Nothing here issues them.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import unquote_to_bytes

from . import verify_ob3 as ob3
from .contexts import OB_V3P0, OB_V3P0_3_0_0, OB_V3P0_3_0_1, OB_V3P0_3_0_2, VC_V1, VC_V2
from .errors import BadgeError, KeyFormatError, ProofError, ResolutionError
from .jws import (
    VC_JWT_ALGORITHMS,
    DecodedJws,
    check_lenient_header,
    decode_jws,
    vc11_credential_from_claims,
    verify_jws,
)
from .keys import PublicKey, public_key_from_jwk
from .report import VerificationReport

ENVELOPED = "EnvelopedVerifiableCredential"
_OB_CONTEXTS = {OB_V3P0, OB_V3P0_3_0_2, OB_V3P0_3_0_1, OB_V3P0_3_0_0}
_VC11_TYPES = {
    "OpenBadgeCredential",
    "AchievementCredential",
    "EndorsementCredential",
    "ClrCredential",
    "StatusList2021Credential",
    "BitstringStatusListCredential",
}
# The media types of a JWT-secured credential an envelope may carry (VC-JOSE-COSE and RFC 7519);
# vc+ld+json+jwt is the name the VC-JOSE-COSE drafts used.
_JWT_MEDIA_TYPES = {"application/vc+jwt", "application/jwt", "application/vc+ld+json+jwt"}
_MAX_ENVELOPE = 1_000_000
_MODEL = (" sur le modèle VC 1.1", " on the VC 1.1 data model")


def is_vc11(document: Any) -> bool:
    """Return True for a credential whose first @context is the VC 1.1 one."""
    contexts = document.get("@context") if isinstance(document, dict) else None
    first = contexts[0] if isinstance(contexts, list) and contexts else contexts
    return first == VC_V1


def is_enveloped(document: Any) -> bool:
    """Return True for a VC 2.0 ``EnvelopedVerifiableCredential``."""
    return isinstance(document, dict) and ENVELOPED in ob3._types(document.get("type"))


def format_name(fmt: str, name: str) -> str:
    """Keep the container prefix of a format (``png+``...) and name the actual kind."""
    for generic in ("vc-data-integrity", "vc-jwt"):
        if fmt.endswith(generic):
            return fmt[: -len(generic)] + name
    return fmt


def _structure(credential: dict[str, Any], report: VerificationReport) -> bool:
    contexts = credential.get("@context")
    contexts = contexts if isinstance(contexts, list) else [contexts]
    problems = ob3.ob_problems(
        credential,
        ob3._types(credential.get("type")),
        known=_VC11_TYPES,
        ob_context_problem=lambda: None if _OB_CONTEXTS.intersection(contexts) else "the OB 3.0 context is missing",
        status_list="StatusList2021Credential",
        issued="issuanceDate",
    )
    return ob3.structure_verdict(
        report,
        problems,
        (
            "Le document n'a pas la forme d'un badge Open Badges 3.0 (modèle VC 1.1).",
            "Not a well-formed VC 1.1 credential",
        ),
        ("Structure conforme (modèle VC 1.1).", "Well-formed VC 1.1 credential."),
    )


def verify_vc11_document(
    credential: dict[str, Any], context: ob3.Context, *, fmt: str, status: bool = True
) -> VerificationReport:
    """Verify a VC 1.1 credential secured with an embedded Ed25519Signature2020 or eddsa-rdfc-2022 proof."""
    report = VerificationReport(format=format_name(fmt, "vc11-data-integrity"), credential=credential)
    ob3.format_pass(report, context, credential, ("preuve intégrée", "embedded proof"), _MODEL)
    if not ob3.check_structure(credential, context, report, _structure):
        return report
    ob3._check_embedded_proof(credential, context, report)
    ob3._finish(credential, context, report, status=status)
    return report


def _jwt_key(decoded: DecodedJws, issuer: str | None, context: ob3.Context) -> tuple[PublicKey, str | None, str]:
    """Return the key that signed a VC-JWT 1.1, its controller and its URL ("" for an inline jwk)."""
    kid = decoded.header.get("kid")
    if isinstance(kid, str) and kid.startswith("#") and issuer:
        kid = issuer + kid  # a DID URL relative to the issuer's DID
    if kid is None and issuer and issuer.startswith("did:key:"):
        kid = issuer  # no kid: the issuer's did:key names its only key
    if isinstance(kid, str) and kid:
        key, controller = ob3._key_for_method(kid, issuer, context.resolvers)
        return key, controller, kid
    if isinstance(decoded.header.get("jwk"), dict):
        return public_key_from_jwk(decoded.header["jwk"]), None, ""
    raise KeyFormatError("no usable kid")


def verify_vc11_jwt(token: str, context: ob3.Context, *, fmt: str, status: bool = True) -> VerificationReport:
    """Verify a VC-JWT 1.1: the credential in the ``vc`` claim, the registered claims mapped onto it."""
    report = VerificationReport(format=format_name(fmt, "vc11-jwt"))
    try:
        decoded = decode_jws(token)
        alg = check_lenient_header(decoded.header)
    except ProofError as exc:
        report.add("format", "fail", "Jeton JWT invalide ou algorithme refusé.", f"Invalid VC-JWT: {exc}")
        return report
    wrapped = decoded.payload.get("vc")
    ob3.format_pass(report, context, wrapped if isinstance(wrapped, dict) else None, ("VC-JWT", "VC-JWT"), _MODEL)
    try:
        credential = vc11_credential_from_claims(decoded.payload)
    except ProofError as exc:
        report.add(
            "structure",
            "fail",
            "Les champs du jeton contredisent le badge qu'il contient.",
            f"JWT claims contradict the credential: {exc}",
        )
        return report
    report.credential = credential
    if not is_vc11(credential):
        report.add(
            "structure",
            "fail",
            "Le badge du jeton n'est pas sur le modèle VC 1.1.",
            "The vc claim does not hold a VC 1.1 credential.",
        )
        return report
    if not ob3.check_structure(credential, context, report, _structure):
        return report
    issuer = ob3.issuer_id(credential)
    try:
        key, controller, key_url = _jwt_key(decoded, issuer, context)
        verify_jws(decoded.token, key, VC_JWT_ALGORITHMS, strict_ob3=False)
    except (BadgeError, ResolutionError) as exc:
        ob3._fail_proof(report, str(exc))
        return report
    ob3._report_jwt_signature(report, alg, key_url, controller, issuer)
    ob3._finish(credential, context, report, status=status)
    return report


def _data_url(value: Any) -> tuple[str, bytes]:
    """Split a ``data:`` URL (RFC 2397) into its media type and its bytes."""
    if not isinstance(value, str) or not value.startswith("data:") or "," not in value:
        raise ProofError("the envelope id is not a data: URL")
    if len(value) > _MAX_ENVELOPE:
        raise ProofError("the enveloped credential is too large")
    header, _, data = value[len("data:") :].partition(",")
    media, *parameters = header.split(";")
    if "base64" in (p.strip().lower() for p in parameters):
        try:
            return media.strip().lower(), base64.b64decode(data, validate=True)
        except binascii.Error as exc:
            raise ProofError("the data: URL is not valid base64") from exc
    return media.strip().lower(), unquote_to_bytes(data)


def verify_enveloped(
    document: dict[str, Any], context: ob3.Context, *, fmt: str, status: bool = True
) -> VerificationReport:
    """Unwrap a VC 2.0 ``EnvelopedVerifiableCredential`` and verify the JWT it carries."""
    contexts = document.get("@context")
    try:
        if VC_V2 not in (contexts if isinstance(contexts, list) else [contexts]):
            raise ProofError("an EnvelopedVerifiableCredential needs the VC 2.0 context")
        media, data = _data_url(document.get("id"))
        if media not in _JWT_MEDIA_TYPES:
            report = VerificationReport(format=format_name(fmt, "enveloped"))
            report.add(
                "format",
                "fail",
                f"Format de badge enveloppé non pris en charge ({media or 'sans type'}) : "
                "seuls les VC-JWT (application/vc+jwt, application/jwt) sont vérifiés.",
                f"Unsupported enveloped credential format {media or '(none)'!r}: only "
                "application/vc+jwt and application/jwt are verified.",
            )
            return report
        token = data.decode("ascii").strip()
        decoded = decode_jws(token)
    except (ProofError, UnicodeDecodeError) as exc:
        report = VerificationReport(format=format_name(fmt, "enveloped"))
        report.add("format", "fail", "Badge enveloppé illisible.", f"Unreadable EnvelopedVerifiableCredential: {exc}")
        return report
    if isinstance(decoded.payload.get("vc"), dict):
        return verify_vc11_jwt(token, context, fmt=format_name(fmt, "enveloped+vc-jwt"), status=status)
    return ob3.verify_ob3_jwt(token, context, fmt=format_name(fmt, "enveloped+vc-jwt"), status=status, envelope=True)
