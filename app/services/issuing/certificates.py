"""Printable certificates: one A4 page per issued credential, in French (words: ``certificate.*``).

Badge image, achievement name, recipient, issuer, date, aligned competencies, and a QR code of
the credential's short URL (which leads to its public verification page), printed under it so it
can be typed; beside it, when the caller gives it, a second QR code holding the badge's compact
signed form (BL1), which a verifier checks with no network. For the learner and the issuer's admins only (the page names the learner, who may
have chosen not to appear publicly); anyone can still verify the printed QR code.

An SVG badge image cannot be drawn without an SVG renderer: a plain emblem with the badge's
initials takes its place (the verification page shows the real image).
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from datetime import datetime

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Frame, Paragraph
from sqlalchemy import select
from sqlalchemy.orm import Session

import badges
from app.models import AchievementAlignment, AchievementVersion, Credential, CredentialState, Issuer, Person, StoredFile
from app.platform.errors import Conflict
from app.platform.i18n import translator
from app.platform.pdf_layout import FONT, INK, MUTED, register_fonts, text
from app.platform.storage import Storage
from app.platform.urls import Urls
from app.services.identity.access import Grants
from app.services.issuing import awarding

MAX_IMAGE_BYTES = 5 * 1024 * 1024


def certificate_pdf(
    session: Session,
    grants: Grants,
    credential_id: uuid.UUID,
    *,
    storage: Storage,
    urls: Urls,
    offline: Callable[[Credential], str] | None = None,
) -> tuple[Credential, bytes]:
    """The certificate of an issued credential, for its learner and its issuer's admins.

    ``offline`` gives the credential's compact signed form (BL1): printed as a second QR code,
    verifiable with no network (app.services.verification.offline.compact_of).
    """
    credential = awarding.get_credential(session, grants, credential_id)
    if credential.state is not CredentialState.ISSUED:
        raise Conflict(f"Only an issued credential has a certificate (this one is {credential.state.value}).")
    version = session.get(AchievementVersion, credential.achievement_version_id)
    issuer = session.get(Issuer, credential.issuer_id)
    learner = session.get(Person, credential.learner_id)
    assert version is not None and issuer is not None and learner is not None
    alignments = [
        a.alignment
        for a in session.scalars(
            select(AchievementAlignment)
            .where(AchievementAlignment.achievement_version_id == version.id)
            .order_by(AchievementAlignment.id)
        )
    ]
    image = _badge_png(session, storage, version.image_sha256)
    out = io.BytesIO()
    render_certificate(
        out,
        name=version.name,
        description=version.description,
        learner=learner.display_name,
        issuer=issuer.name,
        awarded=credential.awarded_at,
        valid_until=credential.valid_until,
        competencies=[(a.get("targetCode"), a.get("targetName", "")) for a in alignments],
        short_url=urls.short(credential.short_code),
        image=image,
        offline_payload=offline(credential) if offline is not None else None,
    )
    return credential, out.getvalue()


def _badge_png(session: Session, storage: Storage, sha256: str | None) -> bytes | None:
    if not sha256:
        return None
    stored = session.get(StoredFile, sha256)
    if stored is None or stored.media_type != "image/png" or stored.size > MAX_IMAGE_BYTES:
        return None
    try:
        with storage.open(sha256) as handle:
            return handle.read(MAX_IMAGE_BYTES)
    except OSError:
        return None


def render_certificate(
    out: io.BytesIO,
    *,
    name: str,
    description: str,
    learner: str,
    issuer: str,
    awarded: datetime,
    valid_until: datetime | None,
    competencies: list[tuple[str | None, str]],
    short_url: str,
    image: bytes | None,
    lang: str = "fr",
    offline_payload: str | None = None,
) -> None:
    """Draw the one-page certificate."""
    register_fonts()
    tr = translator(lang)
    width, height = A4
    canvas = Canvas(out, pagesize=A4, pageCompression=1)
    canvas.setTitle(tr("certificate.document_title", name=name))
    canvas.setAuthor(issuer)
    canvas.setStrokeColor(colors.HexColor("#12355b"))
    canvas.setLineWidth(2)
    canvas.rect(12 * mm, 12 * mm, width - 24 * mm, height - 24 * mm)
    canvas.setLineWidth(0.5)
    canvas.rect(14 * mm, 14 * mm, width - 28 * mm, height - 28 * mm)

    size = 52 * mm
    x, y = (width - size) / 2, height - 30 * mm - size
    if image:
        try:
            canvas.drawImage(badges_image(image), x, y, size, size, preserveAspectRatio=True, mask="auto")
        except Exception:  # an image the PDF library cannot read: the emblem instead
            _emblem(canvas, x, y, size, name)
    else:
        _emblem(canvas, x, y, size, name)

    center = ParagraphStyle("c", fontName=FONT, fontSize=11, leading=15, alignment=TA_CENTER, textColor=INK)
    title = ParagraphStyle("t", parent=center, fontName=FONT + "-Bold", fontSize=22, leading=27)
    big = ParagraphStyle("b", parent=center, fontName=FONT + "-Bold", fontSize=17, leading=22)
    small = ParagraphStyle("s", parent=center, fontSize=9, leading=12, textColor=MUTED)
    dates = tr("certificate.on", date=tr.date(awarded, first_ordinal=True))
    if valid_until:
        dates += tr("certificate.valid_until", date=tr.date(valid_until, first_ordinal=True))
    story = [
        Paragraph(text(tr("certificate.heading")), small),
        Paragraph(text(name), title),
        Paragraph(text(tr("certificate.awarded_to")), center),
        Paragraph(text(learner), big),
        # The message is escaped as text first; only then are the (escaped) name in bold and dates put in.
        Paragraph(text(tr("certificate.by")) % {"issuer": f"<b>{text(issuer)}</b>", "dates": text(dates)}, center),
    ]
    if description:
        story.append(Paragraph(text(description[:600]), small))
    if competencies:
        story.append(Paragraph(f"<b>{text(tr('certificate.competencies'))}</b>", center))
        for code, label in competencies[:8]:
            prefix = f"{text(code)} — " if code else ""
            story.append(Paragraph(prefix + text(label), small))
        if len(competencies) > 8:
            story.append(Paragraph(text(tr("certificate.more_competencies", count=len(competencies) - 8)), small))
    for flowable in story:
        flowable.style.spaceAfter = 5
    frame = Frame(24 * mm, 78 * mm, width - 48 * mm, y - 84 * mm, showBoundary=0)
    frame.addFromList(story, canvas)

    qr = 36 * mm
    # With the compact signed form, two codes side by side: the address (left), and the badge
    # itself, signed, for a verifier with no network (right, error correction M, alphanumeric).
    left = width / 2 - 45 * mm if offline_payload else width / 2
    canvas.drawImage(badges_image(badges.qr_png(short_url, module_size=8)), left - qr / 2, 34 * mm, qr, qr)
    canvas.setFont(FONT, 10)
    canvas.setFillColor(INK)
    canvas.drawCentredString(left, 29 * mm, short_url)
    if not offline_payload:
        canvas.setFont(FONT, 8)
        canvas.setFillColor(MUTED)
        canvas.drawCentredString(left, 24 * mm, tr("certificate.scan"))
    else:
        label = ParagraphStyle("q", parent=small, fontSize=8, leading=10)
        box = {"showBoundary": 0, "leftPadding": 0, "rightPadding": 0, "topPadding": 0, "bottomPadding": 0}
        Frame(left - 38 * mm, 15 * mm, 76 * mm, 12.5 * mm, **box).addFromList(
            [Paragraph(text(tr("certificate.scan")), label)], canvas
        )
        right = width / 2 + 45 * mm
        image_qr = badges.qr_png(offline_payload, error_correction="M", module_size=6)
        canvas.drawImage(badges_image(image_qr), right - qr / 2, 34 * mm, qr, qr)
        notes = [
            Paragraph(f"<b>{text(tr('certificate.offline_title'))}</b>", label),
            Paragraph(text(tr("certificate.offline_help")), label),
        ]
        Frame(right - 38 * mm, 15 * mm, 76 * mm, 17.5 * mm, **box).addFromList(notes, canvas)
    canvas.showPage()
    canvas.save()


def badges_image(data: bytes) -> ImageReader:
    return ImageReader(io.BytesIO(data))


def _emblem(canvas: Canvas, x: float, y: float, size: float, name: str) -> None:
    canvas.saveState()
    canvas.setFillColor(colors.HexColor("#12355b"))
    canvas.circle(x + size / 2, y + size / 2, size / 2, stroke=0, fill=1)
    canvas.setFillColor(colors.white)
    initials = "".join(w[0] for w in name.split() if w[:1].isalpha())[:3].upper() or "B"
    canvas.setFont(FONT + "-Bold", size / 3.2)
    canvas.drawCentredString(x + size / 2, y + size / 2 - size / 9, initials)
    canvas.restoreState()
