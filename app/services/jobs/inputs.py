"""A job's input files: kept in storage under a key of their own until the job ends.

The web process stores the upload; the worker, on this machine or another sharing the storage,
reads it by its key. The file is removed when the job ends (succeeded, failed or reaped), so a
bulk award's CSV of e-mail addresses does not outlive its job.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from typing import Any, BinaryIO

from app.platform.errors import PayloadTooLarge
from app.platform.storage import Storage

AREA = "jobs"


def store_input(storage: Storage, stream: BinaryIO, max_bytes: int, *, name: str = "upload") -> str:
    """Copy an upload into storage under a new key; 413 past ``max_bytes``. Returns the key."""
    key = f"{AREA}/{uuid.uuid4().hex}.in"
    size = 0
    with storage.create_keyed(key) as out:
        fd = out.fileno()
        while chunk := stream.read(1 << 16):
            size += len(chunk)
            if size > max_bytes:
                raise PayloadTooLarge(f"{name} is larger than {max_bytes} bytes.")
            view = memoryview(chunk)
            while view:
                view = view[os.write(fd, view) :]
        out.commit()
    return key


def input_keys(params: dict[str, Any]) -> Iterator[str]:
    """The storage keys a job's parameters name."""
    if params.get("key"):
        yield str(params["key"])
    for item in params.get("files") or ():
        if item.get("key"):
            yield str(item["key"])


def discard_inputs(storage: Storage, params: dict[str, Any]) -> None:
    """Remove a job's input files (once it has ended; a missing one is not an error)."""
    for key in input_keys(params):
        with contextlib.suppress(Exception):
            storage.delete_keyed(key)
