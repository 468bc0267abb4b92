"""Jury (VAE) dossiers: request, consent, generation as a streamed ZIP, expiring download links.

Who: a learner (or their facilitator) asks for their own dossier, which counts as consent; a jury
officer asks for a learner's dossier for a certification they serve, and the learner consents
(or refuses) before anything is generated. Jury officers are scoped to certifications: a
``jury_officer`` membership on a fiche serves every imported version of that fiche (same RNCP
number). What an officer does not serve is answered 404, like everything a caller may not see.

Generation runs synchronously in the request: the ZIP is written in one linear pass into a pipe
that content-addressed storage reads from (a second thread), so memory stays flat whatever the
size of the evidence; each member's SHA-256 is computed while it is written, for the manifest.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
import tempfile
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, BinaryIO

import jwt
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import badges
from app.db import utcnow
from app.models import (Competency, Credential, Dossier, DossierStatus, Framework, Person, SourceType, Standing,
                        StoredFile)
from app.services import audit
from app.services.access import Grants
from app.services.dossier_build import (DOSSIER_SCHEMA, DossierContent, build_content, clr_document, competences_of, content_json,
                                        fiche_tree, platform_id, state_of, synthese_csv)
from app.services.dossier_pdf import render_dossier
from app.services.dossier_verify import (MANIFEST, SIGNATURE, ArchiveWriter, VerificationReport, manifest_bytes,
                                         sign_manifest, verify_archive)
from app.services.errors import Conflict, FieldError, InvalidInput, NotFound, PermissionDenied, Unauthenticated
from app.services.pagination import Page, paginate
from app.services.urls import Urls
from app.storage import Storage, TooLarge

log = logging.getLogger(__name__)
LINK_AUDIENCE = "blason:dossier-download"
MAX_DOSSIER_BYTES = 64 * 1024 ** 3


@dataclass(frozen=True)
class DossierSettings:
    """What dossiers need from the configuration."""

    urls: Urls
    storage: Storage
    platform_key: badges.SigningKey
    link_secret: str
    link_ttl: int = 600
    clock: Callable[[], datetime] = utcnow


# --- scoping ---------------------------------------------------------------------------------

def get_fiche(session: Session, fiche_id: uuid.UUID) -> tuple[Competency, Framework]:
    """An imported RNCP fiche version, or NotFound."""
    fiche = session.get(Competency, fiche_id)
    framework = session.get(Framework, fiche.framework_id) if fiche is not None else None
    if fiche is None or framework is None or fiche.kind != "fiche" or framework.source_type is not SourceType.RNCP:
        raise NotFound("Certification not found: no imported RNCP fiche version has this id.")
    return fiche, framework


def serves(session: Session, grants: Grants, framework: Framework) -> bool:
    """Whether the caller is a jury officer of this fiche (any of its versions), or a platform admin."""
    if grants.platform_admin:
        return True
    if not grants.jury_officer_for:
        return False
    keys = session.execute(select(Framework.source_type, Framework.source_key)
                           .join(Competency, Competency.framework_id == Framework.id)
                           .where(Competency.id.in_(grants.jury_officer_for)))
    return (framework.source_type, framework.source_key) in {(t, k) for t, k in keys}


def _fiche_for_officer(session: Session, grants: Grants, fiche_id: uuid.UUID) -> tuple[Competency, Framework]:
    fiche, framework = get_fiche(session, fiche_id)
    if not serves(session, grants, framework):
        raise NotFound("Certification not found: no imported RNCP fiche version has this id.")
    return fiche, framework


def get_dossier(session: Session, grants: Grants, dossier_id: uuid.UUID) -> Dossier:
    """A dossier for its learner (or their facilitator) and the officers of its certification."""
    if not grants.platform_admin:  # the system (CLI) acts as platform administrator
        grants.person_id  # noqa: B018
    dossier = session.get(Dossier, dossier_id)
    if dossier is None:
        raise NotFound("Dossier not found.")
    if dossier.learner_id == grants.actor.id:
        return dossier
    _fiche, framework = get_fiche(session, dossier.certification_id)
    if not serves(session, grants, framework):
        raise NotFound("Dossier not found.")
    return dossier


# --- request and consent ---------------------------------------------------------------------

def _bloc_ids(session: Session, fiche: Competency, requested: list[uuid.UUID] | None) -> list[str]:
    if not requested:
        return []
    blocs, _children = fiche_tree(session, fiche)
    known = {b.id for b in blocs}
    wrong = [str(b) for b in requested if b not in known]
    if wrong:
        raise InvalidInput("Some blocs are not blocs of this certification.",
                           errors=[FieldError("#/blocIds", f"Not a bloc of this fiche version: {', '.join(wrong)}.")])
    ordered = [b for b in blocs if b.id in set(requested)]
    return [] if len(ordered) == len(blocs) else [str(b.id) for b in ordered]


def request_dossier(session: Session, grants: Grants, data: dict[str, Any], *,
                    clock: Callable[[], datetime] = utcnow) -> Dossier:
    """Ask for a dossier: the learner for themselves (consent given), or an officer (consent awaited)."""
    caller = grants.person_id
    learner_id = data.get("learner_id") or grants.actor.id
    own = learner_id == grants.actor.id
    if own:
        fiche, _framework = get_fiche(session, data["certification_id"])
    else:
        fiche, _framework = _fiche_for_officer(session, grants, data["certification_id"])
        learner = session.get(Person, learner_id)
        if learner is None or not learner.is_active:
            raise NotFound("Learner not found.")
    now = clock()
    dossier = Dossier(learner_id=learner_id, requested_by_id=caller, certification_id=fiche.id,
                      bloc_ids=_bloc_ids(session, fiche, data.get("bloc_ids")),
                      status=DossierStatus.CONSENTED if own else DossierStatus.AWAITING_CONSENT,
                      consented_at=now if own else None, created_at=now)
    session.add(dossier)
    session.flush()
    audit.record(session, grants.actor, "dossier.requested", "dossier", dossier.id,
                 {"learner": str(learner_id), "certification": fiche.code, "blocs": dossier.bloc_ids,
                  "consented": own}, clock=clock)
    return dossier


def _learners_decision(session: Session, grants: Grants, dossier_id: uuid.UUID) -> Dossier:
    dossier = get_dossier(session, grants, dossier_id)
    if dossier.learner_id != grants.actor.id:
        raise PermissionDenied("Only the learner (or their facilitator) gives or refuses consent.")
    return dossier


def consent(session: Session, grants: Grants, dossier_id: uuid.UUID, *,
            clock: Callable[[], datetime] = utcnow) -> Dossier:
    """The learner agrees that the dossier be generated and handed to the jury."""
    dossier = _learners_decision(session, grants, dossier_id)
    if dossier.status not in (DossierStatus.AWAITING_CONSENT, DossierStatus.REFUSED):
        raise Conflict(f"This dossier is already {dossier.status.value}.")
    dossier.status, dossier.consented_at = DossierStatus.CONSENTED, clock()
    audit.record(session, grants.actor, "dossier.consented", "dossier", dossier.id, clock=clock)
    session.flush()
    return dossier


def refuse(session: Session, grants: Grants, dossier_id: uuid.UUID, *,
           clock: Callable[[], datetime] = utcnow) -> Dossier:
    """The learner refuses (or withdraws consent): nothing more is generated or downloaded."""
    dossier = _learners_decision(session, grants, dossier_id)
    dossier.status, dossier.consented_at = DossierStatus.REFUSED, None
    audit.record(session, grants.actor, "dossier.refused", "dossier", dossier.id, clock=clock)
    session.flush()
    return dossier


def list_dossiers(session: Session, grants: Grants, *, certification_id: uuid.UUID | None = None,
                  learner_id: uuid.UUID | None = None, page: int = 1, per_page: int = 20) -> Page[Dossier]:
    """One's own dossiers, and those of the certifications one serves as jury officer."""
    if not grants.platform_admin:  # the system (CLI) acts as platform administrator
        grants.person_id  # noqa: B018
    stmt = select(Dossier).order_by(Dossier.created_at.desc(), Dossier.id)
    if not grants.platform_admin:
        served = _served_fiche_ids(session, grants)
        stmt = stmt.where((Dossier.learner_id == grants.actor.id) | Dossier.certification_id.in_(served))
    if certification_id:
        stmt = stmt.where(Dossier.certification_id == certification_id)
    if learner_id:
        stmt = stmt.where(Dossier.learner_id == learner_id)
    return paginate(session, stmt, page, per_page)


