"""Issuer administrator pages (/emetteur), server side: the hub with a link to everything of each
issuer, the profile and its image, the signing keys (renew, mark compromised, each after a page
saying what it does), badge templates (new with a drawn or uploaded image, edit as versions),
their competencies found with the search, and the award rule built with a form. Invalid input
answers 422 with the French message next to its field and writes nothing; a person administering
no issuer meets the 403 page, another issuer's administrator the 404 page."""

from __future__ import annotations

import io
import re
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from app.models import Achievement, AchievementVersion, Competency, Framework, Issuer, Person, SigningKey
from app.runtime import runtime
from app.services.frameworks.imports import import_framework_file
from app.services.identity import access
from app.services.issuing import achievements, awarding, issuers
from tests.api.support import png_bytes
from tests.issuing_fixtures import SYSTEM
from tests.web.csrf_support import csrf_token
from tests.web.page_support import page_text, sign_in_as

FRAMEWORK = """# title: Compétences citoyennes du Val de Brenne
# version: 2026
# language: fr
# identifier: https://tests.blason.example/referentiel-emetteur
key;parent_key;kind;code;label;description;alt_labels
VB1;;bloc;VB1;Coopérer avec les habitants;Agir avec les voisins.;
VB1.1;VB1;competence;VB1.1;Animer un groupe d'habitants;Réunir des voisins.;
VB1.2;VB1;competence;VB1.2;Tenir un lavoir communal;Nettoyer et remettre en eau.;
VB1.3;VB1;competence;VB1.3;Organiser un chantier collectif;Préparer un chantier ouvert à tous.;
"""


@dataclass
class Desk:
    issuer: Issuer
    other_issuer: Issuer
    admin: Person
    other_admin: Person
    tutor: Person
    achievement: Achievement
    other_achievement: Achievement
    framework: Framework
    bloc: Competency
    competencies: list[Competency]


@pytest.fixture()
def desk(app, session, make_person, grant, make_project, settings, tmp_path) -> Desk:  # type: ignore[no-untyped-def]
    def issuer_of(name: str, admin: Person) -> Issuer:
        issuer = issuers.create_issuer(
            session, SYSTEM, {"name": name, "url": "https://x.example.fr"}, settings=settings
        )
        session.commit()
        grant(admin, "issuer_admin", issuer)
        return issuer

    admin = make_person(display_name="Hélène Martin")
    other_admin = make_person(display_name="Omar Autre")
    tutor = make_person(display_name="Karim Benali")
    grant(tutor, "tutor", make_project())
    issuer = issuer_of("Communauté de communes du Val de Brenne", admin)
    other = issuer_of("Mairie d'ailleurs", other_admin)
    path = tmp_path / "referentiel-emetteur.csv"
    path.write_text(FRAMEWORK, encoding="utf-8")
    import_framework_file(session, SYSTEM, path, path.name)
    session.commit()
    framework = session.scalar(select(Framework).where(Framework.title == "Compétences citoyennes du Val de Brenne"))
    assert framework is not None
    by_code = {c.code: c for c in session.scalars(select(Competency).where(Competency.framework_id == framework.id))}
    bloc, comps = by_code["VB1"], [by_code[f"VB1.{i}"] for i in (1, 2, 3)]

    def made(issuer: Issuer, who: Person, name: str) -> Achievement:
        created = achievements.create_achievement(
            session,
            access.load_grants(session, who.id),
            issuer.id,
            {"name": name, "description": "Un badge.", "criteria": "Avoir agi."},
            storage=runtime(app).storage,
            urls=settings.urls,
        )
        session.commit()
        return created

    return Desk(
        issuer,
        other,
        admin,
        other_admin,
        tutor,
        made(issuer, admin, "Animer un jardin partagé"),
        made(other, other_admin, "Badge d'ailleurs"),
        framework,
        bloc,
        comps,
    )


