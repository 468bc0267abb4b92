"""Competency-framework importers: files in, plain records out (no Flask, no SQLAlchemy).

Stream contract — every importer returns an iterator that yields, in order:

1. one :class:`FrameworkHeader` (source type, title, version, language, source id, metadata);
2. then, interleaved, :class:`CompetencyRecord` (tree nodes), :class:`AssociationRecord`
   (relations that are not the tree edge) and :class:`WarningRecord` (kept for the report).

``CompetencyRecord.key`` is unique within the stream and ``parent_key`` names another record
of the same stream, possibly one yielded *later* (ESCO, CASE, custom files have no order):
insert every node, then resolve parents by key. RNCP streams always yield parents first.
An :class:`ImportFormatError` may be raised at any point, including after records were
yielded (a truncated file is only seen at its end): the persisting service must then roll
back its transaction. Importers read files in bounded memory (streaming XML/CSV/JSON; a
key index at most) and may re-open a source a few times, so sources are paths or bytes,
never consumed streams.

Progress: every importer takes ``on_progress(counts)`` and ``progress_every`` (records);
the callback receives a :class:`Counts` snapshot periodically and once more with
``done=True`` at the end.

Entry points::

    detect_format(path_or_bytes, filename=None) -> Format
    open_import(path_or_bytes, filename=None, *, format=None, on_progress=None, **options)
    parse_rncp_xml(source, filename=None, *, on_progress=None, progress_every=1000)
    parse_rncp_csv(source, filename=None, *, on_progress=None, progress_every=1000)
    parse_esco(sources, *, language=None, version=None, fallback_descriptions=None, ...)
    parse_case(source, filename=None, *, on_progress=None, progress_every=1000)
    parse_custom(source, filename=None, *, title=None, on_progress=None, progress_every=1000)
    split_header(stream) -> (FrameworkHeader, iterator of records)
    alignment_for(record, header, public_url=None, *, case_base_url=None) -> OB 3.0 Alignment
    to_cfpackage(header, records, base_url, *, last_change=None) -> CASE 1.0 CFPackage dict
"""

from __future__ import annotations

from .alignment import alignment_for, extra_alignments_for
from .case import parse_case
from .case_export import case_identifier, to_cfpackage
from .custom import parse_custom
from .detect import FORMATS, Format, competencies, detect_format, open_import, split_header
from .errors import (
    EmptyInputError,
    ImportFormatError,
    MissingColumnsError,
    TruncatedInputError,
    UnknownFormatError,
    UnsafeInputError,
)
from .esco import parse_esco
from .records import (
    AssociationRecord,
    CompetencyRecord,
    Counts,
    FrameworkHeader,
    ProgressCallback,
    Record,
    StreamItem,
    WarningRecord,
    count_stream,
)
from .rncp_csv import parse_rncp_csv
from .rncp_text import split_competences
from .rncp_xml import parse_rncp_xml
from .text import normalise_for_matching

__all__ = [
    "FORMATS",
    "AssociationRecord",
    "CompetencyRecord",
    "Counts",
    "EmptyInputError",
    "Format",
    "FrameworkHeader",
    "ImportFormatError",
    "MissingColumnsError",
    "ProgressCallback",
    "Record",
    "StreamItem",
    "TruncatedInputError",
    "UnknownFormatError",
    "UnsafeInputError",
    "WarningRecord",
    "alignment_for",
    "case_identifier",
    "competencies",
    "count_stream",
    "detect_format",
    "extra_alignments_for",
    "normalise_for_matching",
    "open_import",
    "parse_case",
    "parse_custom",
    "parse_esco",
    "parse_rncp_csv",
    "parse_rncp_xml",
    "split_competences",
    "split_header",
    "to_cfpackage",
]
