"""Evidence attached to contributions: files (content-addressed), links and texts."""

from __future__ import annotations

import re
import unicodedata
import uuid
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import Contribution, Evidence, EvidenceKind, Project, StoredFile, Visibility
from app.platform import images
from app.platform.errors import (
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    UnsupportedMediaType,
    check_version,
    flush_versioned,
)
from app.platform.pagination import Page, page_of_list
from app.platform.storage import Storage, TooLarge, sniff_media_type
from app.services.contributions import contributions
from app.services.identity import access, audit
from app.services.identity.access import Grants


def can_read(grants: Grants, evidence: Evidence, contribution: Contribution, project: Project) -> bool:
    """Visibility: private is the learner's alone; tutors and jury add the project's tutors."""
    if access.is_own(grants, contribution.learner_id, contribution.project_id):
        return True
    if not contributions.can_see(grants, contribution, project):
        return False
    if evidence.visibility is Visibility.PRIVATE:
        return False
    if evidence.visibility is Visibility.PUBLIC:
        return True
    return access.can_tutor(grants, project)


def _context(session: Session, evidence: Evidence) -> tuple[Contribution, Project]:
    contribution = session.get(Contribution, evidence.contribution_id)
    assert contribution is not None
    project = session.get(Project, contribution.project_id)
    assert project is not None
    return contribution, project


def get_evidence(session: Session, grants: Grants, evidence_id: uuid.UUID) -> Evidence:
    access.require_login(grants)
    evidence = session.get(Evidence, evidence_id)
    if evidence is None or not can_read(grants, evidence, *_context(session, evidence)):
        raise NotFound("Evidence not found.")
    return evidence


def _own_contribution(session: Session, grants: Grants, contribution_id: uuid.UUID) -> Contribution:
    contribution = contributions.get_contribution(session, grants, contribution_id)
    if contribution.learner_id != grants.actor.id:
        raise PermissionDenied("Only the learner (or their facilitator) adds evidence.")
    return contribution


def add_evidence(session: Session, grants: Grants, contribution_id: uuid.UUID, data: dict[str, Any]) -> Evidence:
    """Attach a link or a text."""
    contribution = _own_contribution(session, grants, contribution_id)
    kind = EvidenceKind(data["kind"])
    evidence = Evidence(
        contribution_id=contribution.id,
        kind=kind,
        title=data["title"],
        visibility=Visibility(data.get("visibility", "tutors")),
        url=data.get("url") if kind is EvidenceKind.LINK else None,
        text=data.get("text") if kind is EvidenceKind.TEXT else None,
        created_by_id=grants.actor.author_id,
    )
    session.add(evidence)
    session.flush()
    audit.record(
        session,
        grants.actor,
        "evidence.added",
        "evidence",
        evidence.id,
        {"contribution": str(contribution.id), "kind": kind.value},
    )
    return evidence


def clean_filename(name: str | None) -> str | None:
    """A display name only: no directories, controls or NUL; it never becomes a path."""
    if not name:
        return None
    name = unicodedata.normalize("NFC", name).replace("\\", "/").split("/")[-1]
    name = re.sub(r"[\x00-\x1f\x7f]", "", name).strip().lstrip(".")
    return name[:255] or None


def upload_evidence(
    session: Session,
    grants: Grants,
    contribution_id: uuid.UUID,
    stream: BinaryIO,
    filename: str | None,
    data: dict[str, Any],
    *,
    storage: Storage,
    max_bytes: int,
) -> Evidence:
    """Store a file by its SHA-256 after checking its size and, from its bytes, its type."""
    contribution = _own_contribution(session, grants, contribution_id)
    try:
        blob = storage.put(stream, max_bytes)
    except TooLarge:
        raise PayloadTooLarge(f"The file is larger than {max_bytes} bytes.") from None
    media_type = sniff_media_type(blob.head)
    stored = session.get(StoredFile, blob.sha256)
    if media_type is None:
        if stored is None:
            storage.delete(blob.sha256)
        raise UnsupportedMediaType(
            "This file type is not accepted (images, PDF, text, audio, video, office documents)."
        )
    if stored is None:
        try:
            with session.begin_nested():  # flushed now: the evidence row points at it
                session.add(StoredFile(sha256=blob.sha256, size=blob.size, crc32=blob.crc32, media_type=media_type))
        except IntegrityError:
            pass  # a concurrent upload of the same bytes recorded it first
    evidence = Evidence(
        contribution_id=contribution.id,
        kind=EvidenceKind.FILE,
        title=data["title"],
        visibility=Visibility(data.get("visibility", "tutors")),
        file_sha256=blob.sha256,
        filename=clean_filename(filename),
        media_type=media_type,
        size=blob.size,
        created_by_id=grants.actor.author_id,
    )
    session.add(evidence)
    session.flush()
    audit.record(
        session,
        grants.actor,
        "evidence.added",
        "evidence",
        evidence.id,
        {"contribution": str(contribution.id), "kind": "file", "sha256": blob.sha256},
    )
    return evidence


def update_evidence(
    session: Session, grants: Grants, evidence_id: uuid.UUID, data: dict[str, Any], *, expected_version: int | None
) -> Evidence:
    """Change an evidence item's title or visibility, from the version the caller read."""
    evidence = get_evidence(session, grants, evidence_id)
    contribution, _project = _context(session, evidence)
    if contribution.learner_id != grants.actor.id:
        raise PermissionDenied("Only the learner (or their facilitator) changes evidence.")
    check_version(evidence.version, expected_version, "evidence")
    if "title" in data:
        evidence.title = data["title"]
    if "visibility" in data:
        evidence.visibility = Visibility(data["visibility"])
        audit.record(
            session,
            grants.actor,
            "evidence.visibility",
            "evidence",
            evidence.id,
            {"visibility": evidence.visibility.value},
        )
    flush_versioned(session, "evidence")
    return evidence


def list_evidence(
    session: Session, grants: Grants, contribution_id: uuid.UUID, *, page: int = 1, per_page: int = 20
) -> Page[Evidence]:
    contribution = contributions.get_contribution(session, grants, contribution_id)
    project = session.get(Project, contribution.project_id)
    assert project is not None
    rows = session.scalars(
        select(Evidence).where(Evidence.contribution_id == contribution.id).order_by(Evidence.created_at, Evidence.id)
    )
    return page_of_list([e for e in rows if can_read(grants, e, contribution, project)], page, per_page)


def open_evidence_file(
    session: Session, grants: Grants, evidence_id: uuid.UUID, *, storage: Storage
) -> tuple[Evidence, BinaryIO]:
    """Open the bytes of a file evidence the caller may read."""
    evidence = get_evidence(session, grants, evidence_id)
    if evidence.kind is not EvidenceKind.FILE or not evidence.file_sha256:
        raise NotFound("This evidence has no file.")
    if not storage.exists(evidence.file_sha256):
        raise NotFound("The file is missing from storage.")
    return evidence, storage.open(evidence.file_sha256)


def preview_evidence(
    session: Session, grants: Grants, evidence_id: uuid.UUID, *, storage: Storage, max_side: int = images.PREVIEW_SIDE
) -> images.CheckedImage:
    """A reduced copy of a photo evidence the caller may read (never its uploaded bytes)."""
    evidence, handle = open_evidence_file(session, grants, evidence_id, storage=storage)
    with handle:
        if not (evidence.media_type or "").startswith("image/"):
            raise NotFound("This evidence has no preview.")
        try:
            return images.reduce_image(handle, max_side=max_side)
        except (UnsupportedMediaType, PayloadTooLarge):
            raise NotFound("This image has no preview.") from None
