"""The jury's PDF (French, A4): header, synthesis, bloc → compétence → contributions, evidence,
validations and badges with QR codes, then the index of annexes and the gaps.

Fonts: Bitstream Vera (shipped inside reportlab, free licence), embedded as TrueType subsets. It
covers French entirely (é è à ç œ « » ’ …); the few spaces it lacks (narrow no-break space) are
printed as a no-break space.
"""
from __future__ import annotations

import io
import os
import re
from datetime import date, datetime
from typing import IO, Any, Sequence
from xml.sax.saxutils import escape

import reportlab
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (CondPageBreak, Flowable, Image, KeepTogether, PageBreak, Paragraph,
                                SimpleDocTemplate, Spacer, Table, TableStyle)

import badges
from app.services.dossier_build import STATE_LABELS, Annex, BadgeRef, CompetenceEntry, DossierContent, Support

FONT = "BlasonVera"
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")
STATE_COLOURS = {"acquis": colors.HexColor("#1b6e2e"), "partiellement": colors.HexColor("#a05a00"),
                 "non": colors.HexColor("#8a1c1c")}
INK = colors.HexColor("#1f2937")
MUTED = colors.HexColor("#5b6472")
RULE = colors.HexColor("#c9ced6")
_KINDS = {"file": "fichier", "link": "lien", "text": "texte"}
# Characters Vera lacks, printed as their nearest equivalent.
_SUBSTITUTES = str.maketrans({"\u202f": "\u00a0", "\u2009": " ", "\u2007": " ", "\u2011": "-",
                              "\u2010": "-", "\ufeff": None})


def register_fonts() -> str:
    """Register the Vera family once; return the family name."""
    if FONT not in pdfmetrics.getRegisteredFontNames():
        folder = os.path.join(os.path.dirname(reportlab.__file__), "fonts")
        for name, file in ((FONT, "Vera.ttf"), (FONT + "-Bold", "VeraBd.ttf"), (FONT + "-Italic", "VeraIt.ttf"),
                           (FONT + "-BoldItalic", "VeraBI.ttf")):
            pdfmetrics.registerFont(TTFont(name, os.path.join(folder, file)))
        pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT + "-Bold", italic=FONT + "-Italic",
                                      boldItalic=FONT + "-BoldItalic")
    return FONT


def styles() -> dict[str, ParagraphStyle]:
    register_fonts()
    base = ParagraphStyle("body", fontName=FONT, fontSize=9.5, leading=13, textColor=INK)
    return {
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=10.5, textColor=MUTED),
        "title": ParagraphStyle("title", parent=base, fontName=FONT + "-Bold", fontSize=18, leading=23,
                                spaceAfter=4),
        "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=11, leading=15, textColor=MUTED),
        "h1": ParagraphStyle("h1", parent=base, fontName=FONT + "-Bold", fontSize=13.5, leading=17,
                             spaceBefore=10, spaceAfter=5, textColor=colors.HexColor("#12355b")),
        "h2": ParagraphStyle("h2", parent=base, fontName=FONT + "-Bold", fontSize=10.5, leading=14,
                             spaceBefore=8, spaceAfter=3),
        "label": ParagraphStyle("label", parent=base, fontName=FONT + "-Bold", fontSize=8.5, leading=11,
                                textColor=MUTED, spaceBefore=3),
        "quote": ParagraphStyle("quote", parent=base, fontName=FONT + "-Italic", leftIndent=8, borderPadding=0),
        "qlabel": ParagraphStyle("qlabel", parent=base, fontName=FONT + "-BoldItalic", leftIndent=8,
                                 textColor=MUTED),
        "verbatim": ParagraphStyle("verbatim", parent=base, fontSize=8.5, leading=11.5, leftIndent=6,
                                   textColor=colors.HexColor("#374151")),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8.5, leading=11),
        "cellc": ParagraphStyle("cellc", parent=base, fontSize=8.5, leading=11, alignment=TA_CENTER),
    }


def plain(value: Any) -> str:
    """Text drawn as is (not markup): only the characters Vera lacks are replaced."""
    return "" if value is None else str(value).translate(_SUBSTITUTES)


def text(value: Any) -> str:
    """Escape for reportlab's paragraph markup, keep line breaks, print every French character."""
    if value is None:
        return ""
    cleaned = escape(str(value).translate(_SUBSTITUTES))
    return cleaned.replace("\r\n", "\n").replace("\n", "<br/>")


def french_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    day = "1er" if value.day == 1 else str(value.day)
    return f"{day} {MONTHS[value.month - 1]} {value.year}"


def qr_image(url: str, size_mm: float = 24) -> Image:
    png = badges.qr_png(url, module_size=6)
    return Image(io.BytesIO(png), width=size_mm * mm, height=size_mm * mm)


