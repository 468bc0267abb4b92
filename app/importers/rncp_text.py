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

# A compétence longer than this is never "high": several hundred characters are a paragraph.
MAX_ITEM = 200
MAX_SINGLE = 200

_HTML_TAG = re.compile(r"</?\s*(p|br|li|ul|ol|div|span|strong|b|i|em|u|ins|del|h[1-6]|table|tr|td)\b[^>]*>", re.I)
_ESCAPED_TAG = re.compile(r"&lt;/?\s*(p|br|li|ul|ol|div|strong|ins|span)\b", re.I)
# Letter-digit codes, one rule for every spelling: A1, C1.3A, C2.B1, A1.2, A1C1, A5.C1 (then "." or a dash).
_LETTER_CODE = r"[A-Z]{1,3}\d{1,2}[A-Z]?(?:\.?[A-Z]{1,2}\d{1,2}[A-Z]?|\.\d{1,2}[A-Z]?)*"
# Numbers: 1. / 1 - / 1) ; multi-level 3.1 / 3.1.1 / 3.1.2. (a space is enough after those).
_MULTI_NUMBER = r"\d{1,2}(?:\.\d{1,2})+"
_CODE_RE = re.compile(
    rf"^(?:(?P<code>{_LETTER_CODE})\.?(?:\s*[-–—:.)]\s+|\s+)"
    rf"|(?P<multi>{_MULTI_NUMBER})\.?(?:\s*[-–—:)]\s+|\s+)"
    rf"|(?P<number>\d{{1,2}})\s*[-–—.)]\s+)(?=\S)"
)
_BOUNDARY = re.compile(
    r"\s+(?=[*•▪◦]\s)"  # unambiguous bullets, even after one space (REVA's " * ")
    r"|\s{2,}(?=[o\-–—>·]\s)"  # ambiguous bullets only after a run of spaces
    rf"|\s{{2,}}(?=(?:{_LETTER_CODE}|{_MULTI_NUMBER})\.?\s*[-–—:.)]?\s)"  # codes after a run of spaces
    rf"|\s(?=(?:{_LETTER_CODE}|{_MULTI_NUMBER})\.?\s*[-–—:)]?\s+[A-ZÀ-Ý])"  # codes then a capital, after one space
)
_MARKER = re.compile(r"^([*•▪◦o\-–—>·])\s+")
# Real exports separate compétences by runs of two spaces or more (often six).
_WEAK = re.compile(r"\s{2,}")
_LINE = re.compile(r"[^\r\n]+")
_SEGMENT = re.compile(r"[A-Z]+\d+[A-Z]?|\d+[A-Z]?")
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
    introduction: str | None = None  # an introductory clause ("En mobilisant … :"), exact text


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
    start: int  # offsets in the (un-HTML-ed) text: the raw text is text[start:end], exactly
    end: int
    marker: str | None  # bullet character, "code" or None
    weak: bool  # separated from the previous one only by a run of spaces
    merged: bool = False

    def raw(self, text: str) -> str:
        return text[self.start : self.end]


def _tidy(label: str) -> str:
    return re.sub(r"\s+", " ", label).strip().rstrip(";,").strip()


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _fragments(work: str, limit: int) -> list[_Fragment]:
    fragments: list[_Fragment] = []
    for line in _LINE.finditer(work, 0, limit):
        first, last = line.span()
        cuts = [first] + [m.end() for m in _BOUNDARY.finditer(work, first, last)] + [last]
        for cut_start, cut_end in zip(cuts, cuts[1:], strict=False):
            start, end = _trimmed(work, cut_start, cut_end)
            if start == end:
                continue
            piece = work[start:end]
            match = _MARKER.match(piece)
            marker: str | None = None
            if match:
                marker = {"–": "-", "—": "-"}.get(match.group(1), match.group(1))
            elif _CODE_RE.match(piece):
                marker = "code"
            pieces = [start] + [m.end() for m in _WEAK.finditer(work, start, end)] + [end]
            subs = [_trimmed(work, a, b) for a, b in zip(pieces, pieces[1:], strict=False)]
            for index, (a, b) in enumerate(sub for sub in subs if sub[0] < sub[1]):
                weak_marker = marker if index == 0 else ("code" if _CODE_RE.match(work[a:b]) else None)
                fragments.append(_Fragment(a, b, weak_marker, index > 0))
    return fragments


def _label_and_code(raw: str) -> tuple[str, str | None]:
    text = _MARKER.sub("", raw, count=1)
    code = None
    match = _CODE_RE.match(text)
    if match:
        code = match.group("code") or match.group("multi") or match.group("number")
        text = text[match.end() :]
    return _tidy(text), code