def post(client: Any, path: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
    return client.post(path, data={**(data or {}), "csrf_token": csrf_token(client, "/emetteur")}, **kw)


def stored(app: Any, sha256: str) -> str:
    with runtime(app).storage.open(sha256) as handle:
        return handle.read().decode()


def field_error(html: str, name: str) -> str:
    match = re.search(rf'<p class="field-error" id="{name}-error">(.*?)</p>', html, re.S)
    assert match, f"no error next to {name}"
    return match.group(1)


# --- the hub -----------------------------------------------------------------------------------------------


def test_the_hub_lists_my_issuers_with_a_link_to_everything(client, app, desk):  # type: ignore[no-untyped-def]
    sign_in_as(client, app, desk.admin)
    page = client.get("/emetteur")
    assert page.status_code == 200 and "no-store" in page.headers["Cache-Control"]
    text, html = page_text(page), page.get_data(as_text=True)
    assert "Communauté de communes du Val de Brenne" in text and "Mairie d'ailleurs" not in text
    assert "Modèles de badge : 1 · badges délivrés : 0 · à approuver : 0" in text
    i = desk.issuer.id
    for path in ("", "/badges", "/badges/nouveau", "/a-approuver", "/attribuer", "/envois", "/badges-emis", "/cles"):
        assert f'href="/emetteur/{i}{path}"' in html, path
    assert 'aria-current="page">Émetteur</a>' in html
    assert "Badge templates" in page_text(client.get("/emetteur?lang=en"))


def test_the_hub_is_for_issuer_administrators(client, app, desk):  # type: ignore[no-untyped-def]
    assert client.get("/emetteur").status_code == 303  # a visitor signs in first
    sign_in_as(client, app, desk.tutor)
    refused = client.get("/emetteur")
    assert refused.status_code == 403 and "Val de Brenne" not in refused.get_data(as_text=True)


# --- the profile and image ---------------------------------------------------------------------------------------


def test_the_profile_is_edited(client, app, session, desk):  # type: ignore[no-untyped-def]
    sign_in_as(client, app, desk.admin)
    url = f"/emetteur/{desk.issuer.id}"
    page = client.get(url)
    assert page.status_code == 200 and 'value="https://x.example.fr"' in page.get_data(as_text=True)
    done = post(
        client,
        url,
        {
            "nom": "CC du Val de Brenne",
            "site": "https://val-de-brenne.example.fr",
            "courriel": "badges@val-de-brenne.example.fr",
            "description": "Reconnaît ce que les habitants apprennent.",
            "version": str(desk.issuer.version),
        },
    )
    assert done.status_code == 303 and done.headers["Location"] == f"{url}?fait=profil"
    session.expire_all()
    issuer = session.get(Issuer, desk.issuer.id)
    assert (issuer.name, issuer.email) == ("CC du Val de Brenne", "badges@val-de-brenne.example.fr")
    assert "Le profil est enregistré." in page_text(client.get(f"{url}?fait=profil"))


def test_a_wrong_profile_is_refused_next_to_its_fields(client, app, session, desk):  # type: ignore[no-untyped-def]
    sign_in_as(client, app, desk.admin)
    url = f"/emetteur/{desk.issuer.id}"
    refused = post(client, url, {"nom": "", "site": "pas un site", "courriel": "non", "version": "1"})
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert field_error(html, "nom") == "Donnez un nom."
    assert field_error(html, "site").startswith("Donnez l&#39;adresse complète d&#39;un site web")
    assert "Cette adresse e-mail n" in field_error(html, "courriel")
    assert 'aria-describedby="site-hint site-error"' in html and 'value="pas un site"' in html
    session.expire_all()
    assert session.get(Issuer, desk.issuer.id).name == "Communauté de communes du Val de Brenne"
    stale = post(client, url, {"nom": "Autre nom", "site": "https://a.example.fr", "version": "99"})
    assert stale.status_code == 409 and "Quelqu&#39;un a modifié cette page" in stale.get_data(as_text=True)


def test_the_issuer_image_is_uploaded_and_checked(client, app, session, desk):  # type: ignore[no-untyped-def]
    sign_in_as(client, app, desk.admin)
    url = f"/emetteur/{desk.issuer.id}/image"
    missing = post(client, url, {}, content_type="multipart/form-data")
    assert missing.status_code == 422 and field_error(missing.get_data(as_text=True), "fichier") == (
        "Choisissez un fichier image."
    )
    wrong = post(client, url, {"fichier": (io.BytesIO(b"GIF89a..."), "logo.gif")}, content_type="multipart/form-data")
    assert wrong.status_code == 415 and "PNG ou SVG" in field_error(wrong.get_data(as_text=True), "fichier")
    session.expire_all()
    assert session.get(Issuer, desk.issuer.id).image_sha256 is None
    done = post(client, url, {"fichier": (io.BytesIO(png_bytes(8, 8)), "logo.png")}, content_type="multipart/form-data")
    assert done.status_code == 303
    session.expire_all()
    assert session.get(Issuer, desk.issuer.id).image_sha256 is not None
    assert f'src="/issuers/{desk.issuer.id}/image"' in client.get(f"/emetteur/{desk.issuer.id}").get_data(as_text=True)


# --- keys --------------------------------------------------------------------------------------------------------


def _keys(session: Any, issuer: Issuer) -> list[SigningKey]:
    session.expire_all()
    return list(session.scalars(select(SigningKey).where(SigningKey.issuer_id == issuer.id)))


def test_the_keys_are_listed_without_private_material(client, app, session, desk):  # type: ignore[no-untyped-def]
    sign_in_as(client, app, desk.admin)
    page = client.get(f"/emetteur/{desk.issuer.id}/cles")
    assert page.status_code == 200
    text, html = page_text(page), page.get_data(as_text=True)
    for algorithm in ("EdDSA", "ES256", "RS256"):
        assert algorithm in text
    for key in _keys(session, desk.issuer):
        assert key.kid in text
        assert key.encrypted_private_key.hex()[:16] not in html
    assert "PRIVATE" not in html and "BEGIN" not in html and "kek" not in html.lower()
    assert text.count("en service") == 3


def test_renewing_the_keys_says_what_it_does_then_does_it(client, app, session, desk):  # type: ignore[no-untyped-def]
    sign_in_as(client, app, desk.admin)
    url = f"/emetteur/{desk.issuer.id}/cles/renouveler"
    text = page_text(client.get(url))
    assert "les badges déjà délivrés ne changent pas : ils restent authentiques" in text
    assert len(_keys(session, desk.issuer)) == 3  # looking at the page changes nothing
    done = post(client, url)
    assert done.status_code == 303 and done.headers["Location"] == f"/emetteur/{desk.issuer.id}/cles?fait=cles"
    states = sorted(k.status.value for k in _keys(session, desk.issuer))
    assert states == ["active"] * 3 + ["retired"] * 3


def test_a_key_is_marked_compromised_after_its_consequences_are_said(client, app, session, desk, settings):  # type: ignore[no-untyped-def]
    learner = Person(display_name="Lucie Perrin", email=f"lucie.{uuid.uuid4().hex[:6]}@example.fr")
    session.add(learner)
    session.commit()
    awarding.award(session, SYSTEM, desk.achievement.id, {"learner_id": learner.id}, settings=settings)
    session.commit()
    key = next(k for k in _keys(session, desk.issuer) if k.algorithm == "EdDSA")
    sign_in_as(client, app, desk.admin)
    url = f"/emetteur/{desk.issuer.id}/cles/{key.id}/compromise"
    text = page_text(client.get(url))
    assert "Le badge signé avec cette clé ne sera plus présenté comme authentique" in text
    assert "« Signature douteuse »" in text and "une nouvelle clé la remplace aussitôt" in text
    refused = post(client, url, {"raison": "  "})
    assert refused.status_code == 422
    assert field_error(refused.get_data(as_text=True), "raison") == "Dites pourquoi la clé est compromise."
    assert all(k.status.value == "active" for k in _keys(session, desk.issuer))
    done = post(client, url, {"raison": "Ordinateur volé."})
    assert done.status_code == 303
    rows = _keys(session, desk.issuer)
    assert session.get(SigningKey, key.id).status.value == "compromised" and len(rows) == 4
    again = post(client, url, {"raison": "Encore."})
    assert again.status_code == 409 and "déjà été déclarée compromise" in page_text(again)


def test_another_issuers_key_is_not_found(client, app, session, desk):  # type: ignore[no-untyped-def]
    theirs = _keys(session, desk.other_issuer)[0]
    sign_in_as(client, app, desk.admin)
    assert client.get(f"/emetteur/{desk.issuer.id}/cles/{theirs.id}/compromise").status_code == 404
    assert client.get(f"/emetteur/{desk.other_issuer.id}/cles/{theirs.id}/compromise").status_code == 404
    assert post(client, f"/emetteur/{desk.other_issuer.id}/cles/renouveler").status_code == 404
    assert len(_keys(session, desk.other_issuer)) == 3


# --- badge templates ---------------------------------------------------------------------------------------------


def _count(session: Any) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Achievement)) or 0


