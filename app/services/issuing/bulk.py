"""Bulk award from a CSV file: a dry run with a report per row, then all-or-nothing or skip-invalid.

Columns are found by their header (any order, case-insensitive): ``email`` or ``person_id``
(the learner), ``achievement_id`` (or one achievement for the whole file), and optionally
``evidence_url``, ``narrative``, ``result_level``. Up to 5,000 rows. The file is read as a
stream; rows are checked with a fixed number of queries per 500 rows. A row whose learner
already holds the achievement's current version is reported ``already_awarded`` and skipped,
so sending the same file twice awards nobody twice. Everything that is issued is issued in
the caller's one transaction: a failure leaves nothing half-issued.
"""

from __future__ import annotations

import codecs
import csv
import io
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO, cast

from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session

from app.models import Achievement, AchievementVersion, Claim, ClaimStatus, Credential, Issuer, Person
from app.platform.errors import FieldError, InvalidInput, NotFound, PayloadTooLarge
from app.services.identity import audit
from app.services.identity.access import Grants
from app.services.issuing import achievements as achievement_service, award_scope
from app.services.issuing.awarding import _competencies_for, gather_award_data
from app.services.issuing.keys import check_issuer_admin
from app.services.issuing.signing import Issuance, IssuingSettings, new_credential_values
from app.services.recognition.scales import DEFAULT_SCALE

MAX_ROWS = 5000
MODES = ("dry_run", "all_or_nothing", "skip_invalid")
COLUMNS = {
    "email": "email",
    "e-mail": "email",
    "mail": "email",
    "person_id": "person_id",
    "learner_id": "person_id",
    "personid": "person_id",
    "achievement_id": "achievement_id",
    "achievementid": "achievement_id",
    "evidence_url": "evidence_url",
    "evidenceurl": "evidence_url",
    "narrative": "narrative",
    "result_level": "result_level",
    "resultlevel": "result_level",
}
_CHUNK = 500
_FLUSH_EVERY = 200
_MAX_REPORTED_ERRORS = 100


@dataclass
class RowReport:
    """One data row: its line in the file, what happens to it, and what is wrong."""

    line: int
    status: str  # valid, invalid, already_awarded, duplicate, issued
    errors: list[FieldError] = field(default_factory=list)
    learner_id: uuid.UUID | None = None
    achievement_id: uuid.UUID | None = None
    credential_id: uuid.UUID | None = None
    # The learner as the file names them (e-mail or id), for a preview; never kept in a job's result.
    recipient: str | None = None


@dataclass
class BulkReport:
    mode: str
    total: int = 0
    valid: int = 0
    invalid: int = 0
    already_awarded: int = 0
    duplicates: int = 0
    issued: int = 0
    rows: list[RowReport] = field(default_factory=list)


class _Limited(io.RawIOBase):
    """A byte stream that refuses to be read past a limit."""

    def __init__(self, stream: BinaryIO, limit: int) -> None:
        self.stream, self.left = stream, limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.stream.read(min(len(buffer), self.left + 1))
        if len(data) > self.left:
            raise PayloadTooLarge("The file is larger than the upload limit.")
        self.left -= len(data)
        buffer[: len(data)] = data
        return len(data)


def _rows(stream: BinaryIO, max_bytes: int) -> Iterator[tuple[int, dict[str, str]]]:
    reader = codecs.getreader("utf-8-sig")(io.BufferedReader(_Limited(stream, max_bytes)))
    try:
        records = csv.reader(reader)
        header = next(records, None)
        if header is None:
            raise InvalidInput("The file is empty.", errors=[FieldError("#/file", "No header row.")])
        names = [COLUMNS.get(h.strip().lower().replace(" ", "_")) for h in header]
        if "email" not in names and "person_id" not in names:
            raise InvalidInput(
                "The file needs an email or person_id column.",
                errors=[FieldError("#/file", "Header: email or person_id is required.")],
            )
        for record in records:
            if not any(cell.strip() for cell in record):
                continue  # blank lines are not rows
            values = {name: cell.strip() for name, cell in zip(names, record, strict=False) if name}
            for name, cell in values.items():  # csv lets NUL through; PostgreSQL cannot store it
                if "\x00" in cell:
                    raise InvalidInput(
                        f"Row {records.line_num}, column {name}: NUL characters are not allowed.",
                        errors=[FieldError(f"#/rows/{records.line_num}/{name}", "NUL characters are not allowed.")],
                    )
            yield records.line_num, values
    except UnicodeDecodeError:
        raise InvalidInput("The file is not UTF-8 text.", errors=[FieldError("#/file", "Not UTF-8 CSV.")]) from None
    except csv.Error as exc:
        raise InvalidInput("The file is not valid CSV.", errors=[FieldError("#/file", str(exc)[:200])]) from None


