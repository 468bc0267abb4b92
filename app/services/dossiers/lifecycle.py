"""Jury (VAE) dossiers: request, consent, generation, expiring download links, verification.

Who: a learner (or their facilitator) asks for their own dossier, which counts as consent; a jury
officer asks for a learner's dossier for a certification they serve (see ``dossier_scope``), and
the learner consents (or refuses) before anything is generated.

Generation runs synchronously in the request: the content is gathered, the PDF drawn, then the
ZIP is written in one linear pass into storage under a key of its own (``dossier_archive``), so
memory stays flat whatever the size of the evidence. Each generation gets a new key; the archive
it replaces is deleted once the new one is committed (``discard_archive``).
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, BinaryIO

import jwt
from sqlalchemy import select
from sqlalchemy.orm import Session

import badges
from app.db import utcnow
from app.models import Competency, Credential, Dossier, DossierStatus, Person
from app.platform.errors import Conflict, FieldError, InvalidInput, NotFound, PermissionDenied, Unauthenticated
from app.platform.pagination import Page, paginate
from app.platform.storage import Storage
from app.platform.urls import Urls
from app.services.dossiers.archive import documents, store_archive
from app.services.dossiers.build import DossierContent, build_content, fiche_tree
from app.services.dossiers.cohort import BlocCoverage, Cohort, CohortRow, cohort, cohort_csv
from app.services.dossiers.documents import clr_document, platform_id
from app.services.dossiers.pdf import render_pdf
from app.services.dossiers.scope import (
    fiche_for_officer,
    get_dossier,
    get_fiche,
    require_consent,
    served_fiche_ids,
    serves,
)
from app.services.dossiers.verify import VerificationReport, verify_archive
from app.services.identity import audit
from app.services.identity.access import Grants, is_assisted_account

__all__ = [
    "BlocCoverage",
    "Cohort",
    "CohortRow",
    "DossierSettings",
    "Generated",
    "Link",
    "cohort",
    "cohort_csv",
    "consent",
    "discard_archive",
    "download_link",
    "generate",
    "generated_view",
    "get_dossier",
    "get_fiche",
    "list_dossiers",
    "open_download",
    "platform_document",
    "refuse",
    "request_dossier",
    "require_consent",
    "serves",
    "verify_upload",
]
log = logging.getLogger(__name__)
LINK_AUDIENCE = "blason:dossier-download"


@dataclass(frozen=True)
class DossierSettings:
    """What dossiers need from the configuration."""

    urls: Urls
    storage: Storage
    platform_key: badges.SigningKey
    link_secret: str
    link_ttl: int = 600
    clock: Callable[[], datetime] = utcnow


# --- request and consent ---------------------------------------------------------------------


def _bloc_ids(session: Session, fiche: Competency, requested: list[uuid.UUID] | None) -> list[str]:
    if not requested:
        return []
    blocs, _children = fiche_tree(session, fiche)
    known = {b.id for b in blocs}
    wrong = [str(b) for b in requested if b not in known]
    if wrong:
        raise InvalidInput(
            "Some blocs are not blocs of this certification.",
            errors=[FieldError("#/blocIds", f"Not a bloc of this fiche version: {', '.join(wrong)}.")],
        )
    ordered = [b for b in blocs if b.id in set(requested)]
    return [] if len(ordered) == len(blocs) else [str(b.id) for b in ordered]


def request_dossier(
    session: Session, grants: Grants, data: dict[str, Any], *, clock: Callable[[], datetime] = utcnow
) -> Dossier:
    """Ask for a dossier: the learner for themselves (consent given), or an officer (consent awaited)."""
    caller = grants.person_id
    learner_id = data.get("learner_id") or grants.actor.id
    own = learner_id == grants.actor.id
    if own:
        _may_consent(session, grants, learner_id)
        fiche, _framework = get_fiche(session, data["certification_id"])
    else:
        fiche, _framework = fiche_for_officer(session, grants, data["certification_id"])
        learner = session.get(Person, learner_id)
        if learner is None or not learner.is_active:
            raise NotFound("Learner not found.")
    now = clock()
    dossier = Dossier(
        learner_id=learner_id,
        requested_by_id=caller,
        certification_id=fiche.id,
        bloc_ids=_bloc_ids(session, fiche, data.get("bloc_ids")),
        status=DossierStatus.CONSENTED if own else DossierStatus.AWAITING_CONSENT,
        consented_at=now if own else None,
        created_at=now,
    )
    session.add(dossier)
    session.flush()
    audit.record(
        session,
        grants.actor,
        "dossier.requested",
        "dossier",
        dossier.id,
        {
            "learner": str(learner_id),
            "certification": fiche.code,
            "blocs": dossier.bloc_ids,
            "consented": own,
            **(_decided_by(grants) if own else {}),
        },
        clock=clock,
    )
    return dossier


def _learners_decision(session: Session, grants: Grants, dossier_id: uuid.UUID) -> Dossier:
    dossier = get_dossier(session, grants, dossier_id)
    if dossier.learner_id != grants.actor.id:
        raise PermissionDenied("Only the learner (or their facilitator) gives or refuses consent.")
    _may_consent(session, grants, dossier.learner_id)
    return dossier


def _may_consent(session: Session, grants: Grants, learner_id: uuid.UUID | None) -> None:
    # Consent is the learner's own act; a facilitator gives it only for an assisted account,
    # which has no other way to answer.
    learner = session.get(Person, learner_id)
    if grants.actor.acting_for and (learner is None or not is_assisted_account(learner)):
        raise PermissionDenied("Only the learner gives or refuses consent: their account is not assisted.")


def _decided_by(grants: Grants) -> dict[str, Any]:
    """Who answered, for the audit: the learner, or a facilitator for an assisted learner."""
    if grants.actor.acting_for:
        return {"by": "facilitator", "facilitator": str(grants.actor.author_id)}
    return {"by": "learner"}


def consent(
    session: Session, grants: Grants, dossier_id: uuid.UUID, *, clock: Callable[[], datetime] = utcnow
) -> Dossier:
    """The learner agrees that the dossier be generated and handed to the jury."""
    dossier = _learners_decision(session, grants, dossier_id)
    if dossier.status not in (DossierStatus.AWAITING_CONSENT, DossierStatus.REFUSED):
        raise Conflict(f"This dossier is already {dossier.status.value}.")
    dossier.status, dossier.consented_at = DossierStatus.CONSENTED, clock()
    audit.record(session, grants.actor, "dossier.consented", "dossier", dossier.id, _decided_by(grants), clock=clock)
    session.flush()
    return dossier


MAX_REASON = 1000


def refuse(
    session: Session,
    grants: Grants,
    dossier_id: uuid.UUID,
    *,
    reason: str | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> Dossier:
    """The learner refuses (or withdraws consent): nothing more is generated or downloaded.

    Their reason, when they give one, is kept in the audit event, where the jury officer reads it.
    """
    reason = (reason or "").strip() or None
    if reason is not None and len(reason) > MAX_REASON:
        raise InvalidInput(
            "The reason is too long.", errors=[FieldError("#/reason", f"At most {MAX_REASON} characters.")]
        )
    dossier = _learners_decision(session, grants, dossier_id)
    dossier.status, dossier.consented_at = DossierStatus.REFUSED, None
    said = {"reason": reason} if reason else {}
    audit.record(
        session, grants.actor, "dossier.refused", "dossier", dossier.id, {**_decided_by(grants), **said}, clock=clock
    )
    session.flush()
    return dossier


def list_dossiers(
    session: Session,
    grants: Grants,
    *,
    certification_id: uuid.UUID | None = None,
    learner_id: uuid.UUID | None = None,
    page: int = 1,
    per_page: int = 20,
) -> Page[Dossier]:
    """One's own dossiers, and those of the certifications one serves as jury officer."""
    if not grants.platform_admin:  # the system (CLI) acts as platform administrator
        grants.person_id  # noqa: B018
    stmt = select(Dossier).order_by(Dossier.created_at.desc(), Dossier.id)
    if not grants.platform_admin:
        served = served_fiche_ids(session, grants)
        stmt = stmt.where((Dossier.learner_id == grants.actor.id) | Dossier.certification_id.in_(served))
    if certification_id:
        stmt = stmt.where(Dossier.certification_id == certification_id)
    if learner_id:
        stmt = stmt.where(Dossier.learner_id == learner_id)
    return paginate(session, stmt, page, per_page)