def _served_fiche_ids(session: Session, grants: Grants) -> list[uuid.UUID]:
    if not grants.jury_officer_for:
        return []
    keys = select(Framework.source_type, Framework.source_key).join(
        Competency, Competency.framework_id == Framework.id).where(Competency.id.in_(grants.jury_officer_for))
    pairs = {(t, k) for t, k in session.execute(keys)}
    rows = session.execute(select(Competency.id, Framework.source_type, Framework.source_key)
                           .join(Framework, Framework.id == Competency.framework_id)
                           .where(Competency.kind == "fiche",
                                  Framework.source_key.in_({k for _t, k in pairs})))
    return [cid for cid, t, k in rows if (t, k) in pairs]


def require_consent(dossier: Dossier) -> None:
    if dossier.status is DossierStatus.AWAITING_CONSENT:
        raise PermissionDenied("The learner has not consented to this dossier yet: they must accept the "
                               "request (POST /dossiers/{id}/consent) before it can be generated or downloaded.")
    if dossier.status is DossierStatus.REFUSED:
        raise PermissionDenied("The learner refused (or withdrew) consent to this dossier: it cannot be "
                               "generated or downloaded.")


# --- generation ------------------------------------------------------------------------------

@dataclass
class Generated:
    dossier: Dossier
    content: DossierContent
    size: int


