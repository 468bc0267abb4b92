"""Dossier archives: the signed manifest, and verification of a ZIP against it.

The manifest (``manifest.json``) lists every other file with its SHA-256 and size; its exact bytes
are signed by the platform key as a detached compact JWS (``manifest.jws``, RFC 7515 appendix F,
EdDSA). Verification pins the algorithm and the key, reads the archive member by member in chunks
(never the whole archive, never extracted to disk) and stops reading a member past its declared
size, so a ZIP bomb costs at most what the manifest announced.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import jwt
from jwt.exceptions import InvalidTokenError

import badges

CHUNK = 1024 * 1024
MANIFEST = "manifest.json"
SIGNATURE = "manifest.jws"
JWS_TYP = "blason-dossier-manifest+jws"
MAX_MEMBERS = 100_000
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
# Already-compressed formats are stored as they are: deflating them again costs time for nothing.
STORED_TYPES = frozenset(
    {
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "application/pdf",
        "video/mp4",
        "audio/mpeg",
        "audio/ogg",
        "application/zip",
    }
)


def compression_for(media_type: str | None) -> int:
    if media_type in STORED_TYPES or (media_type or "").startswith(
        ("application/vnd.oasis", "application/vnd.openxml")
    ):
        return zipfile.ZIP_STORED
    return zipfile.ZIP_DEFLATED


@dataclass(frozen=True)
class Member:
    path: str
    sha256: str
    size: int

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256, "size": self.size}


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode()


def sign_manifest(data: bytes, key: badges.SigningKey) -> str:
    """A detached compact JWS (``header..signature``) over the manifest's exact bytes."""
    return jwt.api_jws.PyJWS().encode(
        data,
        key.key,
        algorithm="EdDSA",
        headers={"kid": key.public.thumbprint(), "typ": JWS_TYP},
        is_payload_detached=True,
    )


def signature_valid(data: bytes, token: str, public: badges.PublicKey) -> bool:
    """Check the detached JWS with the platform key only, and EdDSA only."""
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != "EdDSA" or header.get("kid") != public.thumbprint():
            return False
        jwt.api_jws.PyJWS().decode_complete(token, public.key, algorithms=["EdDSA"], detached_payload=data)
    except (InvalidTokenError, ValueError, TypeError):
        return False
    return True


@dataclass
class VerificationReport:
    readable: bool = True
    signature_valid: bool = False
    manifest_found: bool = False
    dossier_id: str | None = None
    generated_at: str | None = None
    checked: int = 0
    missing: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    altered: list[str] = field(default_factory=list)
    unsafe: list[str] = field(default_factory=list)
    gaps: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return (
            self.readable
            and self.manifest_found
            and self.signature_valid
            and not self.missing
            and not self.added
            and not self.altered
            and not self.unsafe
        )


def _unsafe_name(name: str) -> bool:
    parts = name.split("/")
    return name.startswith("/") or "\\" in name or "\x00" in name or ".." in parts or (len(name) > 1 and name[1] == ":")


def verify_archive(fileobj: BinaryIO, public: badges.PublicKey) -> VerificationReport:
    """Compare a dossier ZIP with its signed manifest: missing, added and altered files by name."""
    report = VerificationReport()
    try:
        archive = zipfile.ZipFile(fileobj)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        report.readable = False
        report.problems.append("Ce fichier n'est pas une archive ZIP lisible.")
        return report
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_MEMBERS:
            report.readable = False
            report.problems.append(f"L'archive contient plus de {MAX_MEMBERS} fichiers.")
            return report
        by_name: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            if info.is_dir():
                continue
            if _unsafe_name(info.filename):
                report.unsafe.append(info.filename)
            elif info.filename in by_name:
                report.altered.append(info.filename)  # a second copy under the same name
            else:
                by_name[info.filename] = info
        manifest = _read_manifest(archive, by_name, public, report)
        if manifest is None:
            report.added = sorted(n for n in by_name if n not in (MANIFEST, SIGNATURE))
            return report
        expected = {}
        for entry in manifest.get("files") or []:
            if isinstance(entry, dict) and isinstance(entry.get("path"), str):
                expected[entry["path"]] = entry
        for name, info in sorted(by_name.items()):
            if name in (MANIFEST, SIGNATURE):
                continue
            entry = expected.get(name)
            if entry is None:
                report.added.append(name)
                continue
            report.checked += 1
            if not _member_matches(archive, info, entry):
                report.altered.append(name)
        report.missing = sorted(set(expected) - set(by_name))
        report.altered.sort()
    return report


def _read_manifest(
    archive: zipfile.ZipFile, by_name: dict[str, zipfile.ZipInfo], public: badges.PublicKey, report: VerificationReport
) -> dict[str, Any] | None:
    info = by_name.get(MANIFEST)
    if info is None:
        report.problems.append("manifest.json est absent : rien ne permet de vérifier le contenu.")
        return None
    data = _read_small(archive, info, MAX_MANIFEST_BYTES)
    try:
        manifest = json.loads(data) if data is not None else None
    except ValueError:
        manifest = None
    if not isinstance(manifest, dict):
        report.problems.append("manifest.json est illisible.")
        return None
    report.manifest_found = True
    report.dossier_id = str(manifest.get("dossierId")) if manifest.get("dossierId") else None
    report.generated_at = manifest.get("generatedAt") if isinstance(manifest.get("generatedAt"), str) else None
    report.gaps = [g for g in manifest.get("gaps") or [] if isinstance(g, dict)]
    sig = by_name.get(SIGNATURE)
    token = _read_small(archive, sig, 16 * 1024) if sig is not None else None
    report.signature_valid = bool(
        data is not None and token and signature_valid(data, token.decode("ascii", "replace").strip(), public)
    )
    if not report.signature_valid:
        report.problems.append(
            "La signature du manifeste est absente ou invalide : le manifeste lui-même a pu être modifié."
        )
    return manifest


def _read_small(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes | None:
    if info.file_size > limit:
        return None
    try:
        with archive.open(info) as handle:
            data = handle.read(limit + 1)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError, RuntimeError):
        return None
    return data if len(data) <= limit else None


def _member_matches(archive: zipfile.ZipFile, info: zipfile.ZipInfo, entry: dict[str, Any]) -> bool:
    size = entry.get("size")
    if not isinstance(size, int) or info.file_size != size:
        return False
    digest, read = hashlib.sha256(), 0
    try:
        with archive.open(info) as handle:
            # Never read past the size the signed manifest announced (a bomb stops here).
            while chunk := handle.read(min(CHUNK, size + 1 - read)):
                read += len(chunk)
                if read > size:
                    return False
                digest.update(chunk)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError, RuntimeError):
        return False
    return read == size and digest.hexdigest() == entry.get("sha256")
