"""Helpers shared by the API tests: problem+json checks and small valid files."""

from __future__ import annotations

import struct
import zlib
from typing import Any

PROBLEM_KEYS = {"type", "title", "status", "instance"}


def assert_problem(response: Any, status: int, *pointers: str) -> dict[str, Any]:
    """Check an RFC 9457 error: status, media type, required keys, and the fields it names."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.mimetype == "application/problem+json", response.headers
    body = response.get_json()
    assert PROBLEM_KEYS <= set(body), body
    assert body["status"] == status
    assert body["type"].startswith("https://blason.example/problems/")
    assert body["instance"] == response.request.path
    named = {e["pointer"] for e in body.get("errors", [])}
    for pointer in pointers:
        assert pointer in named, (pointer, body)
    return body  # type: ignore[no-any-return]


def png_bytes(width: int = 2, height: int = 2, seed: int = 0) -> bytes:
    """A valid RGB PNG; ``seed`` changes the pixels (and so the hash)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes((seed + x + y) % 256 for x in range(width * 3)) for y in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def declared_parameters(spec: dict[str, Any], operation: dict[str, Any]) -> list[dict[str, Any]]:
    """An OpenAPI operation's parameters, references to components resolved."""
    return [
        spec["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p
        for p in operation.get("parameters", [])
    ]
