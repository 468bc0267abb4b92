"""The dossier ZIP, written in one linear pass straight into content-addressed storage.

Members: dossier.pdf, the machine-readable documents, the annexes (evidence files, stored as they
are when already compressed), then ``manifest.json`` and its signature. Memory stays flat whatever
the size of the evidence: files are copied in 1 MiB chunks through one reused buffer.

Each byte is hashed once: storage hashes the ZIP while it is written (that digest names it), the
small members are hashed for the manifest as they are written, and an evidence file's manifest
SHA-256 is its content address, the SHA-256 of exactly the bytes copied.
"""
from __future__ import annotations

import io
import json
import multiprocessing
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any, BinaryIO

import badges
from app.models import Credential
from app.services.dossier_build import Annex, DossierContent
from app.services.dossier_documents import DOSSIER_SCHEMA, content_json, synthese_csv
from app.services.dossier_pdf import render_pdf
from app.services.dossier_verify import MANIFEST, SIGNATURE, ArchiveWriter, Member, manifest_bytes, sign_manifest
from app.services.errors import Conflict
from app.storage import Storage, StoredBlob, TooLarge

MAX_DOSSIER_BYTES = 64 * 1024 ** 3
MISSING = "file missing from storage"
DAMAGED = "file damaged in storage (its size is not the size recorded at upload)"
Document = tuple[str, bytes, str]  # path in the ZIP, bytes, media type


def documents(content: DossierContent, credentials: list[Credential],
              clr: dict[str, Any] | None) -> list[Document]:
    """The machine-readable members: content, its schema, the CSV synthesis, credentials, CLR."""
    docs = [("dossier.json", _json(content_json(content)), "application/json"),
            ("dossier.schema.json", _json(DOSSIER_SCHEMA), "application/json"),
            ("synthese.csv", synthese_csv(content), "text/csv")]
    for credential in credentials:
        if credential.ob3_credential:
            docs.append((f"credentials/{credential.id}.json", _json(credential.ob3_credential), "application/json"))
        if credential.ob3_jwt:
            docs.append((f"credentials/{credential.id}.jwt", credential.ob3_jwt.encode(), "text/plain"))
    if clr is not None:
        docs.append(("clr.json", _json(clr), "application/json"))
    return docs


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=2).encode()


@contextmanager
def pdf_layout(content: DossierContent, *, worker: bool) -> Iterator[Future[bytes]]:
    """Lay out dossier.pdf here, or in a forked process while the annexes are copied.

    Laying out hundreds of contributions is CPU-bound and takes about as long as copying hundreds
    of megabytes, so with a free second core the worker hides it. On a shared machine the two
    compete for the same core and the worker only adds the cost of forking: it is opt-in. The
    child gets plain data only (the content is pickled) and never touches the parent's database
    connections; it ends with ``os._exit``, so nothing of the parent is closed twice.
    """
    if not worker or "fork" not in multiprocessing.get_all_start_methods():
        done: Future[bytes] = Future()
        done.set_result(render_pdf(content))
        yield done
        return
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork")) as pool:
        yield pool.submit(render_pdf, content)


def store_archive(storage: Storage, key: badges.SigningKey, issuer: str, content: DossierContent,
                  pdf: Future[bytes], docs: list[Document]) -> tuple[StoredBlob, list[dict[str, Any]]]:
    """Write the ZIP into storage; return the stored blob and the gaps (evidence files left out)."""
    try:
        with storage.writer(MAX_DOSSIER_BYTES) as out:
            archive = ArchiveWriter(out)  # type: ignore[arg-type]
            for path, data, media_type in docs:
                archive.add_bytes(path, data, media_type)
            gaps = add_annexes(archive, storage, content.annexes)
            archive.add_bytes("dossier.pdf", pdf.result(), "application/pdf")
            archive.move_first("dossier.pdf")  # what the jury opens first, whenever it was ready
            seal(archive, manifest(content, issuer, archive.members, gaps), key)
            archive.close()
            return out.commit(), gaps
    except TooLarge:
        raise Conflict("The dossier is too large to be stored.") from None


def add_annexes(archive: ArchiveWriter, storage: Storage, annexes: list[Annex]) -> list[dict[str, Any]]:
    """Copy every annex that has a file; return the gaps, in annex order."""
    gaps = []
    for annex in annexes:
        if annex.path is None:
            continue
        if annex.kind == "text":
            archive.add_bytes(annex.path, (annex.text or "").encode(), "text/plain")
            continue
        handle, size, reason = _open_evidence(storage, annex)
        if handle is None or annex.sha256 is None:
            gaps.append({"annex": annex.number, "evidenceId": str(annex.evidence_id), "title": annex.title,
                         "path": annex.path, "sha256": annex.sha256, "reason": reason})
            continue
        archive.add_stored(annex.path, handle, annex.media_type, annex.sha256, size)
    return gaps


def _open_evidence(storage: Storage, annex: Annex) -> tuple[BinaryIO | None, int, str]:
    """The stored file and its size, or None and why it is left out."""
    if annex.missing or not annex.sha256:
        return None, 0, MISSING
    try:
        handle = storage.open(annex.sha256)
    except OSError:
        return None, 0, MISSING
    size = handle.seek(0, io.SEEK_END)
    handle.seek(0)
    # A truncated or overwritten file would no longer match its address: leave it out, never
    # let the signed manifest vouch for bytes that are not the learner's.
    if annex.size is not None and size != annex.size:
        handle.close()
        return None, 0, DAMAGED
    return handle, size, ""


def manifest(content: DossierContent, issuer: str, members: list[Member],
             gaps: list[dict[str, Any]]) -> dict[str, Any]:
    """The manifest: every member's path, SHA-256 and size, and the gaps."""
    cert = content.certification
    return {
        "type": "BlasonDossierManifest", "version": 1, "dossierId": str(content.dossier_id),
        "generatedAt": content.generated_at.isoformat(), "issuer": issuer,
        "candidate": {"id": str(content.candidate_id), "name": content.candidate_name},
        "certification": {"id": str(cert.id), "code": cert.code, "title": cert.title,
                          "frameworkVersion": cert.framework_version},
        "files": [m.to_json() for m in members], "gaps": gaps,
        "algorithm": "SHA-256", "signature": SIGNATURE,
    }


def seal(archive: ArchiveWriter, data: dict[str, Any], key: badges.SigningKey) -> None:
    """Add the manifest and its detached signature (the last two members)."""
    raw = manifest_bytes(data)
    archive.add_bytes(MANIFEST, raw, "application/json")
    archive.add_bytes(SIGNATURE, sign_manifest(raw, key).encode(), "text/plain")
