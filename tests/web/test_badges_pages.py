"""Mes badges: the list (image, state), a badge's sharing links and downloads, the name question asked once,
its effect on the public page's wording, and another person's badge not existing."""

from __future__ import annotations

import html
import re
import uuid
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from app.models import AchievementVersion, AuditEvent, Credential, Person
from app.services.issuing import revocation
from tests.public_fixtures import BASE, HTML
from tests.web.csrf_support import csrf_token
from tests.web.page_support import page_text, sign_in_as

QUESTION = "Afficher mon nom sur les pages publiques de mes badges ?"


def _hrefs(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [html.unescape(h) for h in re.findall(r'(?:href|src)="([^"]+)"', response.get_data(as_text=True))]


def _local(url: str) -> str:
    assert url.startswith(BASE + "/") or url.startswith("/"), url
    return url.removeprefix(BASE)


def _choose(client, answer: str, back: str = "/mes-badges"):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/mes-badges")
    return client.post("/mes-badges/nom-public", data={"afficher": answer, "retour": back, "csrf_token": token})


def test_the_list_shows_each_badge_with_its_image_issuer_date_and_state(
    app, client, session, issuing, award, make_achievement, settings
) -> None:  # type: ignore[no-untyped-def]
    kept = award()
    other = award(achievement=make_achievement(issuing.issuer, issuing.admin, name="Tenir un budget"))
    other.valid_until = other.awarded_at - timedelta(minutes=1)  # past: the page reads it as expired
    revoked = award(achievement=make_achievement(issuing.issuer, issuing.admin, name="Accueillir du public"))
    revocation.revoke(session, issuing.grants(session), revoked.id, "Erreur d'attribution.", settings=settings)
    session.commit()
    sign_in_as(client, app, issuing.learner)
    response = client.get("/mes-badges")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"  # a signed-in page: never in a shared cache
    text = page_text(response)
    assert "Vous avez 3 badges." in text
    assert text.count("Délivré par Collectif des territoires le") == 3
    for name, state in (("Animer une réunion publique", "Valide"), ("Tenir un budget", "Expiré")):
        assert re.search(f"{name} Délivré par .{{5,60}} {state}", text), (name, state)
    assert re.search("Accueillir du public Délivré par .{5,60} Révoqué", text)
    for credential in (kept, other, revoked):
        version = session.get(AchievementVersion, credential.achievement_version_id)
        image = f"{BASE}/achievements/{version.achievement_id}/v/1/image"
        assert image in _hrefs(response) and f"/mes-badges/{credential.id}" in _hrefs(response)
        assert client.get(_local(image)).mimetype.startswith("image/")


def test_an_empty_list_says_how_badges_come(app, client, make_person) -> None:  # type: ignore[no-untyped-def]
    sign_in_as(client, app, make_person())
    text = page_text(client.get("/mes-badges"))
    assert "Vous n'avez pas encore de badge." in text
    assert "quand un tuteur ou une tutrice la valide" in text
    english = page_text(client.get("/mes-badges?lang=en"))
    assert "You have no badge yet." in english and QUESTION not in english


def test_the_badge_page_links_to_its_public_page_linkedin_and_downloads_that_answer(
    app, client, session, issued
) -> None:  # type: ignore[no-untyped-def]
    credential = issued.credential
    sign_in_as(client, app, issued.setup.learner)
    response = client.get(f"/mes-badges/{credential.id}")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert re.search(rf'<input type="text" id="public-link" value="{re.escape(issued.url)}" readonly', body)
    assert re.search(r'<label for="public-link">Adresse de la page publique du badge</label>', body)
    assert ">Copier le lien</button>" in body and "hidden data-copy" in body  # shown by the script only
    assert '<script src="/static/badges.js" defer></script>' in body
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]

    links = _hrefs(response)
    linkedin = next(u for u in links if u.startswith("https://www.linkedin.com/profile/add?"))
    fields = {k: v[0] for k, v in parse_qs(urlsplit(linkedin).query).items()}
    assert fields == {
        "startTask": "CERTIFICATION_NAME",
        "name": "Animer une réunion publique",
        "organizationName": "Collectif des territoires",
        "issueYear": str(credential.awarded_at.year),
        "issueMonth": str(credential.awarded_at.month),
        "certUrl": issued.url,
        "certId": credential.short_code,
    }
    assert issued.url in links
    wanted = {
        f"{issued.url}/badge.png": "image/png",
        f"{issued.url}/badge.svg": "image/svg+xml",
        f"{issued.url}/badge-ob2.svg": "image/svg+xml",
        f"/mes-badges/{credential.id}/attestation.pdf": "application/pdf",
        f"{issued.url}/qr.svg": "image/svg+xml",
        f"{issued.url}/qr.png?download=1": "image/png",
    }
    for url, mimetype in wanted.items():
        assert url in links, url
        answer = client.get(_local(url))
        assert answer.status_code == 200 and answer.mimetype == mimetype, (url, answer.status_code, answer.mimetype)
    pdf = client.get(f"/mes-badges/{credential.id}/attestation.pdf")
    assert pdf.data.startswith(b"%PDF") and pdf.headers["Cache-Control"] == "no-store"
    with client.get("/static/badges.js") as script:
        assert script.status_code == 200 and script.mimetype in ("text/javascript", "application/javascript")
        assert b"navigator.clipboard" in script.data


