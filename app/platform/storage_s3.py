"""File storage in an S3-compatible object store, for machines that share no file system.

The same interface and guarantees as :class:`~app.platform.storage.LocalStorage`, and the same
layout below a prefix (``ab/cd/<sha256>`` for uploads, ``keyed/<area>/<hex>.<ext>`` for files the
service makes), so a local storage folder copied into the bucket (``tmp/`` aside) is read as is.

Every file is still written first to a local temporary file under ``tmp/`` (locked, swept as in
the local backend), then uploaded whole: an object store shows an object only once its PUT, or
its multipart upload, is complete, so nobody ever reads half a file under a digest or a key. A
writer killed during a multipart upload leaves parts the store keeps (and bills) until the
upload is aborted: ``sweep_tmp`` aborts those nobody added a part to for the grace period.

Reads stream: an opened object is read from the response body chunk by chunk, and a seek only
moves the position of the next ranged GET. A ZIP writer that wants a file descriptor (to let the
kernel copy an evidence file) gets one from :meth:`S3Object.fileno`, which first copies the object
to an unlinked local temporary file, in chunks. A missing object raises ``FileNotFoundError``,
like a missing file, so callers answer 404 the same way.

Credentials come from boto3's usual chain (``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``,
``AWS_PROFILE``, an instance role...), never from Blason's settings, and are never logged.
"""

from __future__ import annotations

import errno
import io
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, cast
from urllib.parse import urlsplit

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from app.platform.storage import (
    CHUNK,
    LocalBlobWriter,
    LocalKeyedWriter,
    StoredBlob,
    StoredFile,
    TemporaryFiles,
    blob_name,
    is_key,
    keyed_name,
)

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_PREFIX = re.compile(r"^[A-Za-z0-9._/-]*$")
_MISSING = {"404", "NoSuchKey", "NotFound"}
ADDRESSING_STYLES = ("auto", "path", "virtual")


class S3ConfigError(ValueError):
    """The object store's location or credentials are not usable; the message says why."""


@dataclass(frozen=True)
class S3Location:
    bucket: str
    prefix: str  # "" or ends with "/"