def _footer(label: str):  # type: ignore[no-untyped-def]
    def draw(canvas, doc):  # type: ignore[no-untyped-def]
        canvas.saveState()
        canvas.setFont(FONT, 7.5)
        canvas.setFillColor(MUTED)
        canvas.setStrokeColor(RULE)
        canvas.line(18 * mm, 14 * mm, A4[0] - 18 * mm, 14 * mm)
        canvas.drawString(18 * mm, 10 * mm, label.translate(_SUBSTITUTES))
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, f"page {doc.page}")
        canvas.restoreState()
    return draw


def _grid(rows: list[list[Any]], widths: Sequence[float], header: bool = True) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1 if header else 0, hAlign="LEFT")
    commands: list[tuple[Any, ...]] = [
        ("GRID", (0, 0), (-1, -1), 0.4, RULE), ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 4), ("RIGHTPADDING", (0, 0), (-1, -1), 4)]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef1f5")))
    table.setStyle(TableStyle(commands))
    return table


def render_pdf(content: DossierContent) -> bytes:
    """The jury PDF of ``content`` as bytes (what a worker process sends back)."""
    out = io.BytesIO()
    render_dossier(content, out)
    return out.getvalue()


def render_dossier(content: DossierContent, out: IO[bytes]) -> None:
    """Write the jury PDF of ``content`` to ``out``."""
    s = styles()
    cert = content.certification
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                            bottomMargin=20 * mm, initialFontName=FONT, title=f"Dossier de validation — {content.candidate_name}",
                            author="Blason", subject=f"{cert.code or ''} {cert.title}", lang="fr-FR")
    story: list[Flowable] = []
    story += _header(content, s)
    story += _synthesis(content, s)
    for bloc in content.blocs:
        story.append(PageBreak())
        counts = bloc.counts
        story.append(Paragraph(f"Bloc {text(bloc.code or '')} — {text(bloc.label)}", s["h1"]))
        story.append(Paragraph(
            f"{counts['acquis']} compétence(s) acquise(s), {counts['partiellement']} partiellement, "
            f"{counts['non']} non acquise(s).", s["small"]))
        if bloc.raw_text:
            story.append(Paragraph("Compétences telles que publiées au RNCP (texte intégral)", s["label"]))
            story.append(Paragraph(text(bloc.raw_text), s["verbatim"]))
        if bloc.evaluation:
            story.append(Paragraph("Modalités d'évaluation", s["label"]))
            story.append(Paragraph(text(bloc.evaluation), s["verbatim"]))
        if bloc.badges:
            story.append(Paragraph("Badges couvrant l'ensemble du bloc", s["label"]))
            story.append(_badges_table(bloc.badges, s))
        for competence in bloc.competences:
            story += _competence(competence, s)
    story.append(PageBreak())
    story += _annex_index(content, s)
    label = f"Dossier de validation — {content.candidate_name} — {cert.code or cert.title}"
    doc.build(story, onFirstPage=_footer(label), onLaterPages=_footer(label))


def _header(content: DossierContent, s: dict[str, ParagraphStyle]) -> list[Flowable]:
    cert = content.certification
    blocs = ("tous les blocs (validation totale)" if not content.partial else
             "validation partielle : " + ", ".join(f"{b.code or ''} {b.label}".strip() for b in content.blocs))
    level = cert.level_label or cert.level or "non précisé"
    version = f"version {cert.framework_version}" + (f" ({cert.version_label})" if cert.version_label else "")
    rows = [
        ("Candidat·e", content.candidate_name),
        ("Certification visée", f"{cert.code or ''} — {cert.title}"),
        ("Niveau", level),
        ("Version du référentiel", version),
        ("Blocs demandés", blocs),
        ("Date du dossier", french_date(content.generated_at)),
        ("Référence", str(content.dossier_id)),
    ]
    table = _grid([[Paragraph(f"<b>{text(k)}</b>", s["cell"]), Paragraph(text(v), s["cell"])] for k, v in rows],
                  [45 * mm, 129 * mm], header=False)
    out: list[Flowable] = [
        Paragraph("Dossier de validation des acquis de l'expérience", s["title"]),
        Paragraph(f"Pièces à l'appui de la candidature de {text(content.candidate_name)} — "
                  f"« {text(cert.title)} »", s["subtitle"]),
        Spacer(1, 6 * mm), table, Spacer(1, 4 * mm),
        Paragraph("Ce dossier est organisé comme le jury le lit : pour chaque bloc de compétences, les "
                  "compétences telles que publiées au RNCP, l'état du candidat pour chacune, puis les "
                  "contributions qui l'étayent (récit à la première personne), les pièces jointes (numéros "
                  "d'annexe), les validations des tuteurs et les badges numériques vérifiables.", s["body"]),
        Spacer(1, 2 * mm),
        Paragraph("État d'une compétence : <b>acquis</b> — validée par un tuteur au niveau « acquis » ou "
                  "au-delà ; <b>partiellement</b> — validée à un niveau inférieur, ou en cours d'examen ; "
                  "<b>non</b> — aucune validation. Seules les pièces que le candidat a rendues visibles au jury "
                  "sont jointes ; l'archive contient un manifeste signé qui permet d'en vérifier l'intégrité.",
                  s["small"]),
    ]
    if content.certification_badges:
        out += [Paragraph("Badges couvrant la certification", s["h2"]),
                _badges_table(content.certification_badges, s)]
    if content.gaps:
        out += [Spacer(1, 3 * mm), Paragraph(
            f"<font color='#8a1c1c'><b>Attention :</b> {len(content.gaps)} pièce(s) jointe(s) manquent dans le "
            "stockage et n'ont pas pu être ajoutées ; elles sont signalées dans l'index des annexes.</font>",
            s["body"])]
    return out


