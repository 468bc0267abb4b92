"""Drawing French A4 documents straight onto a reportlab canvas: fonts, text styles, line
wrapping, and a small page layout (used by the jury dossier's PDF).

A cursor goes down the page; pages break between lines; lines are wrapped greedily, measured with
``stringWidth``; this is several times faster than platypus for long documents, which parses
markup, splits frames and re-lays out tables several times over. Each page's text is written as
one block of text operators that sets a font or colour only when it changes. QR codes are vector
paths, drawn once per URL as a form and reused.

Layout rules: a heading is kept with the first lines after it; long texts break between any two
lines; the header row of a table is repeated on each page and a row is never split; a path or URL
too long for its column is cut after / - _ . ? & = (or anywhere); French punctuation (« » : ; ! ?)
stays on the line of its word.

Fonts: Bitstream Vera (shipped inside reportlab, free licence), embedded as TrueType subsets. It
covers French entirely (é è à ç œ « » ’ …); the few spaces it lacks (narrow no-break space) are
printed as a no-break space, where a line never breaks.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import Any, NamedTuple
from xml.sax.saxutils import escape

import reportlab
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.rl_accel import escapePDF, fp_str
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from app.platform.i18n import Translator, translator
from badges.qr import qr_matrix

FONT = "BlasonVera"
BOLD, ITALIC, BOLD_ITALIC = FONT + "-Bold", FONT + "-Italic", FONT + "-BoldItalic"
INK = colors.HexColor("#1f2937")
MUTED = colors.HexColor("#5b6472")
RULE = colors.HexColor("#c9ced6")
NAVY = colors.HexColor("#12355b")
SLATE = colors.HexColor("#374151")
ALERT = colors.HexColor("#8a1c1c")
SHADE = colors.HexColor("#eef1f5")
# Characters Vera lacks, printed as their nearest equivalent.
_SUBSTITUTES = str.maketrans(
    {
        "\u202f": "\u00a0",
        "\u2009": " ",
        "\u2007": " ",
        "\u2011": "-",
        "\u2010": "-",
        "\ufeff": None,
        "\t": " ",
        "\r": None,
    }
)

PAGE_WIDTH, PAGE_HEIGHT = A4
LEFT, RIGHT, TOP, BOTTOM = 18 * mm, PAGE_WIDTH - 18 * mm, PAGE_HEIGHT - 16 * mm, 20 * mm
WIDTH = RIGHT - LEFT
QR_SIZE = 22 * mm


class Style(NamedTuple):
    font: str
    size: float
    leading: float
    colour: colors.Color


BODY = Style(FONT, 9.5, 13, INK)
SMALL = Style(FONT, 8, 10.5, MUTED)
TITLE = Style(BOLD, 18, 23, INK)
SUBTITLE = Style(FONT, 11, 15, MUTED)
H1 = Style(BOLD, 13.5, 17, NAVY)
H2 = Style(BOLD, 10.5, 14, INK)
LABEL = Style(BOLD, 8.5, 11, MUTED)
QUOTE = Style(ITALIC, 9.5, 13, INK)
QUOTE_LABEL = Style(BOLD_ITALIC, 9.5, 13, MUTED)
VERBATIM = Style(FONT, 8.5, 11.5, SLATE)
CELL = Style(FONT, 8.5, 11, INK)
FOOTER = Style(FONT, 7.5, 9, MUTED)

Run = tuple[str, colors.Color, str]  # font, colour, text
Line = str | Sequence[Run]  # a line in its paragraph's style, or in runs of their own


def register_fonts() -> str:
    """Register the Vera family once; return the family name."""
    if FONT not in pdfmetrics.getRegisteredFontNames():
        folder = os.path.join(os.path.dirname(reportlab.__file__), "fonts")
        for name, file in (
            (FONT, "Vera.ttf"),
            (BOLD, "VeraBd.ttf"),
            (ITALIC, "VeraIt.ttf"),
            (BOLD_ITALIC, "VeraBI.ttf"),
        ):
            pdfmetrics.registerFont(TTFont(name, os.path.join(folder, file)))
        pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=ITALIC, boldItalic=BOLD_ITALIC)
    return FONT


def plain(value: Any) -> str:
    """Text drawn as is (not markup): only the characters Vera lacks are replaced."""
    return "" if value is None else str(value).translate(_SUBSTITUTES)


def text(value: Any) -> str:
    """Escape for reportlab's paragraph markup, keep line breaks, print every French character."""
    if value is None:
        return ""
    cleaned = escape(str(value).translate(_SUBSTITUTES))
    return cleaned.replace("\n", "<br/>")


