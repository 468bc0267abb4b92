"""Pages: a learner claims competencies, follows each claim, reads their portfolio and takes their data.

``/mes-contributions/<id>/revendiquer`` finds a competency by French words (the frameworks search,
plurals loosened) and asks why; ``/mes-demandes/<id>`` says where the claim stands and, after a
tutor asked for more, gives the two steps back (add evidence, then send it again);
``/mes-competences`` is the portfolio; ``/mes-donnees`` explains and downloads the record export,
and there the learner gives or refuses consent to the jury dossiers asked of them (the consent
e-mail links to it).
Every read and write goes through the services with the page's grants, so a facilitator acting for
a learner sees and does what the learner would.
"""

from __future__ import annotations

import uuid
from typing import Any

from babel.numbers import format_decimal
from flask import Blueprint, Response, redirect, request
from werkzeug.wrappers import Response as BaseResponse

from app.db import db, writes
from app.mailing import page_links, send_after_commit
from app.platform.urls import Urls
from app.runtime import runtime
from app.services.contributions import contributions
from app.services.dossiers import lifecycle as dossiers, records
from app.services.frameworks import query as frameworks_query
from app.services.identity import people
from app.services.recognition import claim_pages, claims, standing, suggestions
from app.web import pages, signed_in as pages_signed_in
from app.web.i18n import LANGS, Words, current_lang
from app.web.request_args import page_number, pages_count, read_uuid
from app.web.signed_in import signed_in

bp = Blueprint("pages_claims", __name__)

HITS_PER_PAGE = 10
SKILLS_PER_PAGE = 50
MAX_TEXT = 10000


def _lang_query() -> str:
    """``?lang=xx`` when the page was asked in a language explicitly, so the next page keeps it."""
    asked = request.args.get("lang")
    return f"?lang={asked}" if asked in LANGS else ""


