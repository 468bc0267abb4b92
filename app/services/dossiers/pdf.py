"""The jury's PDF (French, A4): header, synthesis, bloc → compétence → contributions, evidence,
validations and badges with QR codes, then the index of annexes and the gaps.

Drawn with the canvas layout of ``pdf_layout`` (not platypus: a dossier has hundreds of
contributions and a thousand annexes). Each bloc starts a page; a compétence heading is kept with
its state and two lines.
"""
from __future__ import annotations

import io
from typing import IO, Sequence

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from app.services.dossiers.build import (CLAIM_LABELS, DECISION_LABELS, STATE_LABELS, Annex, BadgeRef, BlocEntry, CompetenceEntry, DossierContent, Support)
from app.platform.pdf_layout import (ALERT, BODY, BOLD, CELL, FONT, H1, H2, INK, ITALIC, LABEL, LEFT, MUTED, QR_SIZE, QUOTE, QUOTE_LABEL, RIGHT, RULE, SMALL, SUBTITLE, TITLE, VERBATIM, WIDTH, Layout, Line, Run, french_date, plain, register_fonts, wrap, wrap_anywhere, wrap_runs)

STATE_COLOURS = {"acquis": colors.HexColor("#1b6e2e"), "partiellement": colors.HexColor("#a05a00"),
                 "non": ALERT}
_KINDS = {"file": "fichier", "link": "lien", "text": "texte"}


def render_pdf(content: DossierContent) -> bytes:
    """The jury PDF of ``content`` as bytes."""
    out = io.BytesIO()
    render_dossier(content, out)
    return out.getvalue()


def render_dossier(content: DossierContent, out: IO[bytes]) -> None:
    """Write the jury PDF of ``content`` to ``out``."""
    register_fonts()
    cert = content.certification
    canvas = Canvas(out, pagesize=A4, initialFontName=FONT, lang="fr-FR")  # no unused Helvetica
    canvas.setTitle(f"Dossier de validation — {content.candidate_name}")
    canvas.setAuthor("Blason")
    canvas.setSubject(f"{cert.code or ''} {cert.title}".strip())
    canvas.setCreator("Blason")
    lay = Layout(canvas, plain(f"Dossier de validation — {content.candidate_name} — {cert.code or cert.title}"))
    _header(lay, content)
    _synthesis(lay, content)
    for bloc in content.blocs:
        lay.new_page()
        _bloc(lay, bloc)
    lay.new_page()
    _annex_index(lay, content)
    lay.close()


def _header(lay: Layout, content: DossierContent) -> None:
    cert = content.certification
    blocs = ("tous les blocs (validation totale)" if not content.partial else
             "validation partielle : " + ", ".join(f"{b.code or ''} {b.label}".strip() for b in content.blocs))
    level = cert.level_label or cert.level or "non précisé"
    version = f"version {cert.framework_version}" + (f" ({cert.version_label})" if cert.version_label else "")
    rows = [("Candidat·e", content.candidate_name), ("Certification visée", f"{cert.code or ''} — {cert.title}"),
            ("Niveau", level), ("Version du référentiel", version), ("Blocs demandés", blocs),
            ("Date du dossier", french_date(content.generated_at)), ("Référence", str(content.dossier_id))]
    widths = (45 * mm, WIDTH - 45 * mm)
    lay.text("Dossier de validation des acquis de l'expérience", TITLE)
    lay.space(4)
    lay.text(f"Pièces à l'appui de la candidature de {content.candidate_name} — « {cert.title} »", SUBTITLE)
    lay.space(6 * mm)
    lay.table(widths, [[[[(BOLD, INK, key)]], wrap(plain(value), widths[1] - 8, FONT, CELL.size)]
                       for key, value in rows], CELL)
    lay.space(4 * mm)
    lay.text("Ce dossier est organisé comme le jury le lit : pour chaque bloc de compétences, les compétences "
             "telles que publiées au RNCP, l'état du candidat pour chacune, puis les contributions qui "
             "l'étayent (récit à la première personne), les pièces jointes (numéros d'annexe), les "
             "validations des tuteurs et les badges numériques vérifiables.", BODY)
    lay.space(2 * mm)
    muted, bold = (FONT, MUTED), (BOLD, MUTED)
    lay.runs([(*muted, "État d'une compétence : "), (*bold, "acquis"),
              (*muted, " — validée par un tuteur au niveau « acquis » ou au-delà ; "), (*bold, "partiellement"),
              (*muted, " — validée à un niveau inférieur, ou en cours d'examen ; "), (*bold, "non"),
              (*muted, " — aucune validation. Seules les pièces que le candidat a rendues visibles au jury sont "
                       "jointes ; l'archive contient un manifeste signé qui permet d'en vérifier l'intégrité.")],
             SMALL)
    if content.certification_badges:
        lay.heading("Badges couvrant la certification", H2, 8, 3, QR_SIZE + 8)
        _badges(lay, content.certification_badges)
    if content.gaps:
        lay.space(3 * mm)
        lay.runs([(BOLD, ALERT, "Attention : "), (FONT, ALERT, f"{len(content.gaps)} pièce(s) jointe(s) manquent "
                  "dans le stockage et n'ont pas pu être ajoutées ; elles sont signalées dans l'index des "
                  "annexes.")], BODY)


