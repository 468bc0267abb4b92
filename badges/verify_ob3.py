"""Verification of OB 3.0 / CLR 2.0 credentials: Data Integrity and VC-JWT."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from . import did_web
from .contexts import OB_V3P0, OB_V3P0_3_0_2, VC_V1, VC_V2
from .credentials import hash_identity, normalise_email
from .errors import BadgeError, ContextError, KeyFormatError, ProofError, ResolutionError
from .jws import VC_JWT_ALGORITHMS, check_header, check_lenient_header, check_vc_jwt_claims, decode_jws, verify_jws
from .keys import PublicKey, public_key_from_did_key, public_key_from_jwk, public_key_from_multibase
from .proofs import embedded_proofs, verify_proof
from .report import Resolvers, VerificationReport
from .status import StatusList
from .timeutil import parse_datetime

_MAX_DEPTH = 2
_OB_TYPES = {
    "OpenBadgeCredential",
    "AchievementCredential",
    "EndorsementCredential",
    "ClrCredential",
    "BitstringStatusListCredential",
}
# The credentials whose Open Badges / CLR structure rules apply in every profile.
OPEN_BADGES_TYPES = frozenset(
    {"OpenBadgeCredential", "AchievementCredential", "EndorsementCredential", "ClrCredential"}
)
# Members of a credential whose every entry must say what it is (VC Data Model 2.0 §4 and 1.1 §5).
_TYPED_MEMBERS = ("credentialStatus", "credentialSchema", "evidence", "refreshService", "termsOfUse")
PROFILES = ("badge", "vc")


@dataclass(frozen=True)
class Context:
    """What a verification run needs: resolvers, the clock, and an optional known recipient.

    ``profile`` "badge" (the default) holds every credential to the Open Badges / CLR structure
    rules; "vc" (the W3C VC-API verifier) verifies any VC Data Model 2.0 or 1.1 credential on its
    own terms (proof, issuer and key, dates, status) and keeps the Open Badges rules for the
    Open Badges and CLR credentials.
    """

    resolvers: Resolvers
    now: datetime
    recipient: str | None = None
    depth: int = 0
    profile: str = "badge"

    def nested(self) -> Context:
        """Return the context for a nested credential (endorsement, status list)."""
        return Context(self.resolvers, self.now, None, self.depth + 1, self.profile)

    def generic(self, credential: dict[str, Any]) -> bool:
        """Whether ``credential`` is verified as a plain verifiable credential (profile "vc", no OB type)."""
        return self.profile == "vc" and not OPEN_BADGES_TYPES.intersection(_types(credential.get("type")))


def _types(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def issuer_id(credential: dict[str, Any]) -> str | None:
    """Return the issuer id of a credential (embedded profile or bare URI)."""
    issuer = credential.get("issuer")
    value = issuer.get("id") if isinstance(issuer, dict) else issuer
    return value if isinstance(value, str) else None


def structure_verdict(
    report: VerificationReport, problems: list[str], fail: tuple[str, str], passed: tuple[str, str]
) -> bool:
    """Report the structure check: failed (``fail`` in French and English, the problems listed) or ``passed``."""
    if problems:
        report.add("structure", "fail", fail[0], f"{fail[1]}: " + "; ".join(problems))
        return False
    report.add("structure", "pass", *passed)
    return True


def ob_problems(
    credential: dict[str, Any],
    types: list[Any],
    *,
    known: set[str],
    ob_context_problem: Callable[[], str | None],
    status_list: str,
    issued: str,
) -> list[str]:
    """The Open Badges structure rules the VC 2.0 and VC 1.1 models share.

    ``known`` are the model's credential types, ``ob_context_problem`` gives its complaint
    about the OB 3.0 context (None when right; asked only of OB credentials), ``status_list``
    its status list type (which needs no id) and ``issued`` its issuance date member.
    """
    problems: list[str] = []
    if "VerifiableCredential" not in types or not known.intersection(types):
        problems.append("type must contain VerifiableCredential and an OB/CLR type")
    if {"OpenBadgeCredential", "AchievementCredential"}.intersection(types):
        if complaint := ob_context_problem():
            problems.append(complaint)
        subject = credential.get("credentialSubject")
        if not isinstance(subject, dict) or not (subject.get("id") or subject.get("identifier")):
            problems.append("credentialSubject needs an id or an identifier")
        elif not isinstance(subject.get("achievement"), dict):
            problems.append("credentialSubject needs an achievement")
    if not issuer_id(credential):
        problems.append("issuer id is missing")
    if not isinstance(credential.get("id"), str) and status_list not in types:
        problems.append("id is missing")
    if issued not in credential:
        problems.append(f"{issued} is missing")
    return problems


def _structure(credential: dict[str, Any], report: VerificationReport) -> bool:
    contexts = credential.get("@context")
    problems: list[str] = []
    if not isinstance(contexts, list) or not contexts or contexts[0] != VC_V2:
        problems.append("@context must start with the VC 2.0 context")

    def ob_context() -> str | None:
        if isinstance(contexts, list) and len(contexts) >= 2 and contexts[1] in (OB_V3P0, OB_V3P0_3_0_2):
            return None
        return "the OB 3.0 context must come second"

    problems += ob_problems(
        credential,
        _types(credential.get("type")),
        known=_OB_TYPES,
        ob_context_problem=ob_context,
        status_list="BitstringStatusListCredential",
        issued="validFrom",
    )
    return structure_verdict(
        report,
        problems,
        ("Le document n'a pas la forme d'un badge Open Badges 3.0.", "Not a well-formed credential"),
        ("Structure conforme.", "Well-formed credential."),
    )


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and ":" in value and not value.startswith(":") and " " not in value


def _is_vc11(credential: dict[str, Any]) -> bool:
    contexts = credential.get("@context")
    return isinstance(contexts, list) and bool(contexts) and contexts[0] == VC_V1


def vc_structure_problems(credential: dict[str, Any]) -> list[str]:
    """What keeps ``credential`` from being a well-formed VC Data Model 2.0 (or 1.1) credential."""
    problems: list[str] = []
    contexts = credential.get("@context")
    if (
        not isinstance(contexts, list)
        or not contexts
        or contexts[0] not in (VC_V2, VC_V1)
        or not all(isinstance(c, str | dict) for c in contexts)
    ):
        problems.append("@context must be a list starting with the VC 2.0 (or 1.1) context")
    vc11 = _is_vc11(credential)
    types = _types(credential.get("type"))
    if not all(isinstance(t, str) and t for t in types) or "VerifiableCredential" not in types:
        problems.append("type must list VerifiableCredential (strings only)")
    if "id" in credential and not _is_url(credential["id"]):
        problems.append("id must be a URL")
    issuer = credential.get("issuer")
    if not _is_url(issuer.get("id") if isinstance(issuer, dict) else issuer):
        problems.append("issuer must be a URL or an object whose id is a URL")
    subject = credential.get("credentialSubject")
    subjects = subject if isinstance(subject, list) else [subject]
    if not subjects or not all(isinstance(s, dict) and s for s in subjects):
        problems.append("credentialSubject must be an object with claims (or a list of them)")
    if vc11 and "issuanceDate" not in credential:
        problems.append("issuanceDate is missing")
    for name in _TYPED_MEMBERS:
        if name not in credential:
            continue
        entries = credential[name] if isinstance(credential[name], list) else [credential[name]]
        if not all(isinstance(e, dict) and e.get("type") for e in entries):
            problems.append(f"every {name} entry needs a type")
        elif name == "credentialSchema" and not all(_is_url(e.get("id")) for e in entries):
            problems.append("every credentialSchema entry needs an id")
    return problems


def _vc_structure(credential: dict[str, Any], report: VerificationReport) -> bool:
    return structure_verdict(
        report,
        vc_structure_problems(credential),
        (
            "Le document n'a pas la forme d'une attestation vérifiable (modèle VC du W3C).",
            "Not a well-formed verifiable credential",
        ),
        ("Structure conforme (modèle VC du W3C).", "Well-formed verifiable credential."),
    )


def check_structure(
    credential: dict[str, Any],
    context: Context,
    report: VerificationReport,
    rules: Callable[[dict[str, Any], VerificationReport], bool] = _structure,
) -> bool:
    """The structure check the profile asks for: the VC Data Model's, or the Open Badges ``rules``."""
    if context.generic(credential):
        return _vc_structure(credential, report)
    return rules(credential, report)


