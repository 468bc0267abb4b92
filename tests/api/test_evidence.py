"""Evidence: links, texts and uploaded files (size, type from bytes, names, downloads)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.models import Evidence, StoredFile
from app.runtime import runtime
from tests.api.support import assert_problem, png_bytes

API = "/api/v1"
LIMIT = 256 * 1024  # MAX_UPLOAD_BYTES of the test app


@pytest.fixture()
def owned(client, headers, make_person, make_project, grant, make_contribution):  # type: ignore[no-untyped-def]
    project = make_project()
    learner, tutor = make_person(), make_person()
    grant(learner, "learner", project)
    grant(tutor, "tutor", project)
    contribution = make_contribution(learner, project)
    return contribution, headers(learner), headers(tutor)


def count(session, model) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(func.count()).select_from(model))


def multipart(fields: dict[str, str], data: bytes, filename: str) -> tuple[bytes, str]:
    """Encode a form by hand (the test client spools big bodies to files it never closes)."""
    boundary = "blason-test-boundary-7d1f"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields.items()
    ]
    quoted = filename.replace("\\", "\\\\").replace('"', '\\"')
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{quoted}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
        + data
        + b"\r\n"
    )
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def upload(client, contribution, h, data: bytes, filename: str = "photo.png", **fields):  # type: ignore[no-untyped-def]
    body, content_type = multipart({"title": "Photo du chantier", **fields}, data, filename)
    return client.post(
        f"{API}/contributions/{contribution.id}/evidence/files", data=body, headers=h, content_type=content_type
    )


def storage_root(app) -> Path:  # type: ignore[no-untyped-def]
    return Path(runtime(app).storage.root)


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def test_link_and_text_evidence(client, owned):
    contribution, h, tutor_h = owned
    url = f"{API}/contributions/{contribution.id}/evidence"
    r = client.post(url, json={"kind": "link", "title": "Article", "url": "https://example.org/a"}, headers=h)
    assert r.status_code == 201, r.json
    assert r.json["kind"] == "link" and r.json["url"] == "https://example.org/a" and r.json["visibility"] == "tutors"
    r = client.post(
        url, json={"kind": "text", "title": "Récit", "text": "Nous avons…", "visibility": "private"}, headers=h
    )
    assert r.status_code == 201 and r.json["text"] == "Nous avons…" and r.json["url"] is None
    listed = client.get(url, headers=h).json
    assert [e["kind"] for e in listed["items"]] == ["link", "text"]
    assert (listed["total"], listed["page"], listed["perPage"]) == (2, 1, 20)
    second = client.get(url, query_string={"page": 2, "perPage": 1}, headers=h).json
    assert [e["kind"] for e in second["items"]] == ["text"] and second["total"] == 2
    assert_problem(client.get(url, headers=tutor_h), 404)  # a draft is the learner's alone
    assert client.post(f"{API}/contributions/{contribution.id}/submit", headers=h).status_code == 200
    assert [e["kind"] for e in client.get(url, headers=tutor_h).json["items"]] == ["link"]  # not the private text


@pytest.mark.parametrize(
    "body,pointer",
    [
        ({"kind": "link", "title": "Sans url"}, "#/url"),
        ({"kind": "link", "title": "Script", "url": "javascript:alert(1)"}, "#/url"),
        ({"kind": "link", "title": "Fichier local", "url": "file:///etc/passwd"}, "#/url"),
        ({"kind": "text", "title": "Vide", "text": ""}, "#/text"),
        ({"kind": "file", "title": "Pas ici"}, "#/kind"),
        ({"kind": "text", "title": "x", "text": "y", "visibility": "everyone"}, "#/visibility"),
        ({"kind": "text", "title": "", "text": "y"}, "#/title"),
    ],
)
def test_link_and_text_validation(client, session, owned, body, pointer):
    contribution, h, _ = owned
    before = count(session, Evidence)
    r = client.post(f"{API}/contributions/{contribution.id}/evidence", json=body, headers=h)
    assert_problem(r, 422, pointer)
    assert count(session, Evidence) == before


def test_png_upload_is_stored_by_hash(app, client, session, owned):
    contribution, h, _ = owned
    data = png_bytes(seed=1)
    r = upload(client, contribution, h, data, visibility="public")
    assert r.status_code == 201, r.json
    digest = hashlib.sha256(data).hexdigest()
    assert r.json["sha256"] == digest and r.json["mediaType"] == "image/png"
    assert r.json["size"] == len(data) and r.json["filename"] == "photo.png" and r.json["visibility"] == "public"
    assert (storage_root(app) / digest[:2] / digest[2:4] / digest).read_bytes() == data


def test_same_bytes_twice_share_one_stored_file(app, client, session, owned):
    contribution, h, _ = owned
    data = png_bytes(seed=2)
    first = upload(client, contribution, h, data, filename="a.png")
    second = upload(client, contribution, h, data, filename="b.png")
    assert first.status_code == second.status_code == 201
    assert first.json["sha256"] == second.json["sha256"] and first.json["id"] != second.json["id"]
    digest = first.json["sha256"]
    assert session.scalar(select(func.count()).select_from(StoredFile).where(StoredFile.sha256 == digest)) == 1
    assert [p for p in files_under(storage_root(app)) if p.name == digest] == [
        storage_root(app) / digest[:2] / digest[2:4] / digest
    ]
    assert not files_under(storage_root(app) / "tmp")


@pytest.mark.parametrize("size", [LIMIT + 1, LIMIT + 64 * 1024, 4 * LIMIT])
def test_oversized_upload_is_413(app, client, session, owned, size):
    contribution, h, _ = owned
    before = count(session, Evidence), files_under(storage_root(app))
    data = png_bytes(seed=3) + b"\0" * size
    assert_problem(upload(client, contribution, h, data), 413)
    assert (count(session, Evidence), files_under(storage_root(app))) == before


def test_upload_at_the_limit_is_accepted(client, owned):
    contribution, h, _ = owned
    data = png_bytes(seed=4)
    data += b"\0" * (LIMIT - len(data))
    r = upload(client, contribution, h, data)
    assert r.status_code == 201 and r.json["size"] == LIMIT


@pytest.mark.parametrize(
    "data",
    [
        b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 64,
        b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
        b"  <html><script>alert(1)</script></html>",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        b"\xef\xbb\xbf<script>alert(1)</script>",
        b"PK\x03\x04" + b"\x00" * 60,
        b"MZ\x90\x00" + b"\x00" * 60,
        b"",
        b"\xff\xe0<html><script>alert(1)</script></html>" + b"\x00" * 60,
        b"ID3" + b"\xff" * 60,
    ],
    ids=[
        "elf",
        "html",
        "html-indented",
        "svg",
        "svg-xml",
        "bom-script",
        "zip",
        "exe",
        "empty",
        "mp3-sync-only",
        "id3-prefix-only",
    ],
)
def test_refused_types_are_415_and_leave_nothing(app, client, session, owned, data):
    contribution, h, _ = owned
    before = count(session, Evidence), count(session, StoredFile), files_under(storage_root(app))
    assert_problem(upload(client, contribution, h, data, filename="photo.png"), 415)
    assert (count(session, Evidence), count(session, StoredFile), files_under(storage_root(app))) == before


def test_real_mp3_is_accepted_as_audio(client, owned):
    contribution, h, _ = owned
    frame = b"\xff\xfb\x90\x00" + b"\x55" * 413  # MPEG-1 Layer III, 128 kbit/s, 44.1 kHz: 417 bytes
    r = upload(client, contribution, h, frame * 4, filename="interview.mp3")
    assert r.status_code == 201 and r.json["mediaType"] == "audio/mpeg"


@pytest.mark.parametrize(
    "name,shown",
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\x", "x"),
        ("/abs/path", "path"),
        ("a\x00b.txt", "ab.txt"),
        ("..", None),
        ("C:\\Windows\\evil.png", "evil.png"),
        (".htaccess", "htaccess"),
        ("rapport\tfinal\x7f.pdf", "rapportfinal.pdf"),
        ("é" * 300 + ".png", "é" * 255),
    ],
)
def test_client_file_names_never_become_paths(app, client, owned, tmp_path, monkeypatch, name, shown):
    contribution, h, _ = owned
    monkeypatch.chdir(tmp_path)  # a relative name must not land in the working directory either
    base = storage_root(app).parent.parent
    before = files_under(base)
    data = png_bytes(seed=5) + name.encode("utf-8", "replace")
    r = upload(client, contribution, h, data, filename=name)
    assert r.status_code == 201, r.json
    digest = r.json["sha256"]
    assert r.json["filename"] == shown
    if shown:
        assert not any(c in shown for c in "/\\\x00") and not shown.startswith(".")
    assert files_under(base) - before == {storage_root(app) / digest[:2] / digest[2:4] / digest}
    assert not any(tmp_path.iterdir())
    assert not os.path.exists("/abs/path")


def test_download_by_owner_and_refusals(app, client, session, owned, make_person):
    contribution, h, tutor_h = owned
    data = png_bytes(seed=6)
    evidence_id = upload(client, contribution, h, data, visibility="private").json["id"]
    r = client.get(f"{API}/evidence/{evidence_id}/file", headers=h)
    assert r.status_code == 200
    assert r.data == data
    assert r.mimetype == "image/png"
    assert r.headers["Content-Disposition"].startswith("attachment")
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in r.headers["Cache-Control"]
    # The tutor cannot see a private file (not even that it exists); strangers neither.
    session.get(type(contribution), contribution.id).status = contribution.status.__class__("submitted")
    session.flush()
    assert_problem(client.get(f"{API}/evidence/{evidence_id}/file", headers=tutor_h), 404)
    assert_problem(client.get(f"{API}/evidence/{evidence_id}", headers=tutor_h), 404)
    assert_problem(client.get(f"{API}/evidence/{evidence_id}/file"), 401)


def test_tutor_downloads_a_tutors_file_of_a_submitted_contribution(client, owned):
    contribution, h, tutor_h = owned
    data = png_bytes(seed=7)
    evidence_id = upload(client, contribution, h, data, visibility="tutors").json["id"]
    assert_problem(client.get(f"{API}/evidence/{evidence_id}/file", headers=tutor_h), 404)  # still a draft
    assert client.post(f"{API}/contributions/{contribution.id}/submit", headers=h).status_code == 200
    r = client.get(f"{API}/evidence/{evidence_id}/file", headers=tutor_h)
    assert r.status_code == 200 and r.data == data


def test_only_the_owner_uploads(client, owned, headers, make_person):
    contribution, _h, tutor_h = owned
    assert_problem(upload(client, contribution, tutor_h, png_bytes(seed=8)), 404)
    assert_problem(upload(client, contribution, {}, png_bytes(seed=8)), 401)


def test_upload_form_validation(client, owned):
    contribution, h, _ = owned
    url = f"{API}/contributions/{contribution.id}/evidence/files"
    r = client.post(url, data={"title": "Sans fichier"}, headers=h, content_type="multipart/form-data")
    assert_problem(r, 422, "#/file")
    assert_problem(upload(client, contribution, h, png_bytes(), title=""), 422, "#/title")
    assert_problem(upload(client, contribution, h, png_bytes(), visibility="all"), 422, "#/visibility")
    assert_problem(upload(client, contribution, h, png_bytes(), bogus="1"), 422, "#/bogus")


def test_evidence_update(client, owned):
    contribution, h, tutor_h = owned
    item = client.post(
        f"{API}/contributions/{contribution.id}/evidence",
        json={"kind": "text", "title": "Note", "text": "…"},
        headers=h,
    ).json
    etag = client.get(f"{API}/evidence/{item['id']}", headers=h).headers["ETag"]
    r = client.patch(
        f"{API}/evidence/{item['id']}",
        json={"visibility": "public", "title": "Note publique"},
        headers={**h, "If-Match": etag},
    )
    assert r.status_code == 200 and r.json["visibility"] == "public" and r.json["title"] == "Note publique"
    assert_problem(
        client.patch(f"{API}/evidence/{item['id']}", json={"visibility": "secret"}, headers=h), 422, "#/visibility"
    )
    assert_problem(client.patch(f"{API}/evidence/{item['id']}", json={"url": "https://x.org"}, headers=h), 422, "#/url")