# French punctuation stays on the line of the word it belongs to (a no-break space is drawn as a space).
_GLUED = re.compile(r"(?<=«) | (?=[»:;!?])")


def _glue(value: str) -> str:
    return _GLUED.sub("\u00a0", value)


def wrap(value: str, width: float, font: str = FONT, size: float = 9.5) -> list[str]:
    """Lines no wider than ``width``, broken at spaces (runs of spaces collapse), at each line break,
    and inside a word only when the word alone is too wide."""
    out: list[str] = []
    space = stringWidth(" ", font, size)
    for paragraph in _glue(value).split("\n"):
        words = [word for word in paragraph.split(" ") if word]
        paragraph = " ".join(words)
        if stringWidth(paragraph, font, size) <= width:  # most texts: one measure, no split
            out.append(paragraph)
            continue
        line, used = "", 0.0
        for word in words:
            size_of = stringWidth(word, font, size)
            if line and used + space + size_of <= width:
                line, used = f"{line} {word}", used + space + size_of
                continue
            if line:
                out.append(line)
            if size_of > width:
                *whole, word = wrap_anywhere(word, width, size, font)
                out += whole
                size_of = stringWidth(word, font, size)
            line, used = word, size_of
        out.append(line)
    return out


def wrap_runs(runs: Sequence[Run], width: float, size: float) -> list[list[Run]]:
    """Lines of mixed runs (a bold label, then its value…) no wider than ``width``, broken at spaces."""
    runs = [(font, colour, _glue(value.replace("\n", " "))) for font, colour, value in runs]
    if sum(stringWidth(value, font, size) for font, _, value in runs) <= width:
        return [runs]
    words: list[list[Run]] = [[]]  # a word ends at a space, whatever runs it spans
    for font, colour, value in runs:
        for i, part in enumerate(value.split(" ")):
            if i:
                words.append([])
            if part:
                words[-1].append((font, colour, part))
    lines: list[list[Run]] = []
    line: list[Run] = []
    used = 0.0
    for word in filter(None, words):
        size_of = sum(stringWidth(value, font, size) for font, _, value in word)
        space = stringWidth(" ", word[0][0], size)  # drawn in the style of the word it precedes
        if line and used + space + size_of > width:
            lines.append(line)
            line, used = [], 0.0
        if not line and size_of > width:  # a URL or the like: cut in the style it starts with
            font, colour = word[0][0], word[0][1]
            *whole, last = wrap_anywhere("".join(value for _, _, value in word), width, size, font)
            lines += [[(font, colour, piece)] for piece in whole]
            word, size_of = [(font, colour, last)], stringWidth(last, font, size)
        if line:
            used += space
            word = [(word[0][0], word[0][1], " " + word[0][2])] + word[1:]
        for font, colour, value in word:
            if line and line[-1][0] == font and line[-1][1] is colour:
                line[-1] = (font, colour, line[-1][2] + value)
            else:
                line.append((font, colour, value))
        used += size_of
    return lines + [line] if line else lines


def wrap_anywhere(value: str, width: float, size: float = 8.5, font: str = FONT) -> list[str]:
    """Lines of a path or URL no wider than ``width``, broken after / - _ . ? & = (or anywhere)."""
    if stringWidth(value, font, size) <= width:
        return [value]
    lines, line, used = [], "", 0.0
    for token in re.findall(r"[^/\-_.?&=]+[/\-_.?&=]*|[/\-_.?&=]+", value):
        size_of = stringWidth(token, font, size)
        if used + size_of <= width:
            line, used = line + token, used + size_of
            continue
        if line:
            lines.append(line)
        line, used = "", 0.0
        for char in token:  # glyph widths add up (no kerning), so a long token is cut in one pass
            char_width = stringWidth(char, font, size)
            if line and used + char_width > width:
                lines.append(line)
                line, used = "", 0.0
            line, used = line + char, used + char_width
    return lines + [line] if line else lines


