"""The public JSON documents, built from database rows (served by the public HTTP pages).

Builders take rows and the :class:`~app.platform.urls.Urls` and return JSON; they never sign
and never touch the session. Signed documents (credentials, VC-JWTs, OB 2.0 assertions, status
lists) are returned as stored. Loaders at the end fetch the rows for one URL, and
:func:`local_resolvers` lets ``badges.verify`` check this service's own credentials straight
from the database, without HTTP.

Key states: active and retired keys are listed for ``assertionMethod``; a compromised key stays
published (its Multikey carries ``revoked``, the W3C controller-document term) but is no longer
listed for ``assertionMethod``, and :func:`credential_status` flags the credentials it signed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

import badges
from app.models import (
    Achievement,
    AchievementAlignment,
    AchievementVersion,
    Credential,
    CredentialState,
    Issuer,
    KeyPurpose,
    KeyStatus,
    Person,
    SigningKey,
    StatusList,
)
from app.platform.urls import Urls, signed_ob2_id
from app.services.issuing import achievements as achievement_service
from app.services.issuing.keys import issuer_keys
from app.services.issuing.signing import issuer_profile, signing_ids
from badges.contexts import DID_V1, JWS_2020_V1, MULTIKEY_V1, OB_V2
from badges.credentials import OB3_CONTEXT
from badges.timeutil import format_datetime

JSON_LD = "application/ld+json"
# The issuer id answers a controller document that is also the issuer's OB 3.0 Profile: the DID and
# Multikey contexts define the keys, the OB 3.0 ones the profile (Profile, name, url, email, ...).
ISSUER_CONTEXT = (DID_V1, MULTIKEY_V1, *OB3_CONTEXT)
# A DID document: Multikeys (Ed25519), JsonWebKey2020 (the VC-JWT keys), and ``revoked`` (the
# date a key was reported compromised) for the JsonWebKey2020 entries, which their context lacks.
REVOKED_TERM = {
    "revoked": {"@id": "https://w3id.org/security#revoked", "@type": "http://www.w3.org/2001/XMLSchema#dateTime"}
}
DID_CONTEXT = (DID_V1, MULTIKEY_V1, JWS_2020_V1, REVOKED_TERM)


# ---------------------------------------------------------------------------------------------
# Issuer and keys


def _multikey(issuer: Issuer, key: SigningKey, urls: Urls) -> dict[str, Any]:
    assert key.public_key_multibase is not None
    method = urls.verification_method(issuer.id, key.public_key_multibase)
    out: dict[str, Any] = {
        "id": method,
        "type": "Multikey",
        "controller": urls.issuer(issuer.id),
        "publicKeyMultibase": key.public_key_multibase,
    }
    if key.status is KeyStatus.COMPROMISED and key.compromised_at is not None:
        out["revoked"] = format_datetime(key.compromised_at)
    return out


def controller_document(issuer: Issuer, keys: Iterable[SigningKey], urls: Urls) -> dict[str, Any]:
    """The controller document at the issuer id: its Ed25519 keys as Multikeys.

    ``badges.verify`` (and the 1EdTech validator) trust an ``<issuer id>#z6Mk…`` proof key only
    when this document lists it.
    """
    methods = [_multikey(issuer, key, urls) for key in keys if key.purpose is KeyPurpose.DATA_INTEGRITY]
    return {
        "@context": list(ISSUER_CONTEXT),
        "id": urls.issuer(issuer.id),
        "verificationMethod": methods,
        "assertionMethod": [m["id"] for m in methods if "revoked" not in m],
    }


def issuer_document(issuer: Issuer, keys: Iterable[SigningKey], urls: Urls) -> dict[str, Any]:
    """What the issuer id answers in JSON: the controller document plus the profile's fields."""
    document = controller_document(issuer, keys, urls)
    profile = issuer_profile(issuer, urls).to_json()
    for name in ("type", "name", "url", "email", "description", "image"):
        if name in profile:
            document[name] = profile[name]
    return document


def _revoked(key: SigningKey) -> str | None:
    if key.status is KeyStatus.COMPROMISED:
        return format_datetime(key.compromised_at or key.retired_at or key.created_at)
    return None