def _render(template: str, status: int = 200, **context: Any) -> Response:
    lang = current_lang()
    response = pages.render_page(
        template, status=status, lq=_lang_query(), num=lambda n: format_decimal(n, locale=lang), **context
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _level_label(contribution: Any, claim: Any) -> str | None:
    """The validated level of a claim in the page's language, on the scale it was decided with."""
    if claims.stage(claim) != "validated" or not claim.level:
        return None
    level = claim_pages.claiming_rules(db.session, contribution, claim.competency_id).scale.get(claim.level)
    return level.label(current_lang()) if level else claim.level


# -- claiming -------------------------------------------------------------------------------------


def _claim_page(contribution_id: uuid.UUID, status: int = 200, **form: Any) -> Response:
    """The search, its hits with framework and bloc, and the form for the competency chosen."""
    grants = pages_signed_in.grants()
    contribution = claim_pages.claimable_contribution(db.session, grants, contribution_id)
    q = (request.values.get("q") or "").strip()[:200]
    page = page_number(top=100_000)
    hits, places = None, {}
    if q and frameworks_query.tokens(q):
        loose = frameworks_query.loosen_plurals(q)
        hits = frameworks_query.search_competencies(db.session, grants, q=loose, page=page, per_page=HITS_PER_PAGE)
        places = frameworks_query.places_of(db.session, [h.competency.id for h in hits.items])
    chosen = read_uuid(request.values.get("competence"))
    suggested = []
    if not q and not chosen and contribution.status.value == "submitted":
        suggested = suggestions.suggestions_for(db.session, grants, contribution.id)
        places = frameworks_query.places_of(db.session, [h.competency.id for h in suggested])
    chosen_place = frameworks_query.places_of(db.session, [chosen]).get(chosen) if chosen else None
    scale = already = None
    if chosen_place is not None:
        scale = claim_pages.claiming_rules(db.session, contribution, chosen_place.competency.id).scale
        already = claim_pages.open_claim_for(db.session, contribution, chosen_place.competency.id)
    made = claim_pages.claims_of_contribution(db.session, contribution)
    made_places = frameworks_query.places_of(db.session, [c.competency_id for c in made])
    return _render(
        "web/claims/claim_new.html",
        status=status,
        contribution=contribution,
        submitted=contribution.status.value == "submitted",
        q=q,
        hits=hits,
        suggested=suggested,
        places=places,
        chosen=chosen_place,
        scale=scale,
        already=already,
        made=[(c, made_places.get(c.competency_id), claims.stage(c), _level_label(contribution, c)) for c in made],
        form=form.get("values", {}),
        errors=form.get("errors", {}),
    )


@bp.get("/mes-contributions/<uuid:contribution_id>/revendiquer")
@signed_in
def claim_form(contribution_id: uuid.UUID) -> Response:
    """Find a competency by typing words, choose it, say why."""
    return _claim_page(contribution_id)


@bp.post("/mes-contributions/<uuid:contribution_id>/revendiquer")
@signed_in
def claim_create(contribution_id: uuid.UUID) -> BaseResponse:
    """Create the claim; errors go back to the form beside their field."""
    t = Words(current_lang())
    grants = pages_signed_in.grants()
    contribution = claim_pages.claimable_contribution(db.session, grants, contribution_id)
    values = {k: request.form.get(k, "").strip() for k in ("justification", "self_assessment")}
    competency_id = read_uuid(request.form.get("competence"))
    errors: dict[str, str] = {}
    place = frameworks_query.places_of(db.session, [competency_id]).get(competency_id) if competency_id else None
    if place is None:
        return _claim_page(contribution_id, 422, values=values, errors={"form": t.claim_error_no_competency})
    if not values["justification"]:
        errors["justification"] = t.claim_error_justification
    elif len(values["justification"]) > MAX_TEXT:
        errors["justification"] = t.get("claim_error_too_long", n=MAX_TEXT)
    scale = claim_pages.claiming_rules(db.session, contribution, place.competency.id).scale
    if values["self_assessment"] and scale.get(values["self_assessment"]) is None:
        errors["self_assessment"] = t.claim_error_level
    if claim_pages.open_claim_for(db.session, contribution, place.competency.id) is not None:
        return _claim_page(contribution_id, 409, values=values)  # the page says it is already asked, with a link
    if errors:
        return _claim_page(contribution_id, 422, values=values, errors=errors)
    data = {
        "contribution_id": contribution.id,
        "competency_id": place.competency.id,
        "justification": values["justification"],
        "self_assessment": values["self_assessment"] or None,
    }
    outcome = claims.create_claim(db.session, grants, data, clock=runtime().clock, links=page_links())
    send_after_commit(outcome.messages)
    db.session.commit()
    return redirect(f"/mes-demandes/{outcome.value.id}{_lang_query()}", 303)


# -- one claim ------------------------------------------------------------------------------------


def _claim_detail_page(claim_id: uuid.UUID, status: int = 200, **form: Any) -> Response:
    grants = pages_signed_in.grants()
    detail = claims.claim_detail(db.session, grants, claim_id)
    claim = detail.claim
    place = frameworks_query.places_of(db.session, [claim.competency_id])[claim.competency_id]
    contribution = contributions.get_contribution(db.session, grants, claim.contribution_id)
    return _render(
        "web/claims/claim.html",
        status=status,
        claim=claim,
        stage=detail.stage,
        place=place,
        contribution=contribution,
        reviews=detail.reviews,
        scale=detail.rules.scale,
        own=claim.learner_id == grants.actor.id,
        added=claim_pages.evidence_since_request(db.session, claim) if detail.stage == "needs_evidence" else 0,
        first=detail.revisions[0] if detail.revisions else None,
        resubmissions=[r for r in detail.revisions if r.kind == "resubmitted"],
        form=form.get("values", {}),
        errors=form.get("errors", {}),
    )


@bp.get("/mes-demandes/<uuid:claim_id>")
@signed_in
def claim_page(claim_id: uuid.UUID) -> Response:
    """Where the claim stands, the tutors' reviews, and what to do after "à compléter"."""
    return _claim_detail_page(claim_id)


@bp.post("/mes-demandes/<uuid:claim_id>/renvoyer")
@signed_in
def claim_resubmit(claim_id: uuid.UUID) -> BaseResponse:
    """Send the claim back to the tutors with an explanation of what was added."""
    t = Words(current_lang())
    explanation = request.form.get("explanation", "").strip()
    if not explanation or len(explanation) > MAX_TEXT:
        error = t.claim_error_explanation if not explanation else t.get("claim_error_too_long", n=MAX_TEXT)
        return _claim_detail_page(claim_id, 422, values={"explanation": explanation}, errors={"explanation": error})
    version = request.form.get("version", "")
    outcome = claims.resubmit_claim(
        db.session,
        pages_signed_in.grants(),
        claim_id,
        {"explanation": explanation},
        expected_version=int(version) if version.isdigit() else None,
        clock=runtime().clock,
        links=page_links(),
    )
    send_after_commit(outcome.messages)
    db.session.commit()
    return redirect(f"/mes-demandes/{claim_id}{_lang_query()}", 303)


# -- portfolio and data ---------------------------------------------------------------------------


@bp.get("/mes-competences")
@signed_in
def skills() -> Response:
    """The competencies tutors validated, by framework, with level, tutor, date and comment."""
    grants = pages_signed_in.grants()
    learner = grants.person_id
    framework_id = read_uuid(request.args.get("referentiel"))
    frameworks = standing.validated_frameworks(db.session, grants, learner)
    entries = standing.validated_competencies(
        db.session, grants, learner, framework_id=framework_id, page=page_number(top=100_000), per_page=SKILLS_PER_PAGE
    )
    groups: list[tuple[str, list[standing.ValidatedEntry]]] = []
    for entry in entries.items:
        if not groups or groups[-1][1][0].framework_id != entry.framework_id:
            groups.append((entry.framework_title, []))
        groups[-1][1].append(entry)
    return _render(
        "web/claims/skills.html",
        frameworks=frameworks,
        framework_id=framework_id,
        entries=entries,
        groups=groups,
        last_page=pages_count(entries.total, entries.per_page),
    )


@bp.get("/mes-donnees")
@signed_in
def my_data() -> Response:
    """What the download of one's data holds, the button to take it, and the jury dossiers asked of one."""
    return _my_data_page()


def _my_data_page(refusal_errors: dict[uuid.UUID, str] | None = None, typed: str = "") -> Response:
    grants = pages_signed_in.grants()
    asked = dossiers.list_dossiers(
        db.session, grants, learner_id=grants.person_id, page=page_number(top=100_000), per_page=20
    )
    fiches = frameworks_query.places_of(db.session, list({d.certification_id for d in asked.items}))
    names = people.display_names(db.session, {d.requested_by_id for d in asked.items})
    status = 422 if refusal_errors else 200
    return _render(
        "web/claims/data.html",
        status,
        dossiers=asked,
        fiches=fiches,
        names=names,
        refusal_errors=refusal_errors or {},
        typed_reason=typed,
        max_reason=dossiers.MAX_REASON,
    )


@bp.post("/mes-donnees/dossiers/<uuid:dossier_id>/accord")
@signed_in
def dossier_consent(dossier_id: uuid.UUID) -> BaseResponse:
    """Agree that the jury dossier be made and handed to the jury."""
    dossiers.consent(db.session, pages_signed_in.grants(), dossier_id, clock=runtime().clock)
    db.session.commit()
    return redirect(f"/mes-donnees{_lang_query()}#dossiers", 303)


@bp.post("/mes-donnees/dossiers/<uuid:dossier_id>/refus")
@signed_in
def dossier_refuse(dossier_id: uuid.UUID) -> BaseResponse:
    """Refuse the jury dossier, or take one's consent back, with an optional reason the jury officer reads."""
    reason = request.form.get("raison", "").strip()
    if len(reason) > dossiers.MAX_REASON:
        words = Words(current_lang())
        return _my_data_page({dossier_id: words.get("claim_dossier_reason_too_long", n=dossiers.MAX_REASON)}, reason)
    dossiers.refuse(db.session, pages_signed_in.grants(), dossier_id, reason=reason or None, clock=runtime().clock)
    db.session.commit()
    return redirect(f"/mes-donnees{_lang_query()}#dossiers", 303)


@bp.get("/mes-donnees/export")
@writes  # the export is audited
@signed_in
def my_data_export() -> Response:
    """All of one's own data as a ZIP with index.json (the API's record export)."""
    rt = runtime()
    record = records.learner_record(
        db.session, pages_signed_in.grants(), storage=rt.storage, urls=Urls(rt.settings.public_base_url), clock=rt.clock
    )
    db.session.commit()
    return Response(
        records.stream_record(record, rt.storage),
        mimetype="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="mes-donnees-{record.person_id}.zip"',
            "Cache-Control": "private, no-store",
        },
    )