def _synthesis(content: DossierContent, s: dict[str, ParagraphStyle]) -> list[Flowable]:
    rows: list[list[Any]] = [[Paragraph(f"<b>{h}</b>", s["cell"]) for h in
                              ("Bloc", "Intitulé", "Acquises", "Partielles", "Non acquises")]]
    for bloc in content.blocs:
        counts = bloc.counts
        rows.append([Paragraph(text(bloc.code or ""), s["cell"]), Paragraph(text(bloc.label), s["cell"]),
                     Paragraph(str(counts["acquis"]), s["cellc"]),
                     Paragraph(str(counts["partiellement"]), s["cellc"]),
                     Paragraph(str(counts["non"]), s["cellc"])])
    return [Paragraph("Synthèse par bloc", s["h1"]),
            _grid(rows, [32 * mm, 79 * mm, 21 * mm, 21 * mm, 21 * mm])]


def _competence(competence: CompetenceEntry, s: dict[str, ParagraphStyle]) -> list[Flowable]:
    colour = STATE_COLOURS[competence.state].hexval().replace("0x", "#")
    state = STATE_LABELS[competence.state]
    if competence.level_label:
        state += f" (niveau validé : {competence.level_label})"
    indent = "\u00a0\u00a0\u00a0\u00a0" * competence.depth
    head = [CondPageBreak(30 * mm),
            Paragraph(f"{indent}{text(competence.code or '')} — {text(competence.label)}", s["h2"]),
            Paragraph(f"État : <font color='{colour}'><b>{text(state)}</b></font>", s["body"])]
    out: list[Flowable] = [KeepTogether(head)]
    if competence.raw_text and competence.raw_text.strip() != competence.label.strip():
        out.append(Paragraph(f"Texte publié : {text(competence.raw_text)}", s["verbatim"]))
    if not competence.supports:
        out.append(Paragraph("Aucune contribution déclarée pour cette compétence.", s["small"]))
    for support in competence.supports:
        out += _support(support, s)
    if competence.badges:
        out.append(Paragraph("Badges couvrant cette compétence", s["label"]))
        out.append(_badges_table(competence.badges, s))
    return out


def _period(support: Support) -> str:
    if support.start_date and support.end_date:
        return f"du {french_date(support.start_date)} au {french_date(support.end_date)}"
    if support.start_date:
        return f"depuis le {french_date(support.start_date)}"
    return "non précisée"


def _support(support: Support, s: dict[str, ParagraphStyle]) -> list[Flowable]:
    # Few, longer paragraphs: a dossier has hundreds of contributions and each paragraph has a cost.
    hours = f"{support.hours:g} h".replace(".", ",") if support.hours else "non précisée"
    out: list[Flowable] = [Spacer(1, 1.5 * mm), Paragraph(
        f"Contribution : <b>{text(support.title)}</b> "
        f"<font color='#5b6472'>(revendication {text(_claim_label(support.claim_status))})</font><br/>"
        f"<b>Projet :</b> {text(support.project)} — <b>Territoire :</b> {text(support.territory)}<br/>"
        f"<b>Rôle :</b> {text(support.role or 'non précisé')} — <b>Période :</b> {text(_period(support))} — "
        f"<b>Durée :</b> {text(hours)}", s["body"])]
    # The long texts go in paragraphs without markup: reportlab lays those out several times faster.
    for label, body in (("Récit du candidat", support.narrative),
                        ("En quoi cette contribution montre la compétence", support.justification)):
        if body:
            out.append(Paragraph(label, s["qlabel"]))
            out += [Paragraph(text(line), s["quote"]) for line in body.splitlines() if line.strip()]
    pieces = ", ".join(support.annexes) if support.annexes else "aucune pièce visible du jury"
    lines = [f"<b>Pièces :</b> {text(pieces)}"]
    for v in support.validations:
        level = f", niveau « {text(v.level_label)} »" if v.level_label else ""
        decision = {"validated": "Validé", "rejected": "Refusé", "needs_evidence": "Complément demandé"}.get(
            v.decision, v.decision)
        lines.append(f"<b>{decision}</b> le {french_date(v.decided_at)} par {text(v.reviewer)}{level} — "
                     f"« {text(v.comment)} »")
    if not support.validations:
        lines.append("<font color='#5b6472'>Pas encore de décision d'un tuteur.</font>")
    out.append(Paragraph("<br/>".join(lines), s["body"]))
    return out


