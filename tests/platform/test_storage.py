"""Content-addressed storage: put, and the one-pass writer used by the dossier ZIP."""

from __future__ import annotations

import hashlib
import io
import os
import zlib

import pytest

from app.platform.storage import LocalStorage, TooLarge


@pytest.fixture
def storage(tmp_path):  # type: ignore[no-untyped-def]
    return LocalStorage(tmp_path / "files")


def _leftovers(storage: LocalStorage) -> list[str]:
    return os.listdir(storage.root / "tmp")


def test_put_names_a_file_by_the_sha256_of_its_bytes(storage):  # type: ignore[no-untyped-def]
    data = b"%PDF-1.4\n" + os.urandom(3 * 1024 * 1024)
    blob = storage.put(io.BytesIO(data), len(data))
    assert blob.sha256 == hashlib.sha256(data).hexdigest() and blob.size == len(data)
    assert blob.head == data[:4096] and blob.crc32 == zlib.crc32(data)
    with storage.open(blob.sha256) as handle:
        assert handle.read() == data
    with pytest.raises(TooLarge):
        storage.put(io.BytesIO(data), len(data) - 1)
    assert _leftovers(storage) == []


def test_the_writer_hashes_while_writing_and_publishes_on_commit(storage):  # type: ignore[no-untyped-def]
    parts = [b"abc", bytearray(b"d" * 5000), memoryview(os.urandom(2 * 1024 * 1024))]
    expected = b"".join(bytes(p) for p in parts)
    sha = hashlib.sha256(expected).hexdigest()
    with storage.writer(len(expected)) as out:
        for part in parts:
            assert out.write(part) == len(part)
        assert out.tell() == len(expected)
        assert not storage.exists(sha) and len(_leftovers(storage)) == 1  # nothing visible before the commit
        blob = out.commit()
    assert (blob.sha256, blob.size, blob.head) == (sha, len(expected), expected[:4096])
    with storage.open(sha) as handle:
        assert handle.read() == expected
    assert _leftovers(storage) == []
    with pytest.raises(ValueError):
        out.write(b"more")


def test_the_writer_refuses_to_go_past_its_limit_and_leaves_nothing(storage):  # type: ignore[no-untyped-def]
    with pytest.raises(TooLarge):
        with storage.writer(10) as out:
            out.write(b"12345678")
            out.write(b"90a")
    assert _leftovers(storage) == [] and not storage.exists(hashlib.sha256(b"12345678").hexdigest())
    with storage.writer(10) as out:  # exactly at the limit is fine
        out.write(b"1234567890")
        assert out.commit().size == 10


def test_a_failure_while_writing_leaves_no_partial_file(storage):  # type: ignore[no-untyped-def]
    with pytest.raises(RuntimeError):
        with storage.writer(1024) as out:
            out.write(b"half of it")
            raise RuntimeError("the producer failed")
    assert _leftovers(storage) == []
    forgotten = storage.writer(1024)
    forgotten.write(b"never committed")
    forgotten.close()  # what the garbage collector does
    assert _leftovers(storage) == []
    assert list(storage.root.rglob("*")) == [storage.root / "tmp"]


def test_a_keyed_file_appears_under_its_key_only_once_committed(storage):  # type: ignore[no-untyped-def]
    key = "dossiers/" + "ab" * 16 + ".zip"
    with storage.create_keyed(key) as out:
        os.write(out.fileno(), b"PK first")
        assert not storage.keyed_exists(key)
        out.commit()
    with storage.open_keyed(key) as handle:
        assert handle.read() == b"PK first"
    with storage.create_keyed(key) as out:  # a failure leaves the committed file as it was
        os.write(out.fileno(), b"half")
    with storage.open_keyed(key) as handle:
        assert handle.read() == b"PK first"
    assert _leftovers(storage) == []
    storage.delete_keyed(key)
    assert not storage.keyed_exists(key)
    storage.delete_keyed(key)  # already gone: nothing to do


@pytest.mark.parametrize(
    "key",
    [
        "../etc/passwd",
        "dossiers/../../x.zip",
        "dossiers/" + "ab" * 16,
        "Dossiers/" + "ab" * 16 + ".zip",
        "dossiers/" + "g" * 32 + ".zip",
        "/tmp/x.zip",
        "dossiers/" + "ab" * 16 + ".zip/x",
    ],
)
def test_keys_are_never_paths(storage, key):  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError):
        storage.create_keyed(key)
    with pytest.raises(ValueError):
        storage.open_keyed(key)