def format_pass(
    report: VerificationReport,
    context: Context,
    credential: dict[str, Any] | None,
    how: tuple[str, str],
    model: tuple[str, str] = ("", ""),
) -> None:
    """The format check passed: an Open Badges credential, or (profile "vc") a verifiable credential."""
    if context.profile == "vc" and (credential is None or context.generic(credential)):
        fr, en = "Attestation vérifiable", "Verifiable credential"
    else:
        fr, en = "Badge Open Badges 3.0", "Open Badges 3.0 credential"
    report.add("format", "pass", f"{fr}{model[0]} ({how[0]}).", f"{en}{model[1]} ({how[1]}).")


def _listed(document: dict[str, Any], method: str) -> dict[str, Any] | None:
    """Return the entry for ``method`` in a controller document's key lists, if any.

    A method listed by reference (its id) is returned as its full entry when the document
    defines it elsewhere (a DID document's usual shape: assertionMethod names an entry of
    verificationMethod), else as an empty dict.
    """
    found: dict[str, Any] | None = None
    for relation in ("assertionMethod", "verificationMethod"):
        for entry in _types(document.get(relation, [])):
            if isinstance(entry, dict) and entry.get("id") == method:
                return entry
            if entry == method:
                found = {}
    return found


def _key_for_method(method: str, issuer: str | None, resolvers: Resolvers) -> tuple[PublicKey, str | None]:
    """Return the key of a verification method and the controller that vouches for it.

    The controller is None for a bare JWK (no statement either way) and "" when the
    key cannot be shown to belong to anyone.
    """
    if method.startswith("did:key:"):
        return public_key_from_did_key(method), method.split("#", 1)[0]
    if did_web.is_did_web(method):
        return did_web.key_for_method(method, resolvers)
    base, _, fragment = method.partition("#")
    if fragment.startswith(("z6Mk", "zDn")):
        # The key is in the URL itself; it is linked only if the controller publishes it,
        # otherwise anyone could name any issuer in front of their own key.
        key = public_key_from_multibase(fragment)
        try:
            document = resolvers.get_key(method)
        except ResolutionError:
            return key, ""
        if not isinstance(document, dict):
            return key, ""
        entry = _listed(document, method)
        if document.get("publicKeyMultibase") == fragment and document.get("id") in (None, method):
            return key, document.get("controller") or ""
        if entry is not None and document.get("id") == base and entry.get("publicKeyMultibase", fragment) == fragment:
            return key, base
        return key, ""
    document = resolvers.get_key(method)
    if not isinstance(document, dict):
        raise KeyFormatError("the key document is not a JSON object")
    entry = _listed(document, method)
    if "publicKeyMultibase" not in document and "kty" not in document and entry:
        document = {**entry, "controller": entry.get("controller", document.get("id"))}
    if document.get("id") not in (None, method):
        raise KeyFormatError("the key document has another id")
    controller = document.get("controller")
    if isinstance(document.get("publicKeyMultibase"), str):
        return public_key_from_multibase(document["publicKeyMultibase"]), controller or ""
    if isinstance(document.get("publicKeyJwk"), dict):
        return public_key_from_jwk(document["publicKeyJwk"]), controller or ""
    if "kty" in document:
        return public_key_from_jwk(document), controller
    raise KeyFormatError("no public key in the key document")


