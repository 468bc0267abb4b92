"""The issuer administrator's journey in a real headless Chromium (tests/browser_fixtures.py).

Hélène, administrator of her territory's issuer, opens Émetteur from her home page, creates a badge
template whose image is drawn from its name and two colours, finds three competencies with the
search (framework and bloc shown) and adds them, and builds the rule "at least 2 of these 3, at
acquis or above, automatically". Lucie already has one of them validated; Karim validates a second
on his À valider page, and the rule issues the badge: Lucie's badge page shows it with the drawn
image. Then, on a desktop, Hélène renews the issuer's keys and reads what marking a key
compromised would do. Every page met passes axe-core in French and English, at phone and desktop
width, and in dark mode; phone screenshots are kept.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.models import (
    AchievementVersion,
    Competency,
    Credential,
    Framework,
    Membership,
    Person,
    Project,
    Role,
    ScopeType,
    SigningKey,
    Territory,
)
from app.services.frameworks.imports import import_framework_file
from app.services.identity import access
from app.services.identity.auth import Passwords
from app.services.issuing import issuers
from app.services.recognition import claims, reviews
from tests.browser_fixtures import DESKTOP, PHONE, LiveServer, in_project, signed_in_at, submitted_contribution

pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed (pip install -e '.[test]')")
from playwright.sync_api import Page, expect

PASSWORD = "mot-de-passe-de-la-haie"
BADGE = "Entretenir une haie bocagère"
LABELS = ("Tailler une haie bocagère", "Planter une haie bocagère", "Inventorier une haie bocagère")
FRAMEWORK = """# title: Bocage {n}
# version: 2026
# language: fr
# identifier: https://tests.blason.example/bocage-{n}
key;parent_key;kind;code;label;description;alt_labels
H1;;bloc;H1;Prendre soin du bocage;Entretenir les haies du territoire.;
H1.1;H1;competence;H1.1;{0};Tailler sans abîmer.;
H1.2;H1;competence;H1.2;{1};Choisir et planter les essences locales.;
H1.3;H1;competence;H1.3;{2};Compter les essences et les oiseaux.;
"""


@dataclass(frozen=True)
class Bocage:
    helene: Person
    karim: Person
    lucie: Person
    issuer_id: uuid.UUID
    framework_title: str
    pending_claim_id: uuid.UUID


def the_bocage(site: LiveServer) -> Bocage:
    """Hélène administers the territory's issuer; Lucie has H1.1 validated at acquis and asks for H1.2."""
    n = uuid.uuid4().hex[:6]
    with site.session() as session:
        path = site.folder / f"bocage-{n}.csv"
        path.write_text(FRAMEWORK.format(*LABELS, n=n), encoding="utf-8")
        import_framework_file(session, site.system, path, path.name)
        framework = session.scalar(select(Framework).where(Framework.title == f"Bocage {n}"))
        assert framework is not None
        by_code = {
            c.code: c for c in session.scalars(select(Competency).where(Competency.framework_id == framework.id))
        }
        territory = Territory(name=f"Bocage de la Brenne {n}")
        session.add(territory)
        session.flush()
        project = Project(territory_id=territory.id, title="Les haies du chemin creux", social_functions=["produire"])
        hashed = Passwords(1, 8).hash(PASSWORD)
        helene = Person(display_name="Hélène Martin", email=f"helene.{n}@demo.blason.fr", password_hash=hashed)
        karim = Person(display_name="Karim Benali", email=f"karim.{n}@demo.blason.fr", password_hash=hashed)
        lucie = Person(display_name="Lucie Perrin", email=f"lucie.{n}@demo.blason.fr", password_hash=hashed)
        session.add_all([project, helene, karim, lucie])
        session.flush()
        issuer = issuers.create_issuer(
            session,
            site.system,
            {
                "name": "Communauté de communes du Val de Brenne",
                "url": "https://vdb.example.fr",
                "territory_id": territory.id,
            },
            settings=site.settings,
        )
        session.add_all(
            [
                *in_project(project, learners=[lucie], tutors=[karim]),
                Membership(
                    person_id=helene.id, role=Role.ISSUER_ADMIN, scope_type=ScopeType.ISSUER, scope_id=issuer.id
                ),
            ]
        )
        contribution = submitted_contribution(
            session,
            project,
            lucie,
            "Chantier haie du chemin creux",
            "Avec l'association, j'ai taillé puis replanté quarante mètres de haie.",
        )
        learner = access.load_grants(session, lucie.id)

        def claim(code: str) -> Any:
            data = {
                "contribution_id": contribution.id,
                "competency_id": by_code[code].id,
                "justification": "Je l'ai fait pendant le chantier, avec les bénévoles.",
                "self_assessment": "acquis",
            }
            return claims.create_claim(session, learner, data).value

        first = claim("H1.1")
        reviews.review_claim(
            session,
            access.load_grants(session, karim.id),
            first.id,
            {"decision": "validated", "level": "acquis", "comment": "Taille propre et sûre."},
            expected_version=first.version,
        )
        pending = claim("H1.2")
        session.commit()
        return Bocage(helene, karim, lucie, issuer.id, framework.title, pending.id)