class Layout:
    """A cursor down the A4 pages of one canvas: page breaks, paragraphs, tables, QR codes, footers."""

    def __init__(self, canvas: Canvas, footer: str, tr: Translator | None = None) -> None:
        self.canvas, self.footer, self.page = canvas, footer, 1
        self.tr = tr or translator("fr")
        self.y: float = TOP
        self._qr: dict[str, str] = {}  # URL → form name
        self._pen = _Pen(canvas)

    def space(self, height: float) -> None:
        """Leave ``height`` blank, except at the top of a page."""
        if self.y < TOP:
            self.y -= height

    def ensure(self, height: float) -> bool:
        """Start a new page unless ``height`` fits below the cursor; True when it did."""
        if self.y - height >= BOTTOM or self.y >= TOP:
            return False
        self.new_page()
        return True

    def new_page(self) -> None:
        self._close_page()
        self.page += 1
        self.y = TOP

    def close(self) -> None:
        self._close_page()
        self.canvas.save()

    def _close_page(self) -> None:
        pen, canvas = self._pen, self.canvas
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.5)
        canvas.line(LEFT, 14 * mm, RIGHT, 14 * mm)
        number = self.tr("pdf.page", number=self.page)
        room = WIDTH - stringWidth(number, FONT, FOOTER.size) - 6 * mm
        label = (
            self.footer
            if stringWidth(self.footer, FONT, FOOTER.size) <= room
            else (wrap_anywhere(self.footer, room - stringWidth("…", FONT, FOOTER.size), FOOTER.size)[0] + "…")
        )
        pen.line(LEFT, 10 * mm, label, FOOTER)
        pen.line(RIGHT - stringWidth(number, FONT, FOOTER.size), 10 * mm, number, FOOTER)
        pen.flush()
        canvas.showPage()

    def lines(self, lines: Sequence[Line], style: Style, indent: float = 0, keep: int = 1) -> None:
        """Draw lines from the cursor down, breaking pages between lines but not in the first ``keep``."""
        self.ensure(min(keep, len(lines)) * style.leading)
        x = LEFT + indent
        for line in lines:
            if self.y - style.leading < BOTTOM:
                self.new_page()
            self._pen.line(x, self.y - style.size, line, style)
            self.y -= style.leading

    def text(self, value: Any, style: Style, indent: float = 0) -> None:
        self.lines(wrap(plain(value), WIDTH - indent, style.font, style.size), style, indent)

    def runs(self, runs: Sequence[Run], style: Style, indent: float = 0) -> None:
        self.lines(wrap_runs(runs, WIDTH - indent, style.size), style, indent)

    def heading(
        self, value: str, style: Style, before: float, after: float, then: float = 0, indent: float = 0
    ) -> None:
        """A heading kept on the page of the ``then`` points that follow it."""
        lines = wrap(plain(value), WIDTH - indent, style.font, style.size)
        self.space(before)
        self.ensure(len(lines) * style.leading + after + then)
        self.lines(lines, style, indent)
        self.space(after)

    def table(
        self,
        widths: Sequence[float],
        rows: Sequence[Sequence[Sequence[Line]]],
        style: Style,
        header: Sequence[Sequence[Line]] | None = None,
        align: str = "",
        pad: float = 3,
    ) -> None:
        """A grid of pre-wrapped cells; rows never split, the header row is repeated on each page."""
        edges = [LEFT + sum(widths[:i]) for i in range(len(widths) + 1)]
        align = align.ljust(len(widths), "L")
        rules: list[tuple[float, float, float, float]] = []

        def height(row: Sequence[Sequence[Line]]) -> float:
            return max(len(cell) for cell in row) * style.leading + 2 * pad

        def draw(row: Sequence[Sequence[Line]], row_style: Style, shade: bool = False) -> None:
            h = height(row)
            if shade:
                self.canvas.setFillColor(SHADE)
                self.canvas.rect(LEFT, self.y - h, WIDTH, h, stroke=0, fill=1)
            for column, cell in enumerate(row):
                baseline, left, right = self.y - pad - style.size, edges[column] + 4, edges[column + 1] - 4
                for line in cell:
                    x = left
                    if align[column] != "L":
                        free = right - left - _line_width(line, row_style)
                        x += free if align[column] == "R" else free / 2
                    self._pen.line(x, baseline, line, row_style)
                    baseline -= style.leading
            self.y -= h
            rules.append((LEFT, self.y, RIGHT, self.y))

        def start() -> float:
            rules.append((LEFT, self.y, RIGHT, self.y))
            top = self.y
            if header:
                draw(header, style._replace(font=BOLD), shade=True)
            return top

        def finish(top: float) -> None:
            rules.extend((x, top, x, self.y) for x in edges)
            self.canvas.setStrokeColor(RULE)
            self.canvas.setLineWidth(0.4)
            self.canvas.lines(rules)
            rules.clear()

        self.ensure((height(header) if header else 0) + (height(rows[0]) if rows else 0))
        top = start()
        for row in rows:
            if self.y - height(row) < BOTTOM:
                finish(top)
                self.new_page()
                top = start()
            draw(row, style)
        finish(top)

    def qr(self, url: str, x: float, y: float) -> None:
        """The QR code of ``url``, QR_SIZE wide, its lower left corner at (x, y); drawn once per URL."""
        canvas = self.canvas
        name = self._qr.get(url)
        if name is None:
            name = self._qr[url] = f"qr{len(self._qr)}"
            matrix = qr_matrix(url)  # quiet zone included
            module = QR_SIZE / len(matrix)
            canvas.beginForm(name, 0, 0, QR_SIZE, QR_SIZE)
            canvas.setFillColor(colors.white)
            canvas.rect(0, 0, QR_SIZE, QR_SIZE, stroke=0, fill=1)
            path = canvas.beginPath()  # one path: no hairline seams between adjacent modules
            for row, cells in enumerate(matrix):
                top = QR_SIZE - (row + 1) * module
                for run in re.finditer("1+", "".join("1" if dark else "0" for dark in cells)):
                    path.rect(run.start() * module, top, (run.end() - run.start()) * module, module)
            canvas.setFillColor(colors.black)
            canvas.drawPath(path, stroke=0, fill=1)
            canvas.endForm()
        canvas.saveState()
        canvas.translate(x, y)
        canvas.doForm(name)
        canvas.restoreState()


