"""Journey 2, the validation loop, in a real headless Chromium at phone size (tests/browser_fixtures.py).

Karim (tutor) opens À valider and Lucie's claim and asks for more evidence with a comment; the e-mail
in the live server's outbox folder links to Lucie's claim page; Lucie follows it (signing in brings
her back there), adds a photo in step 1 and sends the claim back in step 2; Karim validates it at
*acquis*; the achievement's rule issues the badge; it is in Lucie's Mes badges; its QR code, decoded
with zbar, opens the verification page, which says the badge is genuine. Every page met passes
axe-core in French and English at phone and desktop width. Also: the header's language button keeps
the choice for the account.
"""

from __future__ import annotations

import email
import email.policy
import re
import shutil
import subprocess
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.models import Competency, Credential, Framework, Membership, Person, Project, Role, ScopeType, Territory
from app.platform.storage import LocalStorage
from app.services.frameworks.imports import import_framework_file
from app.services.identity import access
from app.services.identity.auth import Passwords
from app.services.issuing import achievements, issuers
from app.services.recognition import claims
from tests.api.support import png_bytes
from tests.browser_fixtures import PHONE, LiveServer, in_project, signed_in_at, submitted_contribution

pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed (pip install -e '.[test]')")
from playwright.sync_api import Page, expect

PASSWORD = "mot-de-passe-du-lavoir"
COMPETENCY = "Restaurer un lavoir communal"
IN_MAILS = "L1.1 Restaurer un lavoir communal"  # e-mails name a competency with its code
BADGE = "Restauratrice ou restaurateur de lavoir"
FRAMEWORK = """# title: Petit patrimoine {n}
# version: 2026
# language: fr
# identifier: https://tests.blason.example/petit-patrimoine-{n}
key;parent_key;kind;code;label;description;alt_labels
L1;;bloc;L1;Prendre soin du petit patrimoine;Entretenir ce que le village a en commun.;
L1.1;L1;competence;L1.1;Restaurer un lavoir communal;Nettoyer, réparer et remettre en eau un lavoir.;
"""


@dataclass(frozen=True)
class Loop:
    lucie: Person
    karim: Person
    claim_id: uuid.UUID
    contribution_id: uuid.UUID


def the_loop(site: LiveServer) -> Loop:
    """Lucie's claim on 'Restaurer un lavoir communal' waiting for Karim, her project's tutor; an issuer
    whose achievement is awarded by rule once that competency is validated at 'acquis' or above."""
    n = uuid.uuid4().hex[:6]
    with site.session() as session:
        path = site.folder / f"petit-patrimoine-{n}.csv"
        path.write_text(FRAMEWORK.format(n=n), encoding="utf-8")
        import_framework_file(session, site.system, path, path.name)
        framework = session.scalar(select(Framework).where(Framework.title == f"Petit patrimoine {n}"))
        assert framework is not None
        competency = session.scalar(
            select(Competency).where(Competency.framework_id == framework.id, Competency.code == "L1.1")
        )
        assert competency is not None
        territory = Territory(name=f"Territoire {n}")
        session.add(territory)
        session.flush()
        project = Project(territory_id=territory.id, title="Le lavoir du bourg", social_functions=["produire"])
        hashed = Passwords(1, 8).hash(PASSWORD)
        lucie = Person(display_name="Lucie Perrin", email=f"lucie.{n}@demo.blason.fr", password_hash=hashed)
        karim = Person(display_name="Karim Benali", email=f"karim.{n}@demo.blason.fr", password_hash=hashed)
        admin = Person(display_name="Iris Émettrice", email=f"iris.{n}@demo.blason.fr")
        session.add_all([project, lucie, karim, admin])
        session.flush()
        session.add_all(
            [
                *in_project(project, learners=[lucie], tutors=[karim]),
                Membership(person_id=admin.id, role=Role.PLATFORM_ADMIN, scope_type=ScopeType.PLATFORM),
            ]
        )
        contribution = submitted_contribution(
            session,
            project,
            lucie,
            "Remise en eau du lavoir",
            "Avec six voisins, j'ai nettoyé le bassin et réparé la toiture du lavoir.",
        )
        grants = access.load_grants(session, admin.id)
        issuer = issuers.create_issuer(
            session, grants, {"name": "Mairie du bourg", "url": "https://bourg.example.fr"}, settings=site.settings
        )
        achievements.create_achievement(
            session,
            grants,
            issuer.id,
            {
                "name": BADGE,
                "description": "A remis en état un lavoir communal avec les habitants.",
                "criteria": "La compétence « Restaurer un lavoir communal » validée au niveau acquis.",
                "achievement_type": "Competency",
                "competency_ids": [competency.id],
                "award_mode": "auto",
                "award_rule": {"type": "all", "competencyIds": [str(competency.id)], "minLevel": "acquis"},
            },
            storage=LocalStorage(site.storage),
            urls=site.settings.urls,
        )
        claim = claims.create_claim(
            session,
            access.load_grants(session, lucie.id),
            {
                "contribution_id": contribution.id,
                "competency_id": competency.id,
                "justification": "J'ai mené le nettoyage du bassin et la réparation de la toiture.",
                "self_assessment": "acquis",
            },
        ).value
        session.commit()
        return Loop(lucie, karim, claim.id, contribution.id)


