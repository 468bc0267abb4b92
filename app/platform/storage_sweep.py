"""What crashes leave in storage: temporary files, and dossier archives no dossier points to.

A worker killed while writing leaves its temporary file under ``tmp/`` (swept at start-up and by
``storage-sweep``). A worker killed after publishing a new archive but before the commit that
records it, or after that commit but before deleting the archive it replaced, leaves an archive
no dossier row names: ``orphan_archives`` finds those that are older than a grace period (a
generation in progress publishes its archive only moments before committing).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Dossier
from app.platform.storage import Storage, StoredFile

ARCHIVE_AREA = "dossiers"
_BATCH = 500


@dataclass(frozen=True)
class Swept:
    kind: str  # "temporary" or "orphan archive"
    file: StoredFile


def sweep_temporary(storage: Storage, *, grace: float, now: float, dry_run: bool = False) -> list[Swept]:
    """Delete temporary files no live writer holds and nobody wrote to for ``grace`` seconds."""
    return [Swept("temporary", f) for f in storage.sweep_tmp(grace, now=now, dry_run=dry_run)]


def orphan_archives(session: Session, storage: Storage, *, grace: float, now: float) -> Iterator[StoredFile]:
    """Dossier archives older than ``grace`` seconds that no dossier row refers to."""
    old = [f for f in storage.list_keyed(ARCHIVE_AREA) if now - f.modified >= grace]
    for start in range(0, len(old), _BATCH):
        batch = old[start : start + _BATCH]
        referenced = set(
            session.scalars(select(Dossier.archive_key).where(Dossier.archive_key.in_([f.name for f in batch])))
        )
        yield from (f for f in batch if f.name not in referenced)


def sweep(
    session: Session, storage: Storage, *, tmp_grace: float, orphan_grace: float, now: float, dry_run: bool = False
) -> list[Swept]:
    """Remove abandoned temporary files and orphan dossier archives (only list them if ``dry_run``)."""
    swept = sweep_temporary(storage, grace=tmp_grace, now=now, dry_run=dry_run)
    for orphan in orphan_archives(session, storage, grace=orphan_grace, now=now):
        if not dry_run:
            storage.delete_keyed(orphan.name)
        swept.append(Swept("orphan archive", orphan))
    return swept