# --- generation ------------------------------------------------------------------------------


@dataclass
class Generated:
    dossier: Dossier
    content: DossierContent
    size: int
    replaced_key: str | None  # the previous archive: delete it once this generation is committed


def generate(session: Session, grants: Grants, dossier_id: uuid.UUID, *, settings: DossierSettings) -> Generated:
    """Build the dossier ZIP, store it under a new key, record it on the dossier (audited)."""
    dossier = get_dossier(session, grants, dossier_id)
    # One generation of a dossier at a time: the second waits, then replaces the first's archive
    # (and no archive is left behind unreferenced).
    session.refresh(dossier, with_for_update=True)
    require_consent(dossier)
    now = settings.clock()
    content = build_content(session, dossier, storage=settings.storage, urls=settings.urls, now=now)
    docs = documents(content, *_credentials_and_clr(session, dossier, content, settings))
    stored = store_archive(
        settings.storage,
        f"dossiers/{uuid.uuid4().hex}.zip",
        settings.platform_key,
        platform_id(settings.urls),
        content,
        render_pdf(content),
        docs,
    )
    replaced = dossier.archive_key
    try:
        dossier.archive_key, dossier.archive_size = stored.key, stored.size
        dossier.manifest_sha256, dossier.generated_at, dossier.status = stored.manifest_sha256, now, DossierStatus.READY
        dossier.gaps, dossier.error = stored.gaps, None
        session.flush()
        audit.record(
            session,
            grants.actor,
            "dossier.generated",
            "dossier",
            dossier.id,
            {
                "manifestSha256": stored.manifest_sha256,
                "size": stored.size,
                "annexes": len(content.annexes),
                "gaps": len(stored.gaps),
            },
            clock=settings.clock,
        )
    except BaseException:
        discard_archive(settings.storage, stored.key)  # nothing will point to it
        raise
    if stored.gaps:
        log.warning("dossier %s generated with %d missing evidence file(s)", dossier.id, len(stored.gaps))
    return Generated(dossier, content, stored.size, replaced)