def _line_width(line: Line, style: Style) -> float:
    if isinstance(line, str):
        return float(stringWidth(line, style.font, style.size))
    return float(sum(stringWidth(value, font, style.size) for font, _, value in line))


class _Pen:
    """All of one page's text as one block of PDF text operators, a font or colour set only when it changes.

    reportlab's text object measures and re-encodes every string character by character in Python;
    here each character is assigned its code in the font's subset once (``splitString``, as the
    ``ttfonts`` module documents for dynamic fonts), then whole strings go through ``str.translate``.
    """

    def __init__(self, canvas: Canvas) -> None:
        self.canvas = canvas
        self.doc = canvas._doc  # the document the font subsets belong to
        self.ops: list[str] = []
        self.font: tuple[str, int, float] | None = None  # font, subset, size
        self.colour: colors.Color | None = None
        self.codes: dict[str, tuple[set[str], dict[int, int]]] = {}  # font → characters known in subset 0

    def line(self, x: float, y: float, line: Line, style: Style) -> None:
        self.ops.append(f"1 0 0 1 {fp_str(x, y)} Tm")
        for font, colour, value in ((style.font, style.colour, line),) if isinstance(line, str) else line:
            if colour is not self.colour:
                self.ops.append(f"{fp_str(colour.red, colour.green, colour.blue)} rg")
                self.colour = colour
            self._show(font, style.size, value)

    def _show(self, name: str, size: float, value: str) -> None:
        known, table = self.codes.get(name) or self.codes.setdefault(name, (set(), {}))
        font = pdfmetrics.getFont(name)
        if not known.issuperset(value):
            for char in set(value).difference(known):
                chunks = font.splitString(char, self.doc)
                if len(chunks) == 1 and chunks[0][0] == 0:
                    known.add(char)
                    table[ord(char)] = chunks[0][1][0]
        if known.issuperset(value):
            chunks = [(0, value.translate(table).encode("latin-1"))]
        else:  # a character beyond the first 256 of this font: reportlab's own split
            chunks = font.splitString(value, self.doc)
        for subset, data in chunks:
            if (name, subset, size) != self.font:
                self.ops.append(f"{font.getSubsetInternalName(subset, self.doc)} {fp_str(size)} Tf")
                self.font = (name, subset, size)
            self.ops.append(f"({escapePDF(data)}) Tj")

    def flush(self) -> None:
        if self.ops:
            self.canvas.addLiteral("BT\n" + "\n".join(self.ops) + "\nET")
        self.ops, self.font, self.colour = [], None, None
