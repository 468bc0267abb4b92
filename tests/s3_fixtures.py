"""Fixtures of the object-store tests (no tests here): an S3-compatible server on the loopback.

moto's standalone server runs in a process of its own on 127.0.0.1 (a free port), for the
whole session: nothing leaves the machine. ``s3_app`` is an app built by ``create_app`` with
``STORAGE_URL`` pointing at it, sharing the test database; ``on_s3`` lends its storage to the
session's ``app`` for one test, so the usual fixtures (``session``, ``client``, ``vae``...) run
against the object store.

``BLASON_TEST_STORAGE=s3`` does that for every test of the run, e.g.
``BLASON_TEST_STORAGE=s3 pytest tests/api/test_evidence.py tests/services/dossiers``; tests that
reach into the local folder on purpose (``storage.root``) are skipped then.

A plugin registered in tests/conftest.py.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from app.platform.storage import Storage
from app.runtime import runtime

BUCKET = "blason-tests"
REGION = "eu-west-3"
STORAGE_ENV = "BLASON_TEST_STORAGE"
# Any key works with moto; the files set to /dev/null keep the developer's ~/.aws out of the tests.
_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}


@contextmanager
def aws_credentials(values: dict[str, str] | None = None) -> Iterator[None]:
    """The AWS_* variables set for the block only (clients read them when they are built)."""
    values = _CREDENTIALS if values is None else values
    saved = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            if value:
                os.environ[name] = value
            else:
                os.environ.pop(name, None)
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of an S3-compatible server listening on the loopback only, in a process of its own.

    Its own process, as the object store is in production: memory measured in a test is the
    client's alone, and another process (a worker) can reach the same objects.
    """
    pytest.importorskip("moto.server")
    with socket.socket() as probe:  # a free port, given back just before the server takes it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = tmp_path_factory.mktemp("s3-server") / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], stdout=out, stderr=out
        )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the S3 server did not start: {log.read_text()[-2000:]}") from None
                time.sleep(0.1)
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=10)


def s3_client(endpoint: str) -> Any:
    from app.platform.storage_s3 import make_client

    with aws_credentials():
        return make_client(endpoint_url=endpoint, region=REGION, addressing_style="path")


@pytest.fixture(scope="session")
def s3_admin(s3_endpoint: str) -> Any:
    """A client to look at the server behind the storage's back (and to create buckets)."""
    client = s3_client(s3_endpoint)
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    return client


@pytest.fixture()
def s3_bucket(s3_admin: Any) -> str:
    """A new empty bucket of this test's own."""
    name = f"blason-{uuid.uuid4().hex[:12]}"
    s3_admin.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    return name


@pytest.fixture(scope="session")
def s3_app(engine, tmp_path_factory: pytest.TempPathFactory, s3_endpoint: str, s3_admin: Any):  # type: ignore[no-untyped-def]
    """An app whose files live in the bucket, built from settings as in production."""
    from app import create_app
    from tests.conftest import JWT_PEM, KEK

    instance = tmp_path_factory.mktemp("instance-s3")
    with aws_credentials():
        return create_app(
            {
                "ENV": "testing",
                "INSTANCE_DIR": str(instance),
                "ENGINE": engine,
                "DATABASE_URL": str(engine.url),
                "PUBLIC_BASE_URL": "https://blason.test",
                "SECRET_KEY": "test-secret",
                "JWT_PRIVATE_KEY": JWT_PEM,
                "KEY_ENCRYPTION_KEYS": KEK,
                "PASSWORD_HASH_TIME_COST": 1,
                "PASSWORD_HASH_MEMORY_KIB": 8,
                "MAX_UPLOAD_BYTES": 256 * 1024,
                "LOG_LEVEL": "WARNING",
                "STORAGE_URL": f"s3://{BUCKET}/app",
                "S3_ENDPOINT_URL": s3_endpoint,
                "S3_REGION": REGION,
                "S3_ADDRESSING_STYLE": "path",
            }
        )


@contextmanager
def lend_storage(app: Any, storage: Storage) -> Iterator[Storage]:
    """``app`` uses ``storage`` (its own and its dossiers') for the block."""
    rt = runtime(app)
    saved = rt.storage, rt.dossiers
    rt.storage, rt.dossiers = storage, dataclasses.replace(rt.dossiers, storage=storage)
    try:
        yield storage
    finally:
        rt.storage, rt.dossiers = saved


@pytest.fixture()
def on_s3(app, s3_app) -> Iterator[Storage]:  # type: ignore[no-untyped-def]
    """The session's app with the object-store storage of ``s3_app`` for this test."""
    with lend_storage(app, runtime(s3_app).storage) as storage:
        yield storage


@pytest.fixture(autouse=True)
def _storage_backend(request: pytest.FixtureRequest) -> Iterator[None]:
    """With BLASON_TEST_STORAGE=s3, every test that uses the app uses the object store."""
    if os.environ.get(STORAGE_ENV, "local") != "s3" or "app" not in request.fixturenames:
        yield
        return
    request.getfixturevalue("on_s3")
    yield


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """With BLASON_TEST_STORAGE=s3, a test that looks into the local folder on purpose is skipped."""
    try:
        return (yield)
    except AttributeError as exc:
        if os.environ.get(STORAGE_ENV) == "s3" and "'S3Storage' object has no attribute 'root'" in str(exc):
            pytest.skip("looks into the local storage folder (BLASON_TEST_STORAGE=s3)")
        raise