NEW = {
    "nom": "Animer un atelier de réparation",
    "description": "A animé un atelier du repair café.",
    "criteria": "",
    "criteres": "Deux compétences validées sur trois.",
    "type": "Competency",
    "validite": "365",
    "image": "dessin",
    "fond": "#1b3a5c",
    "texte": "#ffffff",
    "forme": "shield",
}


def test_a_badge_template_is_created_with_a_drawn_image(client, app, session, desk):  # type: ignore[no-untyped-def]
    sign_in_as(client, app, desk.admin)
    url = f"/emetteur/{desk.issuer.id}/badges/nouveau"
    form = client.get(url)
    assert form.status_code == 200 and 'type="color"' in form.get_data(as_text=True)
    done = post(client, url, NEW, content_type="multipart/form-data")
    assert done.status_code == 303
    created_id = done.headers["Location"].split("/")[3].split("?")[0]
    detail = achievements.detail(session, session.get(Achievement, uuid.UUID(created_id)), runtime(app).issuing.urls)
    assert (detail.name, detail.achievement_type, detail.valid_for_days) == (NEW["nom"], "Competency", 365)
    assert detail.award_rule == {"type": "manual"}
    svg = stored(app, detail.image_sha256)
    assert ">AAR</text>" in svg and 'fill="#1b3a5c"' in svg and "Animer un atelier de" in svg
    page = client.get(done.headers["Location"])
    text = page_text(page)
    assert "Le modèle de badge est créé." in text and "Délivré seulement à la main" in text
    assert f'src="/achievements/{created_id}/v/1/image"' in page.get_data(as_text=True)
    image = client.get(f"/achievements/{created_id}/v/1/image")
    assert image.mimetype == "image/svg+xml"
    image.close()


