"""The W3C VC-API issuer service: ``POST /credentials/issue`` signs a caller's credential as its issuer.

The caller is a client of one issuer (``app.services.issuing.api_clients``) holding the ``issue``
scope. Its credential is a VC Data Model 2.0 credential without a proof; Blason checks it, fills
in what the issuer service owns (``issuer`` when absent: the identifier the issuer chose;
``validFrom`` when absent) and signs it with the issuer's active Data Integrity key
(``eddsa-rdfc-2022``). The credential may name its issuer by its https URL or by its did:web
(whose DID document Blason publishes whatever the issuer chose); the ``verificationMethod`` is
of the same form: ``<https id>#<multibase>`` or ``<did:web>#<multibase>``. A credential naming another
issuer, another key, an option this service does not know, a context outside the pinned store or a
term no context defines is refused (400 for the request's shape, 422 for the credential), never
signed and never a 500.

What was issued is not stored: the caller keeps the signed credential (it is not an award of an
achievement, has no status-list entry and does not appear in the issuer's badge lists). An audit
event records who issued what: the client, the credential's id and types, and the SHA-256 of the
signed document, so the issuer can later tell whether a document presented to it is one it signed.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy.orm import Session

import badges
from app.models import Issuer, KeyPurpose
from app.platform.errors import FieldError, InvalidInput, PayloadTooLarge, ServiceError
from app.platform.urls import Urls
from app.services.identity import audit
from app.services.issuing.api_clients import ClientCaller
from app.services.issuing.keys import KeyUnavailable, active_key, decrypt_private_key
from app.services.issuing.signing import IssuingSettings, issuer_identifier, signing_ids
from badges.contexts import VC_V2
from badges.timeutil import format_datetime, parse_datetime
from badges.verify_ob3 import _structure as check_structure, issuer_id, vc_structure_problems

ISSUE_FIELDS = frozenset({"credential", "options"})
ISSUE_OPTIONS = frozenset({"credentialId", "verificationMethod"})
MAX_CREDENTIAL_BYTES = 256 * 1024  # one credential, not a library: canonicalisation grows with size
MAX_DEPTH = 32
_OPEN_BADGES_TYPES = {"OpenBadgeCredential", "AchievementCredential", "EndorsementCredential", "ClrCredential"}


class BadRequest(ServiceError):
    """The request itself is not what the endpoint reads (400): not an object, an unknown field or option."""


def _bad(pointer: str, detail: str) -> BadRequest:
    return BadRequest(detail, errors=[FieldError(pointer, detail)])


def _invalid(pointer: str, detail: str) -> InvalidInput:
    return InvalidInput(detail, errors=[FieldError(pointer, detail)])


def issuer_ids(issuer: Issuer, urls: Urls) -> set[str]:
    """The identifiers a credential may name its issuer by: its https URL and its did:web."""
    return {urls.issuer(issuer.id), urls.issuer_did(issuer.id)}


def check_request(body: Any, allowed_fields: frozenset[str], allowed_options: frozenset[str]) -> dict[str, Any]:
    """The request's options, after checking its shape: a JSON object of known fields and options."""
    if not isinstance(body, dict):
        raise _bad("#", "Send a JSON object.")
    try:
        text = json.dumps(body, ensure_ascii=False)
        text.encode("utf-8")
    except (UnicodeEncodeError, RecursionError, ValueError):
        text = "\x00"
    if "\x00" in text or "\\u0000" in text:
        # A NUL or a lone surrogate cannot be stored, signed over nor sent back: refused, never a 500.
        raise _bad("#", "The body carries a NUL character or text without a UTF-8 form.")
    for name in body:
        if name not in allowed_fields:
            raise _bad(f"#/{name}", f"Unknown field {str(name)[:60]!r}; this endpoint reads {sorted(allowed_fields)}.")
    options = body.get("options", {})
    if options is None:
        options = {}
    if not isinstance(options, dict):
        raise _bad("#/options", "options must be a JSON object.")
    for name in options:
        if name not in allowed_options:
            raise _bad(
                f"#/options/{name}", f"Unknown option {str(name)[:60]!r}; this service knows {sorted(allowed_options)}."
            )
    return options


