"""The jury's PDF (A4, in French unless told otherwise; its words are the catalogue's ``dossier.*``):
header, synthesis, bloc → compétence → contributions, evidence, validations and badges with QR
codes, then the index of annexes and the gaps.

Drawn with the canvas layout of ``pdf_layout`` (not platypus: a dossier has hundreds of
contributions and a thousand annexes). Each bloc starts a page; a compétence heading is kept with
its state and two lines.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import IO

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from app.platform.i18n import Translator, translator
from app.platform.pdf_layout import (
    ALERT,
    BODY,
    BOLD,
    CELL,
    FONT,
    H1,
    H2,
    INK,
    ITALIC,
    LABEL,
    LEFT,
    MUTED,
    QR_SIZE,
    QUOTE,
    QUOTE_LABEL,
    RIGHT,
    RULE,
    SMALL,
    SUBTITLE,
    TITLE,
    VERBATIM,
    WIDTH,
    Layout,
    Line,
    Run,
    plain,
    register_fonts,
    wrap,
    wrap_anywhere,
    wrap_runs,
)
from app.services.dossiers.build import Annex, BadgeRef, BlocEntry, CompetenceEntry, DossierContent, Support

STATE_COLOURS = {"acquis": colors.HexColor("#1b6e2e"), "partiellement": colors.HexColor("#a05a00"), "non": ALERT}


def render_pdf(content: DossierContent, *, lang: str = "fr") -> bytes:
    """The jury PDF of ``content`` as bytes."""
    out = io.BytesIO()
    render_dossier(content, out, lang=lang)
    return out.getvalue()


def render_dossier(content: DossierContent, out: IO[bytes], *, lang: str = "fr") -> None:
    """Write the jury PDF of ``content`` to ``out``, in ``lang`` (the jury reads French)."""
    register_fonts()
    tr = translator(lang)
    cert = content.certification
    canvas = Canvas(
        out,
        pagesize=A4,
        initialFontName=FONT,  # no unused Helvetica
        lang="en-GB" if tr.lang == "en" else "fr-FR",
    )
    canvas.setTitle(tr("dossier.document_title", candidate=content.candidate_name))
    canvas.setAuthor("Blason")
    canvas.setSubject(f"{cert.code or ''} {cert.title}".strip())
    canvas.setCreator("Blason")
    lay = Layout(
        canvas, plain(tr("dossier.footer", candidate=content.candidate_name, certification=cert.code or cert.title)), tr
    )
    _header(lay, tr, content)
    _synthesis(lay, tr, content)
    for bloc in content.blocs:
        lay.new_page()
        _bloc(lay, tr, bloc)
    lay.new_page()
    _annex_index(lay, tr, content)
    lay.close()


def _header(lay: Layout, tr: Translator, content: DossierContent) -> None:
    cert = content.certification
    blocs = (
        tr("dossier.all_blocs")
        if not content.partial
        else tr("dossier.partial", blocs=", ".join(f"{b.code or ''} {b.label}".strip() for b in content.blocs))
    )
    level = cert.level_label or cert.level or tr("dossier.not_stated")
    version = tr("dossier.version", version=cert.framework_version) + (
        f" ({cert.version_label})" if cert.version_label else ""
    )
    rows = [
        (tr("dossier.candidate"), content.candidate_name),
        (tr("dossier.certification"), f"{cert.code or ''} — {cert.title}"),
        (tr("dossier.level"), level),
        (tr("dossier.framework_version"), version),
        (tr("dossier.blocs_requested"), blocs),
        (tr("dossier.date"), tr.date(content.generated_at, first_ordinal=True)),
        (tr("dossier.reference"), str(content.dossier_id)),
    ]
    widths = (45 * mm, WIDTH - 45 * mm)
    lay.text(tr("dossier.title"), TITLE)
    lay.space(4)
    lay.text(tr("dossier.subtitle", candidate=content.candidate_name, certification=cert.title), SUBTITLE)
    lay.space(6 * mm)
    lay.table(
        widths,
        [[[[(BOLD, INK, key)]], wrap(plain(value), widths[1] - 8, FONT, CELL.size)] for key, value in rows],
        CELL,
    )
    lay.space(4 * mm)
    lay.text(tr("dossier.intro"), BODY)
    lay.space(2 * mm)
    muted, bold = (FONT, MUTED), (BOLD, MUTED)
    lay.runs(
        [
            (*muted, tr("dossier.legend")),
            (*bold, tr("dossier.legend_acquis")),
            (*muted, tr("dossier.legend_acquis_more")),
            (*bold, tr("dossier.legend_partial")),
            (*muted, tr("dossier.legend_partial_more")),
            (*bold, tr("dossier.legend_non")),
            (*muted, tr("dossier.legend_non_more")),
        ],
        SMALL,
    )
    if content.certification_badges:
        lay.heading(tr("dossier.certification_badges"), H2, 8, 3, QR_SIZE + 8)
        _badges(lay, tr, content.certification_badges)
    if content.gaps:
        lay.space(3 * mm)
        lay.runs(
            [(BOLD, ALERT, tr("dossier.warning")), (FONT, ALERT, tr("dossier.gaps_warning", count=len(content.gaps)))],
            BODY,
        )


def _synthesis(lay: Layout, tr: Translator, content: DossierContent) -> None:
    widths = (32 * mm, 79 * mm, 21 * mm, 21 * mm, 21 * mm)
    header = [
        wrap(tr(h), w - 8, BOLD, CELL.size)
        for h, w in zip(
            (
                "dossier.column_bloc",
                "dossier.column_label",
                "dossier.column_acquired",
                "dossier.column_partial",
                "dossier.column_not_acquired",
            ),
            widths,
            strict=False,
        )
    ]
    rows = [
        [
            wrap_anywhere(plain(bloc.code or ""), widths[0] - 8, CELL.size),
            wrap(plain(bloc.label), widths[1] - 8, FONT, CELL.size),
            *([str(bloc.counts[state])] for state in ("acquis", "partiellement", "non")),
        ]
        for bloc in content.blocs
    ]
    lay.heading(tr("dossier.synthesis"), H1, 10, 5, 6 * CELL.leading)  # with the header row and a first row
    lay.table(widths, rows, CELL, header, align="LLCCC")


def _bloc(lay: Layout, tr: Translator, bloc: BlocEntry) -> None:
    counts = bloc.counts
    lay.heading(tr("dossier.bloc_heading", code=bloc.code or "", label=bloc.label), H1, 0, 2)
    lay.text(
        tr("dossier.bloc_counts", acquis=counts["acquis"], partial=counts["partiellement"], non=counts["non"]), SMALL
    )
    for label, body in ((tr("dossier.rncp_text"), bloc.raw_text), (tr("dossier.evaluation"), bloc.evaluation)):
        if body:
            lay.heading(label, LABEL, 5, 1, 2 * VERBATIM.leading)
            lay.text(body, VERBATIM, indent=6)
    if bloc.badges:
        lay.heading(tr("dossier.bloc_badges"), LABEL, 5, 1, QR_SIZE + 8)
        _badges(lay, tr, bloc.badges)
    for competence in bloc.competences:
        _competence(lay, tr, competence)


def _competence(lay: Layout, tr: Translator, competence: CompetenceEntry) -> None:
    state = tr(f"dossier.state.{competence.state}")
    if competence.level_label:
        state += tr("dossier.level_validated", level=competence.level_label)
    indent = 12 * competence.depth  # a sub-compétence and all it holds, under its parent
    published = (
        wrap(plain(tr("dossier.published_text", text=competence.raw_text)), WIDTH - indent - 6, FONT, VERBATIM.size)
        if competence.raw_text and competence.raw_text.strip() != competence.label.strip()
        else []
    )
    first = _support_head(tr, competence.supports[0], WIDTH - indent) if competence.supports else []
    # Never a heading alone at the foot of a page: its state and at least two lines after it come
    # along (the first contribution keeps its own heading with two lines: all of that, then).
    then = BODY.leading + min(2, len(published)) * VERBATIM.leading
    if len(published) < 2:
        then += 5 + (len(first) + 2) * BODY.leading if first else 2 + SMALL.leading
    lay.heading(f"{competence.code or ''} — {competence.label}", H2, 10, 1, then, indent)
    lay.runs([(FONT, INK, tr("dossier.state")), (BOLD, STATE_COLOURS[competence.state], state)], BODY, indent)
    if published:
        lay.lines(published, VERBATIM, indent + 6, keep=2)
    if not competence.supports:
        lay.space(2)
        lay.text(tr("dossier.no_contribution"), SMALL, indent)
    for support in competence.supports:
        _support(lay, tr, support, indent)
    if competence.badges:
        lay.heading(
            tr("dossier.competence_badges", competence=competence.code or competence.label),
            LABEL,
            5,
            1,
            QR_SIZE + 8,
            indent,
        )
        _badges(lay, tr, competence.badges, indent)


def _period(tr: Translator, support: Support) -> str:
    if support.start_date and support.end_date:
        return tr(
            "dossier.period_from_to",
            start=tr.date(support.start_date, first_ordinal=True),
            end=tr.date(support.end_date, first_ordinal=True),
        )
    if support.start_date:
        return tr("dossier.period_since", start=tr.date(support.start_date, first_ordinal=True))
    return tr("dossier.not_stated_f")


def _number(tr: Translator, value: str) -> str:
    return value.replace(".", ",") if tr.lang == "fr" else value  # 3,5 h; 1,2 Mo


def _support_head(tr: Translator, support: Support, width: float) -> list[list[Run]]:
    hours = (
        tr("dossier.hours", hours=_number(tr, f"{support.hours:g}")) if support.hours else tr("dossier.not_stated_f")
    )
    claim = tr(f"dossier.claim.{support.claim_status}")
    return (
        wrap_runs(
            [
                (FONT, INK, tr("dossier.contribution")),
                (BOLD, INK, plain(support.title)),
                (FONT, MUTED, tr("dossier.claim_status", status=claim)),
            ],
            width,
            BODY.size,
        )
        + wrap_runs(
            [
                (BOLD, INK, tr("dossier.project")),
                (FONT, INK, plain(support.project)),
                (BOLD, INK, tr("dossier.territory")),
                (FONT, INK, plain(support.territory)),
            ],
            width,
            BODY.size,
        )
        + wrap_runs(
            [
                (BOLD, INK, tr("dossier.role")),
                (FONT, INK, plain(support.role or tr("dossier.not_stated"))),
                (BOLD, INK, tr("dossier.period")),
                (FONT, INK, _period(tr, support)),
                (BOLD, INK, tr("dossier.duration")),
                (FONT, INK, hours),
            ],
            width,
            BODY.size,
        )
    )


def _support(lay: Layout, tr: Translator, support: Support, indent: float) -> None:
    lay.space(5)
    lines = _support_head(tr, support, WIDTH - indent)
    lay.ensure((len(lines) + 2) * BODY.leading)  # the contribution's heading, with its first lines
    lay.lines(lines, BODY, indent)
    for label, body in (
        (tr("dossier.narrative"), support.narrative),
        (tr("dossier.justification"), support.justification),
    ):
        paragraphs = [line for line in plain(body).split("\n") if line.strip()]
        if paragraphs:
            lay.ensure(QUOTE_LABEL.leading + QUOTE.leading)  # the label with the first line
            lay.lines([label], QUOTE_LABEL, indent + 8)
            lay.lines(wrap("\n".join(paragraphs), WIDTH - indent - 8, ITALIC, QUOTE.size), QUOTE, indent + 8)
    pieces = ", ".join(support.annexes) if support.annexes else tr("dossier.no_piece")
    lay.runs([(BOLD, INK, tr("dossier.pieces")), (FONT, INK, pieces)], BODY, indent)
    for v in support.validations:
        level = tr("dossier.validation_level", level=v.level_label) if v.level_label else ""
        lay.runs(
            [
                (BOLD, INK, tr(f"dossier.decision.{v.decision}")),
                (
                    FONT,
                    INK,
                    plain(
                        tr(
                            "dossier.validation",
                            date=tr.date(v.decided_at, first_ordinal=True),
                            reviewer=v.reviewer,
                            level=level,
                            comment=v.comment,
                        )
                    ),
                ),
            ],
            BODY,
            indent,
        )
    if not support.validations:
        lay.text(tr("dossier.no_decision"), BODY._replace(colour=MUTED), indent)


def _badges(lay: Layout, tr: Translator, refs: list[BadgeRef], indent: float = 0) -> None:
    """Each badge: its QR code, and beside it name, issuer, date and the short URL to type."""
    offset = indent + QR_SIZE + 4 * mm
    for ref in refs:
        lines: list[Line] = [[(BOLD, INK, line)] for line in wrap(plain(ref.name), WIDTH - offset, BOLD, CELL.size)]
        lines += wrap(plain(tr("dossier.badge_issuer", issuer=ref.issuer)), WIDTH - offset, FONT, CELL.size)
        lines.append(tr("dossier.badge_issued", date=tr.date(ref.awarded_at, first_ordinal=True)))
        lines += wrap_anywhere(plain(tr("dossier.badge_verification", url=ref.short_url)), WIDTH - offset, CELL.size)
        text_height = len(lines) * CELL.leading
        height = max(QR_SIZE, text_height) + 6
        lay.ensure(height)
        top = lay.y
        lay.qr(ref.short_url, LEFT + indent, top - 3 - QR_SIZE)
        lay.y = top - 3 - max(0, (QR_SIZE - text_height) / 2)  # the text centred beside the code
        lay.lines(lines, CELL, offset)
        lay.y = top - height
        lay.canvas.setStrokeColor(RULE)
        lay.canvas.setLineWidth(0.3)
        lay.canvas.line(LEFT + indent, lay.y, RIGHT, lay.y)


def _size(tr: Translator, value: int | None) -> str:
    if value is None:
        return ""
    if value < 1024:
        return tr("dossier.size_bytes", size=value)
    if value < 1024 * 1024:
        return tr("dossier.size_kb", size=_number(tr, f"{value / 1024:.0f}"))
    return tr("dossier.size_mb", size=_number(tr, f"{value / 1024 / 1024:.1f}"))


def _annex_index(lay: Layout, tr: Translator, content: DossierContent) -> None:
    lay.heading(tr("dossier.annex_index"), H1, 0, 5)
    if not content.annexes:
        lay.text(tr("dossier.no_annex"), BODY)
    else:
        widths = (14 * mm, 72 * mm, 70 * mm, 18 * mm)
        header = [
            [tr(h)]
            for h in ("dossier.column_number", "dossier.column_piece", "dossier.column_location", "dossier.column_size")
        ]
        lay.table(widths, [_annex_row(tr, annex, widths) for annex in content.annexes], CELL, header, align="LLLR")
    if content.gaps:
        lay.heading(tr("dossier.gaps"), H2, 12, 2, 3 * SMALL.leading)
        lay.text(tr("dossier.gaps_more"), SMALL)
        for annex in content.gaps:
            lay.space(3)
            lay.ensure(2 * SMALL.leading)  # the entry with its checksum
            lay.runs(
                [(BOLD, INK, annex.number), (FONT, INK, plain(f" — {annex.title} ({annex.filename or ''})"))], SMALL
            )
            lay.lines(wrap_anywhere(f"SHA-256 {annex.sha256 or tr('dossier.unknown')}", WIDTH, SMALL.size), SMALL)


def _annex_row(tr: Translator, annex: Annex, widths: Sequence[float]) -> list[Sequence[Line]]:
    runs: list[Run] = [(FONT, INK, plain(annex.title) + " "), (FONT, MUTED, f"({tr(f'dossier.kind.{annex.kind}')})")]
    if annex.missing:
        runs.append((BOLD, ALERT, tr("dossier.missing")))
    where = plain(annex.url if annex.kind == "link" else annex.path)
    return [
        [annex.number],
        wrap_runs(runs, widths[1] - 8, CELL.size),
        wrap_anywhere(where, widths[2] - 8, CELL.size),
        [_size(tr, annex.size)],
    ]
