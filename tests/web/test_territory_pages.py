"""Coordinator pages, server side (/territoire): the territory, its projects (social functions, tutors,
closing) and its review rules; each form's French error next to its field with nothing written; another
territory's things missing (404); people coordinating nothing refused (403)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from app.models import Membership, Person, Project, ProjectStatus, RatingScale, Role, Territory
from app.models.claims import ReviewSettings
from tests.web.csrf_support import csrf_token
from tests.web.page_support import page_text, sign_in_as


@dataclass
class Place:
    territory: Territory
    project: Project
    other: Territory
    other_project: Project
    helene: Person  # coordinator of the territory
    karim: Person  # tutor of the project
    lucie: Person  # learner of the project
    marcel: Person  # assisted learner (no login)
    other_coordinator: Person
    stranger: Person  # learner in the other territory


@pytest.fixture()
def place(make_person, make_territory, make_project, grant) -> Place:  # type: ignore[no-untyped-def]
    territory = make_territory(name="Val de Brenne", insee_code="36018")
    other = make_territory(name="Pays voisin")
    project = make_project(territory, title="Jardin partagé", social_functions=["produire", "se_nourrir"])
    other_project = make_project(other, title="Projet voisin")
    helene = make_person(display_name="Hélène Martin")
    karim = make_person(display_name="Karim Benali")
    lucie = make_person(display_name="Lucie Perrin", email="lucie.perrin@example.org")
    marcel = make_person(display_name="Marcel Dubreuil", email=None, password_hash=None, is_assisted=True)
    other_coordinator = make_person(display_name="Paul Voisin")
    stranger = make_person(display_name="Lucien Ailleurs")
    grant(helene, "coordinator", territory)
    grant(karim, "tutor", project)
    grant(lucie, "learner", project)
    grant(marcel, "learner", project)
    grant(other_coordinator, "coordinator", other)
    grant(stranger, "learner", other_project)
    return Place(territory, project, other, other_project, helene, karim, lucie, marcel, other_coordinator, stranger)


def _post(client: Any, url: str, page: str, data: dict[str, Any]) -> Any:
    return client.post(url, data={"csrf_token": csrf_token(client, page), **data})


def _fresh(session: Any, row: Any) -> Any:
    """The row as the pages left it (the request's session is gone)."""
    return session.get(type(row), row.id, populate_existing=True)


def _error_next_to(html: str, field: str, message: str) -> None:
    """The message is in the field's error paragraph, which the field names in aria-describedby."""
    assert re.search(rf'<p class="field-error" id="{re.escape(field)}-error">{re.escape(message)}</p>', html), html
    assert re.search(rf'aria-describedby="[^"]*{re.escape(field)}-error', html)


# --- the territory -----------------------------------------------------------------------------------


def test_the_coordinator_sees_and_edits_the_territory(client, app, session, place):  # type: ignore[no-untyped-def]
    sign_in_as(client, app, place.helene)
    page = client.get("/territoire")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "private, no-store"
    text = page_text(page)
    assert "Val de Brenne" in text and "Niveau d'expérimentation" in text and "Créer un lieu d'expérimentation" in text
    html = page.get_data(as_text=True)
    assert 'value="36018"' in html and 'aria-current="page">Territoire</a>' in html
    assert '<select id="territoire-choisi"' not in html  # one territory: nothing to choose
    answer = _post(
        client,
        "/territoire",
        "/territoire",
        {
            "territoire": place.territory.id,
            "version": place.territory.version,
            "nom": "Val de Brenne",
            "description": "Des habitants qui apprennent ensemble.",
            "niveau": "experimentation_site",
            "insee": "2a004",
            "siren": "241 300 375",
        },
    )
    assert answer.status_code == 303 and answer.headers["Location"].endswith("fait=territoire")
    place.territory = _fresh(session, place.territory)
    assert place.territory.experimentation_level.value == "experimentation_site"
    assert (place.territory.insee_code, place.territory.siren) == ("2A004", "241300375")
    assert "Le territoire est enregistré." in page_text(client.get(answer.headers["Location"]))


def test_a_wrong_code_is_said_next_to_its_field_and_nothing_is_written(client, app, session, place):  # type: ignore[no-untyped-def]
    sign_in_as(client, app, place.helene)
    answer = _post(
        client,
        "/territoire",
        "/territoire",
        {
            "territoire": place.territory.id,
            "version": place.territory.version,
            "nom": "",
            "insee": "123",
            "siren": "12",
        },
    )
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    _error_next_to(html, "nom", "Écrivez le nom du territoire.")
    _error_next_to(html, "siren", "Le numéro SIREN a 9 chiffres.")
    assert "Le code INSEE a 5 caractères" in html and 'id="insee-error"' in html
    assert 'value="123"' in html  # kept as typed
    place.territory = _fresh(session, place.territory)
    assert (place.territory.name, place.territory.insee_code, place.territory.version) == ("Val de Brenne", "36018", 1)


def test_an_edit_made_meanwhile_is_explained(client, app, session, place):  # type: ignore[no-untyped-def]
    sign_in_as(client, app, place.helene)
    form = {"territoire": place.territory.id, "version": 1, "nom": "Val de Brenne", "description": "Ma version"}
    place.territory.description = "Une autre version"
    session.commit()
    answer = _post(client, "/territoire", "/territoire", form)
    assert answer.status_code == 409
    assert "Quelqu'un d'autre a modifié le territoire" in page_text(answer) and ">Ma version</textarea>" in (
        answer.get_data(as_text=True)
    )
    place.territory = _fresh(session, place.territory)
    assert place.territory.description == "Une autre version"


def test_a_coordinator_of_two_territories_chooses(client, app, place, grant):  # type: ignore[no-untyped-def]
    grant(place.helene, "coordinator", place.other)
    sign_in_as(client, app, place.helene)
    html = client.get("/territoire").get_data(as_text=True)
    assert '<select id="territoire-choisi" name="territoire">' in html
    assert f'<option value="{place.other.id}" selected>' in html  # « Pays voisin » comes first
    chosen = client.get(f"/territoire?territoire={place.territory.id}")
    assert "<h1>Val de Brenne</h1>" in chosen.get_data(as_text=True)


def test_other_territories_are_missing_and_non_coordinators_refused(client, app, place):  # type: ignore[no-untyped-def]
    assert client.get("/territoire").status_code == 303  # a visitor signs in first
    sign_in_as(client, app, place.other_coordinator)
    for url in (
        f"/territoire?territoire={place.territory.id}",
        f"/territoire/projets?territoire={place.territory.id}",
        f"/territoire/projets/nouveau?territoire={place.territory.id}",
        f"/territoire/regles?territoire={place.territory.id}",
        f"/territoire/projets/{place.project.id}",
        f"/territoire/projets/{place.project.id}/cloture",
        "/territoire?territoire=pas-un-id",
    ):
        refused = client.get(url)
        assert refused.status_code == 404, url
        assert "Val de Brenne" not in refused.get_data(as_text=True)
    posted = _post(
        client, f"/territoire/projets/{place.project.id}/tuteurs", "/territoire", {"personne": place.karim.id}
    )
    assert posted.status_code == 404
    for who in (place.karim, place.lucie):
        sign_in_as(client, app, who)
        assert client.get("/territoire").status_code == 403
        assert client.get(f"/territoire/projets/{place.project.id}").status_code == 403  # seen, not managed
        assert "Personnes" not in page_text(client.get("/"))  # no coordinator's menu


# --- projects ------------------------------------------------------------------------------------------


def test_the_project_list_pages_and_filters(client, app, place, make_project):  # type: ignore[no-untyped-def]
    for i in range(22):
        make_project(
            place.territory, title=f"Atelier {i:02d}", status=ProjectStatus.COMPLETED if i < 3 else ProjectStatus.ACTIVE
        )
    sign_in_as(client, app, place.helene)
    first = page_text(client.get("/territoire/projets"))
    assert "23 projets." in first and "Page 1 sur 2" in first and "Atelier 00" in first
    assert "Jardin partagé" not in first and "Projet voisin" not in first
    second = page_text(client.get(f"/territoire/projets?territoire={place.territory.id}&page=2"))
    assert "Jardin partagé" in second and "Produire" in second and "Se nourrir" in second
    closed = page_text(client.get("/territoire/projets?etat=termines"))
    assert "3 projets." in closed and "Terminé" in closed and "Atelier 05" not in closed
    assert "20 projets." in page_text(client.get("/territoire/projets?etat=ouverts"))


def test_the_coordinator_creates_a_project(client, app, session, place):  # type: ignore[no-untyped-def]
    sign_in_as(client, app, place.helene)
    form = client.get("/territoire/projets/nouveau")
    assert form.status_code == 200
    text = page_text(form)
    for words in ("Produire", "Se soigner", "Apprendre et transmettre", "Santé, prévention"):
        assert words in text  # each social function with its plain words
    assert form.get_data(as_text=True).count('type="checkbox" id="fonction-') == 6
    answer = _post(
        client,
        "/territoire/projets/nouveau",
        "/territoire/projets/nouveau",
        {
            "territoire": place.territory.id,
            "titre": "Repair café",
            "description": "Réparer ensemble.",
            "fonctions": ["s_eduquer", "produire"],
            "debut": "2026-03-01",
            "fin": "",
        },
    )
    assert answer.status_code == 303
    created = session.scalar(select(Project).where(Project.title == "Repair café"))
    assert created.territory_id == place.territory.id and created.social_functions == ["produire", "s_eduquer"]
    assert answer.headers["Location"] == f"/territoire/projets/{created.id}?fait=projet"
    assert "Le projet est créé." in page_text(client.get(answer.headers["Location"]))


def test_a_project_without_function_or_with_wrong_dates_is_refused(client, app, session, place):  # type: ignore[no-untyped-def]
    sign_in_as(client, app, place.helene)
    before = session.scalar(select(func.count()).select_from(Project))
    answer = _post(
        client,
        "/territoire/projets/nouveau",
        "/territoire/projets/nouveau",
        {"territoire": place.territory.id, "titre": "Sans fonction", "debut": "2026-05-01", "fin": "2026-04-01"},
    )
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    _error_next_to(html, "fonctions", "Cochez au moins une fonction sociale.")
    _error_next_to(html, "fin", "La date de fin est avant la date de début.")
    assert 'value="Sans fonction"' in html
    assert session.scalar(select(func.count()).select_from(Project)) == before


def test_the_coordinator_edits_a_project_from_the_version_read(client, app, session, place):  # type: ignore[no-untyped-def]
    sign_in_as(client, app, place.helene)
    url = f"/territoire/projets/{place.project.id}"
    page = client.get(url)
    assert page.status_code == 200 and "Karim Benali" in page_text(page)
    form = {"version": 1, "titre": "Jardin des Glycines", "fonctions": ["se_nourrir"], "etat": "planned"}
    answer = _post(client, url, url, form)
    assert answer.status_code == 303
    place.project = _fresh(session, place.project)
    assert (place.project.title, place.project.social_functions, place.project.status.value) == (
        "Jardin des Glycines",
        ["se_nourrir"],
        "planned",
    )
    stale = _post(client, url, url, {**form, "titre": "Vieux titre"})  # version 1 again
    assert stale.status_code == 409 and "Quelqu'un d'autre a modifié ce projet" in page_text(stale)
    assert 'value="Vieux titre"' in stale.get_data(as_text=True)
    refused = _post(client, url, url, {"version": 2, "titre": "", "fonctions": ["se_nourrir"], "etat": "fini"})
    assert refused.status_code == 422
    _error_next_to(refused.get_data(as_text=True), "titre", "Écrivez le nom du projet.")
    place.project = _fresh(session, place.project)
    assert place.project.title == "Jardin des Glycines" and place.project.version == 2


def test_closing_says_what_it_does_then_closes(client, app, session, place):  # type: ignore[no-untyped-def]
    sign_in_as(client, app, place.helene)
    url = f"/territoire/projets/{place.project.id}/cloture"
    confirm = client.get(url)
    assert confirm.status_code == 200
    text = page_text(confirm)
    assert "Rien n'est effacé" in text and "Sa date de fin devient aujourd'hui." in text
    answer = _post(client, url, url, {"version": place.project.version})
    assert answer.status_code == 303
    place.project = _fresh(session, place.project)
    assert place.project.status is ProjectStatus.COMPLETED and place.project.end_date is not None
    assert client.get(url).status_code == 303  # closed already: back to the project
    assert "Ce projet est terminé." in page_text(client.get(f"/territoire/projets/{place.project.id}"))


def test_closing_from_an_old_version_is_explained(client, app, session, place):  # type: ignore[no-untyped-def]
    sign_in_as(client, app, place.helene)
    url = f"/territoire/projets/{place.project.id}/cloture"
    answer = _post(client, url, url, {"version": 7})
    assert answer.status_code == 409 and "Quelqu'un d'autre a modifié ce projet" in page_text(answer)
    place.project = _fresh(session, place.project)
    assert place.project.status is ProjectStatus.ACTIVE


# --- tutors ----------------------------------------------------------------------------------------------


def _tutors(session: Any, project: Project) -> set[str]:
    rows = session.scalars(
        select(Person.display_name)
        .join(Membership, Membership.person_id == Person.id)
        .where(Membership.role == Role.TUTOR, Membership.scope_id == project.id)
    )
    return set(rows)


def test_the_coordinator_finds_a_person_and_names_them_tutor(client, app, session, place):  # type: ignore[no-untyped-def]
    sign_in_as(client, app, place.helene)
    url = f"/territoire/projets/{place.project.id}"
    found = page_text(client.get(url + "?chercher=luc"))
    assert "1 personne trouvée pour « luc »." in found and "Lucie Perrin" in found
    assert "Lucien Ailleurs" not in found  # of another territory
    assert "Marcel" not in page_text(client.get(url + "?chercher=marcel"))  # no login of his own
    assert "Aucune personne trouvée" in page_text(client.get(url + "?chercher=karim"))  # tutor already
    answer = _post(client, f"{url}/tuteurs", url, {"personne": place.lucie.id})
    assert answer.status_code == 303 and answer.headers["Location"].endswith("fait=tuteur#tuteurs")
    assert _tutors(session, place.project) == {"Karim Benali", "Lucie Perrin"}
    again = _post(client, f"{url}/tuteurs", url, {"personne": place.lucie.id})
    assert again.status_code == 303 and "fait=deja" in again.headers["Location"]


def test_a_person_outside_the_territory_cannot_be_named(client, app, session, place):  # type: ignore[no-untyped-def]
    sign_in_as(client, app, place.helene)
    url = f"/territoire/projets/{place.project.id}"
    for sent, message in (
        ({}, "Choisissez la personne à nommer tuteur ou tutrice."),
        ({"personne": place.stranger.id}, "Cette personne ne fait pas partie du territoire"),
        ({"personne": place.marcel.id}, "Cette personne ne fait pas partie du territoire"),
    ):
        answer = _post(client, f"{url}/tuteurs", url, sent)
        assert answer.status_code == 422 and message in page_text(answer)
    assert _tutors(session, place.project) == {"Karim Benali"}


def test_the_coordinator_removes_a_tutor(client, app, session, place):  # type: ignore[no-untyped-def]
    sign_in_as(client, app, place.helene)
    url = f"/territoire/projets/{place.project.id}"
    html = client.get(url).get_data(as_text=True)
    assert 'aria-label="Retirer Karim Benali des tuteurs"' in html
    answer = _post(client, f"{url}/tuteurs/{place.karim.id}/retrait", url, {})
    assert answer.status_code == 303
    assert _tutors(session, place.project) == set()
    assert _post(client, f"{url}/tuteurs/{place.lucie.id}/retrait", url, {}).status_code == 404  # not a tutor


# --- review rules -----------------------------------------------------------------------------------------


def _levels(*rows: tuple[str, str, str, bool]) -> dict[str, Any]:
    form: dict[str, Any] = {}
    for i, (code, fr, en, proficient) in enumerate(rows, start=1):
        form |= {f"niveau-{i}-code": code, f"niveau-{i}-fr": fr, f"niveau-{i}-en": en}
        if proficient:
            form[f"niveau-{i}-acquis"] = "oui"
    return form


def test_the_rules_show_the_default_scale_and_change(client, app, session, place):  # type: ignore[no-untyped-def]
    sign_in_as(client, app, place.helene)
    page = client.get("/territoire/regles")
    assert page.status_code == 200
    text = page_text(page)
    assert "Un seul avis suffit" in text and "Échelle : celle de Blason, par défaut." in text
    assert "en cours d'acquisition" in text
    # Only the second review changes: no new scale is made from the same levels.
    same = _levels(
        ("non_acquis", "non acquis", "not acquired", False),
        ("en_cours", "en cours d'acquisition", "being acquired", False),
        ("acquis", "acquis", "acquired", True),
        ("maitrise", "maîtrisé", "mastered", True),
    )
    answer = _post(client, "/territoire/regles", "/territoire/regles", {"second": "oui", **same})
    assert answer.status_code == 303
    settings = session.get(ReviewSettings, place.territory.id)
    assert settings.requires_second_review and settings.rating_scale_id is None
    own = _levels(("", "débutant", "", False), ("", "confirmé", "confirmed", True), ("", "expert", "", True))
    answer = _post(client, "/territoire/regles", "/territoire/regles", {"second": "oui", **own})
    assert answer.status_code == 303
    settings = session.get(ReviewSettings, place.territory.id, populate_existing=True)
    scale = session.get(RatingScale, settings.rating_scale_id)
    assert [(lv["code"], lv["labelFr"], lv["labelEn"], lv["proficient"]) for lv in scale.levels] == [
        ("debutant", "débutant", "débutant", False),
        ("confirme", "confirmé", "confirmed", True),
        ("expert", "expert", "expert", True),
    ]
    shown = page_text(client.get(answer.headers["Location"]))
    assert "Les règles de validation sont enregistrées." in shown and "Échelle : celle du territoire." in shown
    back = _post(client, "/territoire/regles", "/territoire/regles", {"echelle": "defaut"})
    assert back.status_code == 303
    settings = session.get(ReviewSettings, place.territory.id, populate_existing=True)
    assert settings.rating_scale_id is None and settings.requires_second_review


@pytest.mark.parametrize(
    ("rows", "field", "message"),
    [
        ((("", "seul", "", True),), "niveaux", "Une échelle a de 2 à 10 niveaux."),
        ((("", "haut", "", True), ("", "bas", "", False)), "niveaux", "Les niveaux vont du plus bas au plus haut"),
        ((("", "bas", "", False), ("", "haut", "", False)), "niveaux", "Les niveaux vont du plus bas au plus haut"),
        ((("", "bas", "", False), ("", "Bas", "", True)), "niveau-2-fr", "Deux niveaux portent le même nom"),
        ((("", "bas", "", False), ("", "", "high", True)), "niveau-2-fr", "Écrivez le nom de ce niveau en français"),
        ((("", "bas", "", False), ("", "x" * 101, "", True)), "niveau-2-fr", "Ce texte est trop long"),
    ],
    ids=["one-level", "proficient-first", "none-proficient", "same-name", "no-french", "too-long"],
)
def test_a_scale_that_cannot_work_is_refused(client, app, session, place, rows, field, message):  # type: ignore[no-untyped-def]
    sign_in_as(client, app, place.helene)
    answer = _post(client, "/territoire/regles", "/territoire/regles", {"second": "oui", **_levels(*rows)})
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert re.search(rf'<p class="field-error" id="{field}-error">{re.escape(message)}', html), html
    assert session.get(ReviewSettings, place.territory.id) is None
    assert (
        session.scalar(
            select(func.count()).select_from(RatingScale).where(RatingScale.territory_id == place.territory.id)
        )
        == 0
    )


def test_the_pages_read_in_english(client, app, place):  # type: ignore[no-untyped-def]
    sign_in_as(client, app, place.helene)
    text = page_text(client.get(f"/territoire/projets/{place.project.id}?lang=en"))
    assert "Social functions" in text and "Learning and passing on" in text and "Tutors of the project" in text
    assert "Review rules" in page_text(client.get("/territoire/regles?lang=en"))