def did_document(issuer: Issuer, keys: Iterable[SigningKey], urls: Urls) -> dict[str, Any]:
    """The DID document of the issuer's did:web, served at ``/issuers/{id}/did.json``.

    Every Data Integrity key as a Multikey and every VC-JWT key as a JsonWebKey2020, under
    ``<did>#<multibase>`` and ``<did>#<kid>`` (what credentials issued under the did:web name);
    ``assertionMethod`` lists all but the compromised ones, which keep their ``revoked`` date.
    Published whatever identifier the issuer chose, so that it can switch at any time.
    """
    did = urls.issuer_did(issuer.id)
    methods: list[dict[str, Any]] = []
    for key in keys:
        if key.purpose not in (KeyPurpose.DATA_INTEGRITY, KeyPurpose.VC_JWT):
            continue
        method, kid = signing_ids(urls, issuer.id, did, multibase=key.public_key_multibase or "", kid=key.kid)
        entry: dict[str, Any]
        if key.purpose is KeyPurpose.DATA_INTEGRITY:
            entry = {
                "id": method,
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": key.public_key_multibase,
            }
        else:
            public = {
                name: key.public_jwk[name] for name in ("kty", "crv", "x", "y", "n", "e") if name in key.public_jwk
            }
            entry = {"id": kid, "type": "JsonWebKey2020", "controller": did, "publicKeyJwk": public}
        if revoked := _revoked(key):
            entry["revoked"] = revoked
        methods.append(entry)
    return {
        "@context": list(DID_CONTEXT),
        "id": did,
        "alsoKnownAs": [urls.issuer(issuer.id)],
        "verificationMethod": methods,
        "assertionMethod": [m["id"] for m in methods if "revoked" not in m],
    }


def jwks_document(issuer: Issuer, keys: Iterable[SigningKey], urls: Urls) -> dict[str, Any]:
    """Every public key of the issuer as a JWK Set (RFC 7517), at ``/issuers/{id}/jwks.json``.

    Each key: its members, ``kid`` (the key's URL, as VC-JWTs name it), ``alg`` and
    ``status`` (``active``, ``retired`` or ``compromised``). Active and retired keys are for
    checking signatures (``use: sig``; retired ones sign nothing new). A compromised key stays
    listed with its ``revoked`` date, no ``use`` and an empty ``key_ops``: no operation is allowed
    with it, so a verifier that honours the JWK refuses what it signed.
    """
    out: list[dict[str, Any]] = []
    for key in keys:
        jwk = {name: value for name, value in key.public_jwk.items() if name not in ("kid", "use", "key_ops")}
        jwk["kid"] = urls.key(issuer.id, key.kid)
        jwk.setdefault("alg", key.algorithm)
        jwk["status"] = key.status.value
        if revoked := _revoked(key):
            jwk["key_ops"] = []
            jwk["revoked"] = revoked
        else:
            jwk["use"] = "sig"
        out.append(jwk)
    return {"keys": out}


def ob3_profile(issuer: Issuer, urls: Urls) -> dict[str, Any]:
    """The OB 3.0 issuer Profile on its own (with the OB 3.0 contexts)."""
    return {"@context": list(OB3_CONTEXT), **issuer_profile(issuer, urls).to_json()}


def key_document(issuer: Issuer, key: SigningKey, urls: Urls) -> dict[str, Any]:
    """The document at ``/issuers/{id}/keys/{kid}``: a Multikey (Data Integrity) or a bare JWK."""
    if key.purpose is KeyPurpose.DATA_INTEGRITY:
        return {"@context": MULTIKEY_V1, **_multikey(issuer, key, urls)}
    # A bare JWK (never a JWKS): the 1EdTech validator reads kty/n/e or kty/crv/x/y directly.
    return {**key.public_jwk, "kid": urls.key(issuer.id, key.kid)}


@dataclass(frozen=True)
class KeyState:
    """A key's state in words, for the HTML pages."""

    kid: str
    purpose: str
    algorithm: str
    status: str
    created_at: datetime
    retired_at: datetime | None
    compromised_at: datetime | None


def key_state(key: SigningKey) -> KeyState:
    return KeyState(
        key.kid, key.purpose.value, key.algorithm, key.status.value, key.created_at, key.retired_at, key.compromised_at
    )


# ---------------------------------------------------------------------------------------------
# Achievements, credentials, status lists