def _synthesis(lay: Layout, content: DossierContent) -> None:
    widths = (32 * mm, 79 * mm, 21 * mm, 21 * mm, 21 * mm)
    header = [wrap(h, w - 8, BOLD, CELL.size) for h, w in
              zip(("Bloc", "Intitulé", "Acquises", "Partielles", "Non acquises"), widths)]
    rows = [[wrap_anywhere(plain(bloc.code or ""), widths[0] - 8, CELL.size),
             wrap(plain(bloc.label), widths[1] - 8, FONT, CELL.size),
             *([str(bloc.counts[state])] for state in ("acquis", "partiellement", "non"))] for bloc in content.blocs]
    lay.heading("Synthèse par bloc", H1, 10, 5, 6 * CELL.leading)  # with the header row and a first row
    lay.table(widths, rows, CELL, header, align="LLCCC")


def _bloc(lay: Layout, bloc: BlocEntry) -> None:
    counts = bloc.counts
    lay.heading(f"Bloc {bloc.code or ''} — {bloc.label}", H1, 0, 2)
    lay.text(f"{counts['acquis']} compétence(s) acquise(s), {counts['partiellement']} partiellement, "
             f"{counts['non']} non acquise(s).", SMALL)
    for label, body in (("Compétences telles que publiées au RNCP (texte intégral)", bloc.raw_text),
                        ("Modalités d'évaluation", bloc.evaluation)):
        if body:
            lay.heading(label, LABEL, 5, 1, 2 * VERBATIM.leading)
            lay.text(body, VERBATIM, indent=6)
    if bloc.badges:
        lay.heading("Badges couvrant l'ensemble du bloc", LABEL, 5, 1, QR_SIZE + 8)
        _badges(lay, bloc.badges)
    for competence in bloc.competences:
        _competence(lay, competence)


def _competence(lay: Layout, competence: CompetenceEntry) -> None:
    state = STATE_LABELS[competence.state]
    if competence.level_label:
        state += f" (niveau validé : {competence.level_label})"
    indent = 12 * competence.depth  # a sub-compétence and all it holds, under its parent
    published = wrap(plain(f"Texte publié : {competence.raw_text}"), WIDTH - indent - 6, FONT, VERBATIM.size) \
        if competence.raw_text and competence.raw_text.strip() != competence.label.strip() else []
    first = _support_head(competence.supports[0], WIDTH - indent) if competence.supports else []
    # Never a heading alone at the foot of a page: its state and at least two lines after it come
    # along (the first contribution keeps its own heading with two lines: all of that, then).
    then = BODY.leading + min(2, len(published)) * VERBATIM.leading
    if len(published) < 2:
        then += 5 + (len(first) + 2) * BODY.leading if first else 2 + SMALL.leading
    lay.heading(f"{competence.code or ''} — {competence.label}", H2, 10, 1, then, indent)
    lay.runs([(FONT, INK, "État : "), (BOLD, STATE_COLOURS[competence.state], state)], BODY, indent)
    if published:
        lay.lines(published, VERBATIM, indent + 6, keep=2)
    if not competence.supports:
        lay.space(2)
        lay.text("Aucune contribution déclarée pour cette compétence.", SMALL, indent)
    for support in competence.supports:
        _support(lay, support, indent)
    if competence.badges:
        lay.heading(f"Badges couvrant la compétence {competence.code or competence.label}", LABEL, 5, 1,
                    QR_SIZE + 8, indent)
        _badges(lay, competence.badges, indent)


def _period(support: Support) -> str:
    if support.start_date and support.end_date:
        return f"du {french_date(support.start_date)} au {french_date(support.end_date)}"
    if support.start_date:
        return f"depuis le {french_date(support.start_date)}"
    return "non précisée"


def _support_head(support: Support, width: float) -> list[list[Run]]:
    hours = f"{support.hours:g} h".replace(".", ",") if support.hours else "non précisée"
    claim = CLAIM_LABELS.get(support.claim_status, support.claim_status)
    return (wrap_runs([(FONT, INK, "Contribution : "), (BOLD, INK, plain(support.title)),
                       (FONT, MUTED, f" (revendication {claim})")], width, BODY.size)
            + wrap_runs([(BOLD, INK, "Projet : "), (FONT, INK, plain(support.project)),
                         (BOLD, INK, " — Territoire : "), (FONT, INK, plain(support.territory))], width, BODY.size)
            + wrap_runs([(BOLD, INK, "Rôle : "), (FONT, INK, plain(support.role or "non précisé")),
                         (BOLD, INK, " — Période : "), (FONT, INK, _period(support)),
                         (BOLD, INK, " — Durée : "), (FONT, INK, hours)], width, BODY.size))