def test_colours_that_do_not_contrast_are_refused_and_nothing_is_created(client, app, session, desk):  # type: ignore[no-untyped-def]
    sign_in_as(client, app, desk.admin)
    before = _count(session)
    url = f"/emetteur/{desk.issuer.id}/badges/nouveau"
    refused = post(client, url, {**NEW, "texte": "#2b4a6c"}, content_type="multipart/form-data")
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert field_error(html, "texte").startswith("Le texte se lirait mal sur ce fond (contraste 1,")
    assert 'id="texte" name="texte" value="#2b4a6c" aria-invalid="true"' in html
    bad = post(client, url, {**NEW, "nom": "", "fond": "bleu", "validite": "-3"}, content_type="multipart/form-data")
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert field_error(html, "nom") == "Donnez un nom."
    assert field_error(html, "fond").startswith("Choisissez une couleur")
    assert field_error(html, "validite").startswith("Donnez un nombre de jours entier")
    assert _count(session) == before


def test_a_badge_template_with_an_uploaded_image(client, app, session, desk):  # type: ignore[no-untyped-def]
    sign_in_as(client, app, desk.admin)
    url = f"/emetteur/{desk.issuer.id}/badges/nouveau"
    before = _count(session)
    wrong = post(
        client,
        url,
        {**NEW, "image": "fichier", "fichier": (io.BytesIO(b"<svg><script/></svg>"), "b.svg")},
        content_type="multipart/form-data",
    )
    assert wrong.status_code == 415 and _count(session) == before  # the template was not kept either
    done = post(
        client,
        url,
        {**NEW, "image": "fichier", "fichier": (io.BytesIO(png_bytes(16, 16)), "b.png")},
        content_type="multipart/form-data",
    )
    assert done.status_code == 303 and _count(session) == before + 1