def achievement_document(
    achievement: Achievement, version: AchievementVersion, alignments: Iterable[AchievementAlignment], urls: Urls
) -> dict[str, Any]:
    """The OB 3.0 Achievement of one version, identical to what its credentials embed."""
    ob3 = achievement_service.ob3_achievement(achievement, version, alignments, urls)
    return {"@context": list(OB3_CONTEXT), **ob3.to_json()}


def credential_document(credential: Credential) -> dict[str, Any] | None:
    """The signed OB 3.0 credential (embedded eddsa-rdfc-2022 proof), as stored."""
    return (
        credential.ob3_credential
        if credential.state not in (CredentialState.PROPOSED, CredentialState.DECLINED)
        else None
    )


def credential_jwt(credential: Credential) -> str | None:
    """The VC-JWT (served as text/plain or application/vc+jwt), as stored."""
    return credential.ob3_jwt if credential_document(credential) is not None else None


def status_list_document(status_list: StatusList) -> dict[str, Any] | None:
    """The signed BitstringStatusListCredential, as stored (re-signed on every change)."""
    return status_list.signed_credential


@dataclass(frozen=True)
class CredentialStatus:
    """Where a credential stands, in every format, from its row and its signing keys."""

    state: str
    revoked: bool
    suspended: bool
    reason: str | None
    revoked_at: datetime | None
    suspended_at: datetime | None
    expired: bool
    valid_until: datetime | None
    key_compromised: bool
    compromised_kids: tuple[str, ...]

    @property
    def valid(self) -> bool:
        return self.state == "issued" and not self.expired and not self.key_compromised


def credential_status(credential: Credential, keys: Iterable[SigningKey], now: datetime) -> CredentialStatus:
    """Revoked, suspended, expired, and whether a key that signed it was since compromised."""
    signed_with = {str(k) for k in credential.signing_key_ids or []}
    compromised = tuple(k.kid for k in keys if str(k.id) in signed_with and k.status is KeyStatus.COMPROMISED)
    return CredentialStatus(
        state=credential.state.value,
        revoked=credential.state is CredentialState.REVOKED,
        suspended=credential.state is CredentialState.SUSPENDED,
        reason=credential.status_reason,
        revoked_at=credential.revoked_at,
        suspended_at=credential.suspended_at,
        expired=credential.valid_until is not None and now > credential.valid_until,
        valid_until=credential.valid_until,
        key_compromised=bool(compromised),
        compromised_kids=compromised,
    )


def show_recipient_name(credential: Credential, learner: Person) -> bool:
    """The learner's choice for this badge, else their profile's."""
    return credential.show_name if credential.show_name is not None else bool(learner.show_name_publicly)


def public_recipient_name(credential: Credential, learner: Person) -> str | None:
    return learner.display_name if show_recipient_name(credential, learner) else None


def recipient_chose_to_hide(credential: Credential, learner: Person) -> bool:
    """The learner said no, for this badge or on Mes badges (a name merely never asked for is not that)."""
    if credential.show_name is not None:
        return not credential.show_name
    return learner.show_name_chosen_at is not None and not learner.show_name_publicly


# ---------------------------------------------------------------------------------------------
# Open Badges 2.0


def ob2_assertion_document(credential: Credential) -> tuple[int, dict[str, Any]] | None:
    """The hosted assertion: (200, assertion), or (410, revoked body) when revoked or suspended.

    OB 2.0 has no suspension: a suspended badge answers 410 like a revoked one (its reason says
    "suspendu"), and answers 200 again once unsuspended. None for awards never issued.
    """
    if credential.ob2_assertion is None or credential.state in (CredentialState.PROPOSED, CredentialState.DECLINED):
        return None
    if credential.state in (CredentialState.REVOKED, CredentialState.SUSPENDED):
        return 410, {
            "@context": OB_V2,
            "id": credential.ob2_assertion["id"],
            "type": "Assertion",
            "revoked": True,
            "revocationReason": _ob2_reason(credential),
        }
    return 200, credential.ob2_assertion


def _ob2_reason(credential: Credential) -> str:
    prefix = "Suspendu" if credential.state is CredentialState.SUSPENDED else "Révoqué"
    return f"{prefix} : {credential.status_reason}" if credential.status_reason else prefix