def sign_in(page: Page, person: Person) -> None:
    page.get_by_label("Adresse e-mail").fill(person.email or "")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()


def test_helene_creates_a_badge_with_a_drawn_image_and_a_2_of_3_rule_that_karim_s_decision_awards(
    live_server: LiveServer,
    new_page: Callable[..., Page],
    audit: Callable[..., list[Path]],
    screenshot: Callable[[Page, str], Path],
) -> None:
    world = the_bocage(live_server)
    helene = new_page(PHONE, "fr")

    # Home → Émetteur: her issuer, with a link to everything of it.
    helene.goto(live_server.url("/"))
    helene.get_by_role("link", name="Se connecter").first.click()
    sign_in(helene, world.helene)
    helene.get_by_role("link", name="Émetteur", exact=True).first.click()
    expect(helene.get_by_role("heading", level=1)).to_have_text("Émetteur")
    expect(helene.get_by_role("heading", name="Communauté de communes du Val de Brenne")).to_be_visible()
    for name in ("Badges à approuver", "Attribuer un badge à une personne", "Envoi groupé (fichier CSV)"):
        expect(helene.get_by_role("link", name=name)).to_be_visible()
    screenshot(helene, "issuer-journey-hub-phone-fr")
    audit(signed_in_at(live_server, world.helene, "/emetteur", fresh=True), "issuer-hub")

    # A new badge template, its image drawn from the name and two colours.
    helene.get_by_role("link", name="Créer un modèle de badge").click()
    expect(helene.get_by_role("heading", level=1)).to_have_text("Nouveau modèle de badge")
    audit(
        signed_in_at(live_server, world.helene, f"/emetteur/{world.issuer_id}/badges/nouveau", fresh=True), "issuer-new"
    )
    helene.get_by_label("Nom du badge").fill(BADGE)
    helene.get_by_label("Description").fill("A pris soin d'une haie bocagère avec les habitants.")
    helene.get_by_label("Comment obtenir ce badge").fill(
        "Deux des trois compétences du bocage validées, au niveau acquis."
    )
    helene.get_by_label("Type de badge").select_option("Competency")
    expect(helene.get_by_label("Dessiner l'image à partir du nom et de deux couleurs")).to_be_checked()
    helene.get_by_label("Couleur du fond").fill("#2d5016")
    helene.get_by_label("Couleur du texte").fill("#fffbe6")
    helene.get_by_label("Écusson").check()
    screenshot(helene, "issuer-journey-new-phone-fr")
    helene.get_by_role("button", name="Créer le modèle de badge").click()
    expect(helene.get_by_role("heading", level=1)).to_have_text(BADGE)
    expect(helene.get_by_role("status")).to_contain_text("Le modèle de badge est créé.")
    image = helene.get_by_role("img", name=f"Image du badge « {BADGE} »")
    helene.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    achievement_url = helene.url.split("?")[0]
    achievement_path = achievement_url.removeprefix(live_server.base)
    achievement_id = uuid.UUID(achievement_path.rsplit("/", 1)[1])
    drawn = helene.request.get(live_server.url(f"/achievements/{achievement_id}/v/1/image")).text()
    assert ">EHB</text>" in drawn and 'fill="#2d5016"' in drawn and "<path" in drawn  # initials on a shield
    screenshot(helene, "issuer-journey-created-phone-fr")
    audit(signed_in_at(live_server, world.helene, achievement_path, fresh=True), "issuer-achievement-new")

    # Its competencies, found with the search: framework and bloc shown for each.
    helene.get_by_role("link", name="Choisir les compétences").click()
    expect(helene.get_by_role("heading", level=1)).to_have_text("Compétences du badge")
    helene.get_by_label("Mots à chercher").fill("haie bocagère")
    helene.get_by_role("button", name="Chercher").click()
    # The three holding both words, then the bloc that holds one of them ("bocage": the same stem).
    expect(helene.get_by_role("heading", name="4 compétences trouvées")).to_be_visible()
    expect(helene.get_by_text(f"Référentiel : {world.framework_title}").first).to_be_visible()
    expect(helene.get_by_text("Bloc de compétences : H1 — Prendre soin du bocage").first).to_be_visible()
    audit(
        signed_in_at(live_server, world.helene, f"{achievement_path}/competences?q=haie+bocag%C3%A8re", fresh=True),
        "issuer-search",
    )
    for label in LABELS:
        helene.get_by_role("button", name=f"Ajouter : {label}").click()
        expect(helene.get_by_role("status")).to_have_text("La compétence est ajoutée.")
    expect(helene.get_by_text("Déjà choisie pour ce badge.")).to_have_count(3)
    screenshot(helene, "issuer-journey-competencies-phone-fr")

    # The rule: at least 2 of these 3, at acquis or above, automatically.
    helene.get_by_role("link", name="Continuer : la règle d'attribution").click()
    expect(helene.get_by_role("heading", level=1)).to_have_text("Règle d'attribution")
    audit(signed_in_at(live_server, world.helene, f"{achievement_path}/regle", fresh=True), "issuer-rule")
    helene.get_by_label("quand au moins un nombre donné des compétences cochées est validé").check()
    helene.get_by_label("Combien de compétences au moins ?").fill("2")
    for label in LABELS:
        expect(helene.get_by_role("checkbox", name=label)).to_be_checked()
    helene.get_by_label("Niveau minimum validé par un tuteur ou une tutrice").select_option("acquis")
    helene.get_by_label("Automatiquement, dès que la règle est remplie").check()
    screenshot(helene, "issuer-journey-rule-phone-fr")
    helene.get_by_role("button", name="Enregistrer la règle").click()
    expect(helene.get_by_role("status")).to_have_text("La règle d'attribution est enregistrée.")
    expect(helene.get_by_text("Délivré quand au moins 2 des 3 compétences suivantes sont validées :")).to_be_visible()
    expect(helene.get_by_text("Automatiquement, dès que la règle est remplie")).to_be_visible()
    screenshot(helene, "issuer-journey-ruled-phone-fr")
    audit(signed_in_at(live_server, world.helene, achievement_path, fresh=True), "issuer-achievement-ruled")

    # Karim validates Lucie's second competency on his own phone: the rule issues the badge.
    tutor = new_page(PHONE, "fr")
    tutor.goto(live_server.url(f"/a-valider/{world.pending_claim_id}"))
    sign_in(tutor, world.karim)
    expect(tutor.get_by_role("heading", level=1)).to_have_text(LABELS[1])
    tutor.get_by_label("Validée : la personne a cette compétence").check()
    tutor.locator("input[name=level][value=acquis]").check()
    tutor.get_by_label("Votre commentaire (obligatoire)").fill("Plantation soignée, essences bien choisies.")
    tutor.get_by_role("button", name="Envoyer mon avis").click()
    expect(tutor.get_by_role("status")).to_contain_text("Votre avis est enregistré : demande validée.")
    credential_id = None
    for _ in range(100):  # the award runs once the decision is committed
        with live_server.session() as session:
            found = session.execute(
                select(Credential.id, AchievementVersion.achievement_id)
                .join(AchievementVersion, AchievementVersion.id == Credential.achievement_version_id)
                .where(Credential.learner_id == world.lucie.id, Credential.state == "issued")
            ).first()
        if found is not None:
            credential_id, awarded = found
            assert awarded == achievement_id
            break
        tutor.wait_for_timeout(100)
    assert credential_id is not None, "the rule issued no badge"

    # Lucie's badge: the drawn image.
    learner = new_page(PHONE, "fr")
    learner.goto(live_server.url(f"/mes-badges/{credential_id}"))
    sign_in(learner, world.lucie)
    expect(learner.get_by_role("heading", level=1)).to_have_text(BADGE)
    shown = learner.locator("main img").first
    learner.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=shown.element_handle())
    src = shown.get_attribute("src") or ""
    assert learner.request.get(src if src.startswith("http") else live_server.url(src)).text() == drawn
    screenshot(learner, "issuer-journey-lucie-badge-phone-fr")


