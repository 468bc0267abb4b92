"""*Tableau de bord*: the figures of a territory for its coordinators, of the platform for administrators.

The same service as ``GET /api/v1/territories/<id>/dashboard`` (and ``/api/v1/platform/dashboard``).
Each chart is an SVG bar chart drawn here on the server (``role="img"`` with a title and a text
description), next to the table it draws and a link to that table as CSV; no script. A coordinator
of several territories, or an administrator, chooses the territory with a plain GET form
(``?territoire=<id>``; an administrator sees the whole platform without one).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from babel.dates import format_date
from babel.numbers import format_decimal
from flask import Blueprint, Response, request

from app.db import db
from app.platform.errors import NotFound, PermissionDenied
from app.platform.filenames import disposition
from app.runtime import runtime
from app.services.territories import dashboard
from app.web import pages, signed_in as who
from app.web.i18n import LANGS, Words, current_lang
from app.web.signed_in import signed_in

bp = Blueprint("pages_dashboard", __name__)

CHART_ROWS = 20  # a chart draws this many bars at most; its table has every row
LABEL_CHARS = 42  # longer labels are shortened in the chart (the table has them whole)


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    shown: str  # the value as written in the page's language


def _number(n: int | Decimal) -> str:
    return str(format_decimal(n, locale=current_lang()))


def _month(code: str) -> str:
    year, month = code.split("-")
    return str(format_date(date(int(year), int(month), 1), "LLLL y", locale=current_lang()))


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1].rstrip() + "…"


def _bars(pairs: list[tuple[str, int | Decimal]]) -> list[Bar]:
    return [Bar(_short(label), float(value), _number(value)) for label, value in pairs[:CHART_ROWS]]


def _chosen(grants: Any, choices: list[dashboard.Choice]) -> uuid.UUID | None:
    """The territory asked in ``?territoire=``; else the first one coordinated (None: the platform)."""
    asked = request.args.get("territoire")
    if asked:
        try:
            return uuid.UUID(asked)
        except ValueError:
            raise NotFound("Territory not found.") from None
    if grants.platform_admin or not choices:
        return None
    return choices[0].id


def _figures() -> tuple[dashboard.Dashboard, list[dashboard.Choice]]:
    grants = who.grants()
    if not dashboard.may_see_dashboards(grants):
        raise PermissionDenied("The dashboard is for territory coordinators.")
    choices = dashboard.dashboard_territories(db.session, grants)
    territory_id = _chosen(grants, choices)
    now = runtime().clock()
    if territory_id is None:
        return dashboard.platform_dashboard(db.session, grants, now=now), choices
    return dashboard.territory_dashboard(db.session, grants, territory_id, now=now), choices


def _charts(d: dashboard.Dashboard, t: Words) -> dict[str, list[Bar]]:
    places = d.by_project if d.territory_id else d.by_territory
    return {
        "by_function": _bars([(t("dash_fn_" + r.key), r.contributions) for r in d.by_function]),
        "places": _bars([(r.label, r.contributions) for r in places]),
        "by_month": _bars([(_month(m.month), m.contributions) for m in d.by_month]),
        "badges": _bars([(_month(m.month), m.badges) for m in d.by_month]),
        "frameworks": _bars([(f.label, f.validated) for f in d.frameworks]),
        "blocs": _bars([(" ".join(filter(None, (b.code, b.label))), b.validated) for b in d.blocs]),
        "waiting": _bars([(t("dash_wait_" + w.bucket), w.claims) for w in d.waiting]),
    }


def _query(d: dashboard.Dashboard, **more: str) -> str:
    pairs = [("territoire", str(d.territory_id))] if d.territory_id else []
    if request.args.get("lang") in LANGS:
        pairs.append(("lang", str(request.args["lang"])))
    pairs += list(more.items())
    return "?" + urlencode(pairs) if pairs else ""


@bp.get("/tableau-de-bord")
@signed_in
def show() -> Response:
    """The dashboard: key figures, then each chart beside its table and its CSV link."""
    figures, choices = _figures()
    t = Words(current_lang())
    response = pages.render_page(
        "web/dashboard/show.html",
        d=figures,
        choices=choices,
        may_choose=who.grants().platform_admin or len(choices) > 1,
        platform_choice=who.grants().platform_admin,
        charts=_charts(figures, t),
        chart_rows=CHART_ROWS,
        num=_number,
        month=_month,
        csv=lambda table: f"/tableau-de-bord/{table}.csv" + _query(figures),
        lang_field=request.args.get("lang") if request.args.get("lang") in LANGS else None,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/tableau-de-bord/<table>.csv")
@signed_in
def table_csv(table: str) -> Response:
    """One table of the dashboard as CSV (the same as the API's ``?format=csv&table=``)."""
    if table not in dashboard.TABLES:
        raise NotFound("No such table.")
    figures, _choices = _figures()
    if table not in dashboard.tables_of(figures):
        raise NotFound("No such table here.")
    scope = figures.territory_name or "plateforme"
    return Response(
        dashboard.table_csv(figures, table),
        mimetype="text/csv",
        headers={
            "Content-Disposition": disposition("attachment", f"tableau-de-bord-{scope}-{table}.csv"),
            "Cache-Control": "private, no-store",
        },
    )