def discard_archive(storage: Storage, key: str | None) -> None:
    """Delete an archive no dossier points to any more (call after the commit that replaced it)."""
    if key:
        storage.delete_keyed(key)


def _credentials_and_clr(
    session: Session, dossier: Dossier, content: DossierContent, settings: DossierSettings
) -> tuple[list[Credential], dict[str, Any] | None]:
    learner = session.get(Person, dossier.learner_id)
    assert learner is not None
    credentials = (
        list(
            session.scalars(
                select(Credential)
                .where(Credential.id.in_(content.credential_ids))
                .order_by(Credential.awarded_at, Credential.id)
            )
        )
        if content.credential_ids
        else []
    )
    return credentials, clr_document(content, credentials, learner, settings.platform_key, settings.urls)


# --- download links --------------------------------------------------------------------------


@dataclass
class Link:
    url: str
    token: str
    expires_at: datetime


def _link_key(secret: str) -> bytes:
    # A key of its own, so a download token is nothing else than a download token.
    return hashlib.sha256(b"blason dossier download link\x00" + secret.encode()).digest()


def download_link(session: Session, grants: Grants, dossier_id: uuid.UUID, *, settings: DossierSettings) -> Link:
    """A short-lived link to download a ready dossier, bound to that dossier and to the caller."""
    dossier = get_dossier(session, grants, dossier_id)
    require_consent(dossier)
    if dossier.status is not DossierStatus.READY or not dossier.archive_key:
        raise Conflict("The dossier has not been generated yet (POST /dossiers/{id}/generate).")
    now = settings.clock()
    expires = now + timedelta(seconds=settings.link_ttl)
    token = jwt.encode(
        {
            "aud": LINK_AUDIENCE,
            "sub": str(grants.actor.author_id),
            "for": str(grants.actor.id),
            "dossier": str(dossier.id),
            "key": dossier.archive_key,
            "iat": int(now.timestamp()),
            "exp": int(expires.timestamp()),
        },
        _link_key(settings.link_secret),
        algorithm="HS256",
    )
    return Link(f"{settings.urls.base}/api/v1/dossiers/{dossier.id}/download?token={token}", token, expires)