def _linked(key_url: str, controller: str | None, issuer: str | None) -> bool:
    if not issuer:
        return False
    if controller is not None:
        return controller == issuer
    # A bare JWK states no controller: accept keys published under the issuer's own URL.
    base = key_url.split("#", 1)[0]
    return base == issuer or key_url.startswith(issuer.rstrip("/") + "/")


def _fail_proof(report: VerificationReport, en: str) -> None:
    report.add(
        "proof",
        "fail",
        "La signature est invalide : le badge a pu être modifié ou ne provient pas de cet émetteur.",
        f"Invalid proof: {en}",
    )


def _check_embedded_proof(credential: dict[str, Any], context: Context, report: VerificationReport) -> None:
    issuer = issuer_id(credential)
    try:
        proofs = embedded_proofs(credential)
    except ProofError as exc:
        _fail_proof(report, str(exc))
        return
    if not proofs:
        _fail_proof(report, "no embedded proof")
        return
    errors: list[str] = []
    for proof in proofs:
        method = proof.get("verificationMethod")
        if not isinstance(method, str):
            errors.append("proof without verificationMethod")
            continue
        try:
            key, controller = _key_for_method(method, issuer, context.resolvers)
            suite = verify_proof(credential, proof, key)
        except ContextError as exc:
            errors.append(f"{exc} (a signature cannot cover undefined terms)")
            continue
        except BadgeError as exc:
            errors.append(str(exc))
            continue
        report.add("proof", "pass", f"Signature valide ({suite}).", f"Valid {suite} proof.")
        _report_linkage(report, method, controller, issuer)
        return
    _fail_proof(report, "; ".join(errors))