def test_the_list_is_paged(client, app, session, desk, settings):  # type: ignore[no-untyped-def]
    grants = access.load_grants(session, desk.admin.id)
    for n in range(20):
        achievements.create_achievement(
            session,
            grants,
            desk.issuer.id,
            {"name": f"Badge {n:02}", "description": "Un badge.", "criteria": "Agir."},
            storage=runtime(app).storage,
            urls=settings.urls,
        )
    session.commit()
    sign_in_as(client, app, desk.admin)
    url = f"/emetteur/{desk.issuer.id}/badges"
    first = page_text(client.get(url))
    assert "21 modèles de badge." in first and "Page 1 sur 2" in first
    second = page_text(client.get(url + "?page=2"))
    assert "Page 2 sur 2" in second and "Animer un jardin partagé" in second


def test_an_edit_after_the_first_award_makes_a_new_version(client, app, session, desk, settings):  # type: ignore[no-untyped-def]
    sign_in_as(client, app, desk.admin)
    url = f"/emetteur/badges/{desk.achievement.id}/modifier"
    assert client.get(url).status_code == 200
    values = {"nom": "Animer un jardin", "description": "Un badge.", "criteres": "Agir.", "type": "Badge"}
    refused = post(client, url, {**values, "criteres": "", "version": "1"})
    assert refused.status_code == 422 and field_error(refused.get_data(as_text=True), "criteres") == (
        "Dites comment obtenir ce badge."
    )
    assert post(client, url, {**values, "version": "1"}).status_code == 303  # not yet awarded: in place
    learner = Person(display_name="Lucie Perrin", email=f"lucie.{uuid.uuid4().hex[:6]}@example.fr")
    session.add(learner)
    session.commit()
    awarding.award(session, SYSTEM, desk.achievement.id, {"learner_id": learner.id}, settings=settings)
    session.commit()
    session.expire_all()
    lock = session.get(Achievement, desk.achievement.id).lock_version
    assert "enregistrer crée sa version 2" in page_text(client.get(url))
    assert post(client, url, {**values, "nom": "Animer un jardin partagé", "version": str(lock)}).status_code == 303
    session.expire_all()
    names = session.scalars(
        select(AchievementVersion.name)
        .where(AchievementVersion.achievement_id == desk.achievement.id)
        .order_by(AchievementVersion.version)
    ).all()
    assert names == ["Animer un jardin", "Animer un jardin partagé"]
    page = client.get(f"/emetteur/badges/{desk.achievement.id}")
    text = page_text(page)
    assert "Version 2 (actuelle)" in text and "Version 1 Animer un jardin" in text
    assert "pas encore attribuée" in text and "Première attribution le" in text


