"""Dossiers over HTTP: request, consent, generate, download, verify; cohort; record; certificate; CLI."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid
import zipfile
from urllib.parse import urlsplit

from app.runtime import runtime
from app.services.identity import access
from app.services.issuing import revocation
from tests.api.support import assert_problem
from tests.dossier_fixtures import Vae, rewrite_zip, zip_names


def _officer_flow(client, headers, vae: Vae) -> tuple[str, dict]:  # type: ignore[no-untyped-def]
    response = client.post(
        "/api/v1/dossiers",
        headers=headers(vae.officer),
        json={"certificationId": str(vae.fiche.id), "learnerId": str(vae.learner.id)},
    )
    assert response.status_code == 201, response.get_json()
    dossier_id = response.get_json()["id"]
    assert response.get_json()["status"] == "awaiting_consent"
    assert client.post(f"/api/v1/dossiers/{dossier_id}/consent", headers=headers(vae.learner)).status_code == 200
    generated = client.post(f"/api/v1/dossiers/{dossier_id}/generate", headers=headers(vae.officer))
    assert generated.status_code == 201, generated.get_json()
    return dossier_id, generated.get_json()


def _relative(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _download(client, url: str) -> bytes:  # type: ignore[no-untyped-def]
    parts = urlsplit(url)
    response = client.get(f"{parts.path}?{parts.query}")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/zip"
    return response.get_data()


def test_an_officer_produces_downloads_and_verifies_a_dossier(client, headers, vae):  # type: ignore[no-untyped-def]
    _dossier_id, body = _officer_flow(client, headers, vae)
    assert body["gaps"][0]["title"] == "Attestation de la mairie" and "missing" in body["warning"]
    assert body["download"]["url"].startswith("https://blason.test/api/v1/dossiers/")
    data = _download(client, body["download"]["url"])
    assert "dossier.pdf" in zip_names(data)
    assert len(data) == body["size"] == body["dossier"]["size"]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert hashlib.sha256(archive.read("manifest.json")).hexdigest() == body["dossier"]["manifestSha256"]
    report = client.post(
        "/api/v1/dossiers/verify", data={"file": (io.BytesIO(data), "dossier.zip")}, content_type="multipart/form-data"
    )
    assert report.status_code == 200 and report.get_json()["valid"] is True
    annex = next(n for n in zip_names(data) if n.startswith("annexes/A001"))
    tampered = rewrite_zip(data, replace={annex: b"%PDF forged"})
    report = client.post(
        "/api/v1/dossiers/verify", data={"file": (io.BytesIO(tampered), "d.zip")}, content_type="multipart/form-data"
    ).get_json()
    assert report["valid"] is False and report["altered"] == [annex] and report["signatureValid"] is True
    folder = runtime(client.application).storage.root / "keyed" / "dossiers"
    before = set(folder.iterdir())
    again = client.post(f"/api/v1/dossiers/{_dossier_id}/generate", headers=headers(vae.officer))
    assert again.status_code == 201
    assert "no longer available" in assert_problem(client.get(_relative(body["download"]["url"])), 404)["detail"]
    assert _download(client, again.get_json()["download"]["url"])[:4] == b"PK\x03\x04"
    after = set(folder.iterdir())
    # The replaced archive was deleted once the new one was committed.
    assert len(before - after) == 1 and len(after - before) == 1


def test_the_bad_inputs_of_the_issue_are_answered_never_500(client, headers, vae, make_person, grant):  # type: ignore[no-untyped-def]
    stranger = make_person()
    grant(stranger, "jury_officer", uuid.uuid4())
    unscoped = client.post(
        "/api/v1/dossiers",
        headers=headers(stranger),
        json={"certificationId": str(vae.fiche.id), "learnerId": str(vae.learner.id)},
    )
    assert_problem(unscoped, 404)
    unknown = client.post(
        "/api/v1/dossiers",
        headers=headers(vae.officer),
        json={"certificationId": str(uuid.uuid4()), "learnerId": str(vae.learner.id)},
    )
    assert "Certification not found" in assert_problem(unknown, 404)["detail"]
    asked = client.post(
        "/api/v1/dossiers",
        headers=headers(vae.officer),
        json={"certificationId": str(vae.fiche.id), "learnerId": str(vae.learner.id)},
    ).get_json()
    refused = client.post(f"/api/v1/dossiers/{asked['id']}/generate", headers=headers(vae.officer))
    assert "has not consented" in assert_problem(refused, 403)["detail"]
    assert_problem(client.post(f"/api/v1/dossiers/{asked['id']}/generate", headers=headers(stranger)), 404)
    assert_problem(
        client.post("/api/v1/dossiers", headers=headers(vae.officer), json={"certificationId": "x"}),
        422,
        "#/certificationId",
    )
    garbage = client.post(
        "/api/v1/dossiers/verify", data={"file": (io.BytesIO(b"garbage"), "d.zip")}, content_type="multipart/form-data"
    )
    assert garbage.status_code == 200 and garbage.get_json()["readable"] is False
    assert_problem(client.post("/api/v1/dossiers/verify"), 422)
    bad_link = client.get(f"/api/v1/dossiers/{asked['id']}/download?token=nope")
    assert_problem(bad_link, 401)
    assert_problem(client.get(f"/api/v1/dossiers/{asked['id']}/download"), 422)


def test_cohort_as_json_and_csv(client, headers, vae):  # type: ignore[no-untyped-def]
    _officer_flow(client, headers, vae)
    url = f"/api/v1/certifications/{vae.fiche.id}/cohort"
    body = client.get(url, headers=headers(vae.officer)).get_json()
    assert [(b["code"], b["acquis"], b["partiellement"], b["non"]) for b in body["items"][0]["blocs"]] == [
        ("RNCP40792BC01", 1, 1, 1),
        ("RNCP40792BC02", 0, 0, 1),
    ]
    as_csv = client.get(url, headers={**headers(vae.officer), "Accept": "text/csv"})
    assert as_csv.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(as_csv.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    assert len(rows) == 3
    assert client.get(url + "?format=csv", headers=headers(vae.officer)).mimetype == "text/csv"
    assert_problem(client.get(url, headers=headers(vae.learner)), 404)


def test_the_learner_record_holds_only_ones_own_data(client, headers, vae):  # type: ignore[no-untyped-def]
    dossier_id, generated = _officer_flow(client, headers, vae)
    response = client.get("/api/v1/people/me/record", headers=headers(vae.learner))
    assert response.status_code == 200 and response.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.get_data())) as archive:
        index = json.loads(archive.read("index.json"))
        names = archive.namelist()
    assert index["profile"]["displayName"] == "Zoé Lefèvre-Œuvrard"
    titles = {e["title"] for c in index["contributions"] for e in c["evidence"]}
    assert "Notes personnelles" in titles  # private evidence is the learner's own
    assert index["missingEvidenceFiles"] == [str(vae.missing_evidence.id)]
    assert f"credentials/{vae.credential_id}.ob3.json" in names
    assert sum(n.startswith("evidence/") for n in names) == 4
    assert [(d["id"], d["status"], d["archiveSize"], d["manifestSha256"]) for d in index["dossiers"]] == [
        (dossier_id, "ready", generated["size"], generated["dossier"]["manifestSha256"])
    ]
    officer = client.get("/api/v1/people/me/record", headers=headers(vae.officer))
    with zipfile.ZipFile(io.BytesIO(officer.get_data())) as archive:
        assert json.loads(archive.read("index.json"))["contributions"] == []
    assert_problem(client.get("/api/v1/people/me/record"), 401)


def test_a_printable_certificate_for_the_learner_only(app, client, headers, session, vae, make_person, settings):  # type: ignore[no-untyped-def]
    url = f"/api/v1/credentials/{vae.credential_id}/certificate.pdf"
    response = client.get(url, headers=headers(vae.learner))
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.get_data().startswith(b"%PDF")
    assert_problem(client.get(url, headers=headers(make_person())), 404)
    revocation.revoke(
        session,
        access.Grants(access.Actor(None), platform_admin=True),
        vae.credential_id,
        "erreur de saisie",
        settings=settings,
    )
    session.commit()
    assert_problem(client.get(url, headers=headers(vae.learner)), 409)


def test_the_cli_generates_and_verifies(app, runner, session, vae, tmp_path):  # type: ignore[no-untyped-def]
    result = runner.invoke(
        args=[
            "blason",
            "dossier-request",
            "--certification",
            str(vae.fiche.id),
            "--learner",
            str(vae.learner.id),
            "--actor",
            vae.officer.email,
        ]
    )
    assert result.exit_code == 0, result.output
    dossier_id = result.output.split()[1]
    result = runner.invoke(args=["blason", "dossier-generate", dossier_id, "--actor", vae.officer.email])
    assert result.exit_code == 1 and "not consented" in result.output
    from app.services.dossiers import lifecycle as dossiers

    dossiers.consent(session, access.load_grants(session, vae.learner.id), uuid.UUID(dossier_id))
    session.commit()
    out = tmp_path / "dossier.zip"
    result = runner.invoke(
        args=["blason", "dossier-generate", dossier_id, "--actor", vae.officer.email, "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "MISSING A005" in result.output
    result = runner.invoke(args=["blason", "verify-dossier", str(out)])
    assert result.exit_code == 0 and "Dossier intact." in result.output
    tampered = tmp_path / "tampered.zip"
    tampered.write_bytes(rewrite_zip(out.read_bytes(), replace={"synthese.csv": b"changed"}))
    result = runner.invoke(args=["blason", "verify-dossier", str(tampered)])
    assert result.exit_code == 1 and "ALTERED: synthese.csv" in result.output
    assert runtime(app).platform_key is not None


def test_the_platform_key_is_published(client, app):  # type: ignore[no-untyped-def]
    body = client.get("/api/v1/platform").get_json()
    key = runtime(app).platform_key.public
    assert body["id"] == "https://blason.test/api/v1/platform"
    assert body["verificationMethod"][0]["publicKeyMultibase"] == key.multibase()
    assert body["jwk"]["kid"] == key.thumbprint() and body["jwk"]["alg"] == "EdDSA"
