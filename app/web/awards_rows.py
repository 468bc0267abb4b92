"""The rows of a bulk award in words: each row's verdict and error in the reader's language.

The bulk service reports a row's status (``valid``, ``invalid``, ``duplicate``, ``already_awarded``,
``issued``) and, for an invalid row, errors in English with a pointer to the column. A dry run gives
:class:`~app.services.issuing.bulk.RowReport` objects; a finished job gives the same report as the
API's JSON. Both become :class:`Row` here, with the service's errors mapped to catalogue messages
(an error this table does not know reads as a general one naming the column).
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from app.platform.errors import FieldError, InvalidInput, PayloadTooLarge
from app.services.issuing.bulk import MAX_ROWS, RowReport
from app.services.recognition.scales import DEFAULT_SCALE
from app.web.i18n import Words
from app.web.request_args import read_uuid

# The service's row errors (their start) → catalogue keys.
ROW_ERRORS = {
    "Not a person id.": "awd_row_error_person_id",
    "Unknown learner.": "awd_row_error_unknown_person",
    "No learner has this e-mail address.": "awd_row_error_unknown_email",
    "email or person_id is required.": "awd_row_error_recipient_missing",
    "This account is disabled.": "awd_row_error_disabled",
    "Not an achievement id.": "awd_row_error_achievement_id",
    "achievement_id is required.": "awd_row_error_achievement_missing",
    "Not an active achievement of this issuer.": "awd_row_error_achievement_unknown",
    "Not an http(s) URL.": "awd_row_error_url",
    "Longer than 5000 characters.": "awd_row_error_narrative",
    "Use one of": "awd_row_error_level",
}
# The service's whole-file errors → catalogue keys.
FILE_ERRORS = {
    "No header row.": "awd_file_error_empty",
    "Header: email or person_id is required.": "awd_file_error_header",
    "Not UTF-8 CSV.": "awd_file_error_encoding",
    f"More than {MAX_ROWS} rows.": "awd_file_error_too_many",
    "NUL characters are not allowed.": "awd_file_error_nul",
}
STATUSES = ("valid", "issued", "already_awarded", "duplicate", "invalid")
PROBLEMS = ("invalid", "duplicate")


@dataclass(frozen=True)
class Row:
    """One row of the file as a page shows it."""

    line: int
    status: str
    who: str  # the person's name, else what the file said (a preview), else empty
    errors: tuple[str, ...]

    @property
    def problem(self) -> bool:
        return self.status in PROBLEMS


def _column(pointer: str) -> str:
    return pointer.rsplit("/", 1)[-1] if pointer.count("/") >= 3 else ""


def row_error(t: Words, pointer: str, detail: str) -> str:
    """A row's error in words."""
    key = next((k for start, k in ROW_ERRORS.items() if detail.startswith(start)), None)
    if key == "awd_row_error_level":
        return t.get(key, levels=", ".join(level.code for level in DEFAULT_SCALE.levels))
    if key is not None:
        return t(key)
    return t.get("awd_row_error_other", column=_column(pointer) or "?")


def file_error(t: Words, error: InvalidInput | PayloadTooLarge, *, max_mb: str) -> str:
    """What is wrong with the whole file, in words."""
    if isinstance(error, PayloadTooLarge):
        return t.get("awd_file_error_too_large", size=max_mb)
    first: FieldError | None = error.errors[0] if error.errors else None
    detail = first.detail if first else ""
    key = FILE_ERRORS.get(detail)
    if key == "awd_file_error_nul" and first is not None:
        line = first.pointer.split("/")[2] if first.pointer.count("/") >= 2 else "?"
        return t.get(key, line=line)
    if key == "awd_file_error_too_many":
        return t.get(key, n=MAX_ROWS)
    return t(key) if key else t("awd_file_error_csv")


def from_preview(t: Words, rows: Iterable[RowReport], names: Mapping[uuid.UUID, str]) -> list[Row]:
    """The rows of a dry run (the recipient as written when no one was found)."""
    return [
        Row(
            r.line,
            r.status,
            names.get(r.learner_id, "") if r.learner_id else (r.recipient or ""),
            tuple(row_error(t, e.pointer, e.detail) for e in r.errors),
        )
        for r in rows
    ]


def from_report(t: Words, rows: Iterable[Mapping[str, Any]], names: Mapping[uuid.UUID, str]) -> list[Row]:
    """The rows of a finished job's report (its JSON)."""
    out = []
    for r in rows:
        learner = read_uuid(r.get("learnerId"))
        errors = tuple(row_error(t, e.get("pointer", ""), e.get("detail", "")) for e in r.get("errors") or ())
        out.append(
            Row(int(r.get("line") or 0), str(r.get("status")), names.get(learner, "") if learner else "", errors)
        )
    return out


def learner_ids(rows: Iterable[Mapping[str, Any]]) -> set[uuid.UUID]:
    return {u for r in rows if (u := read_uuid(r.get("learnerId"))) is not None}


def _cell(value: str) -> str:
    # A spreadsheet would run a cell starting with = + - @ as a formula: keep it text.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def report_csv(t: Words, rows: Iterable[Row]) -> bytes:
    """The report as CSV (semicolons, UTF-8 with BOM: opens as is in a French spreadsheet)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([t.awd_csv_line, t.awd_csv_person, t.awd_csv_result, t.awd_csv_error])
    for row in rows:
        writer.writerow([row.line, _cell(row.who), t("awd_status_" + row.status), _cell(" ".join(row.errors))])
    return ("\ufeff" + out.getvalue()).encode()


EXAMPLE_CSV = (
    "email,evidence_url,narrative\r\n"
    "lucie.perrin@exemple.fr,,\r\n"
    "marc.dubois@exemple.fr,https://exemple.fr/atelier-reparation,A animé l'atelier de réparation du 12 mars\r\n"
)