def _read(stream: BinaryIO, max_bytes: int) -> list[tuple[int, dict[str, str]]]:
    rows = []
    for line, values in _rows(stream, max_bytes):
        rows.append((line, values))
        if len(rows) > MAX_ROWS:
            raise InvalidInput(
                f"A file holds at most {MAX_ROWS} rows.", errors=[FieldError("#/file", f"More than {MAX_ROWS} rows.")]
            )
    return rows


def _chunks(values: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _lookup_learners(
    session: Session, rows: list[tuple[int, dict[str, str]]]
) -> tuple[dict[str, Person], dict[uuid.UUID, Person]]:
    emails = sorted({v["email"].lower() for _, v in rows if v.get("email")})
    ids: set[uuid.UUID] = set()
    for _, v in rows:
        try:
            if v.get("person_id"):
                ids.add(uuid.UUID(v["person_id"]))
        except ValueError:
            pass
    by_email: dict[str, Person] = {}
    for chunk in _chunks(emails):
        for person in session.scalars(select(Person).where(func.lower(Person.email).in_(chunk))):
            by_email[(person.email or "").lower()] = person
    by_id: dict[uuid.UUID, Person] = {}
    for id_chunk in _chunks(sorted(ids)):
        by_id.update({p.id: p for p in session.scalars(select(Person).where(Person.id.in_(id_chunk)))})
    return by_email, by_id


def _check_row(
    line: int,
    values: dict[str, str],
    achievement_default: uuid.UUID | None,
    by_email: dict[str, Person],
    by_id: dict[uuid.UUID, Person],
    classes: dict[uuid.UUID, tuple[Achievement, AchievementVersion]],
) -> RowReport:
    """Check one row; ``by_email`` and ``by_id`` hold only the people the caller may award."""
    report = RowReport(line, "valid", recipient=values.get("person_id") or values.get("email") or None)
    pointer = f"#/rows/{line}"
    learner = None
    if values.get("person_id"):
        try:
            learner = by_id.get(uuid.UUID(values["person_id"]))
        except ValueError:
            report.errors.append(FieldError(f"{pointer}/person_id", "Not a person id."))
        else:
            if learner is None:
                report.errors.append(FieldError(f"{pointer}/person_id", "Unknown learner."))
    elif values.get("email"):
        learner = by_email.get(values["email"].lower())
        if learner is None:
            report.errors.append(FieldError(f"{pointer}/email", "No learner has this e-mail address."))
    else:
        report.errors.append(FieldError(f"{pointer}/email", "email or person_id is required."))
    if learner is not None and not learner.is_active:
        report.errors.append(FieldError(f"{pointer}/email", "This account is disabled."))
    raw_achievement = values.get("achievement_id")
    achievement_id = achievement_default
    if raw_achievement:
        try:
            achievement_id = uuid.UUID(raw_achievement)
        except ValueError:
            achievement_id = None
            report.errors.append(FieldError(f"{pointer}/achievement_id", "Not an achievement id."))
    if achievement_id is None and not raw_achievement:
        report.errors.append(FieldError(f"{pointer}/achievement_id", "achievement_id is required."))
    elif achievement_id is not None and achievement_id not in classes:
        report.errors.append(FieldError(f"{pointer}/achievement_id", "Not an active achievement of this issuer."))
    url = values.get("evidence_url")
    if url and (not url.startswith(("https://", "http://")) or len(url) > 2000 or any(c.isspace() for c in url)):
        report.errors.append(FieldError(f"{pointer}/evidence_url", "Not an http(s) URL."))
    if len(values.get("narrative") or "") > 5000:
        report.errors.append(FieldError(f"{pointer}/narrative", "Longer than 5000 characters."))
    level = values.get("result_level")
    if level and DEFAULT_SCALE.get(level) is None:
        codes = ", ".join(lv.code for lv in DEFAULT_SCALE.levels)
        report.errors.append(FieldError(f"{pointer}/result_level", f"Use one of {codes}."))
    report.learner_id = learner.id if learner else None
    report.achievement_id = achievement_id
    if report.errors:
        report.status = "invalid"
    return report


def bulk_award(
    session: Session,
    grants: Grants,
    issuer_id: uuid.UUID,
    stream: BinaryIO,
    *,
    mode: str,
    settings: IssuingSettings,
    max_bytes: int,
    achievement_id: uuid.UUID | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> BulkReport:
    """Check every row, then (unless a dry run) issue the valid ones in every format.

    ``on_progress(issued, to_issue)`` is called before the first badge is issued and after each one
    (a job shows it; the work stays in the caller's one transaction).
    """
    if mode not in MODES:
        raise InvalidInput("Unknown mode.", errors=[FieldError("#/mode", "dry_run, all_or_nothing or skip_invalid.")])
    check_issuer_admin(grants, issuer_id)
    issuer = session.get(Issuer, issuer_id)
    if issuer is None:
        raise NotFound("Issuer not found.")
    classes: dict[uuid.UUID, tuple[Achievement, AchievementVersion]] = {}
    for achievement, version in session.execute(
        select(Achievement, AchievementVersion)
        .join(
            AchievementVersion,
            (AchievementVersion.achievement_id == Achievement.id)
            & (AchievementVersion.version == Achievement.current_version),
        )
        .where(Achievement.issuer_id == issuer_id, Achievement.is_archived.is_(False))
    ):
        classes[achievement.id] = (achievement, version)
    if achievement_id is not None and achievement_id not in classes:
        raise NotFound("Achievement not found.")
    rows = _read(stream, max_bytes)
    by_email, by_id = _lookup_learners(session, rows)
    # Someone the caller may not award is reported as no one: the same row as an unknown address.
    reach = award_scope.reachable(session, grants, issuer, {p.id for p in [*by_email.values(), *by_id.values()]})
    by_email = {email: p for email, p in by_email.items() if p.id in reach}
    by_id = {id_: p for id_, p in by_id.items() if id_ in reach}
    territories = award_scope.award_territories(session, issuer, grants)
    report = BulkReport(mode=mode, total=len(rows))
    keys: dict[str, RowReport] = {}
    for line, values in rows:
        row = _check_row(line, values, achievement_id, by_email, by_id, classes)
        report.rows.append(row)
        if row.status == "valid" and row.achievement_id and row.learner_id:
            key = achievement_service.idempotency_key(classes[row.achievement_id][1].id, row.learner_id)
            if key in keys:
                row.status = "duplicate"
            else:
                keys[key] = row
    existing: set[str] = set()
    for chunk in _chunks(sorted(keys)):
        existing.update(
            session.scalars(
                select(Credential.idempotency_key).where(
                    Credential.issuer_id == issuer_id, Credential.idempotency_key.in_(chunk)
                )
            )
        )
    for key in existing:
        keys.pop(key).status = "already_awarded"
    for row in report.rows:
        if row.status == "valid":
            report.valid += 1
        elif row.status == "invalid":
            report.invalid += 1
        elif row.status == "duplicate":
            report.duplicates += 1
        else:
            report.already_awarded += 1
    if mode == "dry_run":
        return report
    if mode == "all_or_nothing" and report.invalid:
        errors = [error for row in report.rows for error in row.errors][:_MAX_REPORTED_ERRORS]
        raise InvalidInput(f"{report.invalid} row(s) are invalid; nothing was awarded (all_or_nothing).", errors=errors)
    _issue(session, grants, issuer_id, rows, report, keys, classes, by_email, by_id, settings, territories, on_progress)
    return report


def _with_validated_claims(
    session: Session, learner_ids: set[uuid.UUID], competency_ids: list[uuid.UUID], territories: set[uuid.UUID] | None
) -> set[uuid.UUID]:
    """The learners with a validated claim on one of ``competency_ids`` (in ``territories``), per 500.

    Evidence and validations are drawn from those claims only: for anyone else, the award's data is
    gathered without a query (as for an achievement without competencies).
    """
    found: set[uuid.UUID] = set()
    if not competency_ids:
        return found
    for chunk in _chunks(sorted(learner_ids)):
        stmt = (
            select(Claim.learner_id)
            .where(
                Claim.learner_id.in_(chunk),
                Claim.competency_id.in_(competency_ids),
                Claim.status == ClaimStatus.VALIDATED,
            )
            .distinct()
        )
        if territories is not None:
            stmt = stmt.where(Claim.project_id.in_(award_scope.projects_in(territories)))
        found.update(session.scalars(stmt))
    return found


def _issue(
    session: Session,
    grants: Grants,
    issuer_id: uuid.UUID,
    rows: list[tuple[int, dict[str, str]]],
    report: BulkReport,
    keys: dict[str, RowReport],
    classes: dict[uuid.UUID, tuple[Achievement, AchievementVersion]],
    by_email: dict[str, Person],
    by_id: dict[uuid.UUID, Person],
    settings: IssuingSettings,
    territories: set[uuid.UUID] | None,
    on_progress: Callable[[int, int], None] | None = None,
) -> None:
    issuance = Issuance.for_issuer(session, issuer_id, settings)
    if on_progress is not None:
        on_progress(0, len(keys))
    people = {**{p.id: p for p in by_email.values()}, **by_id}
    values_by_line = dict(rows)
    competencies: dict[uuid.UUID, list[uuid.UUID]] = {}
    claimed: dict[uuid.UUID, set[uuid.UUID]] = {}  # per version: the learners with validated claims
    pending: list[dict[str, Any]] = []  # signed rows not inserted yet
    for row in keys.values():
        assert row.achievement_id is not None and row.learner_id is not None
        _achievement, version = classes[row.achievement_id]
        learner = people[row.learner_id]
        values = values_by_line[row.line]
        if version.id not in competencies:
            competencies[version.id] = _competencies_for(session, version)
            learners = {r.learner_id for r in keys.values() if r.achievement_id == row.achievement_id and r.learner_id}
            claimed[version.id] = _with_validated_claims(session, learners, competencies[version.id], territories)
        data = gather_award_data(
            session,
            learner.id,
            competencies[version.id] if learner.id in claimed[version.id] else [],
            settings.urls,
            evidence_url=values.get("evidence_url") or None,
            narrative=values.get("narrative") or None,
            level=values.get("result_level") or None,
            territories=territories,
        )
        columns = new_credential_values(
            issuer_id=issuer_id,
            version=version,
            learner=learner,
            origin="bulk",
            award_data=data,
            created_by_id=grants.actor.author_id,
        )
        credential_id = columns["id"]
        columns.update(issuance.signed_columns(credential_id, learner, version, data))
        columns["version"] = 1
        pending.append(columns)
        audit.append(
            session,
            grants.actor,
            "credential.issued",
            "credential",
            credential_id,
            {
                "achievement": str(row.achievement_id),
                "version": version.version,
                "learner": str(learner.id),
                "origin": "bulk",
                "line": row.line,
            },
            clock=settings.clock,
        )
        row.status, row.credential_id = "issued", credential_id
        report.issued += 1
        if on_progress is not None:
            on_progress(report.issued, len(keys))
        if len(pending) >= _FLUSH_EVERY:
            _insert(session, pending)
            audit.write_appended(session)  # the batch's events, one INSERT; the head is written at the end
    report.valid = report.issued
    audit.append(
        session,
        grants.actor,
        "credential.bulk_awarded",
        "issuer",
        issuer_id,
        {
            "mode": report.mode,
            "rows": report.total,
            "issued": report.issued,
            "invalid": report.invalid,
            "alreadyAwarded": report.already_awarded,
        },
        clock=settings.clock,
    )
    _insert(session, pending)
    issuance.finish()  # the last flush: events, the audit head and the status list at once


def _insert(session: Session, pending: list[dict[str, Any]]) -> None:
    """Insert a batch of signed credentials with one executemany, then forget them (memory stays flat).

    A Core ``INSERT`` of column values: the rows never enter the session, so no unit-of-work
    bookkeeping per credential. Their status-list indexes were taken (and the list locked) before.
    """
    if pending:
        session.execute(insert(cast(Table, Credential.__table__)), pending)
        pending.clear()
