"""Tableau de bord, server side: the coordinator's territory with its key figures, seven SVG charts
each beside its table and CSV link, French numbers, the chooser, the platform for administrators,
and who may open it (another territory's coordinator meets the 404 page)."""

from __future__ import annotations

import re
from decimal import Decimal

from app.models import ContributionStatus
from tests.dashboard_fixtures import at
from tests.web.page_support import page_text, sign_in_as

NNBSP = "\u202f"  # Babel's French group separator


def test_the_coordinator_opens_their_territory(client, app, small):  # noqa: F811
    sign_in_as(client, app, small.coordinator)
    page = client.get("/tableau-de-bord")
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    assert page.headers["Cache-Control"] == "private, no-store"
    text = page_text(page)
    assert "Tableau de bord" in text and f"Territoire : {small.territory.name}" in text
    assert "10,75 h" in text  # hours the French way
    html = page.get_data(as_text=True)
    assert '<select id="territoire"' not in html  # one territory: nothing to choose
    assert 'aria-current="page">Tableau de bord</a>' in html  # the menu's entry


def test_seven_accessible_charts_each_beside_its_table(client, app, small):  # noqa: F811
    sign_in_as(client, app, small.coordinator)
    html = client.get("/tableau-de-bord").get_data(as_text=True)
    svgs = re.findall(r'<svg role="img" aria-labelledby="([\w-]+)-title \1-desc"', html)
    assert svgs == [
        "chart-function",
        "chart-places",
        "chart-month",
        "chart-badges",
        "chart-frameworks",
        "chart-blocs",
        "chart-waiting",
    ]
    for chart in svgs:
        assert f'<title id="{chart}-title">' in html and f'<desc id="{chart}-desc">' in html
    assert html.count("<table") == 7 and html.count("<caption") == 7
    assert html.count('<th scope="col"') >= 7 * 2 and '<th scope="row">Jardin partagé</th>' in html
    # The description says in words what the bars show.
    desc = re.search(r'<desc id="chart-function-desc">(.*?)</desc>', html, re.S)
    assert desc and "Produire : 2; Se nourrir : 2; Se loger : 0; S&#39;éduquer : 2" in desc.group(1)
    assert '<text class="label" x="0" y="15">Produire</text>' in html
    tid = small.territory.id
    for table in ("by_function", "by_project", "by_month", "frameworks", "blocs", "waiting"):
        assert f'href="/tableau-de-bord/{table}.csv?territoire={tid}"' in html


def test_large_numbers_read_the_french_way_and_in_english(client, app, small, world, make_contribution):  # noqa: F811
    big = Decimal("1250.5")
    make_contribution(
        world.learner, small.p3, status=ContributionStatus.SUBMITTED, hours=big, submitted_at=at(2026, 6, 9)
    )
    sign_in_as(client, app, small.coordinator)
    html = client.get("/tableau-de-bord").get_data(as_text=True)
    assert f"<dd>1{NNBSP}261,25 h</dd>" in html  # 10.75 + 1 250.5, grouped with a narrow no-break space
    english = page_text(client.get("/tableau-de-bord?lang=en"))
    assert "1,261.25 h" in english and "Contributions by social function" in english and "Producing" in english


def test_a_table_downloads_as_csv(client, app, small):  # noqa: F811
    sign_in_as(client, app, small.coordinator)
    answer = client.get(f"/tableau-de-bord/by_project.csv?territoire={small.territory.id}")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert "attachment" in answer.headers["Content-Disposition"]
    body = answer.get_data(as_text=True)
    assert body.startswith("\ufeffprojet_id;projet;") and f"{small.p2.id};Jardin partagé;2;4.25;1" in body
    assert client.get("/tableau-de-bord/by_territory.csv").status_code == 404  # the platform's table
    assert client.get("/tableau-de-bord/nope.csv").status_code == 404


def test_outside_the_scope(client, app, small):  # noqa: F811
    url = f"/tableau-de-bord?territoire={small.territory.id}"
    assert client.get(url).status_code == 303  # a visitor signs in first
    sign_in_as(client, app, small.other_coordinator)
    refused = client.get(url)
    assert refused.status_code == 404 and small.territory.name not in refused.get_data(as_text=True)
    assert client.get(f"/tableau-de-bord/by_project.csv?territoire={small.territory.id}").status_code == 404
    assert client.get("/tableau-de-bord?territoire=pas-un-id").status_code == 404
    sign_in_as(client, app, small.tutor)
    assert client.get("/tableau-de-bord").status_code == 403
    assert client.get(url).status_code == 403  # the tutor sees the territory, not its figures


def test_the_administrator_sees_the_platform_and_chooses(client, app, small):  # noqa: F811
    sign_in_as(client, app, small.admin)
    page = client.get("/tableau-de-bord")
    assert page.status_code == 200
    text = page_text(page)
    assert "Toute la plateforme" in text and "Par territoire" in text and "Autre territoire" in text
    html = page.get_data(as_text=True)
    assert '<option value="" selected>Toute la plateforme</option>' in html
    assert f'<option value="{small.other.id}">Autre territoire</option>' in html
    assert 'href="/tableau-de-bord/by_territory.csv"' in html
    one = client.get(f"/tableau-de-bord?territoire={small.other.id}")
    assert "Territoire : Autre territoire" in page_text(one)
    assert f'<option value="{small.other.id}" selected>' in one.get_data(as_text=True)


def test_a_coordinator_of_two_territories_chooses(client, app, small, grant):  # noqa: F811
    grant(small.coordinator, "coordinator", small.other)
    sign_in_as(client, app, small.coordinator)
    html = client.get("/tableau-de-bord").get_data(as_text=True)
    assert '<select id="territoire" name="territoire">' in html
    assert "Toute la plateforme</option>" not in html
    first = min((small.territory, small.other), key=lambda t: t.name)
    assert f'<option value="{first.id}" selected>' in html


def test_the_home_page_leads_coordinators_here(client, app, small):  # noqa: F811
    sign_in_as(client, app, small.coordinator)
    html = client.get("/").get_data(as_text=True)
    assert re.search(
        r'<a class="button [a-z]+" href="/tableau-de-bord">Voir le tableau de bord du territoire</a>', html
    )
    sign_in_as(client, app, small.tutor)
    assert "/tableau-de-bord" not in client.get("/").get_data(as_text=True)
