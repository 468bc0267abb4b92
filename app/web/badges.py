"""Pages: *Mes badges* — the learner's badges, how to share each, and whether their name shows publicly.

``/mes-badges`` lists the badges (image, name, issuer, date, state) and, until the person has
answered once, asks whether their name shows on the badges' public pages; ``POST
/mes-badges/nom-public`` records the answer (changeable any time). ``/mes-badges/<id>`` gives a
badge's public page address (a read-only field anyone can select; ``/static/badges.js`` adds a
copy button), LinkedIn's add-to-profile link, the baked PNG and SVG, the printable certificate
(``/mes-badges/<id>/attestation.pdf``), the QR code, and *Mettre dans un portefeuille* (``POST
/mes-badges/<id>/portefeuille``: an OpenID4VCI offer as a QR code and a link, with a transaction code
when the screen is shared) with the wallet copies already taken. Another person's badge does not exist here.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from flask import Blueprint, Response, redirect, request
from markupsafe import Markup
from werkzeug.wrappers import Response as BaseResponse

from app.db import db
from app.platform.errors import InvalidInput
from app.platform.urls import Urls
from app.runtime import runtime
from app.services.issuing import certificates, oid4vci, oid4vci_copies, wallet
from app.services.verification import offline
from app.web.pages import render_page
from app.web.security_headers import page_policy
from app.web.signed_in import grants, signed_in

bp = Blueprint("pages_badges", __name__)

PER_PAGE = 20
ANSWERS = {"oui": True, "non": False}


def _urls() -> Urls:
    return Urls(runtime().settings.public_base_url)


def _now() -> datetime:
    return runtime().clock()


@bp.get("/mes-badges")
@signed_in
def my_badges() -> Response:
    """My badges, newest first; the name question until it is answered."""
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    found = wallet.my_badges(db.session, grants(), urls=_urls(), page=page, per_page=PER_PAGE)
    rows = [(badge, wallet.badge_state(badge.credential, _now())) for badge in found.items]
    choice = wallet.name_choice(db.session, grants())
    return render_page("web/badges/list.html", rows=rows, found=found, choice=choice, urls=_urls())


@bp.get("/mes-badges/<uuid:credential_id>")
@signed_in
def my_badge(credential_id: uuid.UUID) -> Response:
    """One badge: its public address to copy, LinkedIn, downloads, certificate, QR code, my name."""
    badge = wallet.get_badge(db.session, grants(), credential_id, urls=_urls())
    state = wallet.badge_state(badge.credential, _now())
    shareable = state in ("valid", "expired")  # suspended or revoked: no image nor certificate is handed out
    links = wallet.share_links(db.session, grants(), credential_id, urls=_urls()) if shareable else None
    response = render_page(
        "web/badges/detail.html",
        badge=badge,
        state=state,
        links=links,
        choice=wallet.name_choice(db.session, grants()),
        urls=_urls(),
        copies=oid4vci_copies.my_copies(db.session, grants(), credential_id),
    )
    # This page alone runs a script: our own copy button, from this origin (nothing inline).
    response.headers["Content-Security-Policy"] = page_policy().replace(
        "default-src 'none';", "default-src 'none'; script-src 'self';", 1
    )
    return response


@bp.get("/mes-badges/<uuid:credential_id>/attestation.pdf")
@signed_in
def certificate(credential_id: uuid.UUID) -> Response:
    """The printable certificate of one of my badges (PDF)."""
    wallet.get_badge(db.session, grants(), credential_id, urls=_urls())  # mine, or it does not exist
    rt = runtime()
    credential, pdf = certificates.certificate_pdf(
        db.session,
        grants(),
        credential_id,
        storage=rt.storage,
        urls=_urls(),
        offline=lambda found: offline.compact_of(db.session, found, rt.issuing),  # the second, signed QR code
    )
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="attestation-{credential.short_code}.pdf"'
    return response


@bp.post("/mes-badges/<uuid:credential_id>/portefeuille")
@signed_in
def wallet_offer(credential_id: uuid.UUID) -> Response:
    """A credential offer for a wallet: QR code, link, expiry, transaction code for a shared screen.

    The page answers the POST itself (no redirect): its one-use code is shown now and never stored.
    """
    badge = wallet.get_badge(db.session, grants(), credential_id, urls=_urls())
    made = oid4vci.create_offer(
        db.session,
        grants(),
        credential_id,
        with_tx_code=request.form.get("ecran_partage") == "oui",
        settings=runtime().issuing,
    )
    db.session.commit()
    response = render_page("web/badges/wallet_offer.html", badge=badge, made=made, qr_svg=Markup(made.qr_svg))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/mes-badges/nom-public")
@signed_in
def choose_name_display() -> BaseResponse:
    """Record whether my name shows on my badges' public pages; back to the page the form was on."""
    answer = request.form.get("afficher", "")
    if answer not in ANSWERS:
        raise InvalidInput("Answer 'oui' or 'non'.")
    wallet.choose_name_display(db.session, grants(), ANSWERS[answer], now=_now())
    db.session.commit()
    return redirect(_back(request.form.get("retour")) + "?nom=enregistre", 303)


def _back(target: str | None) -> str:
    """A page of Mes badges to go back to (nothing else: the field comes from the form)."""
    if target and target.startswith("/mes-badges/"):
        try:
            return f"/mes-badges/{uuid.UUID(target.removeprefix('/mes-badges/'))}"
        except ValueError:
            pass
    return "/mes-badges"
