"""Exceptions raised by the framework importers.

Every error is an :class:`ImportFormatError` so the persisting service needs one ``except`` clause
to roll its transaction back. An error may be raised after records were already yielded (a
truncated file is only noticed at its end): consumers must treat the whole stream as failed.
"""

from __future__ import annotations


class ImportFormatError(Exception):
    """The input cannot be imported; ``line``/``column`` are 1-based when known."""

    def __init__(
        self, message: str, line: int | None = None, column: int | None = None, field: str | None = None
    ) -> None:
        self.reason = message
        self.line = line
        self.column = column
        self.field = field
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(f"column {self.column}")
        if self.field is not None:
            where.append(f"field {self.field!r}")
        return f"{self.reason} ({', '.join(where)})" if where else self.reason


class EmptyInputError(ImportFormatError):
    """The file holds no data at all."""


class TruncatedInputError(ImportFormatError):
    """The file ends in the middle of a record or document."""


class UnsafeInputError(ImportFormatError):
    """The input was refused for safety (DTD/entities, zip traversal, decompression bomb)."""


class MissingColumnsError(ImportFormatError):
    """A CSV header lacks required columns; ``missing`` lists them."""

    def __init__(self, missing: list[str], *, file: str | None = None) -> None:
        self.missing = missing
        where = f" in {file}" if file else ""
        super().__init__(f"missing required column(s){where}: {', '.join(missing)}", line=1)


class UnknownFormatError(ImportFormatError):
    """The format of the input could not be recognised."""
