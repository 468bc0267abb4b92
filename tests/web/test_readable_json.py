"""Documents shown inside a page read as the JSON they are: no \\u0027 where the text has an apostrophe."""

from __future__ import annotations

import html

from sqlalchemy import select

from app.models import Competency
from app.services.frameworks.imports import import_framework_file
from app.services.identity.access import Grants
from app.services.identity.audit import Actor

FRAMEWORK = """# title: Référentiel d'essai
# version: 2025
# identifier: https://territoire.example/referentiel-json
key;parent_key;kind;code;label;description;alt_labels
J1;;competence;J1;Rendre compte d'une réunion;Écrire l'essentiel & le partager (< 1 page);
"""


def test_competency_page_shows_the_alignment_with_its_real_characters(client, session) -> None:
    import_framework_file(session, Grants(Actor(None), platform_admin=True), FRAMEWORK.encode(), "essai.csv")
    session.commit()
    competency = session.scalar(select(Competency).where(Competency.source_key == "J1"))
    page = client.get(f"/competencies/{competency.id}", headers={"Accept": "text/html"}).get_data(as_text=True)
    shown = html.unescape(page.split("<pre>", 1)[1].split("</pre>", 1)[0])
    assert "\\u00" not in shown
    assert '"targetName": "Rendre compte d\'une réunion"' in shown
    assert "Écrire l'essentiel & le partager (< 1 page)" in shown
    assert "<pre>" in page and "(&lt; 1 page)" in page  # still escaped as page text
