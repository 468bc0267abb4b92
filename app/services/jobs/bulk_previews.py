"""A bulk award's CSV kept between its preview (a dry run) and its confirmation (a ``bulk_award`` job).

The page stores the upload once, as a job input (:func:`~app.services.jobs.inputs.store_input`), and
hands the browser a *preview token*: the stored file's name and a signature binding it to the issuer
and to the person who sent it (HMAC under the app's secret). Confirming runs that very file as the
job; the job's end removes it. A token signed for another issuer or another person, or altered, is
refused as if the file did not exist. Confirming twice (a double click, a reload) finds the job the
first confirmation started instead of starting another.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Job
from app.platform.errors import NotFound
from app.platform.storage import Storage
from app.services.identity.access import Grants, require_login
from app.services.issuing.issuer_desk import issuer_for_pages
from app.services.jobs.inputs import AREA, store_input
from app.services.jobs.tracking import get_job

_TOKEN = re.compile(r"^([0-9a-f]{32})\.([0-9a-f]{64})$")
_RECENT_JOBS = 50


def _signature(name: str, issuer_id: uuid.UUID, person_id: uuid.UUID, secret: str) -> str:
    message = f"bulk-preview:{name}:{issuer_id}:{person_id}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def stage(
    storage: Storage, stream: BinaryIO, max_bytes: int, *, issuer_id: uuid.UUID, person_id: uuid.UUID, secret: str
) -> str:
    """Store the upload (413 past ``max_bytes``) and return its preview token."""
    key = store_input(storage, stream, max_bytes, name="file")
    name = key.removeprefix(f"{AREA}/").removesuffix(".in")
    return f"{name}.{_signature(name, issuer_id, person_id, secret)}"


def staged_key(
    storage: Storage, token: str, *, issuer_id: uuid.UUID, person_id: uuid.UUID, secret: str, present: bool = True
) -> str:
    """The storage key of a preview token sent by this person for this issuer; else 404.

    With ``present`` the file must still be stored (it is removed when its job ends).
    """
    match = _TOKEN.match(token or "")
    if match is None:
        raise NotFound("This file is not known.")
    name, sent = match.groups()
    if not hmac.compare_digest(sent, _signature(name, issuer_id, person_id, secret)):
        raise NotFound("This file is not known.")
    key = f"{AREA}/{name}.in"
    if present and not storage.keyed_exists(key):
        raise NotFound("This file is no longer kept.")
    return key


def job_of(session: Session, grants: Grants, key: str) -> uuid.UUID | None:
    """The bulk award job the caller already started on this stored file, if any (among their latest)."""
    person_id = require_login(grants)
    author = grants.actor.author_id or person_id
    recent = session.execute(
        select(Job.id, Job.params)
        .where(Job.started_by_id == author, Job.kind == "bulk_award")
        .order_by(Job.created_at.desc(), Job.id)
        .limit(_RECENT_JOBS)
    )
    for job_id, params in recent:
        if (params or {}).get("key") == key:
            return job_id
    return None


def bulk_job(session: Session, grants: Grants, issuer_id: uuid.UUID, job_id: uuid.UUID) -> Job:
    """A bulk award job of this issuer, for the administrator who started it (or a platform
    administrator); any other job, or another issuer's, is not found."""
    issuer_for_pages(session, grants, issuer_id)
    job = get_job(session, grants, job_id)
    if job.kind != "bulk_award" or (job.params or {}).get("issuer_id") != str(issuer_id):
        raise NotFound("Job not found.")
    return job
