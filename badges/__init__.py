"""Blason's Open Badges core: build, sign, verify, bake, QR codes and status lists.

A pure library (no Flask, no database): Open Badges 3.0 and CLR 2.0 credentials with
``eddsa-rdfc-2022`` Data Integrity proofs or VC-JWT, Open Badges 2.0 documents and signed
assertions, W3C Bitstring status lists, PNG/SVG baking, QR codes, and one verifier.
"""

from __future__ import annotations

from .baking import BakedPayload, bake_png, bake_svg, unbake, unbake_png, unbake_svg
from .canon import canonize
from .clr import Association, ClrRecord, build_clr_credential
from .contexts import document_loader, known_contexts
from .credentials import (
    Achievement,
    Alignment,
    Award,
    Criteria,
    Endorsement,
    Evidence,
    Image,
    Profile,
    Recipient,
    Result,
    ResultDescription,
    StatusEntry,
    build_endorsement_credential,
    build_ob3_credential,
    hash_identity,
)
from .errors import (
    BadgeError,
    BakingError,
    ContextError,
    FetchRefused,
    ImageTooLarge,
    InvalidInput,
    KeyFormatError,
    ProofError,
    QRCodeError,
    ResolutionError,
    SigningError,
    StatusListError,
    UndefinedTermError,
    Unreachable,
)
from .fetch import GuardedFetcher
from .jws import sign_ob2_assertion, sign_vc_jwt
from .keys import (
    PublicKey,
    SigningKey,
    controller_document,
    generate_key,
    load_private_key,
    load_public_pem,
    public_key_from_did_key,
    public_key_from_jwk,
    public_key_from_multibase,
)
from .ob2 import (
    OB2Assertion,
    build_ob2_assertion,
    build_ob2_badgeclass,
    build_ob2_cryptographic_key,
    build_ob2_profile,
    build_ob2_revocation_list,
)
from .proofs import sign_data_integrity, verify_data_integrity
from .qr import qr_png, qr_svg
from .report import Check, Resolvers, VerificationReport
from .status import IndexAllocator, StatusList, build_status_list_credential
from .verify import verify

__all__ = [
    "Achievement",
    "Alignment",
    "Association",
    "Award",
    "BadgeError",
    "BakedPayload",
    "BakingError",
    "Check",
    "ClrRecord",
    "ContextError",
    "Criteria",
    "Endorsement",
    "Evidence",
    "FetchRefused",
    "GuardedFetcher",
    "Image",
    "ImageTooLarge",
    "IndexAllocator",
    "InvalidInput",
    "KeyFormatError",
    "OB2Assertion",
    "Profile",
    "ProofError",
    "PublicKey",
    "QRCodeError",
    "Recipient",
    "ResolutionError",
    "Resolvers",
    "Result",
    "ResultDescription",
    "SigningError",
    "SigningKey",
    "StatusEntry",
    "StatusList",
    "StatusListError",
    "UndefinedTermError",
    "Unreachable",
    "VerificationReport",
    "bake_png",
    "bake_svg",
    "build_clr_credential",
    "build_endorsement_credential",
    "build_ob2_assertion",
    "build_ob2_badgeclass",
    "build_ob2_cryptographic_key",
    "build_ob2_profile",
    "build_ob2_revocation_list",
    "build_ob3_credential",
    "build_status_list_credential",
    "canonize",
    "controller_document",
    "document_loader",
    "generate_key",
    "hash_identity",
    "known_contexts",
    "load_private_key",
    "load_public_pem",
    "public_key_from_did_key",
    "public_key_from_jwk",
    "public_key_from_multibase",
    "qr_png",
    "qr_svg",
    "sign_data_integrity",
    "sign_ob2_assertion",
    "sign_vc_jwt",
    "unbake",
    "unbake_png",
    "unbake_svg",
    "verify",
    "verify_data_integrity",
]
