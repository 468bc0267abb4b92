"""Fixtures of the tests that run background jobs in process, on the test app's own queue.

Registered as a pytest plugin in tests/conftest.py.

- ``job_queue``: the test app's queue, emptied before and after the test (messages of earlier tests,
  whose rows were rolled back, must not run).
- ``drain``: run the jobs waiting in that queue now, in the test's process; returns how many ran.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from app.worker import Queue, queue_of


@pytest.fixture()
def job_queue(app: Any) -> Iterator[Queue]:
    """The test app's job queue, empty at the start and emptied again at the end."""
    queue = queue_of(app)
    queue.huey.flush()  # messages of earlier tests, whose rows were rolled back
    yield queue
    queue.huey.flush()


@pytest.fixture()
def drain(job_queue: Queue) -> Callable[[], int]:
    """Run the jobs waiting in the test app's queue, here and now; how many ran."""
    return job_queue.drain