def _report_linkage(report: VerificationReport, key_url: str, controller: str | None, issuer: str | None) -> None:
    if _linked(key_url, controller, issuer):
        report.add("issuer_key", "pass", "La clé appartient bien à l'émetteur.", "The key belongs to the issuer.")
    else:
        report.add(
            "issuer_key",
            "fail",
            "La clé de signature n'est pas rattachée à l'émetteur déclaré.",
            f"The signing key {key_url} is not linked to issuer {issuer}.",
        )


def _report_jwt_signature(
    report: VerificationReport, alg: str, key_url: str, controller: str | None, issuer: str | None
) -> None:
    """A valid JWT signature, then whether its key is the issuer's (``key_url`` "" for an inline jwk)."""
    report.add("proof", "pass", f"Signature JWT valide ({alg}).", f"Valid VC-JWT signature ({alg}).")
    if key_url:
        _report_linkage(report, key_url, controller, issuer)
    else:
        report.add(
            "issuer_key",
            "fail",
            "La clé incluse dans le jeton n'est pas rattachée à l'émetteur.",
            "An inline jwk is not linked to the issuer.",
        )


def _validity(
    credential: dict[str, Any], context: Context, report: VerificationReport, expires: int | None = None
) -> None:
    # A VC 1.1 credential (verify_vc11) states the same dates as issuanceDate and expirationDate.
    start, end = ("issuanceDate", "expirationDate") if "validFrom" not in credential else ("validFrom", "validUntil")
    if start not in credential and context.generic(credential) and not _is_vc11(credential):
        start, end = "validFrom", "validUntil"  # optional in VC 2.0: valid from whenever it was issued
    try:
        optional = start == "validFrom" and start not in credential  # the "vc" profile's VC 2.0 only
        valid_from = None if optional else parse_datetime(credential[start])
        until = credential.get(end)
        valid_until = parse_datetime(until) if until is not None else None
    except (KeyError, BadgeError) as exc:
        report.add("validity", "fail", "Dates de validité illisibles.", f"Unreadable validity dates: {exc}")
        return
    if valid_until is None and expires is not None:
        valid_until = datetime.fromtimestamp(expires, tz=context.now.tzinfo)
    if context.profile == "vc" and valid_from is not None and valid_until is not None and valid_until < valid_from:
        report.add(
            "validity", "fail", "Dates de validité incohérentes.", "Invalid dates: validUntil precedes validFrom."
        )
    elif valid_from is not None and context.now < valid_from:
        report.add(
            "validity", "fail", "Ce badge n'est pas encore valide.", f"Not yet valid (valid from {credential[start]})."
        )
    elif valid_until is not None and context.now > valid_until:
        report.add("validity", "fail", "Ce badge a expiré.", f"Expired (valid until {valid_until.isoformat()}).")
    else:
        report.add("validity", "pass", "Dates de validité respectées.", "Within validity dates.")


