"""Row-by-row CSV reading shared by the CSV importers.

Quoted cells may hold newlines (ESCO) so lines are never split before parsing. The csv module
runs in strict mode, so an unterminated quote (a truncated file) is an error rather than a
silently merged row; a last row that is both short and lacks its line terminator is reported
as truncated too.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from .errors import EmptyInputError, ImportFormatError, MissingColumnsError, TruncatedInputError
from .sources import ByteSource, detect_encoding, ensure_not_empty, open_text

csv.field_size_limit(1 << 24)  # ESCO descriptions are long; 16 MiB per cell still bounds memory


@dataclass(frozen=True)
class CsvRow:
    """One data row, by header name; ``line`` is the 1-based line where the row starts."""

    line: int
    values: dict[str, str]
    short: bool

    def get(self, name: str) -> str:
        """Return a cell, '' when the column is absent or the row is short."""
        return self.values.get(name.casefold(), "")


def _sniff_delimiter(line: str) -> str:
    counts = {d: line.count(d) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def _refuse_nul(cells: list[str], header: list[str], line: int, name: str) -> None:
    # The csv module lets NUL through; PostgreSQL cannot store it and no label needs it. The decoders
    # are strict, so a cell never holds a lone surrogate.
    for index, cell in enumerate(cells):
        if "\x00" in cell:
            column = header[index] if index < len(header) else None
            raise ImportFormatError(
                f"{name}: NUL character in column {column or index + 1!r}", line=line, column=index + 1, field=column
            )


class CsvFile:
    """A CSV source read by header name, in one streaming pass per call to :meth:`rows`."""

    def __init__(self, source: ByteSource, *, delimiter: str | None = None) -> None:
        ensure_not_empty(source)
        self.source = source
        self.encoding = detect_encoding(source)
        self.comments: list[str] = []
        with open_text(source, self.encoding) as text:
            first = text.readline()
            while first.lstrip("\ufeff").startswith("#"):
                self.comments.append(first.lstrip("\ufeff").rstrip("\r\n"))
                first = text.readline()
        if not first.strip():
            raise EmptyInputError(f"{source.name} has no header row")
        self.delimiter = delimiter or _sniff_delimiter(first)
        self.skip = len(self.comments)
        header = next(csv.reader([first], delimiter=self.delimiter))
        self.header = [h.lstrip("\ufeff").strip() for h in header]
        self._lookup = {h.casefold(): h for h in self.header}

    @property
    def decoded_legacy(self) -> bool:
        """Tell whether the file was not UTF-8 (so a warning should say how it was decoded)."""
        return self.encoding not in ("utf-8", "utf-8-sig")

    def has(self, name: str) -> bool:
        """Tell whether a column exists (case-insensitive)."""
        return name.casefold() in self._lookup

    def require(self, names: Iterable[str]) -> None:
        """Raise :class:`MissingColumnsError` naming every absent column."""
        missing = [n for n in names if not self.has(n)]
        if missing:
            raise MissingColumnsError(missing, file=self.source.name)

    def rows(self) -> Iterator[CsvRow]:
        """Yield data rows keyed by canonical (lower-cased) header names."""
        keys = [h.casefold() for h in self.header]
        width = len(keys)
        with open_text(self.source, self.encoding) as text:
            for _ in range(self.skip):
                text.readline()
            reader = csv.reader(text, delimiter=self.delimiter, strict=True)
            previous: CsvRow | None = None
            try:
                next(reader, None)
                start = reader.line_num + 1
                for cells in reader:
                    if not any(c.strip() for c in cells):
                        start = reader.line_num + 1
                        continue
                    _refuse_nul(cells, self.header, start + self.skip, self.source.name)
                    row = CsvRow(start + self.skip, dict(zip(keys, cells, strict=False)), len(cells) < width)
                    if previous is not None:
                        yield previous
                    previous = row
                    start = reader.line_num + 1
            except csv.Error as exc:
                raise ImportFormatError(
                    f"{self.source.name}: invalid CSV ({exc})", line=reader.line_num + self.skip
                ) from exc
            if previous is not None:
                if previous.short and text.last not in ("\n", "\r"):
                    raise TruncatedInputError(f"{self.source.name} ends in the middle of a row", line=previous.line)
                yield previous