def _depth_and_size(credential: dict[str, Any]) -> None:
    stack: list[tuple[Any, int]] = [(credential, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise _invalid("#/credential", f"The credential is nested deeper than {MAX_DEPTH} levels.")
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        stack.extend((child, depth + 1) for child in children)
    size = len(json.dumps(credential, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass"))
    if size > MAX_CREDENTIAL_BYTES:
        raise PayloadTooLarge(
            f"A credential is at most {MAX_CREDENTIAL_BYTES} bytes long.",
            errors=[FieldError("#/credential", f"Longer than {MAX_CREDENTIAL_BYTES} bytes.")],
        )


def _types(credential: dict[str, Any]) -> list[str]:
    kinds = credential.get("type")
    listed = kinds if isinstance(kinds, list) else [kinds]
    if not listed or not all(isinstance(k, str) and k for k in listed):
        raise _invalid("#/credential/type", "type must be a string or a list of strings.")
    if "VerifiableCredential" not in listed:
        raise _invalid("#/credential/type", "type must contain VerifiableCredential.")
    return [str(k) for k in listed]


def _check_issuer(credential: dict[str, Any], ours: str, accepted: set[str]) -> None:
    named = credential.get("issuer")
    if named is None:
        credential["issuer"] = ours  # the issuer service knows whose signer it is
        return
    ident = named.get("id") if isinstance(named, dict) else named
    if not isinstance(ident, str) or not ident:
        raise _invalid("#/credential/issuer", "issuer must be a URL or an object with an id.")
    if ident not in accepted:
        raise _invalid("#/credential/issuer", f"This client signs for issuer {ours} only, not {ident[:200]}.")


def _check_dates(credential: dict[str, Any], settings: IssuingSettings) -> None:
    for name in ("validFrom", "validUntil"):
        if name in credential:
            try:
                parse_datetime(credential[name])
            except badges.BadgeError:
                raise _invalid(
                    f"#/credential/{name}", f"{name} must be an ISO 8601 date-time with a timezone."
                ) from None
    if "validFrom" not in credential:
        credential["validFrom"] = format_datetime(settings.clock())
    if "validUntil" in credential and parse_datetime(credential["validUntil"]) < parse_datetime(
        credential["validFrom"]
    ):
        raise _invalid("#/credential/validUntil", "validUntil comes before validFrom.")


def _check_credential(credential: Any, options: dict[str, Any], ours: str, accepted: set[str], urls: Urls) -> None:
    if not isinstance(credential, dict):
        raise _bad("#/credential", "credential must be a JSON object (a VC Data Model 2.0 credential without proof).")
    _depth_and_size(credential)
    contexts = credential.get("@context")
    if not isinstance(contexts, list) or not contexts or contexts[0] != VC_V2:
        raise _invalid("#/credential/@context", f"@context must be a list starting with {VC_V2}.")
    _types(credential)
    if "proof" in credential:
        raise _invalid("#/credential/proof", "Send the credential without a proof: this service adds it.")
    ident = credential.get("id")
    if ident is not None and (not isinstance(ident, str) or ":" not in ident):
        raise _invalid("#/credential/id", "id must be a URL.")
    subject = credential.get("credentialSubject")
    subjects = subject if isinstance(subject, list) else [subject]
    if not subjects or not all(isinstance(s, dict) and s for s in subjects):
        raise _invalid("#/credential/credentialSubject", "credentialSubject must be an object with claims (or a list).")
    _check_issuer(credential, ours, accepted)
    status = credential.get("credentialStatus")
    for entry in status if isinstance(status, list) else [status]:
        listed = entry.get("statusListCredential") if isinstance(entry, dict) else None
        if isinstance(listed, str) and listed.startswith(urls.base + "/"):
            # Status entries in Blason's lists belong to awards; a client cannot claim an index there.
            raise _invalid(
                "#/credential/credentialStatus", "Status entries in this service's lists are not given out here."
            )
    credential_id = options.get("credentialId")
    if credential_id is not None and not isinstance(credential_id, str):
        raise _bad("#/options/credentialId", "credentialId must be a string.")


def issue_credential(session: Session, caller: ClientCaller, body: Any, *, settings: IssuingSettings) -> dict[str, Any]:
    """Sign the request's credential as the caller's issuer; return the VC-API answer ({verifiableCredential})."""
    caller.require("issue")
    options = check_request(body, ISSUE_FIELDS, ISSUE_OPTIONS)
    if "credential" not in body:
        raise _bad("#/credential", "credential is required.")
    issuer = session.get(Issuer, caller.issuer_id)
    assert issuer is not None  # the client's foreign key
    urls = settings.urls
    ours = issuer_identifier(issuer, urls)
    credential = body["credential"]
    _check_credential(credential, options, ours, issuer_ids(issuer, urls), urls)
    _check_dates(credential, settings)
    if _OPEN_BADGES_TYPES.intersection(_types(credential)):
        _check_open_badge(credential)
    else:
        _check_data_model(credential)
    row = active_key(session, issuer.id, KeyPurpose.DATA_INTEGRITY)
    assert row.public_key_multibase is not None
    named_as = issuer_id(credential)
    assert named_as is not None  # _check_credential: one of issuer_ids, or filled in
    method, _kid = signing_ids(urls, issuer.id, named_as, multibase=row.public_key_multibase, kid=row.kid)
    named_method = options.get("verificationMethod")
    if named_method is not None and named_method != method:
        raise _invalid("#/options/verificationMethod", f"This issuer signs with {method} only.")
    try:
        key = decrypt_private_key(row, settings.keks)
    except KeyUnavailable:
        raise InvalidInput("The issuer's signing key cannot be used now; its administrators must renew it.") from None
    try:
        signed = badges.sign_data_integrity(credential, key, method, created=settings.clock())
    except badges.UndefinedTermError as exc:
        raise _invalid("#/credential", f"The credential uses terms its contexts do not define: {exc}") from None
    except badges.BadgeError as exc:
        # Contexts come from the pinned store only: an unknown one is named, never fetched.
        raise _invalid("#/credential/@context", f"The credential cannot be signed: {str(exc)[:300]}") from None
    except RecursionError:
        raise _invalid("#/credential", "The credential is nested too deeply to sign.") from None
    if isinstance(signed.get("proof"), list) and len(signed["proof"]) == 1:
        signed["proof"] = signed["proof"][0]  # one proof: an object, as most verifiers expect it
    kinds = _types(signed)
    digest = hashlib.sha256(json.dumps(signed, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    audit.record(
        session,
        None,
        "vc_api.credential_issued",
        "api_client",
        caller.client.id,
        {
            "issuer": str(issuer.id),
            "clientId": caller.client.client_id,
            "credentialId": signed.get("id") or options.get("credentialId"),
            "types": kinds,
            "sha256": digest,
            "kid": row.kid,
        },
        clock=settings.clock,
    )
    return {"verifiableCredential": signed}


def _check_data_model(credential: dict[str, Any]) -> None:
    """Any other credential must be one the VC-API verifier reads as well formed (typed entries...)."""
    problems = vc_structure_problems(credential)
    if problems:
        raise _invalid("#/credential", "Not a well-formed verifiable credential: " + "; ".join(problems))


def _check_open_badge(credential: dict[str, Any]) -> None:
    """An Open Badges or CLR credential must pass the verifier's own structure check before it is signed."""
    report = badges.VerificationReport(format="vc-data-integrity")
    if not check_structure(credential, report):
        failed = report.check("structure")
        raise _invalid("#/credential", failed.reason_en if failed else "Not a well-formed Open Badges credential.")