def test_a_revoked_badge_offers_no_download_and_says_why(app, client, session, issued, settings) -> None:  # type: ignore[no-untyped-def]
    credential = issued.credential
    revocation.revoke(session, issued.setup.grants(session), credential.id, "Erreur d'attribution.", settings=settings)
    session.commit()
    sign_in_as(client, app, issued.setup.learner)
    response = client.get(f"/mes-badges/{credential.id}")
    text = page_text(response)
    assert "Révoqué le" in text and "Erreur d'attribution." in text
    assert "il ne peut plus être partagé ni téléchargé" in text
    assert not [u for u in _hrefs(response) if "linkedin" in u or "badge.png" in u or "attestation" in u]
    assert client.get(f"/mes-badges/{credential.id}/attestation.pdf").status_code == 409


def test_the_name_question_is_asked_once_then_changeable(app, client, session, issued) -> None:  # type: ignore[no-untyped-def]
    learner = issued.setup.learner
    sign_in_as(client, app, learner)
    first = page_text(client.get("/mes-badges"))
    assert QUESTION in first and "Oui, afficher mon nom" in first and "Non, ne pas l'afficher" in first
    assert QUESTION in page_text(client.get(f"/mes-badges/{issued.credential.id}"))  # not answered yet

    answered = _choose(client, "non")
    assert answered.status_code == 303 and answered.headers["Location"] == "/mes-badges?nom=enregistre"
    session.expire_all()
    person = session.get(Person, learner.id)
    assert person.show_name_publicly is False and person.show_name_chosen_at is not None
    event = session.query(AuditEvent).filter_by(action="person.name_visibility", subject_id=str(learner.id)).one()
    assert event.data == {"show": False}

    after = page_text(client.get("/mes-badges?nom=enregistre"))
    assert QUESTION not in after and "Votre choix est enregistré." in after
    assert "Votre nom n'apparaît pas sur les pages publiques de vos badges" in after
    assert "Ne plus afficher mon nom" not in after and "Afficher mon nom" in after
    assert QUESTION not in page_text(client.get(f"/mes-badges/{issued.credential.id}"))

    back = _choose(client, "oui", back=f"/mes-badges/{issued.credential.id}")
    assert back.headers["Location"] == f"/mes-badges/{issued.credential.id}?nom=enregistre"
    detail = page_text(client.get(f"/mes-badges/{issued.credential.id}"))
    assert "Votre nom sur la page publique affiché" in detail and "Ne plus afficher mon nom" in detail
    assert _choose(client, "peut-être").status_code == 422
    assert _choose(client, "oui", back="https://ailleurs.example/").headers["Location"] == "/mes-badges?nom=enregistre"


def test_the_public_page_says_the_holder_chose_only_when_they_did(app, client, session, issued) -> None:  # type: ignore[no-untyped-def]
    learner = issued.setup.learner
    visitor = app.test_client()

    def public(lang: str = "fr") -> str:
        return page_text(visitor.get(issued.path + f"?lang={lang}", headers=HTML))

    neutral = "Nom non publié : le ou la titulaire n'a pas choisi de l'afficher."
    chosen = "Nom non publié : le ou la titulaire a choisi de ne pas l'afficher."
    assert neutral in public() and learner.display_name not in public()  # nobody asked yet
    sign_in_as(client, app, learner)
    _choose(client, "non")
    assert chosen in public() and neutral not in public() and learner.display_name not in public()
    assert "the holder chose not to show it" in public("en")
    _choose(client, "oui")
    assert learner.display_name in public() and "Nom non publié" not in public()
    session.get(Credential, issued.credential.id).show_name = False  # this badge's own choice wins
    session.commit()
    assert chosen in public() and learner.display_name not in public()


def test_another_persons_badge_does_not_exist_here(app, client, session, issued, make_person) -> None:  # type: ignore[no-untyped-def]
    someone = make_person()
    sign_in_as(client, app, someone)
    credential = issued.credential
    for path in (f"/mes-badges/{credential.id}", f"/mes-badges/{credential.id}/attestation.pdf"):
        response = client.get(path)
        assert response.status_code == 404 and response.mimetype == "text/html", path
        assert "Animer une réunion publique" not in page_text(response)
    assert client.get(f"/mes-badges/{uuid.UUID(int=7)}").status_code == 404
    assert "Vous n'avez pas encore de badge." in page_text(client.get("/mes-badges"))


def test_a_visitor_goes_to_sign_in_first(client, issued) -> None:  # type: ignore[no-untyped-def]
    response = client.get(f"/mes-badges/{issued.credential.id}")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/connexion?next=%2Fmes-badges%2F{issued.credential.id}"