def _claim_label(status: str) -> str:
    return {"validated": "validée", "pending": "en attente de décision",
            "needs_evidence": "complément de preuve demandé"}.get(status, status)


def _badges_table(refs: list[BadgeRef], s: dict[str, ParagraphStyle]) -> Table:
    rows = []
    for ref in refs:
        info = Paragraph(f"<b>{text(ref.name)}</b><br/>Émetteur : {text(ref.issuer)}<br/>"
                         f"Délivré le {french_date(ref.awarded_at)}<br/>"
                         f"Vérification : {text(ref.short_url)}", s["cell"])
        rows.append([qr_image(ref.short_url, 22), info])
    table = Table(rows, colWidths=[26 * mm, 148 * mm], hAlign="LEFT")
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("LINEBELOW", (0, 0), (-1, -1), 0.3, RULE)]))
    return table


def _size(value: int | None) -> str:
    if value is None:
        return ""
    if value < 1024:
        return f"{value} o"
    if value < 1024 * 1024:
        return f"{value / 1024:.0f} Ko".replace(".", ",")
    return f"{value / 1024 / 1024:.1f} Mo".replace(".", ",")


def _annex_index(content: DossierContent, s: dict[str, ParagraphStyle]) -> list[Flowable]:
    out: list[Flowable] = [Paragraph("Index des annexes", s["h1"])]
    if not content.annexes:
        return out + [Paragraph("Aucune pièce visible du jury.", s["body"])]
    # A thousand annexes make a thousand rows: plain strings wrapped here once, not Paragraphs
    # (markup parsing, and a re-layout of every remaining row at each page break).
    widths = [14 * mm, 72 * mm, 70 * mm, 18 * mm]
    rows: list[list[Any]] = [[Paragraph(f"<b>{h}</b>", s["cell"]) for h in ("N°", "Pièce", "Emplacement", "Taille")]]
    for annex in content.annexes:
        title: Any = _annex_title(annex, s) if annex.missing else "\n".join(
            simpleSplit(f"{plain(annex.title)} ({_KINDS.get(annex.kind, annex.kind)})", FONT, 8.5, widths[1] - 8))
        where = plain(annex.url if annex.kind == "link" else annex.path)
        rows.append([annex.number, title, "\n".join(wrap_anywhere(where, widths[2] - 8)), _size(annex.size)])
    table = _grid(rows, widths)
    table.setStyle(TableStyle([("FONT", (0, 1), (-1, -1), FONT, 8.5, 11), ("TEXTCOLOR", (0, 1), (-1, -1), INK),
                               ("BOTTOMPADDING", (0, 1), (-1, -1), 4)]))
    out.append(table)
    if content.gaps:
        out += [Paragraph("Pièces manquantes", s["h2"]),
                Paragraph("Ces fichiers sont déclarés par le candidat mais absents du stockage au moment de la "
                          "génération ; ils ne figurent pas dans l'archive et le manifeste les signale.", s["small"])]
        for annex in content.gaps:
            out.append(Paragraph(f"<b>{annex.number}</b> — {text(annex.title)} ({text(annex.filename or '')})<br/>"
                                 f"SHA-256 {text(annex.sha256 or '')}", s["small"]))
    return out


def wrap_anywhere(value: str, width: float, size: float = 8.5) -> list[str]:
    """Lines of a path or URL no wider than ``width``, broken after / - _ . ? & = (or anywhere)."""
    lines, line = [], ""
    for token in re.findall(r"[^/\-_.?&=]+[/\-_.?&=]*|[/\-_.?&=]+", value):
        while token:
            if stringWidth(line + token, FONT, size) <= width:
                line, token = line + token, ""
            elif line:
                lines.append(line)
                line = ""
            else:  # a single token wider than the column: cut it where it fills the line
                cut = max(1, next((i for i in range(len(token), 0, -1)
                                   if stringWidth(token[:i], FONT, size) <= width), 1))
                lines.append(token[:cut])
                token = token[cut:]
    return lines + [line] if line else lines


def _annex_title(annex: Annex, s: dict[str, ParagraphStyle]) -> Paragraph:
    title = f"{text(annex.title)} <font color='#5b6472'>({_KINDS.get(annex.kind, annex.kind)})</font>"
    return Paragraph(title + " <font color='#8a1c1c'><b>MANQUANTE</b></font>", s["cell"])