def _support(lay: Layout, support: Support, indent: float) -> None:
    lay.space(5)
    lines = _support_head(support, WIDTH - indent)
    lay.ensure((len(lines) + 2) * BODY.leading)  # the contribution's heading, with its first lines
    lay.lines(lines, BODY, indent)
    for label, body in (("Récit du candidat", support.narrative),
                        ("En quoi cette contribution montre la compétence", support.justification)):
        paragraphs = [line for line in plain(body).split("\n") if line.strip()]
        if paragraphs:
            lay.ensure(QUOTE_LABEL.leading + QUOTE.leading)  # the label with the first line
            lay.lines([label], QUOTE_LABEL, indent + 8)
            lay.lines(wrap("\n".join(paragraphs), WIDTH - indent - 8, ITALIC, QUOTE.size), QUOTE, indent + 8)
    pieces = ", ".join(support.annexes) if support.annexes else "aucune pièce visible du jury"
    lay.runs([(BOLD, INK, "Pièces : "), (FONT, INK, pieces)], BODY, indent)
    for v in support.validations:
        level = f", niveau « {v.level_label} »" if v.level_label else ""
        lay.runs([(BOLD, INK, DECISION_LABELS.get(v.decision, v.decision)),
                  (FONT, INK, plain(f" le {french_date(v.decided_at)} par {v.reviewer}{level} — « {v.comment} »"))],
                 BODY, indent)
    if not support.validations:
        lay.text("Pas encore de décision d'un tuteur.", BODY._replace(colour=MUTED), indent)


def _badges(lay: Layout, refs: list[BadgeRef], indent: float = 0) -> None:
    """Each badge: its QR code, and beside it name, issuer, date and the short URL to type."""
    offset = indent + QR_SIZE + 4 * mm
    for ref in refs:
        lines: list[Line] = [[(BOLD, INK, line)] for line in wrap(plain(ref.name), WIDTH - offset, BOLD, CELL.size)]
        lines += wrap(plain(f"Émetteur : {ref.issuer}"), WIDTH - offset, FONT, CELL.size)
        lines.append(f"Délivré le {french_date(ref.awarded_at)}")
        lines += wrap_anywhere(plain(f"Vérification : {ref.short_url}"), WIDTH - offset, CELL.size)
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


def _size(value: int | None) -> str:
    if value is None:
        return ""
    if value < 1024:
        return f"{value} o"
    if value < 1024 * 1024:
        return f"{value / 1024:.0f} Ko".replace(".", ",")
    return f"{value / 1024 / 1024:.1f} Mo".replace(".", ",")


def _annex_index(lay: Layout, content: DossierContent) -> None:
    lay.heading("Index des annexes", H1, 0, 5)
    if not content.annexes:
        lay.text("Aucune pièce visible du jury.", BODY)
    else:
        widths = (14 * mm, 72 * mm, 70 * mm, 18 * mm)
        header = [[h] for h in ("N°", "Pièce", "Emplacement", "Taille")]
        lay.table(widths, [_annex_row(annex, widths) for annex in content.annexes], CELL, header, align="LLLR")
    if content.gaps:
        lay.heading("Pièces manquantes", H2, 12, 2, 3 * SMALL.leading)
        lay.text("Ces fichiers sont déclarés par le candidat mais absents du stockage au moment de la génération ; "
                 "ils ne figurent pas dans l'archive et le manifeste les signale.", SMALL)
        for annex in content.gaps:
            lay.space(3)
            lay.ensure(2 * SMALL.leading)  # the entry with its checksum
            lay.runs([(BOLD, INK, annex.number), (FONT, INK, plain(f" — {annex.title} ({annex.filename or ''})"))],
                     SMALL)
            lay.lines(wrap_anywhere(f"SHA-256 {annex.sha256 or 'inconnu'}", WIDTH, SMALL.size), SMALL)


def _annex_row(annex: Annex, widths: Sequence[float]) -> list[Sequence[Line]]:
    runs: list[Run] = [(FONT, INK, plain(annex.title) + " "), (FONT, MUTED, f"({_KINDS.get(annex.kind, annex.kind)})")]
    if annex.missing:
        runs.append((BOLD, ALERT, " MANQUANTE"))
    where = plain(annex.url if annex.kind == "link" else annex.path)
    return [[annex.number], wrap_runs(runs, widths[1] - 8, CELL.size),
            wrap_anywhere(where, widths[2] - 8, CELL.size), [_size(annex.size)]]
