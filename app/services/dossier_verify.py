"""Dossier archives: a streaming ZIP writer that hashes every member, the signed manifest, and
verification of a ZIP against its manifest.

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
from typing import IO, Any, BinaryIO, Callable

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
STORED_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf",
                          "video/mp4", "audio/mpeg", "audio/ogg", "application/zip"})


def compression_for(media_type: str | None) -> int:
    if media_type in STORED_TYPES or (media_type or "").startswith(("application/vnd.oasis",
                                                                    "application/vnd.openxml")):
        return zipfile.ZIP_STORED
    return zipfile.ZIP_DEFLATED


@dataclass(frozen=True)
class Member:
    path: str
    sha256: str
    size: int

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256, "size": self.size}


class MemberChanged(Exception):
    """A stored file did not have the size its content address was recorded with."""


class ArchiveWriter:
    """Write a ZIP member by member, in chunks, recording each member's SHA-256 and size."""

    def __init__(self, out: IO[bytes]) -> None:
        # On a non-seekable stream zipfile writes data descriptors: one linear pass, no rewinds.
        self.zip = zipfile.ZipFile(out, "w", allowZip64=True)
        self.members: list[Member] = []
        self._buffer = memoryview(bytearray(CHUNK))

    def add_bytes(self, path: str, data: bytes, media_type: str | None = None) -> Member:
        with self._open(path, media_type, len(data)) as target:
            target.write(data)
        return self._record(Member(path, hashlib.sha256(data).hexdigest(), len(data)))

    def add_file(self, path: str, handle: BinaryIO, media_type: str | None, size_hint: int | None) -> Member:
        """Copy a file of unknown digest, hashing it on the way."""
        digest = hashlib.sha256()
        size = self._copy(path, handle, media_type, size_hint, digest.update)
        return self._record(Member(path, digest.hexdigest(), size))

    def add_stored(self, path: str, handle: BinaryIO, media_type: str | None, sha256: str, size: int) -> Member:
        """Copy a file from content-addressed storage: its name is already the SHA-256 of its bytes.

        Only the size is checked (it costs nothing); hashing the bytes again would double the
        cost of the archive for an answer storage already gives.
        """
        copied = self._copy(path, handle, media_type, size, None)
        if copied != size:
            raise MemberChanged(f"{path}: {copied} bytes copied, {size} expected")
        return self._record(Member(path, sha256, size))

    def _copy(self, path: str, handle: BinaryIO, media_type: str | None, size_hint: int | None,
              observe: Callable[[memoryview], object] | None) -> int:
        buffer, size = self._buffer, 0
        with handle, self._open(path, media_type, size_hint) as target:
            while count := handle.readinto(buffer):  # type: ignore[attr-defined]
                chunk = buffer[:count]
                if observe is not None:
                    observe(chunk)
                target.write(chunk)
                size += count
        return size

    def _open(self, path: str, media_type: str | None, size_hint: int | None) -> IO[bytes]:
        info = zipfile.ZipInfo(path, date_time=(2020, 1, 1, 0, 0, 0))
        info.compress_type = compression_for(media_type)
        info.external_attr = 0o644 << 16
        return self.zip.open(info, "w", force_zip64=size_hint is None or size_hint > 2 ** 31)

    def move_first(self, path: str) -> None:
        """List a member first (in the ZIP's central directory and the manifest), wherever its bytes are."""
        # Readers list members in central directory order, which need not be the order of the
        # bytes: a member written last can still be the first one the jury sees.
        self.zip.filelist.sort(key=lambda info: info.filename != path)
        self.members.sort(key=lambda member: member.path != path)

    def _record(self, member: Member) -> Member:
        self.members.append(member)
        return member

    def close(self) -> None:
        self.zip.close()


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode()


def sign_manifest(data: bytes, key: badges.SigningKey) -> str:
    """A detached compact JWS (``header..signature``) over the manifest's exact bytes."""
    return jwt.api_jws.PyJWS().encode(data, key.key, algorithm="EdDSA",  # type: ignore[arg-type]
                                      headers={"kid": key.public.thumbprint(), "typ": JWS_TYP},
                                      is_payload_detached=True)


def signature_valid(data: bytes, token: str, public: badges.PublicKey) -> bool:
    """Check the detached JWS with the platform key only, and EdDSA only."""
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != "EdDSA" or header.get("kid") != public.thumbprint():
            return False
        jwt.api_jws.PyJWS().decode_complete(token, public.key, algorithms=["EdDSA"],  # type: ignore[arg-type]
                                            detached_payload=data)
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
        return (self.readable and self.manifest_found and self.signature_valid and not self.missing
                and not self.added and not self.altered and not self.unsafe)


def _unsafe_name(name: str) -> bool:
    parts = name.split("/")
    return (name.startswith("/") or "\\" in name or "\x00" in name or ".." in parts
            or (len(name) > 1 and name[1] == ":"))


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


def _read_manifest(archive: zipfile.ZipFile, by_name: dict[str, zipfile.ZipInfo], public: badges.PublicKey,
                   report: VerificationReport) -> dict[str, Any] | None:
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
    report.signature_valid = bool(data is not None and token
                                  and signature_valid(data, token.decode("ascii", "replace").strip(), public))
    if not report.signature_valid:
        report.problems.append("La signature du manifeste est absente ou invalide : le manifeste lui-même "
                               "a pu être modifié.")
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
