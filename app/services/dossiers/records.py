"""The learner record: all of one's own data as a ZIP with a JSON index (data portability).

Profile, memberships, contributions (with co-contributors), evidence (every visibility: it is the
learner's own) and their files, claims with their revisions, the reviews of those claims,
standings, credentials in every stored form, and dossiers. The index is built in the request; the
ZIP is then streamed to the client as it is written, so memory stays flat whatever the size of the
evidence.
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, true
from sqlalchemy.orm import Session

from app.db import utcnow
from app.models import (
    AchievementVersion,
    Claim,
    CoContributor,
    Contribution,
    Credential,
    Dossier,
    Evidence,
    EvidenceKind,
    Issuer,
    Membership,
    Person,
    Project,
    Review,
    Standing,
)
from app.models.claims import ClaimRevision
from app.platform.storage import CHUNK, Storage
from app.platform.urls import Urls
from app.services.dossiers.build import EXTENSIONS, annex_name
from app.services.dossiers.verify import compression_for
from app.services.identity import access, audit
from app.services.identity.access import Grants
from app.services.recognition import standing


@dataclass
class RecordFile:
    path: str
    media_type: str
    data: bytes | None = None
    sha256: str | None = None  # read from storage while streaming


@dataclass
class LearnerRecord:
    person_id: uuid.UUID
    index: dict[str, Any]
    files: list[RecordFile] = field(default_factory=list)


def _plain(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if hasattr(value, "value"):
        return value.value
    return value


def _row(obj: Any, *names: str) -> dict[str, Any]:
    out = {}
    for name in names:
        head, *rest = name.split("_")
        out[head + "".join(p[:1].upper() + p[1:] for p in rest)] = _plain(getattr(obj, name))
    return out


def learner_record(
    session: Session, grants: Grants, *, storage: Storage, urls: Urls, clock: Callable[[], datetime] = utcnow
) -> LearnerRecord:
    """Gather the caller's own data (audited); the files are read while the ZIP streams."""
    grants.person_id  # noqa: B018 - refuses the anonymous
    person = session.get(Person, grants.actor.id)
    assert person is not None
    me = person.id
    # A facilitator acting for an assisted learner exports what the lent projects hold (see access).
    lent = access.lent_projects(grants)
    in_lent = (lambda column: column.in_(lent)) if lent is not None else (lambda column: true())
    files: list[RecordFile] = []
    index: dict[str, Any] = {
        "type": "BlasonLearnerRecord",
        "version": 1,
        "generatedAt": clock().isoformat(),
        "profile": _row(
            person,
            "id",
            "display_name",
            "email",
            "profile_type",
            "is_assisted",
            "locale",
            "did",
            "show_name_publicly",
            "created_at",
        ),
    }
    index["memberships"] = [
        _row(m, "id", "role", "scope_type", "scope_id", "created_at")
        for m in session.scalars(
            select(Membership)
            .where(Membership.person_id == me, in_lent(Membership.scope_id))
            .order_by(Membership.created_at)
        )
    ]

    contributions = list(
        session.scalars(
            select(Contribution)
            .where(Contribution.learner_id == me, in_lent(Contribution.project_id))
            .order_by(Contribution.created_at, Contribution.id)
        )
    )
    ids = [c.id for c in contributions]
    projects = (
        {
            p.id: p.title
            for p in session.scalars(select(Project).where(Project.id.in_({c.project_id for c in contributions})))
        }
        if contributions
        else {}
    )
    co: dict[uuid.UUID, list[str]] = {}
    evidence: dict[uuid.UUID, list[dict[str, Any]]] = {}
    missing = []
    if ids:
        for row in session.scalars(
            select(CoContributor).where(CoContributor.contribution_id.in_(ids)).order_by(CoContributor.position)
        ):
            co.setdefault(row.contribution_id, []).append(row.name)
        for item in session.scalars(
            select(Evidence).where(Evidence.contribution_id.in_(ids)).order_by(Evidence.created_at, Evidence.id)
        ):
            entry = _row(
                item, "id", "kind", "title", "visibility", "url", "text", "filename", "media_type", "size", "created_at"
            )
            entry["sha256"] = item.file_sha256
            if item.kind is EvidenceKind.FILE and item.file_sha256:
                if storage.exists(item.file_sha256):
                    path = f"evidence/{item.id}-{annex_name(item.title)}.{EXTENSIONS.get(item.media_type or '', 'bin')}"
                    files.append(
                        RecordFile(path, item.media_type or "application/octet-stream", sha256=item.file_sha256)
                    )
                    entry["file"] = path
                else:
                    missing.append(str(item.id))
            evidence.setdefault(item.contribution_id, []).append(entry)
    index["contributions"] = [
        {
            **_row(
                c,
                "id",
                "title",
                "narrative",
                "role",
                "start_date",
                "end_date",
                "hours",
                "status",
                "submitted_at",
                "created_at",
                "updated_at",
            ),
            "project": {"id": str(c.project_id), "title": projects.get(c.project_id)},
            "coContributors": co.get(c.id, []),
            "evidence": evidence.get(c.id, []),
        }
        for c in contributions
    ]
    index["missingEvidenceFiles"] = missing

    claims = list(
        session.scalars(
            select(Claim).where(Claim.learner_id == me, in_lent(Claim.project_id)).order_by(Claim.created_at, Claim.id)
        )
    )
    claim_ids = [c.id for c in claims]
    revisions: dict[uuid.UUID, list[dict[str, Any]]] = {}
    reviews = []
    if claim_ids:
        for rev in session.scalars(
            select(ClaimRevision).where(ClaimRevision.claim_id.in_(claim_ids)).order_by(ClaimRevision.number)
        ):
            revisions.setdefault(rev.claim_id, []).append(
                _row(rev, "number", "kind", "justification", "self_assessment", "explanation", "created_at")
            )
        review_rows = list(
            session.scalars(select(Review).where(Review.claim_id.in_(claim_ids)).order_by(Review.created_at, Review.id))
        )
        names = (
            {
                p.id: p.display_name
                for p in session.scalars(select(Person).where(Person.id.in_({r.reviewer_id for r in review_rows})))
            }
            if review_rows
            else {}
        )
        reviews = [
            {
                **_row(r, "id", "claim_id", "decision", "level", "comment", "round", "final", "created_at"),
                "reviewer": names.get(r.reviewer_id),
            }
            for r in review_rows
        ]
    index["claims"] = [
        {
            **_row(
                c,
                "id",
                "contribution_id",
                "competency_id",
                "justification",
                "self_assessment",
                "status",
                "level",
                "decided_at",
                "created_at",
            ),
            "revisions": revisions.get(c.id, []),
        }
        for c in claims
    ]
    index["reviews"] = reviews
    territories = access.lent_territory_ids(session, grants)
    standings = (
        list(session.scalars(select(Standing).where(Standing.learner_id == me)))
        if territories is None
        else list(standing.standings_within(session, me, territories).values())
    )
    index["standings"] = [_row(s, "competency_id", "level", "state", "proficient", "decided_at") for s in standings]
    issuers = access.lent_issuer_filter(session, grants)

    credentials = []
    for credential, name, issuer in session.execute(
        select(Credential, AchievementVersion.name, Issuer.name)
        .join(AchievementVersion, AchievementVersion.id == Credential.achievement_version_id)
        .join(Issuer, Issuer.id == Credential.issuer_id)
        .where(Credential.learner_id == me, true() if issuers is None else issuers)
        .order_by(Credential.awarded_at, Credential.id)
    ):
        entry = {
            **_row(credential, "id", "state", "awarded_at", "valid_from", "valid_until", "revoked_at", "suspended_at"),
            "achievement": name,
            "issuer": issuer,
            "verificationUrl": urls.credential(credential.id),
            "files": [],
        }
        for suffix, value in (
            ("ob3.json", credential.ob3_credential),
            ("ob3.jwt", credential.ob3_jwt),
            ("ob2.json", credential.ob2_assertion),
            ("ob2.jws", credential.ob2_jws),
        ):
            if value:
                path = f"credentials/{credential.id}.{suffix}"
                data = (
                    value.encode()
                    if isinstance(value, str)
                    else json.dumps(value, ensure_ascii=False, indent=2).encode()
                )
                files.append(
                    RecordFile(path, "application/json" if suffix.endswith("json") else "text/plain", data=data)
                )
                entry["files"].append(path)
        credentials.append(entry)
    index["credentials"] = credentials
    index["dossiers"] = [
        _row(
            d,
            "id",
            "certification_id",
            "bloc_ids",
            "status",
            "consented_at",
            "generated_at",
            "archive_size",
            "manifest_sha256",
            "created_at",
        )
        for d in session.scalars(select(Dossier).where(Dossier.learner_id == me).order_by(Dossier.created_at))
    ]
    audit.record(
        session,
        grants.actor,
        "record.exported",
        "person",
        me,
        {"contributions": len(contributions), "files": len(files)},
        clock=clock,
    )
    return LearnerRecord(me, index, files)