def _status(credential: dict[str, Any], context: Context, report: VerificationReport) -> None:
    entries = credential.get("credentialStatus")
    if entries is None:
        report.add("status", "skipped", "Aucun statut de révocation publié.", "No credential status to check.")
        return
    issuer = issuer_id(credential)
    for entry in _types(entries):
        try:
            state = _read_status_entry(entry, issuer, credential.get("id"), context)
        except BadgeError as exc:
            report.add(
                "status",
                "fail",
                "Impossible de vérifier le statut de révocation.",
                f"Cannot check the credential status: {exc}",
            )
            return
        if state is not None:
            fr = "Ce badge a été révoqué." if state == "revocation" else "Ce badge est suspendu."
            en = "Revoked." if state == "revocation" else "Suspended."
            report.add("status", "fail", fr, en)
            return
    report.add("status", "pass", "Ni révoqué ni suspendu.", "Neither revoked nor suspended.")


def _read_status_entry(entry: Any, issuer: str | None, credential_id: Any, context: Context) -> str | None:
    """Return the purpose whose bit is set for this entry, or None."""
    if not isinstance(entry, dict):
        raise ProofError("malformed credentialStatus")
    kind = entry.get("type")
    if kind == "1EdTechRevocationList":
        listing = context.resolvers.get_status(entry["id"])
        for revoked in _types(listing.get("revokedCredential", [])):
            if isinstance(revoked, dict) and revoked.get("id") == credential_id and revoked.get("revoked", True):
                return "revocation"
        return None
    if kind not in ("BitstringStatusListEntry", "StatusList2021Entry"):
        raise ProofError(f"unsupported status type {kind!r}")
    purpose = entry.get("statusPurpose")
    url = entry.get("statusListCredential")
    if purpose not in ("revocation", "suspension") or not isinstance(url, str):
        raise ProofError("malformed BitstringStatusListEntry")
    try:
        index = int(entry.get("statusListIndex", ""))
    except ValueError as exc:
        raise ProofError("statusListIndex is not an integer") from exc
    if context.depth >= _MAX_DEPTH:
        raise ProofError("status lists nested too deep")
    fetched = context.resolvers.get_status(url)
    nested = (
        verify_ob3_jwt(fetched, context.nested(), fmt="vc-jwt", status=False)
        if isinstance(fetched, str)
        else verify_ob3_document(fetched, context.nested(), fmt="vc-data-integrity", status=False)
    )
    if not nested.valid or nested.credential is None:
        raise ProofError("the status list credential does not verify: " + ", ".join(nested.failed() or ["proof"]))
    status_credential = nested.credential
    list_type = "BitstringStatusListCredential" if kind == "BitstringStatusListEntry" else "StatusList2021Credential"
    if list_type not in _types(status_credential.get("type")):
        raise ProofError(f"not a {list_type}")
    if not did_web.same_identity(issuer_id(status_credential), issuer):
        raise ProofError("the status list has another issuer")
    subject = status_credential.get("credentialSubject")
    if not isinstance(subject, dict) or subject.get("statusPurpose") != purpose:
        raise ProofError("the status list purpose does not match")
    encoded = subject.get("encodedList", "")
    if kind == "StatusList2021Entry" and isinstance(encoded, str):
        encoded = "u" + encoded  # StatusList2021 has plain base64url, without the multibase prefix
    bits = StatusList.decode(encoded)
    return purpose if bits.get(index) else None


