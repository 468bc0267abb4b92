"""What crashes leave in storage: a writer killed mid-write, an archive published but never recorded."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from app import create_app
from app.platform.storage import LocalStorage
from app.runtime import runtime
from app.services.dossiers import lifecycle as dossiers
from app.services.identity import access
from tests.conftest import JWT_PEM, KEK
from tests.dossier_fixtures import Vae, dossier_settings

ROOT = Path(__file__).resolve().parents[2]
# A worker writing a dossier archive the way store_archive does, killed before it commits.
WRITER = """
import os, sys, time
from app.platform.storage import LocalStorage
with LocalStorage(sys.argv[1]).create_keyed("dossiers/" + "a" * 32 + ".zip") as out:
    os.write(out.fileno(), b"PK\\x03\\x04" + b"x" * 1_000_000)
    print("writing", flush=True)
    time.sleep(120)
    out.commit()
"""


def _grants(session, person):  # type: ignore[no-untyped-def]
    return access.load_grants(session, person.id)


def _tmp_files(storage: LocalStorage) -> list[str]:
    return sorted(os.listdir(storage.root / "tmp"))


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_a_writer_killed_mid_write_leaves_a_part_file_that_the_sweep_removes_once_unowned(tmp_path):  # type: ignore[no-untyped-def]
    storage = LocalStorage(tmp_path / "files")
    worker = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(storage.root)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert worker.stdout is not None and worker.stdout.readline() == "writing\n"
        [part] = _tmp_files(storage)
        _age(storage.root / "tmp" / part, 3600)
        # Another worker starting now: the file is old, but its writer is alive and holds it.
        assert storage.sweep_tmp(900, now=time.time()) == []
        assert _tmp_files(storage) == [part]
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        assert worker.stdout is not None
        worker.stdout.close()
    assert worker.returncode == -signal.SIGKILL
    assert _tmp_files(storage) == [part]  # the crash left 1 MB behind, under tmp/ only
    assert not (storage.root / "keyed" / "dossiers").exists()
    _age(storage.root / "tmp" / part, 60)
    assert storage.sweep_tmp(900, now=time.time()) == []  # too recent: kept (locks may not cross hosts)
    _age(storage.root / "tmp" / part, 901)
    assert storage.sweep_tmp(900, now=time.time(), dry_run=True)[0].name == f"tmp/{part}"
    assert _tmp_files(storage) == [part]
    [swept] = storage.sweep_tmp(900, now=time.time())
    assert swept.name == f"tmp/{part}" and swept.size == 1_000_004
    assert _tmp_files(storage) == []


def test_a_live_writer_in_this_process_is_never_swept(tmp_path):  # type: ignore[no-untyped-def]
    storage = LocalStorage(tmp_path / "files")
    with storage.create_keyed("dossiers/" + "b" * 32 + ".zip") as out, storage.writer(1000) as blob:
        os.write(out.fileno(), b"PK")
        blob.write(b"abc")
        for name in _tmp_files(storage):
            _age(storage.root / "tmp" / name, 3600)
        assert storage.sweep_tmp(0, now=time.time()) == []
        out.commit()
        blob.commit()
    assert _tmp_files(storage) == [] and storage.keyed_exists("dossiers/" + "b" * 32 + ".zip")


def test_start_up_sweeps_old_unowned_temporary_files_only(tmp_path):  # type: ignore[no-untyped-def]
    storage = LocalStorage(tmp_path / "storage")
    (storage.root / "tmp" / "old.part").write_bytes(b"x" * 10)
    (storage.root / "tmp" / "recent.part").write_bytes(b"y")
    _age(storage.root / "tmp" / "old.part", 901)
    create_app(
        {
            "ENV": "testing",
            "INSTANCE_DIR": str(tmp_path),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
            "SECRET_KEY": "x",
            "JWT_PRIVATE_KEY": JWT_PEM,
            "KEY_ENCRYPTION_KEYS": KEK,
            "STORAGE_TMP_GRACE": 900,
        }
    )
    assert _tmp_files(storage) == ["recent.part"]


def test_storage_sweep_removes_archives_no_dossier_refers_to(app, session, runner, vae: Vae):  # type: ignore[no-untyped-def]
    storage = runtime(app).storage
    grants = _grants(session, vae.learner)
    dossier = dossiers.request_dossier(session, grants, {"certification_id": vae.fiche.id})
    kept = dossiers.generate(session, grants, dossier.id, settings=dossier_settings(app)).dossier.archive_key
    session.commit()
    # The process dies after publishing the new archive, before the commit that records it.
    orphan = dossiers.generate(session, grants, dossier.id, settings=dossier_settings(app)).dossier.archive_key
    session.rollback()
    assert orphan != kept and storage.keyed_exists(orphan) and storage.keyed_exists(kept)
    for key in (kept, orphan):
        _age(storage.root / "keyed" / key, 2 * 3600)

    result = runner.invoke(args=["blason", "storage-sweep", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert f"would remove orphan archive {orphan}" in result.output and kept not in result.output
    assert storage.keyed_exists(orphan)

    result = runner.invoke(args=["blason", "storage-sweep"])
    assert result.exit_code == 0, result.output
    assert f"removed orphan archive {orphan}" in result.output
    assert not storage.keyed_exists(orphan) and storage.keyed_exists(kept)


def test_a_recent_unreferenced_archive_is_left_to_the_generation_about_to_commit_it(
    app,
    session,
    runner,  # type: ignore[no-untyped-def]
    vae: Vae,
):
    grants = _grants(session, vae.learner)
    dossier = dossiers.request_dossier(session, grants, {"certification_id": vae.fiche.id})
    key = dossiers.generate(session, grants, dossier.id, settings=dossier_settings(app)).dossier.archive_key
    session.rollback()
    result = runner.invoke(args=["blason", "storage-sweep"])
    assert result.exit_code == 0 and key not in result.output
    assert runtime(app).storage.keyed_exists(key)
    runtime(app).storage.delete_keyed(key)
