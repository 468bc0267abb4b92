"""Split RNCP ``LISTE_COMPETENCES`` free text into compétences, with a confidence flag.

The text's shape varies (guide §1.4): bullets flattened into runs of spaces (``*`` compétence,
``o`` savoir-faire), plain runs of spaces, line breaks, entity-escaped HTML fragments, codes
(``C1.3A``, ``A1.2 –``), numbering (``1 -``, ``1.``), ``; `` separators, noise headings and a
trailing ``Evaluation :`` paragraph. The caller keeps the raw text verbatim; this module only
derives a list, and never drops text silently: everything ends in an item, in ``ignored``
(noise headings) or in ``evaluation_text`` — the last two are reported as warnings.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser

from .records import Confidence

MAX_ITEM = 400
MAX_SINGLE = 300

_HTML_TAG = re.compile(r"</?\s*(p|br|li|ul|ol|div|span|strong|b|i|em|u|ins|del|h[1-6]|table|tr|td)\b[^>]*>", re.I)
_ESCAPED_TAG = re.compile(r"&lt;/?\s*(p|br|li|ul|ol|div|strong|ins|span)\b", re.I)
_LETTER_CODE = r"[A-Z]{1,3}\d{1,2}(?:\.[A-Z]?\d{1,2}[A-Z]?)*"
_CODE_RE = re.compile(
    rf"^(?:(?P<code>{_LETTER_CODE})(?:\s*[-–—:.)]\s+|\s+)|(?P<number>\d{{1,2}}(?:\.\d{{1,2}})*)\s*[-–—.)]\s+)(?=\S)"
)
_BOUNDARY = re.compile(
    r"\s+(?=[*•▪◦]\s)"  # unambiguous bullets, even after one space (REVA's " * ")
    r"|\s{2,}(?=[o\-–—>·]\s)"  # ambiguous bullets only after a run of spaces
    r"|\s{2,}(?=[A-Z]{1,3}\d{1,2}(?:\.[A-Z]?\d{1,2}[A-Z]?)*\s*[-–—:.)]?\s)"  # codes
)
_MARKER = re.compile(r"^([*•▪◦o\-–—>·])\s+")
_WEAK = re.compile(r"\s{3,}")
_EVALUATION = re.compile(r"(?:^|(?<=\n)|(?<=\s\s))(?=(?:modalit[ée]s?\s+d['’]\s?)?[ée]valuation\s*:)", re.I)
_NOISE = re.compile(
    r"^(?:bloc\s+(?:de\s+)?comp[ée]tences?(?:\s+n?°?\s*[\w.]+)?\s*:?|comp[ée]tences?\s+de\s+niveau\b.*)$", re.I
)
_SENTENCES = re.compile(r"[.!?]\s+[A-ZÀ-Ý]")
_INLINE_NUMBER = re.compile(r"(?:(?<=\s)|^)(\d{1,2})\s?[-–.)]\s+(?=\S)")


@dataclass(frozen=True)
class ParsedCompetence:
    """One compétence found in the text; ``depth`` 1 is a compétence, 2+ its savoir-faire."""

    label: str
    raw: str
    depth: int
    code: str | None
    confidence: Confidence


@dataclass(frozen=True)
class SplitResult:
    """The outcome of splitting one ``LISTE_COMPETENCES`` text."""

    items: tuple[ParsedCompetence, ...]
    shape: str
    evaluation_text: str | None = None
    ignored: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


class _HtmlToText(HTMLParser):
    _BLOCK = {"p", "br", "div", "ul", "ol", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "li":
            self.parts.append("\n• ")
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._BLOCK or tag == "li":
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(fragment: str) -> str:
    """Turn an HTML fragment into text, one block per line."""
    parser = _HtmlToText()
    parser.feed(fragment)
    parser.close()
    return "".join(parser.parts)


@dataclass
class _Fragment:
    raw: str
    marker: str | None  # bullet character, "code" or None
    weak: bool  # separated from the previous one only by a run of spaces
    merged: bool = False


def _tidy(label: str) -> str:
    return re.sub(r"\s+", " ", label).strip().rstrip(";,").strip()


def _fragments(work: str) -> list[_Fragment]:
    fragments: list[_Fragment] = []
    for line in work.split("\n"):
        if not line.strip():
            continue
        cuts = [0] + [m.end() for m in _BOUNDARY.finditer(line)] + [len(line)]
        for start, end in zip(cuts, cuts[1:], strict=False):
            piece = line[start:end].strip()
            if not piece:
                continue
            match = _MARKER.match(piece)
            marker: str | None = None
            if match:
                marker = {"–": "-", "—": "-"}.get(match.group(1), match.group(1))
            elif _CODE_RE.match(piece):
                marker = "code"
            for index, sub in enumerate(s for s in _WEAK.split(piece) if s.strip()):
                fragments.append(_Fragment(sub.strip(), marker if index == 0 else None, index > 0))
    return fragments


def _label_and_code(raw: str) -> tuple[str, str | None]:
    text = _MARKER.sub("", raw, count=1)
    code = None
    match = _CODE_RE.match(text)
    if match:
        code = match.group("code")
        text = text[match.end() :]
    return _tidy(text), code


def _inline_numbered(text: str) -> list[str] | None:
    matches = list(_INLINE_NUMBER.finditer(text))
    numbers = [int(m.group(1)) for m in matches]
    if len(numbers) < 2 or numbers != list(range(1, len(numbers) + 1)):
        return None
    cuts = [m.start() for m in matches] + [len(text)]
    head = text[: cuts[0]].strip()
    parts = [text[a:b].strip() for a, b in zip(cuts, cuts[1:], strict=False)]
    return ([head] if head else []) + parts


def split_competences(text: str | None) -> SplitResult:
    """Derive the compétences of one bloc from its ``LISTE_COMPETENCES`` text."""
    if not text or not text.strip():
        return SplitResult((), "empty")
    work = text.replace("\r\n", "\n").replace("\r", "\n")
    notes: list[str] = []
    is_html = False
    if _ESCAPED_TAG.search(work):
        work = html.unescape(work)
    if _HTML_TAG.search(work):
        work = html_to_text(work)
        is_html = True
    evaluation = None
    match = _EVALUATION.search(work)
    if match:
        evaluation = work[match.start() :].strip()
        work = work[: match.start()]
        notes.append("evaluation text found inside LISTE_COMPETENCES; kept as bloc metadata")

    fragments = _fragments(work)
    noise = [_NOISE.match(_tidy(f.raw)) is not None for f in fragments]
    ignored = tuple(f.raw for f, skip in zip(fragments, noise, strict=False) if skip)
    fragments = [f for f, skip in zip(fragments, noise, strict=False) if not skip]
    if ignored:
        notes.append(f"{len(ignored)} heading(s) ignored in LISTE_COMPETENCES: {' | '.join(ignored)}")
    if not fragments:
        return SplitResult((), "empty", evaluation, ignored, tuple(notes))

    multiline = sum(1 for line in work.split("\n") if line.strip()) > 1
    if len(fragments) == 1:
        return _single(fragments[0].raw, evaluation, ignored, notes, is_html)

    has_markers = any(f.marker not in (None,) for f in fragments)
    merged: list[_Fragment] = []
    for fragment in fragments:
        previous = merged[-1] if merged else None
        continuation = (
            previous is not None
            and fragment.marker is None
            and fragment.raw[:1].islower()
            and not previous.raw.rstrip().endswith((".", ";", ":", "!", "?"))
            and (fragment.weak or has_markers)
        )
        if continuation and previous is not None:
            previous.raw = f"{previous.raw} {fragment.raw}"
            previous.merged = True
        else:
            merged.append(fragment)

    kinds: list[str | None] = []
    for fragment in merged:
        if fragment.marker not in kinds:
            kinds.append(fragment.marker)
    items: list[ParsedCompetence] = []
    for fragment in merged:
        label, code = _label_and_code(fragment.raw)
        if not label:
            continue
        depth = min(kinds.index(fragment.marker) + 1, 3)
        low = fragment.merged or len(label) > MAX_ITEM or len(label) < 3
        if not has_markers and not multiline and label[:1].islower():
            low = True
        items.append(ParsedCompetence(label, fragment.raw, depth, code, "low" if low else "high"))
    if any(i.confidence == "low" for i in items):
        notes.append("some compétences were split with low confidence")
    if is_html:
        shape = "html"
    elif any(k == "code" for k in kinds):
        shape = "numbered"
    elif has_markers:
        shape = "bullets"
    elif multiline:
        shape = "lines"
    else:
        shape = "spaced"
    return SplitResult(tuple(items), shape, evaluation, ignored, tuple(notes))


def _single(raw: str, evaluation: str | None, ignored: tuple[str, ...], notes: list[str], is_html: bool) -> SplitResult:
    body = _MARKER.sub("", raw, count=1)
    numbered = _inline_numbered(body)
    if numbered:
        return SplitResult(tuple(_item(p) for p in numbered), "numbered", evaluation, ignored, tuple(notes))
    parts = [p for p in (s.strip() for s in re.split(r"\s*;\s+", body)) if p]
    label, code = _label_and_code(raw)
    if len(parts) >= 2 and all(p[:1].isupper() or _MARKER.match(p) for p in parts):
        return SplitResult(tuple(_item(p) for p in parts), "semicolons", evaluation, ignored, tuple(notes))
    if len(label) <= MAX_SINGLE and len(_SENTENCES.findall(label)) < 2:
        item = ParsedCompetence(label, raw, 1, code, "high")
        return SplitResult((item,), "html" if is_html else "single", evaluation, ignored, tuple(notes))
    if len(parts) >= 2:
        notes.append("LISTE_COMPETENCES split on semicolons with low confidence")
        items = tuple(ParsedCompetence(_tidy(_MARKER.sub("", p)), p, 1, None, "low") for p in parts)
        return SplitResult(items, "semicolons", evaluation, ignored, tuple(notes))
    notes.append("LISTE_COMPETENCES could not be split; kept whole as one low-confidence compétence")
    return SplitResult((ParsedCompetence(label, raw, 1, code, "low"),), "unsplit", evaluation, ignored, tuple(notes))


def _item(raw: str) -> ParsedCompetence:
    label, code = _label_and_code(raw)
    return ParsedCompetence(label, raw, 1, code, "high" if 3 <= len(label) <= MAX_ITEM else "low")