def signed_out_at(site: LiveServer, path: str) -> Callable[[Page], Any]:
    """Bring an audit's page to ``path`` signed out (its language from the browser's Accept-Language)."""

    def go(page: Page) -> None:
        page.context.clear_cookies()
        response = page.goto(site.url(path))
        assert response is not None and response.status == 200, path
        lang = "en" if page.evaluate("navigator.language").startswith("en") else "fr"
        assert page.evaluate("() => document.documentElement.lang") == lang

    return go


def mails_to(site: LiveServer, to: str, subject: str) -> list[str]:
    """The texts of the e-mails titled ``subject`` written to the live server's outbox folder for ``to``."""
    found = []
    for path in sorted((site.folder / "outbox").glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["To"] == to and message["Subject"] == subject:
            found.append(message.get_content())  # type: ignore[attr-defined]
    return found


def link_in_the_one_mail(site: LiveServer, to: str, subject: str, page: Page) -> str:
    """The page link of the one such e-mail (waited for: it is written once the request has committed)."""
    found: list[str] = []
    for _ in range(150):
        found = mails_to(site, to, subject)
        if found:
            break
        page.wait_for_timeout(100)
    assert len(found) == 1, f"{len(found)} e-mail(s) to {to} titled {subject!r}"
    links = re.findall(r"(http://127\.0\.0\.1:\d+/\S+)", found[0])
    assert links, found[0]
    return links[-1]  # the page where the reader acts comes last


def sign_in(page: Page, person: Person) -> None:
    page.get_by_label("Adresse e-mail").fill(person.email or "")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()


def decode_qr(png: bytes, folder: Path) -> str:
    """What a phone reads in the QR code: zbar (Debian's zbar-tools) decodes the image."""
    zbarimg = shutil.which("zbarimg")
    if zbarimg is None:
        pytest.skip("zbarimg (zbar-tools) is not installed: the QR code cannot be read back")
    image = folder / "qr.png"
    image.write_bytes(png)
    done = subprocess.run([zbarimg, "-q", "--raw", str(image)], capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_journey_2_more_evidence_then_validated_then_a_badge_whose_qr_code_verifies(
    live_server: LiveServer,
    new_page: Callable[..., Page],
    audit: Callable[..., list[Path]],
    screenshot: Callable[[Page, str], Path],
    tmp_path: Path,
) -> None:
    loop = the_loop(live_server)
    lucie, karim, claim_id = loop.lucie, loop.karim, loop.claim_id
    tutor, learner = new_page(PHONE, "fr"), new_page(PHONE, "fr")  # two phones, two people

    # Karim: À valider, Lucie's claim, "à compléter" with a comment.
    audit(signed_out_at(live_server, "/connexion?next=/a-valider"), "loop-signin-tutor")
    audit(signed_in_at(live_server, karim, "/a-valider", fresh=True), "loop-queue")
    audit(signed_in_at(live_server, karim, f"/a-valider/{claim_id}", fresh=True), "loop-review-first")
    tutor.goto(live_server.url("/a-valider"))
    sign_in(tutor, karim)
    expect(tutor.get_by_role("heading", level=1)).to_have_text("À valider")
    expect(tutor.get_by_text("1 demande attend votre avis.")).to_be_visible()
    tutor.get_by_role("link", name=COMPETENCY).click()
    assert tutor.url == live_server.url(f"/a-valider/{claim_id}")
    expect(tutor.get_by_role("heading", level=1)).to_have_text(COMPETENCY)
    expect(tutor.get_by_text("J'ai mené le nettoyage du bassin et la réparation de la toiture.")).to_be_visible()
    tutor.get_by_label("À compléter : il manque des preuves ou des explications").check()
    tutor.get_by_label("Votre commentaire (obligatoire)").fill(
        "Merci Lucie ! Ajoutez une photo du lavoir remis en eau, s'il vous plaît."
    )
    screenshot(tutor, "loop-journey-review-first-phone-fr")
    tutor.get_by_role("button", name="Envoyer mon avis").click()
    expect(tutor.get_by_role("status")).to_have_text(
        "Votre avis est enregistré : la personne va compléter sa demande. Il n'y a plus de demande à valider ici."
    )
    expect(tutor.get_by_text("Aucune demande n'attend votre avis.")).to_be_visible()
    audit(signed_in_at(live_server, karim, "/a-valider?avis=needs_evidence", fresh=True), "loop-queue-done")

    # The e-mail to Lucie links to her claim's page, where both steps are.
    link = link_in_the_one_mail(
        live_server, lucie.email or "", f"Preuves complémentaires demandées : {IN_MAILS}", tutor
    )
    assert link == live_server.url(f"/mes-demandes/{claim_id}")
    audit(signed_out_at(live_server, f"/connexion?next=/mes-demandes/{claim_id}"), "loop-signin-learner")
    audit(signed_in_at(live_server, lucie, f"/mes-demandes/{claim_id}", fresh=True), "loop-claim-needs-evidence")

    # Lucie, on her own phone, follows the link: signing in brings her back to it.
    learner.goto(link)
    expect(learner.get_by_role("heading", level=1)).to_have_text("Se connecter")
    sign_in(learner, lucie)
    assert learner.url == link
    expect(learner.get_by_role("heading", level=1)).to_have_text("Ma demande de validation")
    expect(learner.get_by_text("À compléter", exact=True).first).to_be_visible()
    expect(learner.get_by_text("Merci Lucie ! Ajoutez une photo du lavoir remis en eau")).to_be_visible()
    screenshot(learner, "loop-journey-needs-evidence-phone-fr")

    # Step 1: a photo taken with the phone, seen by the tutors.
    learner.get_by_label("Photo ou fichier").set_input_files(
        {"name": "lavoir.png", "mimeType": "image/png", "buffer": png_bytes(640, 480, seed=3)}
    )
    learner.get_by_label("Titre de la preuve (facultatif)").fill("Le lavoir remis en eau")
    expect(learner.get_by_label("Tuteurs", exact=True)).to_be_checked()
    learner.get_by_role("button", name="Ajouter cette preuve").click()
    assert learner.url.startswith(link)
    expect(learner.get_by_text("1 preuve ajoutée depuis la demande du tuteur ou de la tutrice.")).to_be_visible()
    screenshot(learner, "loop-journey-evidence-added-phone-fr")
    audit(signed_in_at(live_server, lucie, f"/mes-demandes/{claim_id}", fresh=True), "loop-claim-evidence-added")

    # Step 2: what was added, and the claim goes back to Karim.
    learner.get_by_label("Ce que j'ai ajouté ou changé").fill("J'ai ajouté la photo du bassin rempli d'eau claire.")
    learner.get_by_role("button", name="Renvoyer ma demande").click()
    expect(learner.get_by_text("En attente", exact=True)).to_be_visible()
    expect(learner.get_by_role("heading", name="Étape 1 : ajouter une preuve")).to_have_count(0)
    screenshot(learner, "loop-journey-sent-back-phone-fr")
    audit(signed_in_at(live_server, lucie, f"/mes-demandes/{claim_id}", fresh=True), "loop-claim-sent-back")

    # Karim is told; his e-mail opens the claim again, with the photo and Lucie's explanation.
    back = link_in_the_one_mail(live_server, karim.email or "", f"Demande complétée : {IN_MAILS}", learner)
    assert back == live_server.url(f"/a-valider/{claim_id}")
    audit(signed_in_at(live_server, karim, f"/a-valider/{claim_id}", fresh=True), "loop-review-again")
    tutor.goto(back)
    expect(tutor.get_by_role("heading", level=1)).to_have_text(COMPETENCY)
    photo = tutor.get_by_role("img", name="Photo : Le lavoir remis en eau")
    photo.scroll_into_view_if_needed()
    tutor.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=photo.element_handle())
    expect(tutor.get_by_text("J'ai ajouté la photo du bassin rempli d'eau claire.")).to_be_visible()
    expect(tutor.get_by_text("Merci Lucie ! Ajoutez une photo du lavoir remis en eau")).to_be_visible()  # history
    tutor.get_by_label("Validée : la personne a cette compétence").check()
    tutor.locator("input[name=level][value=acquis]").check()
    tutor.get_by_label("Votre commentaire (obligatoire)").fill("Très beau chantier, bien mené avec les voisins.")
    screenshot(tutor, "loop-journey-validate-phone-fr")
    tutor.get_by_role("button", name="Envoyer mon avis").click()
    expect(tutor.get_by_role("status")).to_contain_text("Votre avis est enregistré : demande validée.")

    # The rule issued the badge once the decision was committed; Lucie is told.
    badge_mail = link_in_the_one_mail(live_server, lucie.email or "", f"Nouveau badge : {BADGE}", tutor)
    with live_server.session() as session:
        credential = session.scalar(select(Credential).where(Credential.learner_id == lucie.id))
        assert credential is not None, "the award rule issued no badge"
        credential_id, short_code = credential.id, credential.short_code
    assert badge_mail == live_server.url(f"/mes-badges/{credential_id}")
    assert mails_to(live_server, lucie.email or "", f"Compétence validée : {IN_MAILS}")
    audit(signed_in_at(live_server, lucie, f"/mes-demandes/{claim_id}", fresh=True), "loop-claim-validated")
    audit(signed_in_at(live_server, lucie, "/mes-badges", fresh=True), "loop-mybadges-question")

    # Mes badges: the name question answered, the badge opened.
    learner.reload()
    expect(learner.get_by_text("Validée (acquis)", exact=True)).to_be_visible()
    learner.get_by_role("link", name="Mes badges").first.click()
    expect(learner.get_by_role("heading", level=1)).to_have_text("Mes badges")
    expect(learner.get_by_text("Valide", exact=True)).to_be_visible()
    screenshot(learner, "loop-journey-mybadges-phone-fr")
    learner.get_by_role("button", name="Oui, afficher mon nom").click()
    expect(learner.get_by_role("status")).to_have_text("Votre choix est enregistré.")
    audit(signed_in_at(live_server, lucie, "/mes-badges", fresh=True), "loop-mybadges")
    learner.get_by_role("link", name=BADGE).click()
    expect(learner.get_by_role("heading", level=1)).to_have_text(BADGE)
    # Both QR codes load: the address (with network) and the signed one (with none).
    codes = learner.locator("img.qr")
    expect(codes).to_have_count(2)
    # The signed one is made on demand: wait for each image to be decoded before reading its size.
    assert all(code.evaluate("img => img.decode().then(() => img.naturalWidth > 0)") for code in codes.all())
    screenshot(learner, "loop-journey-badge-phone-fr")
    audit(signed_in_at(live_server, lucie, f"/mes-badges/{credential_id}", fresh=True), "loop-badge")

    # Its QR code, read as a phone would, opens the verification page: genuine, Lucie named.
    qr_link = learner.get_by_role("link", name="Télécharger le code QR (PNG)").get_attribute("href") or ""
    answer = learner.request.get(qr_link if qr_link.startswith("http") else live_server.url(qr_link))
    assert answer.ok and answer.headers["content-type"] == "image/png", answer.status
    scanned = decode_qr(answer.body(), tmp_path)
    assert scanned == live_server.url(f"/c/{short_code}")
    visitor = new_page(PHONE, "fr")  # whoever scans it: nobody signed in
    visitor.goto(scanned)
    assert visitor.url == live_server.url(f"/credentials/{credential_id}")
    expect(visitor.get_by_role("heading", level=1)).to_have_text(re.compile("Badge authentique"))
    expect(
        visitor.get_by_text("Ce badge a bien été délivré par Mairie du bourg et n'a pas été modifié.")
    ).to_be_visible()
    expect(visitor.get_by_role("heading", name=BADGE)).to_be_visible()
    expect(visitor.get_by_text("Lucie Perrin")).to_be_visible()
    screenshot(visitor, "loop-journey-verified-phone-fr")
    audit(signed_out_at(live_server, f"/c/{short_code}"), "loop-verified")


def test_the_header_s_english_button_keeps_the_choice_for_the_account(
    live_server: LiveServer, new_page: Callable[..., Page]
) -> None:
    loop = the_loop(live_server)
    search = f"/mes-contributions/{loop.contribution_id}/revendiquer?q=lavoirs"
    page = new_page(PHONE, "fr")
    page.goto(live_server.url(search))
    sign_in(page, loop.lucie)
    expect(page.get_by_role("heading", level=1)).to_have_text("Faire valider une compétence")
    expect(page.get_by_role("heading", name=re.compile(r"^\d+ compétences? trouvées?$"))).to_be_visible()

    # POST /langue, then the same page: its address kept whole (the search typed is not lost).
    # The address does not change, so wait for the answer to the form, not for a new URL.
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="English").click()
    assert page.url == live_server.url(search)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name=re.compile(r"^\d+ competenc(y|ies) found$"))).to_be_visible()
    expect(page.get_by_role("button", name="Français")).to_be_visible()

    # The next page, without ?lang= and from a French browser: the account's choice wins.
    page.goto(live_server.url("/mes-badges"))
    assert page.evaluate("() => document.documentElement.lang") == "en"
    expect(page.get_by_role("heading", level=1)).to_have_text("My badges")
    with live_server.session() as session:
        kept = session.get(Person, loop.lucie.id)
        assert kept is not None and kept.locale == "en"

    # Kept for the account, not this browser: another French phone signs in to English pages.
    other = new_page(PHONE, "fr")
    other.goto(live_server.url("/mes-badges"))
    sign_in(other, loop.lucie)
    expect(other.get_by_role("heading", level=1)).to_have_text("My badges")

    # An address asking for English (?lang=en) is not kept when French is chosen from it.
    other.goto(live_server.url(f"{search}&lang=en"))
    with other.expect_navigation(wait_until="load"):
        other.get_by_role("button", name="Français").click()
    assert other.url == live_server.url(search)
    expect(other.get_by_role("heading", level=1)).to_have_text("Faire valider une compétence")
    page.reload()
    assert page.evaluate("() => document.documentElement.lang") == "fr"
