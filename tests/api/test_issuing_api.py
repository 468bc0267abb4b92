"""The issuing API: status codes, problem+json bodies, and nothing half-issued after a refusal."""

from __future__ import annotations

import io
import struct
import uuid
import zlib

import pytest
from sqlalchemy import func, select

from app.models import Credential
from tests.api.support import assert_problem, png_bytes

API = "/api/v1"


def _count(session) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(func.count()).select_from(Credential)) or 0


@pytest.fixture()
def world(client, session, make_person, grant, headers):  # type: ignore[no-untyped-def]
    admin = make_person(display_name="Ada Admin")
    grant(admin, "platform_admin")
    h = headers(admin)
    r = client.post(
        f"{API}/issuers",
        json={"name": "Cnam Bretagne", "url": "https://cnam.example.fr", "email": "badges@cnam.example.fr"},
        headers=h,
    )
    assert r.status_code == 201, r.get_json()
    issuer = r.get_json()
    r = client.post(
        f"{API}/achievements",
        json={
            "issuerId": issuer["id"],
            "name": "Tenir un stand",
            "description": "Accueillir le public.",
            "criteria": "Avoir tenu un stand au marché.",
            "achievementType": "Badge",
            "tags": ["marché"],
        },
        headers=h,
    )
    assert r.status_code == 201, r.get_json()
    learner = make_person(display_name="Noé Apprenant")
    return {"admin": admin, "h": h, "issuer": issuer, "achievement": r.get_json(), "learner": learner}


def test_issuer_keys_and_achievement(client, world) -> None:  # type: ignore[no-untyped-def]
    h, issuer, achievement = world["h"], world["issuer"], world["achievement"]
    listed = client.get(f"{API}/issuers/{issuer['id']}/keys", headers=h).get_json()
    assert (listed["total"], listed["page"], listed["perPage"]) == (3, 1, 20)
    keys = listed["items"]
    assert sorted(k["purpose"] for k in keys) == ["data_integrity", "ob2", "vc_jwt"]
    assert all("d" not in k["publicJwk"] and k["status"] == "active" for k in keys)
    assert achievement["imageSha256"] and achievement["url"].endswith(f"/achievements/{achievement['id']}/v/1")
    assert achievement["resultDescriptions"][0]["name"] == "Niveau atteint"
    r = client.post(f"{API}/issuers/{issuer['id']}/keys/rotate", json={"purposes": ["vc_jwt"]}, headers=h)
    assert r.status_code == 201 and [k["purpose"] for k in r.get_json()["items"]] == ["vc_jwt"]
    assert (r.get_json()["total"], r.get_json()["page"], r.get_json()["perPage"]) == (1, 1, 1)
    statuses = sorted(
        k["status"] for k in client.get(f"{API}/issuers/{issuer['id']}/keys", headers=h).get_json()["items"]
    )
    assert statuses == ["active", "active", "active", "retired"]
    assert_problem(
        client.post(f"{API}/issuers/{issuer['id']}/keys/rotate", json={"purposes": ["md5"]}, headers=h),
        422,
        "#/purposes/0",
    )
    etag = client.get(f"{API}/achievements/{achievement['id']}", headers=h).headers["ETag"]
    r = client.patch(
        f"{API}/achievements/{achievement['id']}",
        json={"awardRule": {"type": "at_least", "k": 1}},
        headers={**h, "If-Match": etag},
    )
    assert_problem(r, 422, "#/awardRule/competencyIds")
    r = client.post(
        f"{API}/achievements",
        json={"issuerId": str(uuid.uuid4()), "name": "x", "description": "x", "criteria": "x"},
        headers=h,
    )
    assert_problem(r, 422, "#/issuerId")


def test_award_twice_unknown_learner_and_revocation(client, session, world, headers) -> None:  # type: ignore[no-untyped-def]
    h, achievement, learner = world["h"], world["achievement"], world["learner"]
    url = f"{API}/achievements/{achievement['id']}/awards"
    r = client.post(url, json={"learnerId": str(learner.id), "resultLevel": "maitrise"}, headers=h)
    assert r.status_code == 201, r.get_json()
    credential = r.get_json()
    assert credential["state"] == "issued" and credential["shortUrl"].startswith("https://blason.test/c/")
    body = assert_problem(client.post(url, json={"learnerId": str(learner.id)}, headers=h), 409)
    assert credential["id"] in body["detail"]
    assert_problem(client.post(url, json={"learnerId": str(uuid.uuid4())}, headers=h), 422, "#/learnerId")
    assert_problem(client.post(url, json={"email": "personne@example.org"}, headers=h), 422, "#/email")
    assert_problem(
        client.post(url, json={"evidenceUrl": "javascript:alert(1)", "learnerId": str(learner.id)}, headers=h),
        422,
        "#/evidenceUrl",
    )
    assert _count(session) == 1
    detail = client.get(f"{API}/credentials/{credential['id']}", headers=h).get_json()
    assert detail["ob3Credential"]["proof"][0]["cryptosuite"] == "eddsa-rdfc-2022" and detail["ob3Jwt"]
    # The learner cannot revoke their own badge; the admin can, once.
    assert_problem(
        client.post(f"{API}/credentials/{credential['id']}/revoke", json={"reason": "x"}, headers=headers(learner)), 403
    )
    revoke = f"{API}/credentials/{credential['id']}/revoke"
    assert_problem(client.post(revoke, json={}, headers=h), 422, "#/reason")
    r = client.post(revoke, json={"reason": "Erreur d'attribution"}, headers=h)
    assert r.status_code == 200 and r.get_json()["state"] == "revoked"
    assert_problem(client.post(revoke, json={"reason": "Encore"}, headers=h), 409)
    assert_problem(client.post(f"{API}/credentials/{credential['id']}/unsuspend", json={}, headers=h), 409)
    assert_problem(client.post(f"{API}/credentials/{uuid.uuid4()}/revoke", json={"reason": "x"}, headers=h), 404)


