"""Public framework pages: HTML in French (English on request), JSON by content negotiation."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.models import Competency, Framework
from app.services.frameworks.imports import import_framework_file
from app.services.identity.access import Grants
from app.services.identity.audit import Actor
from tests.conftest import shared_path

RNCP = ("frameworks", "rncp", "export-fiches-rncp-v4-1_extract_RNCP35340_RNCP40792.xml")


def _import(session):  # type: ignore[no-untyped-def]
    import_framework_file(session, Grants(Actor(None), platform_admin=True), shared_path(*RNCP))
    session.commit()
    framework = session.scalar(select(Framework).where(Framework.source_key == "RNCP40792"))
    bloc = session.scalar(select(Competency).where(Competency.source_key == "RNCP40792BC01"))
    return framework, bloc


def test_framework_page_html_and_json(client, session):
    framework, _ = _import(session)
    page = client.get(f"/frameworks/{framework.id}", headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert '<html lang="fr">' in html and "Arborescence" in html and "RNCP40792BC01" in html
    assert page.headers["Vary"].startswith("Accept") and "public" in page.headers["Cache-Control"]
    english = client.get(f"/frameworks/{framework.id}?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in english and "Tree" in english
    # Counts by kind read "kind: n", never a singular noun after a plural number ("2 competence").
    assert re.search(r"<dd>[^<]*\w+: \d+", english) and not re.search(r"<dd>\d+ \w+", english)
    assert "Tree" in client.get(f"/frameworks/{framework.id}", headers={"Accept-Language": "en-GB,en;q=0.8"}).get_data(
        as_text=True
    )
    data = client.get(f"/frameworks/{framework.id}", headers={"Accept": "application/ld+json"}).json
    assert data["sourceKey"] == "RNCP40792" and data["tree"]["items"][0]["childrenCount"] == 5
    assert data["url"] == f"https://blason.test/frameworks/{framework.id}"


def test_competency_page_and_case_resolution(client, session):
    framework, bloc = _import(session)
    html = client.get(f"/competencies/{bloc.id}").get_data(as_text=True)
    assert "Texte d’origine" in html and "ext:RNCPBlocCompetences" in html
    data = client.get(f"/competencies/{bloc.id}", headers={"Accept": "application/json"}).json
    assert data["parents"][0]["code"] == "RNCP40792" and data["rawText"]
    package = client.get(f"/frameworks/{framework.id}/case").json
    item = next(i for i in package["CFItems"] if i.get("humanCodingScheme") == "RNCP40792BC01")
    path = item["uri"].removeprefix("https://blason.test")
    response = client.get(path)
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/competencies/{bloc.id}")
    doc_path = package["CFDocument"]["CFPackageURI"]["uri"].removeprefix("https://blason.test")
    assert client.get(doc_path).headers["Location"].endswith(f"/frameworks/{framework.id}/case")


def test_search_page_without_login(client, session):
    _import(session)
    html = client.get("/frameworks?q=Gerer+le+patrimoine").get_data(as_text=True)
    assert "résultat(s)" in html and "patrimoine" in html.lower()
    listing = client.get("/frameworks").get_data(as_text=True)
    assert "RNCP35340" in listing
    assert client.get(f"/competencies/{framework_id_unknown()}").status_code == 404


def framework_id_unknown() -> str:
    return "00000000-0000-0000-0000-000000000000"


def test_a_framework_of_unknown_language_is_marked_unknown_not_und(client, session):
    """A file that states no language is stored as ``und``; HTML writes ``lang=""`` (unknown), never ``und``."""
    framework, bloc = _import(session)
    framework.language = "und"
    bloc.language = None
    session.commit()
    for path in (f"/frameworks/{framework.id}", f"/competencies/{bloc.id}"):
        html = client.get(path, headers={"Accept": "text/html"}).get_data(as_text=True)
        assert 'lang=""' in html and 'lang="und"' not in html, path