def parse_url(url: str) -> S3Location:
    """``s3://bucket`` or ``s3://bucket/some/prefix``; no credentials in the URL."""
    parts = urlsplit(url)
    if parts.scheme != "s3":
        raise S3ConfigError("must start with s3://")
    if "@" in parts.netloc:
        raise S3ConfigError("must not carry credentials: use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
    if not _BUCKET.match(parts.netloc) or ".." in parts.netloc:
        raise S3ConfigError(f"{parts.netloc!r} is not a bucket name (3 to 63 lower-case letters, digits, '.', '-')")
    prefix = parts.path.strip("/")
    if parts.query or parts.fragment or not _PREFIX.match(prefix) or "//" in prefix or ".." in prefix.split("/"):
        raise S3ConfigError("the prefix after the bucket may hold only letters, digits, '.', '_', '-' and '/'")
    return S3Location(parts.netloc, f"{prefix}/" if prefix else "")


def make_client(*, endpoint_url: str | None, region: str | None, addressing_style: str = "auto") -> Any:
    """A boto3 S3 client; refuses to go on without credentials (there is no default for them)."""
    try:
        session = boto3.session.Session(region_name=region)
        credentials = session.get_credentials()
    except BotoCoreError as exc:  # e.g. AWS_PROFILE names no profile; the message names no secret
        raise S3ConfigError(f"the credentials could not be read ({exc})") from None
    if credentials is None:
        raise S3ConfigError(
            "no credentials for the object store: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
            "(or AWS_PROFILE, or give the machine a role)"
        )
    config = Config(
        s3={"addressing_style": addressing_style},
        retries={"max_attempts": 5, "mode": "standard"},
        connect_timeout=10,
        read_timeout=60,
    )
    return session.client("s3", endpoint_url=endpoint_url, config=config)


def _is_missing(exc: ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code", "")) in _MISSING


def _not_found(name: str) -> FileNotFoundError:
    return FileNotFoundError(errno.ENOENT, "no such object in storage", name)


class S3Storage:
    """Objects under ``s3://bucket/prefix``, written through local temporary files under ``scratch``."""

    def __init__(
        self,
        client: Any,
        location: S3Location,
        scratch: str | Path,
        *,
        transfer: TransferConfig | None = None,
        new_client: Callable[[], Any] | None = None,
    ) -> None:
        self._client, self._pid, self._new_client = client, os.getpid(), new_client
        self.bucket, self.prefix = location.bucket, location.prefix
        self._tmp = TemporaryFiles(Path(scratch) / "tmp")
        self._transfer = transfer or TransferConfig(multipart_threshold=16 * 1024**2, multipart_chunksize=16 * 1024**2)

    @property
    def client(self) -> Any:
        """The S3 client of this process: a forked worker builds its own (pooled connections are not shared)."""
        if self._new_client is not None and os.getpid() != self._pid:
            self._client, self._pid = self._new_client(), os.getpid()
        return self._client

    def __repr__(self) -> str:
        return f"S3Storage(s3://{self.bucket}/{self.prefix})"

    def _object(self, name: str) -> str:
        return self.prefix + name

    # --- content-addressed blobs ------------------------------------------------------------

    def put(self, stream: BinaryIO, max_bytes: int) -> StoredBlob:
        """Copy a stream in, hashing as it goes; refuse it past ``max_bytes``."""
        with self.writer(max_bytes) as out:
            while chunk := stream.read(CHUNK):
                out.write(chunk)
            return out.commit()

    def writer(self, max_bytes: int) -> LocalBlobWriter:
        """A file to write a new blob into; uploaded under its digest by ``commit``."""
        fd, tmp_name = self._tmp.create()
        return LocalBlobWriter(os.fdopen(fd, "wb"), tmp_name, max_bytes, self._publish_blob)

    def _publish_blob(self, tmp_name: str, sha256: str) -> None:
        name = blob_name(sha256)
        if not self._head(name):  # same content, same name: an object already there is this one
            self._upload(tmp_name, name)
        os.unlink(tmp_name)

    def open(self, sha256: str) -> BinaryIO:
        return cast(BinaryIO, S3Object(self, self._object(blob_name(sha256)), self._tmp))

    def exists(self, sha256: str) -> bool:
        return self._head(blob_name(sha256))

    def delete(self, sha256: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._object(blob_name(sha256)))

    # --- keyed files --------------------------------------------------------------------------

    def create_keyed(self, key: str) -> LocalKeyedWriter:
        """A local regular file (seekable, with a descriptor), uploaded under ``key`` by ``commit``."""
        name = keyed_name(key)
        fd, tmp_name = self._tmp.create()

        def publish(tmp: str) -> None:
            self._upload(tmp, name)
            os.unlink(tmp)

        return LocalKeyedWriter(fd, tmp_name, publish)

    def open_keyed(self, key: str) -> BinaryIO:
        return cast(BinaryIO, S3Object(self, self._object(keyed_name(key)), self._tmp))

    def keyed_exists(self, key: str) -> bool:
        return self._head(keyed_name(key))

    def delete_keyed(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._object(keyed_name(key)))

    def list_keyed(self, area: str) -> Iterator[StoredFile]:
        """The objects stored under keys of ``area`` (e.g. ``dossiers``), in no particular order."""
        start = self._object("keyed/")
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=f"{start}{area}/")
        for page in pages:
            for item in page.get("Contents", []):
                key = item["Key"][len(start) :]
                if is_key(key):
                    yield StoredFile(key, int(item["Size"]), item["LastModified"].timestamp())

    # --- what crashes leave -------------------------------------------------------------------

    def sweep_tmp(self, grace: float, *, now: float, dry_run: bool = False) -> list[StoredFile]:
        """Delete local temporary files no live writer holds, and abort abandoned multipart uploads.

        An upload is abandoned when nothing was added to it for ``grace`` seconds (its last part,
        or its start when it has none); a live one adds a part every few seconds.
        """
        removed = self._tmp.sweep(grace, now=now, dry_run=dry_run)
        pages = self.client.get_paginator("list_multipart_uploads").paginate(Bucket=self.bucket, Prefix=self.prefix)
        for page in pages:
            for upload in page.get("Uploads", []):
                key, upload_id = upload["Key"], upload["UploadId"]
                size, last = self._parts(key, upload_id, upload["Initiated"].timestamp())
                if now - last < grace:
                    continue
                if not dry_run:
                    try:
                        self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
                    except ClientError as exc:
                        if str(exc.response.get("Error", {}).get("Code")) != "NoSuchUpload":
                            raise
                        continue  # completed or aborted meanwhile
                removed.append(StoredFile(f"upload/{key[len(self.prefix) :]}", size, last))
        return removed

    def _parts(self, key: str, upload_id: str, initiated: float) -> tuple[int, float]:
        """Bytes uploaded so far and the time of the last part (or of the start)."""
        size, last = 0, initiated
        pages = self.client.get_paginator("list_parts").paginate(Bucket=self.bucket, Key=key, UploadId=upload_id)
        try:
            for page in pages:
                for part in page.get("Parts", []):
                    size += int(part["Size"])
                    last = max(last, part["LastModified"].timestamp())
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) != "NoSuchUpload":
                raise
        return size, last

    # --- requests -----------------------------------------------------------------------------

    def _head(self, name: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._object(name))
        except ClientError as exc:
            if _is_missing(exc):
                return False
            raise
        return True

    def _upload(self, tmp_name: str, name: str) -> None:
        # One PUT, or a multipart upload past the threshold: the object appears only when complete.
        self.client.upload_file(tmp_name, self.bucket, self._object(name), Config=self._transfer)

    def _get(self, key: str, start: int = 0, etag: str | None = None) -> dict[str, Any]:
        args: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if start:
            args["Range"] = f"bytes={start}-"
        if etag:
            args["IfMatch"] = etag  # the same object as the first read, never a newer one
        try:
            response: dict[str, Any] = self.client.get_object(**args)
            return response
        except ClientError as exc:
            if _is_missing(exc):
                raise _not_found(key) from None
            raise