def generate(session: Session, grants: Grants, dossier_id: uuid.UUID, *, settings: DossierSettings) -> Generated:
    """Build the dossier ZIP, store it content-addressed, record it on the dossier (audited)."""
    dossier = get_dossier(session, grants, dossier_id)
    require_consent(dossier)
    now = settings.clock()
    content = build_content(session, dossier, storage=settings.storage, urls=settings.urls, now=now)
    learner = session.get(Person, dossier.learner_id)
    assert learner is not None
    credentials = list(session.scalars(select(Credential).where(Credential.id.in_(content.credential_ids))
                                       .order_by(Credential.awarded_at, Credential.id))) if content.credential_ids else []
    clr = clr_document(content, credentials, learner, settings.platform_key, settings.urls)
    # The PDF and the small documents are made here (they need the session); the ZIP writer
    # thread only copies bytes.
    with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as pdf:
        render_dossier(content, pdf)
        pdf.seek(0)
        documents = _documents(content, credentials, clr)
        blob, gaps = _store_zip(settings, content, pdf, documents, clr)  # type: ignore[arg-type]
    if session.get(StoredFile, blob.sha256) is None:
        try:
            with session.begin_nested():
                session.add(StoredFile(sha256=blob.sha256, size=blob.size, media_type="application/zip"))
        except IntegrityError:
            pass  # the same bytes were recorded meanwhile
    dossier.file_sha256, dossier.generated_at, dossier.status = blob.sha256, now, DossierStatus.READY
    dossier.gaps, dossier.error = gaps, None
    session.flush()
    audit.record(session, grants.actor, "dossier.generated", "dossier", dossier.id,
                 {"sha256": blob.sha256, "size": blob.size, "annexes": len(content.annexes), "gaps": len(gaps)},
                 clock=settings.clock)
    if gaps:
        log.warning("dossier %s generated with %d missing evidence file(s)", dossier.id, len(gaps))
    return Generated(dossier, content, blob.size)


def _documents(content: DossierContent, credentials: list[Credential],
               clr: dict[str, Any] | None) -> list[tuple[str, bytes, str]]:
    docs = [("dossier.json", _json(content_json(content)), "application/json"),
            ("dossier.schema.json", _schema_bytes(), "application/json"),
            ("synthese.csv", synthese_csv(content), "text/csv")]
    for credential in credentials:
        if credential.ob3_credential:
            docs.append((f"credentials/{credential.id}.json", _json(credential.ob3_credential), "application/json"))
        if credential.ob3_jwt:
            docs.append((f"credentials/{credential.id}.jwt", credential.ob3_jwt.encode(), "text/plain"))
    if clr is not None:
        docs.append(("clr.json", _json(clr), "application/json"))
    return docs


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=2).encode()


def _schema_bytes() -> bytes:
    return _json(DOSSIER_SCHEMA)


def _store_zip(settings: DossierSettings, content: DossierContent, pdf: BinaryIO,
               documents: list[tuple[str, bytes, str]], clr: dict[str, Any] | None) -> tuple[Any, list[dict[str, Any]]]:
    """Write the ZIP into a pipe that storage reads (and hashes) on the other end."""
    read_fd, write_fd = os.pipe()
    failure: list[BaseException] = []
    gaps: list[dict[str, Any]] = []

    def writer() -> None:
        try:
            with os.fdopen(write_fd, "wb", buffering=1024 * 1024) as out:
                gaps.extend(write_archive(out, settings, content, pdf, documents, clr))
        except BaseException as exc:  # re-raised in the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=writer, name=f"dossier-{content.dossier_id}", daemon=True)
    thread.start()
    try:
        with os.fdopen(read_fd, "rb", buffering=0) as source:
            blob = settings.storage.put(source, MAX_DOSSIER_BYTES)  # type: ignore[arg-type]
    except TooLarge:
        raise Conflict("The dossier is too large to be stored.") from None
    finally:
        thread.join()
    if failure:
        raise failure[0]
    return blob, gaps


