"""Jury dossiers: consent, scoping, visibility, gaps, the archive, its manifest and tampering."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import subprocess
import zipfile
from contextlib import contextmanager
from datetime import timedelta

import jsonschema
import pytest

from app.models import DossierStatus
from app.platform.errors import InvalidInput, NotFound, PermissionDenied, Unauthenticated
from app.runtime import runtime
from app.services.dossiers import lifecycle as dossiers
from app.services.dossiers.documents import DOSSIER_SCHEMA
from app.services.dossiers.verify import verify_archive
from app.services.identity import access
from tests.dossier_fixtures import T0, Vae, dossier_settings, make_fiche, rewrite_zip, zip_names


def _grants(session, person):  # type: ignore[no-untyped-def]
    return access.load_grants(session, person.id)


def _ready(app, session, vae: Vae, **data):  # type: ignore[no-untyped-def]
    request = {"certification_id": vae.fiche.id, **data}
    dossier = dossiers.request_dossier(session, _grants(session, vae.learner), request)
    result = dossiers.generate(session, _grants(session, vae.learner), dossier.id, settings=dossier_settings(app))
    session.commit()
    with runtime(app).storage.open_keyed(result.dossier.archive_key) as handle:
        return result, handle.read()


def test_learner_asks_and_the_dossier_holds_everything_the_jury_reads(app, session, vae):  # type: ignore[no-untyped-def]
    result, data = _ready(app, session, vae)
    names = zip_names(data)
    assert names[0] == "dossier.pdf"
    assert {"dossier.json", "dossier.schema.json", "synthese.csv", "clr.json", "manifest.json", "manifest.jws"} <= set(
        names
    )
    assert f"credentials/{vae.credential_id}.json" in names and f"credentials/{vae.credential_id}.jwt" in names
    annexes = sorted(n for n in names if n.startswith("annexes/"))
    # jury PDF, public PNG, jury text; never the private or tutors-only file; the link has no file.
    assert [n.split("-")[0] for n in annexes] == ["annexes/A001", "annexes/A002", "annexes/A003"]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        content = json.loads(archive.read("dossier.json"))
        jsonschema.validate(content, DOSSIER_SCHEMA)
        assert archive.read("dossier.pdf").startswith(b"%PDF")
        rows = list(csv.DictReader(io.StringIO(archive.read("synthese.csv").decode("utf-8-sig")), delimiter=";"))
        clr = json.loads(archive.read("clr.json"))
        compression = {i.filename: i.compress_type for i in archive.infolist()}
    assert compression["annexes/A002-photo-de-latelier.png"] == zipfile.ZIP_STORED
    assert compression["dossier.json"] == zipfile.ZIP_DEFLATED
    titles = {a["title"] for a in content["annexes"]}
    assert "Notes personnelles" not in titles and "Échanges avec le tuteur" not in titles
    assert content["partial"] is False
    bloc1 = content["blocs"][0]
    assert bloc1["counts"] == {"acquis": 1, "partiellement": 1, "non": 1}
    assert [c["state"] for c in bloc1["competences"]] == ["acquis", "partiellement", "non"]
    assert bloc1["competences"][0]["label"] == "Gérer le patrimoine informatique"
    assert bloc1["competences"][0]["supports"][0]["validations"][0]["reviewer"] == "Théo Tuteur"
    assert bloc1["competences"][0]["badges"][0]["shortUrl"].startswith("https://blason.test/c/")
    assert content["blocs"][1]["counts"] == {"acquis": 0, "partiellement": 0, "non": 1}
    assert len(rows) == 4 and rows[0]["etat"] == "acquis" and rows[0]["competence_intitule"].startswith("Gérer")
    assert "ClrCredential" in clr["type"] and clr["proof"][0]["cryptosuite"] == "eddsa-rdfc-2022"
    assert [a["associationType"] for a in clr["credentialSubject"]["association"]][:1] == ["isChildOf"]
    assert result.dossier.status is DossierStatus.READY


def test_the_clr_proof_verifies_with_the_platform_key(app, session, vae):  # type: ignore[no-untyped-def]
    import badges

    _result, data = _ready(app, session, vae)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        clr = json.loads(archive.read("clr.json"))
    proof = clr.pop("proof")[0]
    badges.verify_data_integrity(clr, proof, runtime(app).platform_key.public)


def test_a_partial_dossier_holds_only_the_chosen_blocs(app, session, vae):  # type: ignore[no-untyped-def]
    _result, data = _ready(app, session, vae, bloc_ids=[vae.blocs[1].id])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        content = json.loads(archive.read("dossier.json"))
    assert content["partial"] is True and [b["code"] for b in content["blocs"]] == ["RNCP40792BC02"]


def test_blocs_of_another_fiche_are_refused(app, session, vae):  # type: ignore[no-untyped-def]
    _fw, _fiche, other_blocs, _c = make_fiche(session, key="RNCP99999")
    with pytest.raises(InvalidInput) as caught:
        dossiers.request_dossier(
            session, _grants(session, vae.learner), {"certification_id": vae.fiche.id, "bloc_ids": [other_blocs[0].id]}
        )
    assert caught.value.errors[0].pointer == "#/blocIds"


def test_an_officer_needs_the_learners_consent(app, session, vae):  # type: ignore[no-untyped-def]
    officer = _grants(session, vae.officer)
    dossier = dossiers.request_dossier(
        session, officer, {"certification_id": vae.fiche.id, "learner_id": vae.learner.id}
    )
    assert dossier.status is DossierStatus.AWAITING_CONSENT
    with pytest.raises(PermissionDenied, match="has not consented"):
        dossiers.generate(session, officer, dossier.id, settings=dossier_settings(app))
    dossiers.refuse(session, _grants(session, vae.learner), dossier.id)
    with pytest.raises(PermissionDenied, match="refused"):
        dossiers.generate(session, officer, dossier.id, settings=dossier_settings(app))
    with pytest.raises(PermissionDenied):  # the officer cannot consent for the learner
        dossiers.consent(session, officer, dossier.id)
    dossiers.consent(session, _grants(session, vae.learner), dossier.id)
    result = dossiers.generate(session, officer, dossier.id, settings=dossier_settings(app))
    assert result.dossier.status is DossierStatus.READY


def test_an_officer_is_scoped_to_the_certifications_they_serve(app, session, vae, make_person, grant):  # type: ignore[no-untyped-def]
    stranger = make_person()
    _fw, other_fiche, _b, _c = make_fiche(session, key="RNCP12345")
    grant(stranger, "jury_officer", other_fiche)
    with pytest.raises(NotFound):
        dossiers.request_dossier(
            session, _grants(session, stranger), {"certification_id": vae.fiche.id, "learner_id": vae.learner.id}
        )
    own = dossiers.request_dossier(session, _grants(session, vae.learner), {"certification_id": vae.fiche.id})
    with pytest.raises(NotFound):
        dossiers.get_dossier(session, _grants(session, stranger), own.id)
    with pytest.raises(NotFound):
        dossiers.cohort(session, _grants(session, stranger), vae.fiche.id)
    # A new version of the same fiche is served by the same membership.
    _fw2, fiche_v2, _b2, _c2 = make_fiche(session, version=2)
    dossier = dossiers.request_dossier(
        session, _grants(session, vae.officer), {"certification_id": fiche_v2.id, "learner_id": vae.learner.id}
    )
    assert dossier.certification_id == fiche_v2.id


def test_an_unknown_fiche_version_is_not_found(session, vae):  # type: ignore[no-untyped-def]
    import uuid

    for target in (uuid.uuid4(), vae.blocs[0].id):  # nothing, and a bloc instead of a fiche
        with pytest.raises(NotFound, match="Certification not found"):
            dossiers.request_dossier(session, _grants(session, vae.learner), {"certification_id": target})


def test_a_missing_evidence_file_is_a_listed_gap_not_a_failure(app, session, vae):  # type: ignore[no-untyped-def]
    result, data = _ready(app, session, vae)
    gaps = result.dossier.gaps
    assert [g["evidenceId"] for g in gaps] == [str(vae.missing_evidence.id)]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        content = json.loads(archive.read("dossier.json"))
        pdf = archive.read("dossier.pdf")
    assert manifest["gaps"][0]["title"] == "Attestation de la mairie"
    assert gaps[0]["path"] not in {f["path"] for f in manifest["files"]}
    assert content["gaps"][0]["annex"] == gaps[0]["annex"]
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
        assert "Pièces manquantes" in text and "Attestation de la mairie" in text and "MANQUANTE" in text
        assert "« grand public »" in text and "d’assistance" in text


def test_an_intact_dossier_verifies(app, session, vae):  # type: ignore[no-untyped-def]
    _result, data = _ready(app, session, vae)
    report = verify_archive(io.BytesIO(data), runtime(app).platform_key.public)
    assert report.valid and report.signature_valid and report.checked > 5
    assert report.gaps and not (report.missing or report.added or report.altered)


def test_a_tampered_dossier_names_the_files(app, session, vae):  # type: ignore[no-untyped-def]
    _result, data = _ready(app, session, vae)
    key = runtime(app).platform_key.public
    annex = next(n for n in zip_names(data) if n.startswith("annexes/A001"))
    tampered = rewrite_zip(
        data,
        replace={annex: b"%PDF-1.4 forged", "synthese.csv": b"x"},
        drop=("clr.json",),
        add={"annexes/A099-extra.pdf": b"%PDF extra"},
    )
    report = verify_archive(io.BytesIO(tampered), key)
    assert not report.valid and report.signature_valid
    assert report.altered == sorted([annex, "synthese.csv"])
    assert report.missing == ["clr.json"] and report.added == ["annexes/A099-extra.pdf"]
    # Editing the manifest to match breaks its signature.
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    manifest["files"] = [f for f in manifest["files"] if f["path"] != "clr.json"]
    forged = rewrite_zip(data, drop=("clr.json",), replace={"manifest.json": json.dumps(manifest).encode()})
    report = verify_archive(io.BytesIO(forged), key)
    assert not report.valid and not report.signature_valid and not report.missing


def test_verification_refuses_garbage_traversal_and_bombs(app):  # type: ignore[no-untyped-def]
    key = runtime(app).platform_key.public
    assert not verify_archive(io.BytesIO(b"not a zip at all"), key).readable
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("../../etc/passwd", b"root")
        archive.writestr("manifest.json", json.dumps({"files": [{"path": "big.txt", "sha256": "0" * 64, "size": 10}]}))
        archive.writestr("big.txt", b"\0" * (20 * 1024 * 1024))  # 20 MB of zeros: a small bomb
    report = verify_archive(io.BytesIO(out.getvalue()), key)
    assert report.unsafe == ["../../etc/passwd"] and report.altered == ["big.txt"]
    assert not report.valid and not report.signature_valid


def test_download_links_expire_and_are_bound_to_their_dossier(app, session, vae):  # type: ignore[no-untyped-def]
    result, _data = _ready(app, session, vae)
    learner = _grants(session, vae.learner)
    link = dossiers.download_link(session, learner, result.dossier.id, settings=dossier_settings(app))
    dossier, handle, size = dossiers.open_download(
        session, result.dossier.id, link.token, settings=dossier_settings(app)
    )
    handle.close()
    assert size > 0
    other = dossiers.request_dossier(session, learner, {"certification_id": vae.fiche.id})
    with pytest.raises(Unauthenticated, match="another dossier"):
        dossiers.open_download(session, other.id, link.token, settings=dossier_settings(app))
    later = dossier_settings(app, clock=lambda: T0 + timedelta(days=400))
    with pytest.raises(Unauthenticated, match="expired"):
        dossiers.open_download(session, result.dossier.id, link.token, settings=later)
    with pytest.raises(Unauthenticated):
        dossiers.open_download(session, result.dossier.id, link.token + "x", settings=dossier_settings(app))


def test_cohort_counts_only_consenting_learners(app, session, vae, make_person):  # type: ignore[no-untyped-def]
    officer = _grants(session, vae.officer)
    assert dossiers.cohort(session, officer, vae.fiche.id).items == []
    dossiers.request_dossier(session, _grants(session, vae.learner), {"certification_id": vae.fiche.id})
    data = dossiers.cohort(session, officer, vae.fiche.id)
    assert [(b.code, b.acquis, b.partiellement, b.non) for b in data.items[0].blocs] == [
        ("RNCP40792BC01", 1, 1, 1),
        ("RNCP40792BC02", 0, 0, 1),
    ]
    rows = list(csv.reader(io.StringIO(dossiers.cohort_csv(data).decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["apprenant_id", "apprenant", "bloc_code"] and len(rows) == 3


@contextmanager
def _behind_storages_back(app, session, title: str, change):  # type: ignore[no-untyped-def]
    """Rewrite a stored evidence file in place (as a disk fault would), restoring it afterwards."""
    from sqlalchemy import select

    from app.models import Evidence

    piece = session.scalars(select(Evidence).where(Evidence.title == title)).one()
    sha = piece.file_sha256
    path = runtime(app).storage.root / sha[:2] / sha[2:4] / sha
    original = path.read_bytes()
    try:
        path.write_bytes(change(original))
        yield piece
    finally:
        path.write_bytes(original)


def test_a_damaged_evidence_file_is_left_out_not_vouched_for(app, session, vae):  # type: ignore[no-untyped-def]
    with _behind_storages_back(app, session, "Tableau d’inventaire", lambda data: data[:-5]) as piece:  # truncated
        result, data = _ready(app, session, vae)
    damaged = [g for g in result.dossier.gaps if g["evidenceId"] == str(piece.id)]
    assert len(damaged) == 1 and "damaged" in damaged[0]["reason"]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        assert damaged[0]["path"] not in archive.namelist()
    assert damaged[0]["path"] not in {f["path"] for f in manifest["files"]}
    assert verify_archive(io.BytesIO(data), runtime(app).platform_key.public).valid


def test_each_generation_has_its_own_archive_and_the_replaced_one_goes(app, session, vae):  # type: ignore[no-untyped-def]
    storage, config = runtime(app).storage, dossier_settings(app)
    dossier = dossiers.request_dossier(session, _grants(session, vae.learner), {"certification_id": vae.fiche.id})
    first = dossiers.generate(session, _grants(session, vae.learner), dossier.id, settings=config)
    first_key = first.dossier.archive_key
    assert first.replaced_key is None and first_key and storage.keyed_exists(first_key)
    old_link = dossiers.download_link(session, _grants(session, vae.learner), dossier.id, settings=config)
    second = dossiers.generate(session, _grants(session, vae.learner), dossier.id, settings=config)
    assert second.replaced_key == first_key and second.dossier.archive_key != first_key
    dossiers.discard_archive(storage, second.replaced_key)
    assert not storage.keyed_exists(first_key)
    with pytest.raises(NotFound, match="no longer available"):
        dossiers.open_download(session, dossier.id, old_link.token, settings=config)
    with storage.open_keyed(second.dossier.archive_key) as handle:
        data = handle.read()
    assert len(data) == second.size == second.dossier.archive_size
    assert zip_names(data)[0] == "dossier.pdf"
    assert verify_archive(io.BytesIO(data), runtime(app).platform_key.public).valid
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None  # every CRC-32 given by storage is the CRC-32 of the bytes copied
        raw_manifest = archive.read("manifest.json")
        manifest = json.loads(raw_manifest)
        hashes = {i.filename: hashlib.sha256(archive.read(i)).hexdigest() for i in archive.infolist()}
    # Every evidence file's manifest digest (its content address) is the digest of the bytes in the ZIP.
    assert all(hashes[f["path"]] == f["sha256"] for f in manifest["files"])
    assert second.dossier.manifest_sha256 == hashlib.sha256(raw_manifest).hexdigest()


def test_evidence_uploaded_without_a_recorded_crc_is_checksummed_on_the_way(app, session, vae):  # type: ignore[no-untyped-def]
    from sqlalchemy import update

    from app.models import StoredFile

    session.execute(update(StoredFile).values(crc32=None))  # as uploaded before CRC-32s were kept
    _result, data = _ready(app, session, vae)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
    assert verify_archive(io.BytesIO(data), runtime(app).platform_key.public).valid


def test_evidence_altered_behind_storages_back_is_reported_altered(app, session, vae):  # type: ignore[no-untyped-def]
    with _behind_storages_back(app, session, "Tableau d’inventaire", lambda data: data[:-5] + b"XXXXX"):  # same size
        _result, data = _ready(app, session, vae)
    report = verify_archive(io.BytesIO(data), runtime(app).platform_key.public)
    assert not report.valid and len(report.altered) == 1 and report.altered[0].startswith("annexes/")


def test_annexes_past_a_thousand_keep_their_numeric_order(app, session, vae):  # type: ignore[no-untyped-def]
    from app.models import Evidence, EvidenceKind, Visibility

    contribution_id = vae.missing_evidence.contribution_id
    session.add_all(
        [
            Evidence(
                contribution_id=contribution_id,
                kind=EvidenceKind.TEXT,
                title=f"Note {n}",
                text=f"Note n° {n}",
                visibility=Visibility.JURY,
                created_by_id=vae.learner.id,
            )
            for n in range(1000)
        ]
    )
    session.flush()
    result, data = _ready(app, session, vae)
    numbers = [a.number for a in result.content.annexes]
    assert len(numbers) > 1000 and numbers == [f"A{n:03d}" for n in range(1, len(numbers) + 1)]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        index = json.loads(archive.read("dossier.json"))["annexes"]
    assert [a["number"] for a in index] == numbers


def test_generation_locks_the_dossier_row(app, session, vae, engine):  # type: ignore[no-untyped-def]
    from sqlalchemy import event

    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time and no row locks")
    dossier = dossiers.request_dossier(session, _grants(session, vae.learner), {"certification_id": vae.fiche.id})
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        dossiers.generate(session, _grants(session, vae.learner), dossier.id, settings=dossier_settings(app))
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert any("FROM dossiers" in s and s.rstrip().endswith("FOR UPDATE") for s in statements)


def test_an_archive_nothing_records_is_deleted(app, session, vae, monkeypatch):  # type: ignore[no-untyped-def]
    from app.services.identity import audit

    folder = runtime(app).storage.root / "keyed" / "dossiers"
    folder.mkdir(parents=True, exist_ok=True)
    before = set(folder.iterdir())
    dossier = dossiers.request_dossier(session, _grants(session, vae.learner), {"certification_id": vae.fiche.id})

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr(audit, "record", broken)
    with pytest.raises(RuntimeError):
        dossiers.generate(session, _grants(session, vae.learner), dossier.id, settings=dossier_settings(app))
    assert set(folder.iterdir()) == before