def test_on_a_desktop_helene_renews_the_keys_and_reads_what_a_compromised_key_would_do(
    live_server: LiveServer,
    new_page: Callable[..., Page],
    audit: Callable[..., list[Path]],
    screenshot: Callable[[Page, str], Path],
) -> None:
    world = the_bocage(live_server)
    page = new_page(DESKTOP, "fr")
    page.goto(live_server.url(f"/emetteur/{world.issuer_id}/cles"))
    sign_in(page, world.helene)
    expect(page.get_by_role("heading", level=1)).to_have_text("Clés de signature")
    expect(page.get_by_text("en service", exact=True)).to_have_count(3)
    audit(signed_in_at(live_server, world.helene, f"/emetteur/{world.issuer_id}/cles", fresh=True), "issuer-keys")
    audit(signed_in_at(live_server, world.helene, f"/emetteur/{world.issuer_id}", fresh=True), "issuer-profile")
    page.get_by_role("link", name="Renouveler les clés").click()
    expect(page.get_by_text("les badges déjà délivrés ne changent pas")).to_be_visible()
    audit(
        signed_in_at(live_server, world.helene, f"/emetteur/{world.issuer_id}/cles/renouveler", fresh=True),
        "issuer-rotate",
    )
    screenshot(page, "issuer-journey-rotate-desktop-fr")
    page.get_by_role("button", name="Oui, renouveler les clés").click()
    expect(page.get_by_role("status")).to_contain_text("Les nouvelles clés sont en service.")
    expect(page.get_by_text("retirée (vérifie encore les anciens badges)", exact=True)).to_have_count(3)
    with live_server.session() as session:
        key = session.scalar(
            select(SigningKey).where(SigningKey.issuer_id == world.issuer_id, SigningKey.status == "active").limit(1)
        )
        assert key is not None
    path = f"/emetteur/{world.issuer_id}/cles/{key.id}/compromise"
    page.goto(live_server.url(path))
    expect(page.get_by_text("Aucun badge n'a été signé avec cette clé")).to_be_visible()
    expect(page.get_by_text("C'est définitif")).to_be_visible()
    page.get_by_role("button", name="Oui, déclarer cette clé compromise").click()
    expect(page.get_by_text("Dites pourquoi la clé est compromise.").first).to_be_visible()  # 422, next to the field
    screenshot(page, "issuer-journey-compromise-refused-desktop-fr")
    audit(signed_in_at(live_server, world.helene, path, fresh=True), "issuer-compromise")