class S3Object(io.RawIOBase):
    """An object opened for reading: streamed from the response body, seekable by ranged GETs.

    The first GET happens on opening, so a missing object raises ``FileNotFoundError`` there,
    as ``open()`` does for a missing file.
    """

    def __init__(self, storage: S3Storage, key: str, tmp: TemporaryFiles) -> None:
        super().__init__()
        self._storage, self._key, self._tmp = storage, key, tmp
        response = storage._get(key)
        self._size: int = int(response["ContentLength"])
        self._etag: str | None = response.get("ETag")
        self._body: Any = response["Body"]
        self._position = 0
        self._body_at = 0  # where the open body's next byte is
        self._spool: int | None = None

    @property
    def size(self) -> int:
        return self._size

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if self.closed:
            raise ValueError("seek of a closed object")
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise OSError(errno.EINVAL, "negative seek position")
        self._position = base + offset
        return self._position

    def readinto(self, buffer: Any) -> int:
        if self.closed:
            raise ValueError("read of a closed object")
        view = memoryview(buffer).cast("B")
        if self._position >= self._size or not len(view):
            return 0
        if self._spool is not None:
            data = os.pread(self._spool, len(view), self._position)
        else:
            if self._body is None or self._body_at != self._position:
                self._reopen()
            data = self._body.read(min(len(view), CHUNK))
            self._body_at += len(data)
        view[: len(data)] = data
        self._position += len(data)
        return len(data)

    def _reopen(self) -> None:
        if self._body is not None:
            self._body.close()
        self._body = self._storage._get(self._key, self._position, self._etag)["Body"]
        self._body_at = self._position

    def fileno(self) -> int:
        """A descriptor on a local copy (unlinked, deleted on close), made once, in chunks."""
        if self.closed:
            raise ValueError("fileno of a closed object")
        if self._spool is None:
            fd, tmp_name = self._tmp.create()
            os.unlink(tmp_name)  # nobody else ever needs it: gone with the descriptor
            try:
                position, self._position = self._position, 0
                buffer = bytearray(CHUNK)
                while count := self.readinto(buffer):
                    chunk = memoryview(buffer)[:count]
                    while chunk:
                        chunk = chunk[os.write(fd, chunk) :]
                if os.fstat(fd).st_size != self._size:
                    raise OSError(errno.EIO, "the object ended early", self._key)
            except BaseException:
                os.close(fd)
                raise
            self._spool, self._position = fd, position
            self._close_body()
        return self._spool

    def _close_body(self) -> None:
        if self._body is not None:
            self._body.close()
            self._body = None

    def close(self) -> None:
        if not self.closed:
            self._close_body()
            if self._spool is not None:
                os.close(self._spool)
                self._spool = None
        super().close()

    def __enter__(self) -> S3Object:
        return self
