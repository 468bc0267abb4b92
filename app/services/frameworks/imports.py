"""Import competency-framework files into versioned frameworks, in one transaction per file.

The parsers (``app.importers``) stream plain records; ``frameworks_store`` persists them in
bounded memory. One file may hold many frameworks: an RNCP export is one framework per fiche,
everything else one per file. Re-importing is safe: an unchanged framework is reported
``unchanged`` (compared with the current version only) and adds no version; a changed one becomes
version N+1 and current, the old ones stay -- also when its content equals an older version
(going back: the new version records ``restores_version``).
"""

from __future__ import annotations

import hashlib
import logging
import re
import tempfile
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path, PurePath
from typing import Any, BinaryIO

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import utcnow
from app.importers import Counts, ImportFormatError, WarningRecord, open_import, split_header
from app.importers.detect import Format, detect_format
from app.importers.errors import UnsafeInputError
from app.importers.sources import ByteSource, Input, as_source
from app.platform.errors import Conflict, FieldError, InvalidInput, PayloadTooLarge, PermissionDenied
from app.services.frameworks.store import FrameworkWriter, ImportedFramework, ImportReport, document_key
from app.services.identity import audit
from app.services.identity.access import Grants

__all__ = ["ImportReport", "ImportedFramework", "document_key", "import_framework_file", "import_uploads", "sha256_of"]

log = logging.getLogger(__name__)


def check_can_import(grants: Grants) -> None:
    """Imports are for platform administrators and issuer administrators."""
    if not (grants.platform_admin or grants.issuer_admin_of):
        raise PermissionDenied("Only platform or issuer administrators import frameworks.")


def import_framework_file(
    session: Session,
    grants: Grants,
    source: Input | ByteSource | Sequence[Input | ByteSource],
    filename: str | None = None,
    *,
    format: Format | None = None,
    options: dict[str, Any] | None = None,
    on_progress: Callable[[Counts], None] | None = None,
    progress_every: int = 5000,
    file_sha256: str | None = None,
    clock: Callable[[], datetime] = utcnow,
    on_warning: Callable[[WarningRecord], None] | None = None,
) -> ImportReport:
    """Import one file (or the ESCO files of one release) inside a savepoint; flush, never commit.

    ``on_warning`` receives every warning as it comes (the report keeps the first 50 and the total).

    Bad input raises :class:`InvalidInput` pointing at ``#/file`` with the line and column, and
    leaves nothing behind in the session.
    """
    check_can_import(grants)
    name = filename or _name_of(source)
    final: list[Counts] = []

    def progress(counts: Counts) -> None:
        if counts.done:
            final.append(counts)
        if on_progress is not None:
            on_progress(counts)

    savepoint = session.begin_nested()
    try:
        stream = open_import(
            source,
            filename,
            format=format,
            on_progress=progress,
            progress_every=progress_every,
            **_options_for(source, filename, format, options or {}),
        )
        header, records = split_header(stream)
        writer = FrameworkWriter(session, header, name, grants, file_sha256, clock(), on_warning)
        for item in records:
            writer.add(item)
        report = writer.finish(final[-1] if final else Counts(done=True))
        savepoint.commit()
    except ImportFormatError as exc:
        savepoint.rollback()
        raise _invalid(exc, name) from None
    except IntegrityError:
        savepoint.rollback()
        raise Conflict("Another import of the same framework ran at the same time; try again.") from None
    except BaseException:
        savepoint.rollback()
        raise
    audit.record(
        session,
        grants.actor,
        "framework.imported",
        "framework_file",
        None,
        {
            "file": name,
            "format": report.format,
            "sha256": file_sha256,
            "created": report.created,
            "unchanged": report.unchanged,
            "records": report.counts.records,
            "warnings": report.warnings_total,
        },
        clock=clock,
    )
    return report


def import_uploads(
    session: Session,
    grants: Grants,
    uploads: Sequence[tuple[BinaryIO, str]],
    *,
    max_bytes: int,
    format: Format | None = None,
    options: dict[str, Any] | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> ImportReport:
    """Import uploaded file(s): spooled to a temporary folder (bounded memory), then imported.

    Several files are accepted for ESCO only (skills, groups and relations of one release).
    """
    check_can_import(grants)
    if not uploads:
        raise InvalidInput("Attach the framework file.", errors=[FieldError("#/file", "Missing file.")])
    with tempfile.TemporaryDirectory(prefix="blason-import-") as folder:
        paths: list[Path] = []
        digest = hashlib.sha256()
        for stream, filename in uploads:
            path = Path(folder) / _safe_name(filename, len(paths))
            if path.exists():
                path = path.with_name(f"{len(paths)}-{path.name}")
            size = 0
            with open(path, "wb") as out:
                while chunk := stream.read(1 << 16):
                    size += len(chunk)
                    if size > max_bytes:
                        raise PayloadTooLarge(f"{filename} is larger than {max_bytes} bytes.")
                    digest.update(chunk)
                    out.write(chunk)
            paths.append(path)
        source: Any = paths[0] if len(paths) == 1 else paths
        return import_framework_file(
            session, grants, source, format=format, options=options, file_sha256=digest.hexdigest(), clock=clock
        )


def sha256_of(paths: Sequence[Path]) -> str:
    """Return the SHA-256 of files read one after the other (the imported bytes)."""
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()


def _safe_name(filename: str | None, index: int) -> str:
    # Keep the base name: the importers read the language, part and export date from it.
    name = re.sub(r"[^\w.-]+", "_", PurePath((filename or "").replace("\\", "/")).name).strip("._")
    return name[:120] or f"upload-{index}"


OPTIONS = {"esco-csv": ("language", "version"), "custom-csv": ("title",), "custom-json": ("title",)}


def _options_for(source: Any, filename: str | None, format: Format | None, options: dict[str, Any]) -> dict[str, Any]:
    """Keep the options the chosen importer takes (ESCO: language, version; custom: title)."""
    options = {k: v for k, v in options.items() if v}
    if not options:
        return {}
    chosen = "esco-csv" if isinstance(source, (list, tuple)) else (format or detect_format(source, filename))
    return {k: v for k, v in options.items() if k in OPTIONS.get(chosen, ())}


def _name_of(source: object) -> str:
    if isinstance(source, (list, tuple)):
        return ", ".join(_name_of(s) for s in source)
    if isinstance(source, (bytes, bytearray)):
        return "upload"
    return as_source(source).name  # type: ignore[arg-type]


def _invalid(exc: ImportFormatError, name: str) -> InvalidInput:
    kind = "refused as unsafe" if isinstance(exc, UnsafeInputError) else "cannot be imported"
    where = ", ".join(
        f"{label} {value}" for label, value in (("line", exc.line), ("column", exc.column)) if value is not None
    )
    detail = f"{name} {kind}: {exc.reason}" + (f" ({where})" if where else "")
    errors = [FieldError("#/file", exc.reason)]
    missing = getattr(exc, "missing", None)
    if missing:
        errors = [FieldError("#/file", f"missing column: {column}") for column in missing]
    return InvalidInput(detail, errors=errors)