def _recipient(credential: dict[str, Any], context: Context, report: VerificationReport) -> None:
    known = context.recipient
    if known is None:
        report.add(
            "recipient",
            "skipped",
            "Destinataire non vérifié (aucune identité fournie).",
            "Recipient not checked (no identity given).",
        )
        return
    subject = credential.get("credentialSubject")
    subject = subject if isinstance(subject, dict) else {}
    if subject.get("id") == known:
        report.add(
            "recipient",
            "pass",
            "Le badge appartient bien à cette personne.",
            "The credential was issued to this recipient.",
        )
        return
    for identity in _types(subject.get("identifier", [])):
        if not isinstance(identity, dict):
            continue
        expected = identity.get("identityHash")
        if identity.get("hashed"):
            salt = identity.get("salt") or ""
            algorithm = str(expected).split("$", 1)[0]
            for candidate in {known, normalise_email(known)}:
                try:
                    if hash_identity(candidate, salt, algorithm).lower() == str(expected).lower():
                        report.add(
                            "recipient",
                            "pass",
                            "Le badge appartient bien à cette personne.",
                            "The credential was issued to this recipient.",
                        )
                        return
                except BadgeError:
                    continue
        elif expected in (known, normalise_email(known)):
            report.add(
                "recipient",
                "pass",
                "Le badge appartient bien à cette personne.",
                "The credential was issued to this recipient.",
            )
            return
    report.add(
        "recipient",
        "fail",
        "Le badge n'a pas été délivré à cette personne.",
        "The credential was not issued to this recipient.",
    )


def _endorsements(credential: dict[str, Any], context: Context, report: VerificationReport) -> None:
    found: list[Any] = list(_types(credential.get("endorsement", [])))
    subject = credential.get("credentialSubject")
    if isinstance(subject, dict) and isinstance(subject.get("achievement"), dict):
        found += _types(subject["achievement"].get("endorsement", []))
    if isinstance(credential.get("issuer"), dict):
        found += _types(credential["issuer"].get("endorsement", []))
    found += _types(credential.get("endorsementJwt", []))
    if not found:
        report.add("endorsements", "skipped", "Aucune recommandation.", "No endorsements.")
        return
    if context.depth >= _MAX_DEPTH:
        report.add(
            "endorsements", "warning", "Recommandations imbriquées non vérifiées.", "Nested endorsements not checked."
        )
        return
    bad = 0
    for endorsement in found:
        nested = (
            verify_ob3_jwt(endorsement, context.nested(), fmt="vc-jwt")
            if isinstance(endorsement, str)
            else verify_ob3_document(endorsement, context.nested(), fmt="vc-data-integrity")
            if isinstance(endorsement, dict)
            else None
        )
        if nested is None or not nested.valid:
            bad += 1
    if bad:
        report.add(
            "endorsements",
            "fail",
            f"{bad} recommandation(s) invalide(s).",
            f"{bad} endorsement(s) failed verification.",
        )
    else:
        report.add("endorsements", "pass", "Recommandations valides.", "Endorsements verified.")


