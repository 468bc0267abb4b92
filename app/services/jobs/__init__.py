"""Jobs: long work run by a queue worker, tracked in the ``jobs`` table (who, state, progress, outcome).

The queue itself (Huey) and the work each kind does live in ``app.worker``; this domain keeps the
records: a job is submitted ``queued``, claimed ``running`` by exactly one worker, and ends
``succeeded`` in the work's own transaction or ``failed`` with an error in words. A running job
whose heartbeat stopped (its worker was killed) is reaped as failed, never left running.
"""

from app.services.jobs.inputs import discard_inputs, input_keys, store_input
from app.services.jobs.tracking import (
    KINDS,
    Live,
    LiveReader,
    Lost,
    Refused,
    claim,
    error_of,
    fail,
    get_job,
    is_stale,
    job_error,
    list_jobs,
    reap,
    recover_lost,
    submit,
    succeed,
    view,
)

__all__ = [
    "discard_inputs",
    "input_keys",
    "store_input",
    "KINDS",
    "Live",
    "LiveReader",
    "Lost",
    "Refused",
    "claim",
    "error_of",
    "fail",
    "get_job",
    "is_stale",
    "job_error",
    "list_jobs",
    "reap",
    "recover_lost",
    "submit",
    "succeed",
    "view",
]