def open_download(
    session: Session, dossier_id: uuid.UUID, token: str, *, settings: DossierSettings
) -> tuple[Dossier, BinaryIO, int]:
    """Check a download link and open the stored ZIP (audited as downloaded by the link's holder)."""
    try:
        # Expiry is checked against the service clock below, not the library's.
        claims = jwt.decode(
            token,
            _link_key(settings.link_secret),
            algorithms=["HS256"],
            audience=LINK_AUDIENCE,
            options={"require": ["exp", "aud", "sub", "dossier"], "verify_exp": False},
        )
    except jwt.InvalidTokenError:
        raise Unauthenticated("This download link is not valid.") from None
    if not isinstance(claims["exp"], int) or claims["exp"] <= settings.clock().timestamp():
        raise Unauthenticated("This download link has expired; ask for a new one.")
    if claims.get("dossier") != str(dossier_id):
        raise Unauthenticated("This download link is for another dossier.")
    dossier = session.get(Dossier, dossier_id)
    if dossier is None:
        raise NotFound("Dossier not found.")
    require_consent(dossier)  # consent withdrawn after the link was made
    if (
        not dossier.archive_key
        or dossier.archive_key != claims.get("key")
        or not settings.storage.keyed_exists(dossier.archive_key)
    ):
        raise NotFound("This version of the dossier is no longer available; generate it again.")
    try:
        actor = audit.Actor(uuid.UUID(claims["for"]), real_id=uuid.UUID(claims["sub"]))
    except (KeyError, ValueError):
        raise Unauthenticated("This download link is not valid.") from None
    audit.record(
        session,
        actor,
        "dossier.downloaded",
        "dossier",
        dossier.id,
        {"manifestSha256": dossier.manifest_sha256},
        clock=settings.clock,
    )
    return dossier, settings.storage.open_keyed(dossier.archive_key), dossier.archive_size or 0


# --- verification ----------------------------------------------------------------------------


def verify_upload(stream: BinaryIO, *, public: badges.PublicKey) -> VerificationReport:
    """Verify an uploaded dossier ZIP (a seekable file; the request spools large bodies to disk)."""
    return verify_archive(stream, public)


def platform_document(urls: Urls, key: badges.SigningKey) -> dict[str, Any]:
    """The platform's controller document (CLR proofs) with its JWK (manifest signatures)."""
    document = badges.controller_document(platform_id(urls), [key.public])
    # Strict JSON-LD: the OB 3.0 contexts define the Profile's terms, and ``jwk`` is the key's publicKeyJwk.
    document["@context"] = [*document["@context"], *badges.credentials.OB3_CONTEXT, _JWK_TERM]
    document["type"] = "Profile"
    document["name"] = "Blason"
    document["url"] = urls.base
    document["jwk"] = key.public.jwk(key.public.thumbprint(), alg="EdDSA")
    return document


_JWK_TERM = {"jwk": {"@id": "https://w3id.org/security#publicKeyJwk", "@type": "@json"}}


def generated_view(result: Generated, link: Link) -> dict[str, Any]:
    """What the officer is told after a generation, gaps first."""
    gaps = result.dossier.gaps or []
    warning = (
        f"{len(gaps)} evidence file(s) are missing from storage: the dossier was produced without them; "
        "they are listed in dossier.pdf and in the manifest."
        if gaps
        else None
    )
    return {
        "dossier": result.dossier,
        "size": result.size,
        "annexes": len(result.content.annexes),
        "gaps": gaps,
        "warning": warning,
        "download": link,
    }