def ob2_badgeclass_document(
    achievement: Achievement, version: AchievementVersion, alignments: Iterable[AchievementAlignment], urls: Urls
) -> dict[str, Any]:
    return badges.build_ob2_badgeclass(
        id=urls.ob2_badgeclass(version.id),
        name=version.name,
        description=version.description,
        image=urls.achievement_image(achievement.id, version.version),
        criteria_narrative=version.criteria_narrative or None,
        criteria_url=None if version.criteria_narrative else urls.achievement(achievement.id, version.version),
        issuer=urls.ob2_issuer(achievement.issuer_id),
        alignments=tuple(achievement_service.to_badges_alignment(a.alignment) for a in alignments),
        tags=tuple(version.tags or ()),
    )


def ob2_profile_document(issuer: Issuer, keys: Iterable[SigningKey], urls: Urls) -> dict[str, Any]:
    """The OB 2.0 issuer Profile, linking its RSA keys (all published) and its revocation list."""
    rsa = tuple(urls.ob2_key(k.kid) for k in keys if k.purpose is KeyPurpose.OB2)
    out = badges.build_ob2_profile(
        id=urls.ob2_issuer(issuer.id),
        name=issuer.name,
        url=issuer.url,
        email=issuer.email or "",
        public_keys=rsa,
        revocation_list=urls.ob2_revocations(issuer.id),
        description=issuer.description or None,
        image=urls.issuer_image(issuer.id) if issuer.image_sha256 else None,
    )
    if not issuer.email:
        out.pop("email", None)
    return out


def ob2_key_document(issuer: Issuer, key: SigningKey, urls: Urls) -> dict[str, Any] | None:
    if key.purpose is not KeyPurpose.OB2:
        return None
    return badges.build_ob2_cryptographic_key(
        id=urls.ob2_key(key.kid), owner=urls.ob2_issuer(issuer.id), public_key=badges.load_public_pem(key.public_pem)
    )


def ob2_revocation_list_document(issuer: Issuer, withdrawn: Iterable[Credential], urls: Urls) -> dict[str, Any]:
    """The OB 2.0 RevocationList: revoked and suspended credentials, hosted and signed ids both."""
    revoked: dict[str, str | None] = {}
    for credential in withdrawn:
        if credential.state in (CredentialState.REVOKED, CredentialState.SUSPENDED):
            reason = _ob2_reason(credential)
            revoked[urls.ob2_assertion(credential.id)] = reason
            revoked[signed_ob2_id(credential.id)] = reason
    return badges.build_ob2_revocation_list(
        id=urls.ob2_revocations(issuer.id), issuer=urls.ob2_issuer(issuer.id), revoked=revoked
    )


# ---------------------------------------------------------------------------------------------
# Loaders (rows for one public URL)


def withdrawn_credentials(session: Session, issuer_id: uuid.UUID) -> list[Credential]:
    return list(
        session.scalars(
            select(Credential)
            .where(
                Credential.issuer_id == issuer_id,
                Credential.state.in_([CredentialState.REVOKED, CredentialState.SUSPENDED]),
            )
            .order_by(Credential.id)
        )
    )


def credential_by_short_code(session: Session, code: str) -> Credential | None:
    return session.scalar(select(Credential).where(Credential.short_code == code))


def find_key(session: Session, issuer_id: uuid.UUID | None, kid: str) -> SigningKey | None:
    stmt = select(SigningKey).where(SigningKey.kid == kid)
    if issuer_id is not None:
        stmt = stmt.where(SigningKey.issuer_id == issuer_id)
    return session.scalar(stmt)


