"""The platform administrator's pages, server side: the hub, the import form (a file becomes a job,
bad input is answered next to its field with nothing written), frameworks with their versions, and a
framework's review rules and scale (shown, changed, refused); the 403 page for everyone else."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from app.models import Competency, Framework, Job, RatingScale, SourceType
from tests.web.csrf_support import csrf_token
from tests.web.page_support import page_text, sign_in_as

CSV = b"# title: Jardin\nkey;label\nJ1;Semer\n"
PAGES = ("/administration", "/administration/import", "/administration/referentiels")


@pytest.fixture()
def admin(make_person, grant):  # type: ignore[no-untyped-def]
    person = make_person(display_name="Camille Admin")
    grant(person, "platform_admin")
    return person


@pytest.fixture()
def framework(session):  # type: ignore[no-untyped-def]
    """A custom framework in two versions (the second current), with 3 and 2 competencies."""
    old = Framework(
        source_type=SourceType.CUSTOM,
        source_key="jardin-admin",
        title="Jardiner ensemble",
        version=1,
        is_current=False,
        imported_at=datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
    )
    new = Framework(
        source_type=SourceType.CUSTOM,
        source_key="jardin-admin",
        title="Jardiner ensemble",
        version=2,
        version_label="2026",
        imported_at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
    )
    session.add_all([old, new])
    session.flush()
    for fw, keys in ((old, ("A", "B", "C")), (new, ("A", "B"))):
        session.add_all(Competency(framework_id=fw.id, source_key=k, kind="competence", label=k) for k in keys)
    session.commit()
    return new


def _post(client: Any, path: str, data: dict[str, Any], **kw: Any) -> Any:
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/")}, **kw)


def _jobs(session: Any) -> int:
    return session.scalar(select(func.count()).select_from(Job)) or 0


def test_the_hub_lists_what_the_administrator_does(client, app, admin) -> None:  # type: ignore[no-untyped-def]
    sign_in_as(client, app, admin)
    page = client.get("/administration")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for href in ("/administration/import", "/administration/referentiels", "/taches", "/tableau-de-bord"):
        assert f'<a href="{href}">' in html
    assert 'aria-current="page">Administration</a>' in html  # the menu's entry


@pytest.mark.parametrize("role", [None, "coordinator", "issuer_admin"])
def test_others_meet_the_403_page(client, app, session, make_person, grant, framework, role) -> None:  # type: ignore[no-untyped-def]
    person = make_person()
    if role:
        grant(person, role, None)
    sign_in_as(client, app, person)
    for path in (*PAGES, f"/administration/referentiels/{framework.id}"):
        answer = client.get(path)
        assert answer.status_code == 403, path
        assert "Action non autorisée" in page_text(answer)
    assert _post(client, "/administration/import", {"fichier": (io.BytesIO(CSV), "j.csv")}).status_code == 403
    refused = _post(
        client, f"/administration/referentiels/{framework.id}/regles", {"deuxieme_avis": "oui", "echelle": "defaut"}
    )
    assert refused.status_code == 403 and _jobs(session) == 0
    framework = session.get(Framework, framework.id, populate_existing=True)
    assert framework.requires_second_review is False


def test_a_visitor_is_sent_to_sign_in(client) -> None:  # type: ignore[no-untyped-def]
    for path in PAGES:
        answer = client.get(path)
        assert answer.status_code == 303 and answer.headers["Location"].startswith("/connexion?next=")


def test_the_import_form_explains_in_plain_words(client, app, admin) -> None:  # type: ignore[no-untyped-def]
    sign_in_as(client, app, admin)
    page = client.get("/administration/import")
    text, html = page_text(page), page.get_data(as_text=True)
    assert "Un référentiel est la liste officielle des compétences" in text
    assert "RNCP" in text and "ESCO" in text and "CASE" in text
    assert 'enctype="multipart/form-data"' in html and '<label for="fichier">' in html
    assert 'type="file" id="fichier" name="fichier" multiple required aria-describedby="fichier-hint"' in html
    for value in ("rncp-xml", "rncp-csv", "esco-csv", "case-json", "custom-csv", "custom-json"):
        assert f'<option value="{value}">' in html


def test_an_import_starts_a_job_and_goes_to_its_page(client, app, session, admin) -> None:  # type: ignore[no-untyped-def]
    sign_in_as(client, app, admin)
    sent = _post(
        client,
        "/administration/import?lang=en",
        {"fichier": (io.BytesIO(CSV), "jardin.csv"), "format": "custom-csv", "titre": "Jardin"},
        content_type="multipart/form-data",
    )
    assert sent.status_code == 303
    match = re.fullmatch(r"/taches/([0-9a-f-]{36})\?lang=en", sent.headers["Location"])
    assert match
    job = session.get(Job, __import__("uuid").UUID(match.group(1)))
    assert job is not None and job.kind == "framework_import" and job.started_by_id == admin.id
    assert job.params["format"] == "custom-csv" and job.params["options"] == {"title": "Jardin"}
    assert [f["name"] for f in job.params["files"]] == ["jardin.csv"]


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({}, "fichier", "Choisissez le fichier du référentiel."),
        ({"format": "pdf"}, "format", "Choisissez un type de fichier de la liste."),
        ({"langue": "français-de-france"}, "langue", "Écrivez la langue en 2 à 8 lettres"),
        ({"version": "v" * 41}, "version", "La version tient en 40 caractères au plus."),
    ],
    ids=["no-file", "unknown-format", "language", "version"],
)
def test_bad_input_is_answered_next_to_its_field(client, app, session, admin, form, field, message) -> None:  # type: ignore[no-untyped-def]
    sign_in_as(client, app, admin)
    data = dict(form)
    if field != "fichier":
        data["fichier"] = (io.BytesIO(CSV), "jardin.csv")
    answer = _post(client, "/administration/import", data, content_type="multipart/form-data")
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert re.search(rf'<p class="field-error" id="{field}-error">{re.escape(message)}', html.replace("&#39;", "'"))
    assert f'aria-invalid="true" aria-describedby="{field}-hint {field}-error"' in html
    assert f'<a href="#{field}">' in html  # the summary at the top links to the field
    assert _jobs(session) == 0


def test_frameworks_with_their_versions_counted_and_paged(client, app, session, admin, framework) -> None:  # type: ignore[no-untyped-def]
    session.add_all(
        Framework(source_type=SourceType.CUSTOM, source_key=f"k{i:02d}", title=f"Zz référentiel {i:02d}")
        for i in range(21)
    )
    session.commit()
    sign_in_as(client, app, admin)
    first = client.get("/administration/referentiels")
    text, html = page_text(first), first.get_data(as_text=True)
    assert "22 référentiels." in text and "Page 1 sur 2" in text
    assert f'<a href="/administration/referentiels/{framework.id}">Jardiner ensemble</a>' in html
    assert "2 versions · importé le 2 mars 2026 à 10 h 00" in text
    assert 'href="/administration/referentiels?page=2" rel="next"' in html
    found = client.get("/administration/referentiels?q=jardin")
    assert "1 référentiel." in page_text(found) and "Jardiner ensemble" in page_text(found)


def test_a_framework_shows_its_versions_public_page_and_rules(client, app, admin, framework) -> None:  # type: ignore[no-untyped-def]
    sign_in_as(client, app, admin)
    page = client.get(f"/administration/referentiels/{framework.id}")
    assert page.status_code == 200
    text, html = page_text(page), page.get_data(as_text=True)
    assert f'href="/frameworks/{framework.id}"' in html  # the public page
    assert "Version 2 (2026) en vigueur 2 mars 2026 à 10 h 00 2" in text
    assert "Version 1 5 janvier 2026 à 10 h 00 3" in text
    assert "pas obligatoire : un avis suffit" in text and "échelle par défaut (Échelle Blason)" in text
    assert '<input type="radio" id="echelle" name="echelle" value="defaut" checked>' in html


def _own_scale(**over: str) -> dict[str, str]:
    form = {"deuxieme_avis": "oui", "echelle": "propre", "nom": "Échelle du jardin"}
    for i, (code, fr, proficient) in enumerate((("debut", "débutant", ""), ("ok", "confirmé", "oui"))):
        form |= {f"code-{i}": code, f"fr-{i}": fr, f"acquis-{i}": proficient}
    return form | over


def test_the_administrator_sets_a_scale_and_a_second_review(client, app, session, admin, framework) -> None:  # type: ignore[no-untyped-def]
    sign_in_as(client, app, admin)
    path = f"/administration/referentiels/{framework.id}/regles"
    saved = _post(client, path, _own_scale())
    assert saved.status_code == 303
    assert saved.headers["Location"] == f"/administration/referentiels/{framework.id}?regles=ok"
    framework = session.get(Framework, framework.id, populate_existing=True)
    assert framework.requires_second_review is True and framework.rating_scale_id is not None
    scale = session.get(RatingScale, framework.rating_scale_id)
    assert [lv["code"] for lv in scale.levels] == ["debut", "ok"] and scale.levels[1]["proficient"] is True
    page = page_text(client.get(saved.headers["Location"]))
    assert "Les règles sont enregistrées." in page and "obligatoire : deux tuteurs" in page
    assert "Échelle du jardin" in page
    # The same scale sent back (only the second review changes) makes no new scale.
    before = session.scalar(select(func.count()).select_from(RatingScale))
    assert _post(client, path, _own_scale(deuxieme_avis="")).status_code == 303
    framework = session.get(Framework, framework.id, populate_existing=True)
    assert framework.requires_second_review is False and framework.rating_scale_id == scale.id
    assert session.scalar(select(func.count()).select_from(RatingScale)) == before
    # Back to the default scale.
    assert _post(client, path, {"echelle": "defaut"}).status_code == 303
    framework = session.get(Framework, framework.id, populate_existing=True)
    assert framework.rating_scale_id is None


@pytest.mark.parametrize(
    ("over", "field", "message"),
    [
        ({"nom": ""}, "nom", "Donnez un nom à l"),
        ({"code-1": "Très Bien"}, "code-1", "Écrivez un code en minuscules"),
        ({"fr-0": ""}, "fr-0", "Écrivez le nom du niveau"),
        ({"code-1": "debut"}, "niveaux", "Deux niveaux ont le même code"),
        ({"acquis-1": ""}, "niveaux", "Au moins un niveau valide la compétence"),
        ({"code-1": "", "fr-1": "", "acquis-1": ""}, "niveaux", "Une échelle a de 2 à 10 niveaux."),
        ({"echelle": "autre"}, "echelle", "Choisissez l"),
    ],
    ids=["no-name", "bad-code", "no-label", "same-code", "order", "one-level", "choice"],
)
def test_bad_rules_are_answered_next_to_their_field(
    client, app, session, admin, framework, over, field, message
) -> None:  # type: ignore[no-untyped-def]
    sign_in_as(client, app, admin)
    answer = _post(client, f"/administration/referentiels/{framework.id}/regles", _own_scale(**over))
    assert answer.status_code == 422
    html = answer.get_data(as_text=True).replace("&#39;", "'")
    assert f'<p class="field-error" id="{field}-error">{message}' in html
    assert f'<a href="#{field}">' in html
    framework = session.get(Framework, framework.id, populate_existing=True)
    assert framework.requires_second_review is False and framework.rating_scale_id is None
