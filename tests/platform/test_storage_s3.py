"""The object-store backend, against an S3-compatible server on the loopback (tests/s3_fixtures.py).

The same guarantees as the local folder: nothing half-written is ever visible, reads stream, a
missing object is a missing file (404 over HTTP), and what crashes leave is swept.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import time
import tracemalloc
import uuid
import zipfile
import zlib
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import pytest
from boto3.s3.transfer import TransferConfig

from app import create_app
from app.config import ConfigError, load
from app.db import database_of
from app.models import Dossier
from app.platform.storage import CHUNK, TooLarge
from app.platform.storage_s3 import S3Location, S3Storage, parse_url
from app.runtime import runtime
from app.services.dossiers import lifecycle as dossiers
from app.services.dossiers.verify import verify_archive
from app.services.identity import access
from tests.api.support import assert_problem, png_bytes
from tests.conftest import JWT_PEM, KEK
from tests.dossier_fixtures import PDF, Vae, dossier_settings, zip_names
from tests.s3_fixtures import BUCKET, REGION, aws_credentials, s3_client

MB = 1024 * 1024
API = "/api/v1"


@pytest.fixture()
def storage(s3_endpoint, s3_bucket, tmp_path) -> S3Storage:  # type: ignore[no-untyped-def]
    # A low multipart threshold: files of a few MB go up in parts, as big ones do in production.
    transfer = TransferConfig(multipart_threshold=5 * MB, multipart_chunksize=5 * MB)
    return S3Storage(s3_client(s3_endpoint), S3Location(s3_bucket, "files/"), tmp_path / "scratch", transfer=transfer)


def objects(storage: S3Storage) -> list[str]:
    listed = storage.client.list_objects_v2(Bucket=storage.bucket)
    return sorted(item["Key"] for item in listed.get("Contents", []))


def leftovers(storage: S3Storage) -> list[str]:
    return os.listdir(storage._tmp.folder)


def test_put_names_an_object_by_the_sha256_of_its_bytes(storage):  # type: ignore[no-untyped-def]
    data = b"%PDF-1.4\n" + os.urandom(7 * MB)  # past the multipart threshold
    blob = storage.put(io.BytesIO(data), len(data))
    sha = hashlib.sha256(data).hexdigest()
    assert (blob.sha256, blob.size, blob.head, blob.crc32) == (sha, len(data), data[:4096], zlib.crc32(data))
    assert objects(storage) == [f"files/{sha[:2]}/{sha[2:4]}/{sha}"]  # the local folder's layout
    assert storage.exists(sha) and leftovers(storage) == []
    with storage.open(sha) as handle:
        assert handle.read() == data
    assert storage.put(io.BytesIO(data), len(data)).sha256 == sha  # the same bytes again: one object
    with pytest.raises(TooLarge):
        storage.put(io.BytesIO(b"other" + data), len(data))
    assert len(objects(storage)) == 1 and leftovers(storage) == []


def test_nothing_is_visible_before_the_commit_and_a_failure_leaves_nothing(storage):  # type: ignore[no-untyped-def]
    data = os.urandom(3 * MB)
    sha = hashlib.sha256(data).hexdigest()
    with storage.writer(len(data)) as out:
        out.write(data[:MB])
        out.write(memoryview(data)[MB:])
        assert not storage.exists(sha) and objects(storage) == [] and len(leftovers(storage)) == 1
        out.commit()
    assert storage.exists(sha) and leftovers(storage) == []
    with pytest.raises(RuntimeError):
        with storage.writer(MB) as out:
            out.write(b"half of it")
            raise RuntimeError("the producer failed")
    assert objects(storage) == [f"files/{sha[:2]}/{sha[2:4]}/{sha}"] and leftovers(storage) == []


def test_reads_stream_in_chunks_without_holding_the_object(storage):  # type: ignore[no-untyped-def]
    data = os.urandom(24 * MB)
    sha = storage.put(io.BytesIO(data), len(data)).sha256
    digest, sizes = hashlib.sha256(), []
    tracemalloc.start()
    try:
        with storage.open(sha) as handle:
            while chunk := handle.read(CHUNK):
                sizes.append(len(chunk))
                digest.update(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert digest.hexdigest() == sha and sum(sizes) == len(data)
    assert len(sizes) >= 24 and max(sizes) <= CHUNK
    assert peak < 6 * MB, f"{peak} bytes held while streaming a {len(data)}-byte object"


def test_an_object_is_seekable_and_gives_a_descriptor_for_kernel_copies(storage):  # type: ignore[no-untyped-def]
    data = os.urandom(3 * MB + 17)
    sha = storage.put(io.BytesIO(data), len(data)).sha256
    with storage.open(sha) as handle:
        assert handle.seek(0, io.SEEK_END) == len(data)  # what the dossier writer asks first
        handle.seek(2 * MB)
        assert handle.read(100) == data[2 * MB : 2 * MB + 100]  # a ranged GET
        handle.seek(0)
        assert handle.read(10) == data[:10]
        fd = handle.fileno()  # a local copy, made in chunks
        assert os.pread(fd, len(data) + 1, 0) == data and handle.fileno() == fd
        assert handle.read(5) == data[10:15]  # reading goes on where it was
    assert leftovers(storage) == []  # the copy was never named


def test_a_keyed_object_appears_only_once_committed(storage):  # type: ignore[no-untyped-def]
    key = "dossiers/" + "ab" * 16 + ".zip"
    with storage.create_keyed(key) as out:
        os.write(out.fileno(), b"PK first")
        os.pwrite(out.fileno(), b"pk", 0)  # the ZIP writer patches headers in place
        assert not storage.keyed_exists(key)
        out.commit()
    with storage.open_keyed(key) as handle:
        assert handle.read() == b"pk first"
    with storage.create_keyed(key) as out:  # a failure leaves the committed object as it was
        os.write(out.fileno(), b"half")
    with storage.open_keyed(key) as handle:
        assert handle.read() == b"pk first"
    [listed] = storage.list_keyed("dossiers")
    assert (listed.name, listed.size) == (key, 8) and abs(listed.modified - time.time()) < 300
    assert list(storage.list_keyed("other")) == [] and leftovers(storage) == []
    storage.delete_keyed(key)
    assert not storage.keyed_exists(key) and objects(storage) == []
    storage.delete_keyed(key)  # already gone: nothing to do


def test_a_missing_object_is_a_missing_file(storage):  # type: ignore[no-untyped-def]
    sha = storage.put(io.BytesIO(b"bytes"), 10).sha256
    storage.delete(sha)
    assert not storage.exists(sha) and objects(storage) == []
    with pytest.raises(FileNotFoundError):
        storage.open(sha)
    with pytest.raises(FileNotFoundError):
        storage.open_keyed("dossiers/" + "cd" * 16 + ".zip")
    storage.delete(sha)  # already gone: nothing to do


@pytest.mark.parametrize(
    "key", ["../etc/passwd", "dossiers/../../x.zip", "/tmp/x.zip", "dossiers/" + "g" * 32 + ".zip"]
)
def test_keys_are_never_object_names_of_the_callers_choosing(storage, key):  # type: ignore[no-untyped-def]
    for call in (storage.create_keyed, storage.open_keyed, storage.keyed_exists, storage.delete_keyed):
        with pytest.raises(ValueError):
            call(key)
    with pytest.raises(ValueError):
        storage.open("../" + "a" * 61)


def test_the_sweep_aborts_abandoned_uploads_and_local_leftovers(storage):  # type: ignore[no-untyped-def]
    client, bucket = storage.client, storage.bucket
    started = [
        client.create_multipart_upload(Bucket=bucket, Key=f"files/keyed/dossiers/{n * 32}.zip")["UploadId"]
        for n in "ab"
    ]
    # Each gets a part (the server used here dates every upload's start in 2010, so an upload
    # without parts would look abandoned at once; the store's real date counts then).
    for n, upload_id, size in (("a", started[0], 100), ("b", started[1], 7)):
        client.upload_part(
            Bucket=bucket, Key=f"files/keyed/dossiers/{n * 32}.zip", UploadId=upload_id, PartNumber=1, Body=b"x" * size
        )
    client.create_multipart_upload(Bucket=bucket, Key="elsewhere/x")  # not ours: outside the prefix
    (storage._tmp.folder / "old.part").write_bytes(b"y" * 10)
    os.utime(storage._tmp.folder / "old.part", (time.time() - 3600, time.time() - 3600))

    # The uploads were just given a part: only the old local file has been idle for the grace period.
    assert [f.name for f in storage.sweep_tmp(900, now=time.time(), dry_run=True)] == ["tmp/old.part"]
    names = sorted(f.name for f in storage.sweep_tmp(900, now=time.time() + 1000, dry_run=True))
    assert names == ["tmp/old.part"] + [f"upload/keyed/dossiers/{n * 32}.zip" for n in "ab"]
    assert len(client.list_multipart_uploads(Bucket=bucket)["Uploads"]) == 3  # a dry run changes nothing
    swept = storage.sweep_tmp(900, now=time.time() + 1000)
    assert sorted(f.name for f in swept) == names and sorted(f.size for f in swept) == [7, 10, 100]
    assert [u["Key"] for u in client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])] == ["elsewhere/x"]
    assert leftovers(storage) == []


# --- the configuration ----------------------------------------------------------------------


def _app_settings(tmp_path, **overrides: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return {
        "ENV": "production",
        "INSTANCE_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
        "SECRET_KEY": "x",
        "JWT_PRIVATE_KEY": JWT_PEM,
        "KEY_ENCRYPTION_KEYS": KEK,
        **overrides,
    }


def test_the_object_store_is_chosen_by_configuration(s3_app, tmp_path):  # type: ignore[no-untyped-def]
    storage = runtime(s3_app).storage
    assert isinstance(storage, S3Storage) and (storage.bucket, storage.prefix) == (BUCKET, "app/")
    assert runtime(s3_app).dossiers.storage is storage
    assert parse_url("s3://my.bucket-1") == S3Location("my.bucket-1", "")
    assert parse_url("s3://b12/blason/prod/") == S3Location("b12", "blason/prod/")
    settings = load({}, _app_settings(tmp_path))
    assert settings.storage_url is None and settings.s3_endpoint_url is None  # the local folder by default


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("STORAGE_URL", "https://bucket/x", "must start with s3://"),
        ("STORAGE_URL", "s3://AKIA:secret@bucket/x", "must not carry credentials"),
        ("STORAGE_URL", "s3://Bad_Bucket/x", "not a bucket name"),
        ("STORAGE_URL", "s3://bucket/../x", "the prefix"),
        ("S3_ENDPOINT_URL", "s3.fr-par.scw.cloud", "must start with https://"),
        ("S3_ADDRESSING_STYLE", "dns", "auto, path or virtual"),
    ],
)
def test_a_bad_object_store_setting_stops_the_start(tmp_path, name, value, message):  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match=message) as caught:
        load({}, _app_settings(tmp_path, **{name: value}))
    assert f"BLASON_{name}" in str(caught.value) and "secret" not in str(caught.value).replace("credentials", "")


def test_no_credentials_no_start_and_credentials_never_logged(s3_endpoint, s3_admin, tmp_path, caplog):  # type: ignore[no-untyped-def]
    store = {"STORAGE_URL": f"s3://{BUCKET}/other", "S3_ENDPOINT_URL": s3_endpoint, "S3_REGION": REGION}
    nothing = {
        "AWS_ACCESS_KEY_ID": "",
        "AWS_SECRET_ACCESS_KEY": "",
        "AWS_SESSION_TOKEN": "",
        "AWS_PROFILE": "",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": "",
        "AWS_WEB_IDENTITY_TOKEN_FILE": "",
    }
    with aws_credentials(nothing), pytest.raises(ConfigError, match="AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"):
        create_app(_app_settings(tmp_path, **store))
    with aws_credentials({**nothing, "AWS_PROFILE": "nowhere"}), pytest.raises(ConfigError, match="nowhere"):
        create_app(_app_settings(tmp_path, **store))
    secret = "s3cr3t-never-in-a-log"
    caplog.set_level(logging.DEBUG, logger="app")
    with aws_credentials({**nothing, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": secret}):
        app = create_app(_app_settings(tmp_path, LOG_LEVEL="DEBUG", **store))
    assert isinstance(runtime(app).storage, S3Storage)
    assert secret not in caplog.text and secret not in repr(runtime(app).settings)


# --- through the service, the API and the dossiers -------------------------------------------


@pytest.fixture()
def owned(client, headers, make_person, make_project, grant, make_contribution):  # type: ignore[no-untyped-def]
    project = make_project()
    learner = make_person()
    grant(learner, "learner", project)
    return make_contribution(learner, project), headers(learner)


def _upload(client, contribution, h, data: bytes):  # type: ignore[no-untyped-def]
    return client.post(
        f"{API}/contributions/{contribution.id}/evidence/files",
        data={"title": "Photo du chantier", "file": (io.BytesIO(data), "photo.png")},
        headers=h,
        content_type="multipart/form-data",
    )


def test_an_uploaded_evidence_file_goes_to_the_bucket_and_comes_back(client, on_s3, s3_admin, owned):  # type: ignore[no-untyped-def]
    contribution, h = owned
    data = png_bytes(seed=41)
    created = _upload(client, contribution, h, data)
    assert created.status_code == 201, created.json
    sha = hashlib.sha256(data).hexdigest()
    stored = s3_admin.get_object(Bucket=BUCKET, Key=f"app/{sha[:2]}/{sha[2:4]}/{sha}")["Body"].read()
    assert created.json["sha256"] == sha and stored == data
    r = client.get(f"{API}/evidence/{created.json['id']}/file", headers=h)
    assert r.status_code == 200 and r.data == data and r.headers["Content-Length"] == str(len(data))
    assert not os.listdir(on_s3._tmp.folder)  # the local temporary file went with the upload


def test_a_file_missing_from_the_bucket_is_a_404_not_a_500(client, on_s3, s3_admin, owned):  # type: ignore[no-untyped-def]
    contribution, h = owned
    data = png_bytes(seed=42)
    evidence_id = _upload(client, contribution, h, data).json["id"]
    sha = hashlib.sha256(data).hexdigest()
    s3_admin.delete_object(Bucket=BUCKET, Key=f"app/{sha[:2]}/{sha[2:4]}/{sha}")  # behind the storage's back
    problem = assert_problem(client.get(f"{API}/evidence/{evidence_id}/file", headers=h), 404)
    assert "missing" in problem["detail"]


def test_a_dossier_is_written_to_the_bucket_read_back_and_its_replaced_archive_deleted(  # type: ignore[no-untyped-def]
    app, session, on_s3, s3_admin, vae: Vae
):
    grants = access.load_grants(session, vae.learner.id)
    config = dossier_settings(app)
    assert config.storage is on_s3
    dossier = dossiers.request_dossier(session, grants, {"certification_id": vae.fiche.id})
    first = dossiers.generate(session, grants, dossier.id, settings=config)
    key = first.dossier.archive_key
    head = s3_admin.head_object(Bucket=BUCKET, Key=f"app/keyed/{key}")
    assert head["ContentLength"] == first.size == first.dossier.archive_size
    with on_s3.open_keyed(key) as handle:
        data = handle.read()
    assert zip_names(data)[0] == "dossier.pdf"
    report = verify_archive(io.BytesIO(data), runtime(app).platform_key.public)
    assert report.valid and report.signature_valid and not (report.missing or report.added or report.altered)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None  # the evidence copied from the bucket matches its CRC-32
        members = [archive.read(info) for info in archive.infolist()]
    assert PDF in members  # an evidence file, copied from the bucket into the ZIP
    assert [g["evidenceId"] for g in first.dossier.gaps] == [str(vae.missing_evidence.id)]  # only the known gap

    second = dossiers.generate(session, grants, dossier.id, settings=config)
    assert second.replaced_key == key
    dossiers.discard_archive(on_s3, second.replaced_key)
    assert not on_s3.keyed_exists(key) and on_s3.keyed_exists(second.dossier.archive_key)
    assert "Contents" not in s3_admin.list_objects_v2(Bucket=BUCKET, Prefix=f"app/keyed/{key}")
    assert not os.listdir(on_s3._tmp.folder)


@contextmanager
def _sharing_the_database(worker_app, session):  # type: ignore[no-untyped-def]
    """``worker_app`` sees the test's rows: its sessions join the test's rolled-back connection."""
    factory = database_of(worker_app).factory
    factory.configure(bind=session.connection(), join_transaction_mode="create_savepoint")
    try:
        yield worker_app
    finally:
        factory.configure(bind=session.get_bind().engine, join_transaction_mode="conditional_savepoint")


def test_a_worker_on_another_machine_writes_the_dossier_to_the_bucket(  # type: ignore[no-untyped-def]
    app, client, session, headers, on_s3, s3_app, s3_admin, vae: Vae
):
    """The web app takes the request; the worker is another app built from the same settings,
    sharing only the database and the bucket, as a worker on another machine does."""
    from app.worker import run_job

    officer = headers(vae.officer)
    asked = client.post(
        f"{API}/dossiers",
        headers=officer,
        json={"certificationId": str(vae.fiche.id), "learnerId": str(vae.learner.id)},
    )
    dossier_id = asked.get_json()["id"]
    assert client.post(f"{API}/dossiers/{dossier_id}/consent", headers=headers(vae.learner)).status_code == 200
    accepted = client.post(f"{API}/jobs/dossier-generations", headers=officer, json={"dossierId": dossier_id})
    assert accepted.status_code == 202, accepted.get_json()
    job_id = accepted.get_json()["id"]

    with _sharing_the_database(s3_app, session):
        assert run_job(s3_app, uuid.UUID(job_id)) == "succeeded"
    job = client.get(f"{API}/jobs/{job_id}", headers=officer).get_json()
    assert job["state"] == "succeeded", job
    dossier = client.get(f"{API}/dossiers/{dossier_id}", headers=officer).get_json()
    key = session.get(Dossier, uuid.UUID(dossier_id)).archive_key
    assert s3_admin.head_object(Bucket=BUCKET, Key=f"app/keyed/{key}")["ContentLength"] == dossier["size"]

    link = client.post(f"{API}/dossiers/{dossier_id}/link", headers=officer).get_json()
    parts = urlsplit(link["url"])
    download = client.get(f"{parts.path}?{parts.query}")  # the web app streams it from the bucket
    assert download.status_code == 200 and download.mimetype == "application/zip"
    report = verify_archive(io.BytesIO(download.get_data()), runtime(app).platform_key.public)
    assert report.valid and report.signature_valid


def test_a_forked_worker_builds_its_own_client(s3_app):  # type: ignore[no-untyped-def]
    storage = runtime(s3_app).storage
    parent = storage.client
    read_end, write_end = os.pipe()
    with aws_credentials():  # what the worker's environment holds in production
        pid = os.fork()
        if pid == 0:  # the child: its own client, and it works
            try:
                ok = storage.client is not parent and storage.exists("0" * 64) is False
                os.write(write_end, b"1" if ok else b"0")
            finally:
                os._exit(0)
    os.close(write_end)
    os.waitpid(pid, 0)
    with os.fdopen(read_end, "rb") as answer:
        assert answer.read() == b"1"
    assert storage.client is parent