def _code_levels(code: str | None) -> int:
    """How deep a human code is: 3.1.1 -> 3; A1C1, A5.C1, C1.3A -> 2; A1, 3 -> 1."""
    return len(_SEGMENT.findall(code or "")) or 1


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
    """Derive the compétences of one bloc from its ``LISTE_COMPETENCES`` text.

    Each item's ``raw`` is the exact source text of its fragment (of the text once HTML tags are
    turned into lines, for HTML fragments); the label is tidied (spaces collapsed).
    """
    if not text or not text.strip():
        return SplitResult((), "empty")
    work = text
    notes: list[str] = []
    is_html = False
    if _ESCAPED_TAG.search(work):
        work = html.unescape(work)
    if _HTML_TAG.search(work):
        work = html_to_text(work)
        is_html = True
    evaluation = None
    limit = len(work)
    match = _EVALUATION.search(work)
    if match:
        evaluation = work[match.start() :].strip()
        limit = match.start()
        notes.append("evaluation text found inside LISTE_COMPETENCES; kept as bloc metadata")

    fragments = _fragments(work, limit)
    noise = [_NOISE.match(_tidy(f.raw(work))) is not None for f in fragments]
    ignored = tuple(f.raw(work) for f, skip in zip(fragments, noise, strict=False) if skip)
    fragments = [f for f, skip in zip(fragments, noise, strict=False) if not skip]
    if ignored:
        notes.append(f"{len(ignored)} heading(s) ignored in LISTE_COMPETENCES: {' | '.join(ignored)}")
    if not fragments:
        return SplitResult((), "empty", evaluation, ignored, tuple(notes))

    multiline = len(_LINE.findall(work[:limit].strip())) > 1
    if len(fragments) == 1:
        return _single(fragments[0].raw(work), evaluation, ignored, notes, is_html)

    has_markers = any(f.marker is not None for f in fragments)
    merged: list[_Fragment] = []
    for fragment in fragments:
        previous = merged[-1] if merged else None
        raw = fragment.raw(work)
        continuation = (
            previous is not None
            and fragment.marker is None
            and raw[:1].islower()
            and not previous.raw(work).rstrip().endswith((".", ";", ":", "!", "?"))
            and (fragment.weak or has_markers)
        )
        if continuation and previous is not None:
            previous.end = fragment.end  # the source text between them stays as it is
            previous.merged = True
        else:
            merged.append(fragment)

    introduction = None
    first = merged[0]
    if len(merged) > 1 and first.marker is None and first.raw(work).rstrip().endswith(":"):
        # "En mobilisant les ressources … :" introduces the list: the bloc keeps it, not a compétence.
        introduction = first.raw(work)
        merged = merged[1:]
        notes.append("introductory clause kept as the bloc's introduction")

    kinds: list[str | None] = []
    for fragment in merged:
        if fragment.marker not in kinds and fragment.marker != "code":
            kinds.append(fragment.marker)
    coded = [_label_and_code(f.raw(work))[1] for f in merged if f.marker == "code"]
    top = min((_code_levels(c) for c in coded), default=1)
    items: list[ParsedCompetence] = []
    code_depth = 0
    for fragment in merged:
        raw = fragment.raw(work)
        label, code = _label_and_code(raw)
        if not label:
            continue
        if fragment.marker == "code":
            depth = min(_code_levels(code) - top + 1, 3)
            code_depth = depth
        elif code_depth:  # a bullet or plain line under a numbered compétence
            depth = min(code_depth + 1, 3)
        else:
            depth = min(kinds.index(fragment.marker) + 1, 3)
        low = fragment.merged or len(label) > MAX_ITEM or len(label) < 3
        if not has_markers and not multiline and label[:1].islower():
            low = True
        items.append(ParsedCompetence(label, raw, depth, code, "low" if low else "high"))
    if any(i.confidence == "low" for i in items):
        notes.append("some compétences were split with low confidence")
    if is_html:
        shape = "html"
    elif coded:
        shape = "numbered"
    elif has_markers:
        shape = "bullets"
    elif multiline:
        shape = "lines"
    else:
        shape = "spaced"
    return SplitResult(tuple(items), shape, evaluation, ignored, tuple(notes), introduction)


def _single(raw: str, evaluation: str | None, ignored: tuple[str, ...], notes: list[str], is_html: bool) -> SplitResult:
    body = _MARKER.sub("", raw, count=1)
    numbered = _inline_numbered(body)
    if numbered:
        items = tuple(_item(p) for p in numbered)
        return SplitResult(items, "numbered", evaluation, ignored, _noted(items, notes))
    parts = [p for p in (s.strip() for s in re.split(r"\s*;\s+", body)) if p]
    label, code = _label_and_code(raw)
    if len(parts) >= 2 and all(p[:1].isupper() or _MARKER.match(p) for p in parts):
        items = tuple(_item(p) for p in parts)
        return SplitResult(items, "semicolons", evaluation, ignored, _noted(items, notes))
    if len(label) <= MAX_SINGLE and len(_SENTENCES.findall(label)) < 2:
        item = ParsedCompetence(label, raw, 1, code, "high")
        return SplitResult((item,), "html" if is_html else "single", evaluation, ignored, tuple(notes))
    if len(parts) >= 2:
        notes.append("LISTE_COMPETENCES split on semicolons with low confidence")
        items = tuple(ParsedCompetence(_tidy(_MARKER.sub("", p)), p, 1, None, "low") for p in parts)
        return SplitResult(items, "semicolons", evaluation, ignored, tuple(notes))
    notes.append("LISTE_COMPETENCES could not be split; kept whole as one low-confidence compétence")
    return SplitResult((ParsedCompetence(label, raw, 1, code, "low"),), "unsplit", evaluation, ignored, tuple(notes))


def _noted(items: tuple[ParsedCompetence, ...], notes: list[str]) -> tuple[str, ...]:
    if any(i.confidence == "low" for i in items):
        return (*notes, "some compétences were split with low confidence")
    return tuple(notes)


def _item(raw: str) -> ParsedCompetence:
    label, code = _label_and_code(raw)
    return ParsedCompetence(label, raw, 1, code, "high" if 3 <= len(label) <= MAX_ITEM else "low")