def achievement_version(
    session: Session, achievement_id: uuid.UUID, version: int
) -> tuple[Achievement, AchievementVersion, list[AchievementAlignment]] | None:
    achievement = session.get(Achievement, achievement_id)
    row = session.scalar(
        select(AchievementVersion).where(
            AchievementVersion.achievement_id == achievement_id, AchievementVersion.version == version
        )
    )
    if achievement is None or row is None:
        return None
    return achievement, row, achievement_service.alignments_of(session, row.id)


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def resolve(session: Session, urls: Urls, url: str) -> tuple[int, Any] | None:
    """The (status, JSON document) a public URL of this service answers, or None if unknown.

    Covers every machine-readable URL of :class:`~app.platform.urls.Urls`.
    """
    base = urlsplit(urls.base)
    parts = urlsplit(url.split("#", 1)[0])
    if (parts.scheme, parts.netloc) != (base.scheme, base.netloc) or not parts.path.startswith(base.path):
        return None
    segments = [s for s in parts.path[len(base.path) :].split("/") if s]
    found: Any = None
    match segments:
        case ["issuers", issuer_id] if issuer := _issuer(session, issuer_id):
            found = issuer_document(issuer, issuer_keys(session, issuer.id), urls)
        case ["issuers", issuer_id, "did.json"] if issuer := _issuer(session, issuer_id):
            found = did_document(issuer, issuer_keys(session, issuer.id), urls)
        case ["issuers", issuer_id, "jwks.json"] if issuer := _issuer(session, issuer_id):
            found = jwks_document(issuer, issuer_keys(session, issuer.id), urls)
        case ["issuers", issuer_id, "keys", kid] if issuer := _issuer(session, issuer_id):
            key = find_key(session, issuer.id, kid)
            found = key_document(issuer, key, urls) if key else None
        case ["status", list_id] if ident := _uuid(list_id):
            status_list = session.get(StatusList, ident)
            found = status_list_document(status_list) if status_list else None
        case ["credentials", credential_id] if ident := _uuid(credential_id):
            credential = session.get(Credential, ident)
            found = credential_document(credential) if credential else None
        case ["achievements", achievement_id, "v", number] if (ident := _uuid(achievement_id)) and number.isdigit():
            loaded = achievement_version(session, ident, int(number))
            found = achievement_document(*loaded, urls) if loaded else None
        case ["ob2", "assertions", credential_id] if ident := _uuid(credential_id):
            credential = session.get(Credential, ident)
            return ob2_assertion_document(credential) if credential else None
        case ["ob2", "badgeclasses", version_id] if ident := _uuid(version_id):
            version = session.get(AchievementVersion, ident)
            achievement = session.get(Achievement, version.achievement_id) if version else None
            if version is not None and achievement is not None:
                found = ob2_badgeclass_document(
                    achievement, version, achievement_service.alignments_of(session, version.id), urls
                )
        case ["ob2", "issuers", issuer_id] if issuer := _issuer(session, issuer_id):
            found = ob2_profile_document(issuer, issuer_keys(session, issuer.id), urls)
        case ["ob2", "issuers", issuer_id, "revocations"] if issuer := _issuer(session, issuer_id):
            found = ob2_revocation_list_document(issuer, withdrawn_credentials(session, issuer.id), urls)
        case ["ob2", "keys", kid]:
            key = find_key(session, None, kid)
            issuer = session.get(Issuer, key.issuer_id) if key else None
            found = ob2_key_document(issuer, key, urls) if key and issuer else None
    return (200, found) if found is not None else None


def _issuer(session: Session, value: str) -> Issuer | None:
    ident = _uuid(value)
    return session.get(Issuer, ident) if ident else None


def local_resolvers(session: Session, urls: Urls, fallback: badges.Resolvers | None = None) -> badges.Resolvers:
    """Resolvers answering this service's own URLs from the database (others: ``fallback``)."""

    def fetch(url: str) -> Any:
        answer = resolve(session, urls, url)
        if answer is None:
            if fallback is not None:
                return fallback.get_document(url)
            raise badges.ResolutionError(f"unknown URL {url}")
        status, document = answer
        if status == 410:
            raise badges.ResolutionError(f"{url} is gone", gone=True, document=document)
        return document

    return badges.Resolvers(document=fetch)


__all__ = [
    "CredentialStatus",
    "KeyState",
    "achievement_document",
    "controller_document",
    "credential_document",
    "credential_jwt",
    "credential_status",
    "did_document",
    "issuer_document",
    "jwks_document",
    "key_document",
    "key_state",
    "local_resolvers",
    "ob2_assertion_document",
    "ob2_badgeclass_document",
    "ob2_key_document",
    "ob2_profile_document",
    "ob2_revocation_list_document",
    "ob3_profile",
    "public_recipient_name",
    "resolve",
    "show_recipient_name",
    "status_list_document",
]