def test_the_image_is_drawn_again(client, app, session, desk):  # type: ignore[no-untyped-def]
    sign_in_as(client, app, desk.admin)
    url = f"/emetteur/badges/{desk.achievement.id}/image"
    before = achievements.current_version(session, desk.achievement).image_sha256
    refused = post(client, url, {"image": "dessin", "fond": "#ffffff", "texte": "#eeeeee", "forme": "circle"})
    assert refused.status_code == 422 and "contraste" in field_error(refused.get_data(as_text=True), "texte")
    done = post(client, url, {"image": "dessin", "fond": "#ffffff", "texte": "#1b3a5c", "forme": "hexagon"})
    assert done.status_code == 303
    session.expire_all()
    after = achievements.current_version(session, session.get(Achievement, desk.achievement.id)).image_sha256
    assert after != before and ">AJP</text>" in stored(app, after)


# --- competencies and the award rule -----------------------------------------------------------------------------


def _detail(app: Any, session: Any, achievement: Achievement) -> Any:
    session.expire_all()
    return achievements.detail(session, session.get(Achievement, achievement.id), runtime(app).issuing.urls)


def test_competencies_are_found_with_their_framework_and_bloc_then_added_and_removed(client, app, session, desk):  # type: ignore[no-untyped-def]
    sign_in_as(client, app, desk.admin)
    url = f"/emetteur/badges/{desk.achievement.id}/competences"
    found = client.get(url + "?q=lavoirs")
    text = page_text(found)
    assert "1 compétence trouvée" in text and "VB1.2 — Tenir un lavoir communal" in text
    assert "Référentiel : Compétences citoyennes du Val de Brenne" in text
    assert "Bloc de compétences : VB1 — Coopérer avec les habitants" in text
    comp = desk.competencies[1]
    lock = str(desk.achievement.lock_version)
    added = post(client, url + "/ajouter", {"competence": str(comp.id), "version": lock, "q": "lavoirs"})
    assert added.status_code == 303 and added.headers["Location"] == f"{url}?q=lavoirs&fait=ajoutee"
    assert [a["competencyId"] for a in _detail(app, session, desk.achievement).alignments] == [str(comp.id)]
    assert "Déjà choisie pour ce badge." in page_text(client.get(url + "?q=lavoirs"))
    unknown = post(client, url + "/ajouter", {"competence": "pas-un-id"})
    assert unknown.status_code == 422 and "Cette compétence est introuvable." in page_text(unknown)
    lock = str(session.get(Achievement, desk.achievement.id).lock_version)
    removed = post(client, url + "/retirer", {"competence": str(comp.id), "version": lock})
    assert removed.status_code == 303 and _detail(app, session, desk.achievement).alignments == []


def test_the_rule_at_least_2_of_3_automatic(client, app, session, desk, settings):  # type: ignore[no-untyped-def]
    ids = [c.id for c in desk.competencies]
    grants = access.load_grants(session, desk.admin.id)
    achievements.update_achievement(
        session,
        grants,
        desk.achievement.id,
        {"competency_ids": ids},
        expected_version=desk.achievement.lock_version,
        urls=settings.urls,
    )
    session.commit()
    sign_in_as(client, app, desk.admin)
    url = f"/emetteur/badges/{desk.achievement.id}/regle"
    form = client.get(url)
    assert form.status_code == 200
    html = form.get_data(as_text=True)
    assert html.count('type="checkbox" id="competences-') == 3 and '<option value="acquis" selected>' in html
    lock = str(session.get(Achievement, desk.achievement.id).lock_version)
    base = {"regle": "at_least", "competences": [str(i) for i in ids], "niveau": "acquis", "mode": "auto"}
    too_many = post(client, url, {**base, "k": "5", "version": lock})
    assert too_many.status_code == 422 and field_error(too_many.get_data(as_text=True), "k") == (
        "Donnez un nombre entre 1 et 3."
    )
    none = post(client, url, {**base, "competences": [], "k": "1", "heures": "-2", "version": lock})
    assert none.status_code == 422
    assert field_error(none.get_data(as_text=True), "competences") == "Cochez au moins une compétence."
    assert field_error(none.get_data(as_text=True), "heures").startswith("Donnez un nombre d&#39;heures")
    assert _detail(app, session, desk.achievement).award_rule == {"type": "manual"}
    done = post(client, url, {**base, "k": "2", "heures": "12,5", "version": lock})
    assert done.status_code == 303
    detail = _detail(app, session, desk.achievement)
    assert detail.award_rule == {
        "type": "at_least",
        "competencyIds": [str(i) for i in ids],
        "k": 2,
        "minLevel": "acquis",
        "minHours": 12.5,
    }
    assert detail.award_mode == "auto"
    text = page_text(client.get(f"/emetteur/badges/{desk.achievement.id}"))
    assert "Délivré quand au moins 2 des 3 compétences suivantes sont validées" in text
    assert "Niveau minimum : acquis." in text and "Au moins 12,5 h de contributions." in text
    # A competency the rule counts cannot be taken off the badge.
    lock = str(session.get(Achievement, desk.achievement.id).lock_version)
    kept = post(
        client,
        f"/emetteur/badges/{desk.achievement.id}/competences/retirer",
        {"competence": str(ids[0]), "version": lock},
    )
    assert kept.status_code == 409 and "retirez-la d&#39;abord de la règle" in kept.get_data(as_text=True)
    manual = post(client, url, {"regle": "manual", "version": lock})
    assert manual.status_code == 303 and _detail(app, session, desk.achievement).award_mode == "manual"


