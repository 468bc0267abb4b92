"""Public framework pages: one URL per framework and competency, HTML for people, JSON for machines."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, Response, jsonify, redirect, request

from app.db import db
from app.runtime import runtime
from app.services.frameworks import publish as frameworks_publish, query as frameworks_query
from app.web import pages
from schemas.frameworks import CompetencySchema, FrameworkSchema, FwHitSchema, FwNodeSchema

bp = Blueprint("frameworks_web", __name__)

JSON_TYPES = ("application/json", "application/ld+json")
MAX_AGE = 3600


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", *JSON_TYPES])
    return best in JSON_TYPES


def _public(response: Any) -> Any:
    response.headers["Vary"] = "Accept, Accept-Language"
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
    return response


def _page(template: str, **context: Any) -> Response:
    return _public(pages.render_page(template, **context))


def _int_arg(name: str, default: int, top: int) -> int:
    try:
        return max(1, min(int(request.args.get(name, default)), top))
    except ValueError:
        return default


def _base() -> str:
    return runtime().settings.public_base_url


@bp.get("/frameworks")
def frameworks_page():  # type: ignore[no-untyped-def]
    q = (request.args.get("q") or "").strip()[:200]
    page = _int_arg("page", 1, 100000)
    hits = None
    if q and frameworks_query.tokens(q):
        hits = frameworks_query.search_competencies(db.session, None, q=q, page=page, per_page=20, base_url=_base())
    if _wants_json() and hits is not None:
        return _public(
            jsonify(
                {
                    "items": FwHitSchema(many=True).dump(hits.items),
                    "total": hits.total,
                    "page": hits.page,
                    "perPage": hits.per_page,
                }
            )
        )
    listing = frameworks_query.list_frameworks(
        db.session, None, page=1 if hits else page, per_page=50, base_url=_base()
    )
    if _wants_json():
        return _public(
            jsonify(
                {
                    "items": FrameworkSchema(many=True).dump(listing.items),
                    "total": listing.total,
                    "page": listing.page,
                    "perPage": listing.per_page,
                }
            )
        )
    return _page("frameworks/list.html", q=q, hits=hits, listing=listing, page=page)


@bp.get("/frameworks/<uuid:framework_id>")
def framework_page(framework_id: uuid.UUID):  # type: ignore[no-untyped-def]
    view = frameworks_query.get_framework(db.session, None, framework_id, base_url=_base())
    page = _int_arg("page", 1, 100000)
    tree = frameworks_query.framework_tree(
        db.session, None, framework_id, depth=3, page=page, per_page=50, base_url=_base()
    )
    if _wants_json():
        body = FrameworkSchema().dump(view)
        body["tree"] = {
            "items": FwNodeSchema(many=True).dump(tree.items),
            "total": tree.total,
            "page": tree.page,
            "perPage": tree.per_page,
        }
        body["case"] = f"{view.url}/case"
        return _public(jsonify(body))
    return _page("frameworks/framework.html", view=view, tree=tree, page=page)


@bp.get("/frameworks/<uuid:framework_id>/case")
def framework_case(framework_id: uuid.UUID):  # type: ignore[no-untyped-def]
    return _public(jsonify(frameworks_publish.export_cfpackage(db.session, framework_id, _base())))


@bp.get("/competencies/<uuid:competency_id>")
def competency_page(competency_id: uuid.UUID):  # type: ignore[no-untyped-def]
    view = frameworks_publish.competency_view(db.session, None, competency_id, base_url=_base())
    if _wants_json():
        return _public(jsonify(CompetencySchema().dump(view)))
    return _page("frameworks/competency.html", view=view)


@bp.get("/ims/case/v1p0/<any(CFItems, CFDocuments, CFPackages):collection>/<uuid:case_id>")
def case_identifier(collection: str, case_id: uuid.UUID):  # type: ignore[no-untyped-def]
    """CASE URIs of the exports resolve to the current version's page (or its package)."""
    kind, target = frameworks_publish.get_by_case_id(db.session, case_id)
    if kind == "framework":
        suffix = "/case" if collection == "CFPackages" else ""
        return _public(redirect(f"/frameworks/{target}{suffix}", 303))
    return _public(redirect(f"/competencies/{target}", 303))