class _Sink(io.RawIOBase):
    """A write-only, non-seekable buffer the generator empties after each write."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def drain(self) -> bytes:
        out = b"".join(self.parts)
        self.parts.clear()
        return out


def stream_record(record: LearnerRecord, storage: Storage) -> Iterator[bytes]:
    """Yield the record ZIP as it is written: index.json, then credentials and evidence files."""
    sink = _Sink()
    archive = zipfile.ZipFile(sink, "w", allowZip64=True)

    def member(path: str, media_type: str, chunks: Iterator[bytes] | list[bytes]) -> Iterator[bytes]:
        info = zipfile.ZipInfo(path, date_time=(2020, 1, 1, 0, 0, 0))
        info.compress_type = compression_for(media_type)
        with archive.open(info, "w", force_zip64=True) as target:
            for chunk in chunks:
                target.write(chunk)
                if sink.parts:
                    yield sink.drain()
        yield sink.drain()

    yield from member(
        "index.json", "application/json", [json.dumps(record.index, ensure_ascii=False, indent=2).encode()]
    )
    for item in record.files:
        if item.data is not None:
            yield from member(item.path, item.media_type, [item.data])
        elif item.sha256:
            try:
                handle = storage.open(item.sha256)
            except OSError:
                continue  # vanished since the index was built; the index still names it
            with handle:
                yield from member(item.path, item.media_type, iter(lambda: handle.read(CHUNK), b""))  # noqa: B023 - consumed here
    archive.close()
    yield sink.drain()