def write_archive(out: BinaryIO, settings: DossierSettings, content: DossierContent, pdf: BinaryIO,
                  documents: list[tuple[str, bytes, str]], clr: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Write every member, then the manifest and its signature; return the gaps."""
    archive = ArchiveWriter(out)
    archive.add_file("dossier.pdf", pdf, "application/pdf", None)
    for path, data, media_type in documents:
        archive.add_bytes(path, data, media_type)
    gaps = []
    for annex in content.annexes:
        if annex.path is None:
            continue
        if annex.kind == "text":
            archive.add_bytes(annex.path, (annex.text or "").encode(), "text/plain")
            continue
        handle = None
        if not annex.missing and annex.sha256:
            try:
                handle = settings.storage.open(annex.sha256)
            except OSError:
                handle = None
        if handle is None:
            gaps.append({"annex": annex.number, "evidenceId": str(annex.evidence_id), "title": annex.title,
                         "path": annex.path, "sha256": annex.sha256, "reason": "file missing from storage"})
            continue
        archive.add_file(annex.path, handle, annex.media_type, annex.size)
    cert = content.certification
    manifest = {
        "type": "BlasonDossierManifest", "version": 1, "dossierId": str(content.dossier_id),
        "generatedAt": content.generated_at.isoformat(), "issuer": platform_id(settings.urls),
        "candidate": {"id": str(content.candidate_id), "name": content.candidate_name},
        "certification": {"id": str(cert.id), "code": cert.code, "title": cert.title,
                          "frameworkVersion": cert.framework_version},
        "files": [m.to_json() for m in archive.members], "gaps": gaps,
        "algorithm": "SHA-256", "signature": SIGNATURE,
    }
    data = manifest_bytes(manifest)
    archive.add_bytes(MANIFEST, data, "application/json")
    archive.add_bytes(SIGNATURE, sign_manifest(data, settings.platform_key).encode(), "text/plain")
    archive.close()
    return gaps


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
    if dossier.status is not DossierStatus.READY or not dossier.file_sha256:
        raise Conflict("The dossier has not been generated yet (POST /dossiers/{id}/generate).")
    now = settings.clock()
    expires = now + timedelta(seconds=settings.link_ttl)
    token = jwt.encode({"aud": LINK_AUDIENCE, "sub": str(grants.actor.author_id), "for": str(grants.actor.id),
                        "dossier": str(dossier.id), "sha": dossier.file_sha256, "iat": int(now.timestamp()),
                        "exp": int(expires.timestamp())}, _link_key(settings.link_secret), algorithm="HS256")
    return Link(f"{settings.urls.base}/api/v1/dossiers/{dossier.id}/download?token={token}", token, expires)


def open_download(session: Session, dossier_id: uuid.UUID, token: str, *,
                  settings: DossierSettings) -> tuple[Dossier, BinaryIO, int]:
    """Check a download link and open the stored ZIP (audited as downloaded by the link's holder)."""
    try:
        # Expiry is checked against the service clock below, not the library's.
        claims = jwt.decode(token, _link_key(settings.link_secret), algorithms=["HS256"], audience=LINK_AUDIENCE,
                            options={"require": ["exp", "aud", "sub", "dossier"], "verify_exp": False})
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
    if dossier.file_sha256 != claims.get("sha") or not settings.storage.exists(dossier.file_sha256 or ""):
        raise NotFound("This version of the dossier is no longer available; generate it again.")
    stored = session.get(StoredFile, dossier.file_sha256)
    try:
        actor = audit.Actor(uuid.UUID(claims["for"]), real_id=uuid.UUID(claims["sub"]))
    except (KeyError, ValueError):
        raise Unauthenticated("This download link is not valid.") from None
    audit.record(session, actor, "dossier.downloaded", "dossier", dossier.id, {"sha256": dossier.file_sha256},
                 clock=settings.clock)
    assert dossier.file_sha256 is not None
    return dossier, settings.storage.open(dossier.file_sha256), stored.size if stored else 0


# --- verification ----------------------------------------------------------------------------

def verify_upload(stream: BinaryIO, *, public: badges.PublicKey) -> VerificationReport:
    """Verify an uploaded dossier ZIP (a seekable file; the request spools large bodies to disk)."""
    return verify_archive(stream, public)


def platform_document(urls: Urls, key: badges.SigningKey) -> dict[str, Any]:
    """The platform's controller document (CLR proofs) with its JWK (manifest signatures)."""
    document = badges.controller_document(platform_id(urls), [key.public])
    document["name"] = "Blason"
    document["url"] = urls.base
    document["jwk"] = key.public.jwk(key.public.thumbprint(), alg="EdDSA")
    return document


# --- cohort ----------------------------------------------------------------------------------

@dataclass
class BlocCoverage:
    bloc_id: uuid.UUID
    code: str | None
    label: str
    acquis: int
    partiellement: int
    non: int

    @property
    def total(self) -> int:
        return self.acquis + self.partiellement + self.non


@dataclass
class CohortRow:
    learner_id: uuid.UUID
    learner_name: str
    dossier_id: uuid.UUID
    blocs: list[BlocCoverage]


@dataclass
class Cohort:
    certification_id: uuid.UUID
    code: str | None
    title: str
    framework_version: int
    blocs: list[dict[str, Any]]
    items: list[CohortRow]


def cohort(session: Session, grants: Grants, fiche_id: uuid.UUID) -> Cohort:
    """Learners × blocs coverage for a certification, for the officers who serve it.

    Only learners who consented to a dossier for this fiche (any version) appear: a jury officer
    sees no one's standings without that consent.
    """
    if not grants.platform_admin:  # the system (CLI) acts as platform administrator
        grants.person_id  # noqa: B018
    fiche, framework = _fiche_for_officer(session, grants, fiche_id)
    versions = select(Competency.id).join(Framework, Framework.id == Competency.framework_id).where(
        Competency.kind == "fiche", Framework.source_type == framework.source_type,
        Framework.source_key == framework.source_key)
    dossiers: dict[uuid.UUID, Dossier] = {}
    for dossier in session.scalars(select(Dossier).where(
            Dossier.certification_id.in_(versions),
            Dossier.status.in_((DossierStatus.CONSENTED, DossierStatus.READY)))
            .order_by(Dossier.created_at, Dossier.id)):
        dossiers[dossier.learner_id] = dossier  # the latest one per learner
    blocs, children = fiche_tree(session, fiche)
    per_bloc = {b.id: [c.id for c, _ in competences_of(b, children)] for b in blocs}
    ids = {i for values in per_bloc.values() for i in values}
    learners = {p.id: p.display_name for p in session.scalars(select(Person).where(
        Person.id.in_(dossiers)))} if dossiers else {}
    standings: dict[tuple[uuid.UUID, uuid.UUID], Standing] = {}
    if dossiers and ids:
        for standing in session.scalars(select(Standing).where(Standing.learner_id.in_(dossiers),
                                                               Standing.competency_id.in_(ids))):
            standings[(standing.learner_id, standing.competency_id)] = standing
    rows = []
    for learner_id, dossier in sorted(dossiers.items(), key=lambda kv: (learners.get(kv[0], ""), str(kv[0]))):
        coverage = []
        for bloc in blocs:
            counts = {"acquis": 0, "partiellement": 0, "non": 0}
            for competency_id in per_bloc[bloc.id]:
                counts[state_of(standings.get((learner_id, competency_id)))] += 1
            coverage.append(BlocCoverage(bloc.id, bloc.code, bloc.label, **counts))
        rows.append(CohortRow(learner_id, learners.get(learner_id, ""), dossier.id, coverage))
    audit.record(session, grants.actor, "dossier.cohort_viewed", "certification", fiche.id,
                 {"learners": len(rows)})
    return Cohort(fiche.id, fiche.code, fiche.label, framework.version,
                  [{"id": b.id, "code": b.code, "label": b.label, "competences": len(per_bloc[b.id])} for b in blocs],
                  rows)


def cohort_csv(data: Cohort) -> bytes:
    """One row per learner and bloc."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["apprenant_id", "apprenant", "bloc_code", "bloc_intitule", "acquis", "partiellement", "non",
                     "total"])
    for row in data.items:
        for bloc in row.blocs:
            writer.writerow([row.learner_id, row.learner_name, bloc.code or "", bloc.label, bloc.acquis,
                             bloc.partiellement, bloc.non, bloc.total])
    return ("\ufeff" + out.getvalue()).encode()


def generated_view(result: Generated, link: Link) -> dict[str, Any]:
    """What the officer is told after a generation, gaps first."""
    gaps = result.dossier.gaps or []
    warning = (f"{len(gaps)} evidence file(s) are missing from storage: the dossier was produced without them; "
               "they are listed in dossier.pdf and in the manifest." if gaps else None)
    return {"dossier": result.dossier, "size": result.size, "annexes": len(result.content.annexes), "gaps": gaps,
            "warning": warning, "download": link}