def test_suspend_unsuspend(client, world) -> None:  # type: ignore[no-untyped-def]
    h = world["h"]
    credential = client.post(
        f"{API}/achievements/{world['achievement']['id']}/awards",
        json={"learnerId": str(world["learner"].id)},
        headers=h,
    ).get_json()
    base = f"{API}/credentials/{credential['id']}"
    assert client.post(f"{base}/suspend", json={"reason": "Contrôle"}, headers=h).get_json()["state"] == "suspended"
    assert_problem(client.post(f"{base}/suspend", json={"reason": "Contrôle"}, headers=h), 409)
    assert client.post(f"{base}/unsuspend", json={}, headers=h).get_json()["state"] == "issued"


def _multipart(client, url, h, data: bytes, filename: str, **form):  # type: ignore[no-untyped-def]
    return client.post(
        url, data={**form, "file": (io.BytesIO(data), filename)}, headers=h, content_type="multipart/form-data"
    )


def test_image_uploads(client, session, world) -> None:  # type: ignore[no-untyped-def]
    h, achievement = world["h"], world["achievement"]
    url = f"{API}/achievements/{achievement['id']}/image"
    r = _multipart(client, url, h, png_bytes(16, 16), "badge.png")
    assert r.status_code == 200 and r.get_json()["imageSha256"] != achievement["imageSha256"]
    assert_problem(_multipart(client, url, h, b"MZ\x90\x00 not an image", "badge.png"), 415)
    assert_problem(
        _multipart(client, url, h, b'<svg xmlns="http://www.w3.org/2000/svg" onload="x()"/>', "badge.svg"), 415
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    bomb = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00" * 20_000_000, 9))
        + chunk(b"IEND", b"")
    )
    assert_problem(_multipart(client, url, h, bomb, "bomb.png"), 413)
    assert_problem(client.post(url, data={}, headers=h, content_type="multipart/form-data"), 422)


def test_bulk_csv(client, session, world, make_person) -> None:  # type: ignore[no-untyped-def]
    h, issuer, achievement, learner = world["h"], world["issuer"], world["achievement"], world["learner"]
    other = make_person()
    csv = (
        f"email,achievement_id\n{learner.email},{achievement['id']}\n{other.email},{achievement['id']}\n"
        f"nobody@example.org,{achievement['id']}\n"
    ).encode()
    url = f"{API}/issuers/{issuer['id']}/bulk-awards"
    r = _multipart(client, url, h, csv, "awards.csv")
    report = r.get_json()
    assert r.status_code == 200 and report["mode"] == "dry_run" and report["invalid"] == 1
    assert report["rows"][2]["errors"][0]["pointer"] == "#/rows/4/email" and _count(session) == 0
    body = assert_problem(_multipart(client, url, h, csv, "awards.csv", mode="all_or_nothing"), 422, "#/rows/4/email")
    assert "nothing was awarded" in body["detail"] and _count(session) == 0
    r = _multipart(client, url, h, csv, "awards.csv", mode="skip_invalid")
    assert r.get_json()["issued"] == 2 and _count(session) == 2
    r = _multipart(client, url, h, csv, "awards.csv", mode="skip_invalid")
    assert r.get_json()["issued"] == 0 and r.get_json()["alreadyAwarded"] == 2 and _count(session) == 2
    assert_problem(_multipart(client, url, h, b"\xff\xfe\x00garbage", "x.csv", mode="skip_invalid"), 422)
    assert_problem(_multipart(client, url, h, csv, "awards.csv", mode="yolo"), 422, "#/mode")


def test_learner_side(client, world, headers) -> None:  # type: ignore[no-untyped-def]
    h, learner = world["h"], world["learner"]
    credential = client.post(
        f"{API}/achievements/{world['achievement']['id']}/awards", json={"learnerId": str(learner.id)}, headers=h
    ).get_json()
    mine = headers(learner)
    page = client.get(f"{API}/me/badges", headers=mine).get_json()
    assert page["total"] == 1 and page["items"][0]["name"] == "Tenir un stand"
    assert page["items"][0]["showName"] is False
    etag = client.get(f"{API}/me/badges/{credential['id']}", headers=mine).headers["ETag"]
    r = client.patch(f"{API}/me/badges/{credential['id']}", json={"showName": True}, headers={**mine, "If-Match": etag})
    assert r.status_code == 200 and r.get_json()["showName"] is True
    links = client.get(f"{API}/me/badges/{credential['id']}/share", headers=mine).get_json()
    assert links["shortUrl"] == credential["shortUrl"] and "linkedin.com/profile/add" in links["linkedinUrl"]
    assert_problem(client.get(f"{API}/me/badges/{credential['id']}/share", headers=h), 404)  # not the admin's
    assert_problem(client.patch(f"{API}/me/badges/{credential['id']}", json={}, headers=mine), 422, "#/showName")
    assert_problem(client.get(f"{API}/me/badges"), 401)


def test_award_queue_is_for_platform_admins(client, world, make_person, headers) -> None:  # type: ignore[no-untyped-def]
    assert_problem(client.post(f"{API}/award-events/process", json={}, headers=headers(make_person())), 403)
    r = client.post(f"{API}/award-events/process", json={"limit": 10}, headers=world["h"])
    assert r.status_code == 200 and r.get_json()["processed"] == 0