def verify_ob3_document(
    credential: dict[str, Any], context: Context, *, fmt: str, status: bool = True
) -> VerificationReport:
    """Verify an OB 3.0 / CLR credential secured with an embedded Data Integrity proof.

    VC 1.1 credentials and VC 2.0 EnvelopedVerifiableCredential wrappers go to verify_vc11.
    """
    from . import verify_vc11  # imported here: verify_vc11 builds on this module

    if verify_vc11.is_enveloped(credential):
        return verify_vc11.verify_enveloped(credential, context, fmt=fmt, status=status)
    if verify_vc11.is_vc11(credential):
        return verify_vc11.verify_vc11_document(credential, context, fmt=fmt, status=status)
    report = VerificationReport(format=fmt, credential=credential)
    format_pass(report, context, credential, ("preuve intégrée", "embedded proof"))
    if not check_structure(credential, context, report):
        return report
    _check_embedded_proof(credential, context, report)
    _finish(credential, context, report, status=status)
    return report


def verify_ob3_jwt(
    token: str, context: Context, *, fmt: str, status: bool = True, envelope: bool = False
) -> VerificationReport:
    """Verify an OB 3.0 / CLR credential secured as a VC-JWT.

    A VC-JWT 1.1 (the credential in a ``vc`` claim) goes to verify_vc11. With ``envelope``, the
    token came out of an EnvelopedVerifiableCredential: a VC-JOSE-COSE ``vc+jwt``, whose claims
    are optional (those present must match) and whose header may carry ``cty``. Under the "vc"
    profile, a token whose payload is a credential of no Open Badges type is read the same way.
    """
    from . import verify_vc11  # imported here: verify_vc11 builds on this module

    report = VerificationReport(format=fmt)
    try:
        decoded = decode_jws(token)
        if isinstance(decoded.payload.get("vc"), dict):
            return verify_vc11.verify_vc11_jwt(token, context, fmt=fmt, status=status)
        lenient = envelope or context.generic(decoded.payload)
        if lenient:
            check_lenient_header(decoded.header)
        else:
            check_header(decoded.header, VC_JWT_ALGORITHMS, strict_ob3=True)
    except ProofError as exc:
        report.add("format", "fail", "Jeton JWT invalide ou algorithme refusé.", f"Invalid VC-JWT: {exc}")
        return report
    format_pass(report, context, decoded.payload, ("VC-JWT", "VC-JWT"))
    try:
        credential = check_vc_jwt_claims(decoded.payload, required=not lenient)
    except ProofError as exc:
        report.add(
            "structure",
            "fail",
            "Les champs du jeton ne correspondent pas au badge.",
            f"JWT claims do not match the credential: {exc}",
        )
        return report
    report.credential = credential
    if not check_structure(credential, context, report):
        return report
    issuer = issuer_id(credential)
    kid = decoded.header.get("kid")
    try:
        if isinstance(decoded.header.get("jwk"), dict) and not kid:
            key, controller, key_url = public_key_from_jwk(decoded.header["jwk"]), None, ""
        elif isinstance(kid, str):
            key_url = kid
            if kid.startswith("did:key:"):
                key, controller = public_key_from_did_key(kid), kid.split("#", 1)[0]
            elif did_web.is_did_web(kid):
                key, controller = did_web.key_for_method(kid, context.resolvers)
            else:
                resolved = context.resolvers.get_key(kid)
                if isinstance(resolved, dict) and "kty" not in resolved:
                    key, controller = _key_for_method(kid, issuer, context.resolvers)
                else:
                    key, controller = public_key_from_jwk(resolved), None
        else:
            raise KeyFormatError("no usable kid")
        verify_jws(decoded.token, key, VC_JWT_ALGORITHMS, strict_ob3=not lenient)
    except (BadgeError, ResolutionError) as exc:
        _fail_proof(report, str(exc))
        return report
    _report_jwt_signature(report, decoded.header["alg"], key_url, controller, issuer)
    _finish(credential, context, report, status=status, expires=decoded.payload.get("exp"))
    return report


def _finish(
    credential: dict[str, Any], context: Context, report: VerificationReport, *, status: bool, expires: Any = None
) -> None:
    if status:
        _status(credential, context, report)
    _validity(credential, context, report, expires if isinstance(expires, int) else None)
    _recipient(credential, context, report)
    _endorsements(credential, context, report)
