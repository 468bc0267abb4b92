"""Streaming JSON helpers (ijson) shared by the CASE and custom JSON importers.

``scan`` walks a document once and yields the objects found at the wanted paths, building one
object at a time, so memory is bounded by the largest object, not by the file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO

import ijson

from .errors import ImportFormatError, TruncatedInputError
from .sources import ByteSource, open_utf8

POSITION_PROBE_LIMIT = 32 << 20  # re-read small files with json to locate a syntax error


def open_json(source: ByteSource, encoding: str) -> BinaryIO:
    """Open a JSON source as UTF-8 bytes without BOM."""
    return open_utf8(source, "utf-8" if encoding == "utf-8" else encoding)


def scan(stream: BinaryIO, wanted: Mapping[str, str], source: ByteSource) -> Iterator[tuple[str, Any]]:
    """Yield ``(name, value)`` for every value whose ijson prefix is in ``wanted``."""
    builder: Any = None
    current = ""
    first = True
    try:
        for prefix, event, value in ijson.parse(stream, use_float=True):
            if first:
                first = False
                if event != "start_map":
                    raise ImportFormatError(f"{source.name}: the JSON document must be an object")
            if event in ("string", "map_key") and _unstorable(value):
                raise ImportFormatError(
                    f"{source.name}: NUL character or lone surrogate in the string at {prefix or 'the top level'!r}",
                    field=prefix or None,
                )
            if builder is not None:
                builder.event(event, value)
                if prefix == current and event in ("end_map", "end_array"):
                    yield wanted[current], builder.value
                    builder = None
                continue
            if prefix in wanted:
                if event in ("start_map", "start_array"):
                    builder = ijson.ObjectBuilder()
                    builder.event(event, value)
                    current = prefix
                elif event not in ("map_key", "end_map", "end_array"):
                    yield wanted[prefix], value
    except ijson.IncompleteJSONError as exc:
        if "premature" in str(exc).lower() or "incomplete" in str(exc).lower():
            raise TruncatedInputError(f"{source.name}: JSON ends prematurely") from exc
        raise _located(source, exc) from exc
    except ijson.JSONError as exc:
        raise _located(source, exc) from exc
    if first:
        raise TruncatedInputError(f"{source.name}: no JSON document")


def _unstorable(text: str) -> bool:
    # PostgreSQL cannot store NUL; a lone surrogate has no UTF-8 form (the C backend already
    # replaces those, the pure-Python one does not).
    if "\x00" in text:
        return True
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _located(source: ByteSource, exc: Exception) -> ImportFormatError:
    if source.size is not None and source.size <= POSITION_PROBE_LIMIT:
        with source.open() as stream:
            data = stream.read()
        try:
            json.loads(data.decode("utf-8-sig", errors="replace"))
        except json.JSONDecodeError as probe:
            return ImportFormatError(
                f"{source.name}: malformed JSON: {probe.msg}", line=probe.lineno, column=probe.colno
            )
    return ImportFormatError(f"{source.name}: malformed JSON: {exc}")


def top_level_keys(source: ByteSource, encoding: str, limit: int = 64) -> list[str]:
    """Return the first keys of a JSON object without reading the whole file."""
    keys: list[str] = []
    with open_json(source, encoding) as stream:
        try:
            for prefix, event, value in ijson.parse(stream):
                if prefix == "" and event == "map_key":
                    keys.append(value)
                    if len(keys) >= limit:
                        break
                elif prefix == "" and event != "start_map":
                    break
        except ijson.JSONError:
            pass
    return keys
