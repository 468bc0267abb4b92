"""The dossier ZIP, written in one linear pass into storage, under a key of its own.

Members, in the order the jury reads them: dossier.pdf, the machine-readable documents, the
annexes (evidence files, stored as they are when already compressed), then ``manifest.json`` and
its signature. Memory stays flat whatever the size of the evidence.

No byte of an evidence file passes through Python when its CRC-32 is known (recorded at upload):
the kernel copies it into the archive (``app.platform.zipwriter``), and its manifest SHA-256 is its content
address, the SHA-256 of exactly the bytes copied. The small members are hashed as they are
written. The archive as a whole is not hashed: the signed manifest vouches for every member, and
the dossier records the manifest's SHA-256.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any, BinaryIO

import badges
from app.models import Credential
from app.platform.errors import Conflict
from app.platform.storage import Storage, TooLarge
from app.platform.zipwriter import SourceChanged, ZipWriter
from app.services.dossiers.build import Annex, DossierContent
from app.services.dossiers.documents import DOSSIER_SCHEMA, content_json, synthese_csv
from app.services.dossiers.verify import MANIFEST, SIGNATURE, Member, compression_for, manifest_bytes, sign_manifest

MAX_DOSSIER_BYTES = 64 * 1024**3
MISSING = "file missing from storage"
DAMAGED = "file damaged in storage (its size is not the size recorded at upload)"
Document = tuple[str, bytes, str]  # path in the ZIP, bytes, media type


@dataclass(frozen=True)
class StoredArchive:
    key: str
    size: int
    manifest_sha256: str
    gaps: list[dict[str, Any]]


class ArchiveWriter:
    """The dossier ZIP being written: each member recorded with its SHA-256 and size for the manifest."""

    def __init__(self, zip_writer: ZipWriter) -> None:
        self.zip = zip_writer
        self.members: list[Member] = []

    def add_bytes(self, path: str, data: bytes, media_type: str | None) -> None:
        self.zip.add_bytes(path, data, deflate=_deflate(media_type))
        self.members.append(Member(path, hashlib.sha256(data).hexdigest(), len(data)))

    def add_stored(
        self, path: str, handle: BinaryIO, media_type: str | None, sha256: str, size: int, crc32: int | None
    ) -> None:
        """Add a file from content-addressed storage: its name is already the SHA-256 of its bytes."""
        with handle:
            self.zip.add_file(path, handle, size, crc32=crc32, deflate=_deflate(media_type))
        self.members.append(Member(path, sha256, size))


def _deflate(media_type: str | None) -> bool:
    return compression_for(media_type) == zipfile.ZIP_DEFLATED


def documents(content: DossierContent, credentials: list[Credential], clr: dict[str, Any] | None) -> list[Document]:
    """The machine-readable members: content, its schema, the CSV synthesis, credentials, CLR."""
    docs = [
        ("dossier.json", _json(content_json(content)), "application/json"),
        ("dossier.schema.json", _json(DOSSIER_SCHEMA), "application/json"),
        ("synthese.csv", synthese_csv(content), "text/csv"),
    ]
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


def store_archive(
    storage: Storage,
    key: str,
    signer: badges.SigningKey,
    issuer: str,
    content: DossierContent,
    pdf: bytes,
    docs: list[Document],
) -> StoredArchive:
    """Write the ZIP into storage under ``key``; return what was stored and the gaps (files left out)."""
    try:
        with storage.create_keyed(key) as out:
            archive = ArchiveWriter(ZipWriter(out.fileno(), limit=MAX_DOSSIER_BYTES))
            archive.add_bytes("dossier.pdf", pdf, "application/pdf")
            for path, data, media_type in docs:
                archive.add_bytes(path, data, media_type)
            gaps = add_annexes(archive, storage, content.annexes)
            manifest_sha256 = seal(archive, manifest(content, issuer, archive.members, gaps), signer)
            size = archive.zip.close()
            out.commit()
    except TooLarge:
        raise Conflict("The dossier is too large to be stored.") from None
    except SourceChanged:
        raise Conflict("An evidence file changed while the dossier was written; generate it again.") from None
    return StoredArchive(key, size, manifest_sha256, gaps)


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
            gaps.append(
                {
                    "annex": annex.number,
                    "evidenceId": str(annex.evidence_id),
                    "title": annex.title,
                    "path": annex.path,
                    "sha256": annex.sha256,
                    "reason": reason,
                }
            )
            continue
        archive.add_stored(annex.path, handle, annex.media_type, annex.sha256, size, annex.crc32)
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


def manifest(content: DossierContent, issuer: str, members: list[Member], gaps: list[dict[str, Any]]) -> dict[str, Any]:
    """The manifest: every member's path, SHA-256 and size, and the gaps."""
    cert = content.certification
    return {
        "type": "BlasonDossierManifest",
        "version": 1,
        "dossierId": str(content.dossier_id),
        "generatedAt": content.generated_at.isoformat(),
        "issuer": issuer,
        "candidate": {"id": str(content.candidate_id), "name": content.candidate_name},
        "certification": {
            "id": str(cert.id),
            "code": cert.code,
            "title": cert.title,
            "frameworkVersion": cert.framework_version,
        },
        "files": [m.to_json() for m in members],
        "gaps": gaps,
        "algorithm": "SHA-256",
        "signature": SIGNATURE,
    }


def seal(archive: ArchiveWriter, data: dict[str, Any], key: badges.SigningKey) -> str:
    """Add the manifest and its detached signature (the last two members); return the manifest's SHA-256."""
    raw = manifest_bytes(data)
    archive.add_bytes(MANIFEST, raw, "application/json")
    archive.add_bytes(SIGNATURE, sign_manifest(raw, key).encode(), "text/plain")
    return hashlib.sha256(raw).hexdigest()
