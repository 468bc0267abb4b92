"""W3C Bitstring Status List: allocate indexes, set and read bits, encode, build the credential."""

from __future__ import annotations

import gzip
import io
import secrets
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .contexts import VC_V2
from .encoding import multibase_decode, multibase_encode
from .errors import InvalidInput, StatusListError
from .timeutil import format_datetime

MIN_ENTRIES = 131_072  # 16 KiB: the W3C minimum, for herd privacy
MAX_ENTRIES = 8 * 1024 * 1024 * 8  # 8 MiB of bits, a guard against decompression bombs
STATUS_PURPOSES = ("revocation", "suspension")


@dataclass
class StatusList:
    """A mutable bitstring; bit 0 is the most significant bit of the first byte."""

    size: int = MIN_ENTRIES
    bits: bytearray = field(default_factory=bytearray)

    def __post_init__(self) -> None:
        if self.size < MIN_ENTRIES or self.size % 8:
            raise StatusListError(f"a status list has at least {MIN_ENTRIES} entries, a multiple of 8")
        if self.size > MAX_ENTRIES:
            raise StatusListError("status list too large")
        if not self.bits:
            self.bits = bytearray(self.size // 8)
        elif len(self.bits) * 8 != self.size:
            raise StatusListError("bitstring length does not match the size")

    def _locate(self, index: int) -> tuple[int, int]:
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < self.size:
            raise StatusListError(f"status index out of range: {index!r}")
        return index >> 3, 0x80 >> (index & 7)

    def get(self, index: int) -> bool:
        """Return True when the status bit at ``index`` is set."""
        byte, mask = self._locate(index)
        return bool(self.bits[byte] & mask)

    def set(self, index: int, value: bool = True) -> None:
        """Set (True: revoked or suspended) or clear the bit at ``index``."""
        byte, mask = self._locate(index)
        if value:
            self.bits[byte] |= mask
        else:
            self.bits[byte] &= ~mask & 0xFF

    def encode(self) -> str:
        """Return ``encodedList``: multibase base64url (``u``) of the GZIP-compressed bits."""
        # mtime=0 makes the output deterministic, so an unchanged list re-signs identically.
        buffer = io.BytesIO()
        with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0, compresslevel=9) as stream:
            stream.write(self.bits)
        return multibase_encode(buffer.getvalue(), "base64url")

    @classmethod
    def decode(cls, encoded: str) -> StatusList:
        """Parse an ``encodedList``, refusing decompression bombs and short lists."""
        if not isinstance(encoded, str) or not encoded.startswith("u"):
            raise StatusListError("encodedList must be multibase base64url (u...)")
        try:
            compressed = multibase_decode(encoded)
        except InvalidInput as exc:
            raise StatusListError("encodedList is not base64url") from exc
        limit = MAX_ENTRIES // 8
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        try:
            bits = inflater.decompress(compressed, limit + 1)
        except zlib.error as exc:
            raise StatusListError("encodedList is not GZIP data") from exc
        if len(bits) > limit or inflater.unconsumed_tail:
            raise StatusListError("status list too large")
        if not inflater.eof:
            raise StatusListError("truncated GZIP data")
        return cls(size=len(bits) * 8, bits=bytearray(bits))


@dataclass
class IndexAllocator:
    """Hand out unused status list indexes at random (so an index reveals no issue order)."""

    size: int = MIN_ENTRIES
    used: set[int] = field(default_factory=set)
    randbelow: Callable[[int], int] = secrets.randbelow

    def allocate(self) -> int:
        """Return a fresh unused index and mark it used."""
        if len(self.used) >= self.size:
            raise StatusListError("status list is full")
        # Random probing is fast while the list is sparse; fall back to a scan when dense.
        for _ in range(64):
            index = self.randbelow(self.size)
            if index not in self.used:
                self.used.add(index)
                return index
        start = self.randbelow(self.size)
        for offset in range(self.size):
            index = (start + offset) % self.size
            if index not in self.used:
                self.used.add(index)
                return index
        raise StatusListError("status list is full")  # pragma: no cover - guarded above

    def release(self, index: int) -> None:
        """Return an index to the pool (only for credentials never issued)."""
        self.used.discard(index)


def build_status_list_credential(
    *,
    id: str,
    issuer: dict[str, Any] | str,
    status_list: StatusList,
    purpose: str,
    valid_from: datetime,
    valid_until: datetime | None = None,
) -> dict[str, Any]:
    """Return an unsigned ``BitstringStatusListCredential`` for one purpose."""
    if purpose not in STATUS_PURPOSES:
        raise InvalidInput("status purpose must be revocation or suspension")
    out: dict[str, Any] = {
        "@context": [VC_V2],
        "id": id,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
        "validFrom": format_datetime(valid_from),
    }
    if valid_until is not None:
        out["validUntil"] = format_datetime(valid_until)
    out["credentialSubject"] = {
        "id": f"{id}#list",
        "type": "BitstringStatusList",
        "statusPurpose": purpose,
        "encodedList": status_list.encode(),
    }
    return out