# --- who may open what ---------------------------------------------------------------------------------------------


def _routes(desk: Desk, key_id: uuid.UUID) -> list[tuple[str, str]]:
    i, a = desk.issuer.id, desk.achievement.id
    return [
        ("GET", f"/emetteur/{i}"),
        ("POST", f"/emetteur/{i}"),
        ("POST", f"/emetteur/{i}/image"),
        ("GET", f"/emetteur/{i}/cles"),
        ("GET", f"/emetteur/{i}/cles/renouveler"),
        ("POST", f"/emetteur/{i}/cles/renouveler"),
        ("GET", f"/emetteur/{i}/cles/{key_id}/compromise"),
        ("POST", f"/emetteur/{i}/cles/{key_id}/compromise"),
        ("GET", f"/emetteur/{i}/badges"),
        ("GET", f"/emetteur/{i}/badges/nouveau"),
        ("POST", f"/emetteur/{i}/badges/nouveau"),
        ("GET", f"/emetteur/badges/{a}"),
        ("GET", f"/emetteur/badges/{a}/modifier"),
        ("POST", f"/emetteur/badges/{a}/modifier"),
        ("POST", f"/emetteur/badges/{a}/image"),
        ("GET", f"/emetteur/badges/{a}/competences"),
        ("POST", f"/emetteur/badges/{a}/competences/ajouter"),
        ("POST", f"/emetteur/badges/{a}/competences/retirer"),
        ("GET", f"/emetteur/badges/{a}/regle"),
        ("POST", f"/emetteur/badges/{a}/regle"),
    ]


@pytest.mark.parametrize("who", ["other_admin", "tutor"])
def test_other_issuers_meet_404_and_non_administrators_403(client, app, session, desk, who):  # type: ignore[no-untyped-def]
    key_id = _keys(session, desk.issuer)[0].id
    sign_in_as(client, app, getattr(desk, who))
    expected = 404 if who == "other_admin" else 403
    for method, path in _routes(desk, key_id):
        answer = client.get(path) if method == "GET" else post(client, path, {"raison": "x", "nom": "x"})
        assert answer.status_code == expected, (method, path, answer.status_code)
        assert "Val de Brenne" not in answer.get_data(as_text=True)


def test_a_visitor_signs_in_first(client, desk):  # type: ignore[no-untyped-def]
    answer = client.get(f"/emetteur/badges/{desk.achievement.id}")
    assert answer.status_code == 303 and answer.headers["Location"].startswith("/connexion?next=")
