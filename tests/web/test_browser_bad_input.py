"""Journey 5, bad input, in a real headless Chromium at phone size (tests/browser_fixtures.py): a form sent
without its CSRF token gets the French 400 page; a session ended (idle or too old) sends the person to
sign in, then back to the page they asked for; a throttled sign-in says so in French, the same words
for an account that exists and one that does not. The pages met pass axe-core in both languages.
(The forbidden file type is part of the contributions' journey.)

The journey runs on a server of its own: throttling spends the sign-in attempts of an address, which
the other browser tests share on the session's live server.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from app import migrate
from app.db import make_engine, utcnow
from app.models import Membership, Person, Project, Role, ScopeType, Territory, WebSession
from app.services.identity.auth import Passwords
from tests.browser_fixtures import ROOT, SERVER, LiveServer, _skip_without_browser
from tests.conftest import JWT_PEM, KEK

pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed (pip install -e '.[test]')")
from playwright.sync_api import Page, expect

PASSWORD = "lucie-mot-de-passe"
THROTTLED_FR = "Trop de tentatives de connexion. Attendez quelques minutes avant de réessayer."
THROTTLED_EN = "Too many sign-in attempts. Wait a few minutes before trying again."


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The site on a server and SQLite file of its own, with the default sign-in limit per account."""
    _skip_without_browser()
    folder = tmp_path_factory.mktemp("bad-input")
    url = f"sqlite:///{folder / 'site.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    env = {
        **os.environ,
        "BLASON_ENV": "testing",
        "BLASON_INSTANCE_DIR": str(folder),
        "BLASON_DATABASE_URL": url,
        "BLASON_SECRET_KEY": "browser-test",
        "BLASON_JWT_PRIVATE_KEY": JWT_PEM,
        "BLASON_KEY_ENCRYPTION_KEYS": KEK,
        "BLASON_PASSWORD_HASH_TIME_COST": "1",
        "BLASON_PASSWORD_HASH_MEMORY_KIB": "8",
        "BLASON_LOG_LEVEL": "WARNING",
        # Every attempt here comes from 127.0.0.1: the limit under test is the account's.
        "BLASON_LOGIN_ADDRESS_RATE_BURST": "1000",
        "PYTHONPATH": str(ROOT),
    }
    server = subprocess.Popen([sys.executable, "-c", SERVER], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline().strip() or 0)
        assert port, "the test server did not start (see its stderr above)"
        yield LiveServer(f"http://127.0.0.1:{port}", engine, folder)
    finally:
        server.terminate()
        server.wait(timeout=10)
        if server.stdout is not None:
            server.stdout.close()
        engine.dispose()


def add_learner(server: LiveServer, name: str = "Lucie Perrin") -> Person:
    with server.session() as session:
        territory = Territory(name=f"Territoire {uuid.uuid4().hex[:6]}")
        session.add(territory)
        session.flush()
        project = Project(territory_id=territory.id, title="Jardin partagé", social_functions=["produire"])
        person = Person(
            display_name=name,
            email=f"lucie.{uuid.uuid4().hex[:6]}@demo.blason.fr",
            password_hash=Passwords(1, 8).hash(PASSWORD),
        )
        session.add_all([project, person])
        session.flush()
        session.add(
            Membership(person_id=person.id, role=Role.LEARNER, scope_type=ScopeType.PROJECT, scope_id=project.id)
        )
        session.commit()
        return person


# The sign-in form's words: e-mail label, password label, button.
FORM = {"fr": ("Adresse e-mail", "Mot de passe", "Se connecter"), "en": ("E-mail address", "Password", "Sign in")}


def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    """Fill and send the sign-in form, in the page's language."""
    email_label, password_label, button = FORM[page_lang(page)]
    page.get_by_label(email_label).fill(email)
    page.get_by_label(password_label).fill(password)
    page.get_by_role("button", name=button).click()


def page_lang(page: Page) -> str:
    return str(page.evaluate("() => document.documentElement.lang"))


def end_sessions(server: LiveServer, person: Person, **when: object) -> None:
    with server.session() as session:
        session.execute(update(WebSession).where(WebSession.person_id == person.id).values(**when))
        session.commit()


def strip_token(page: Page) -> None:
    """What a stale or forged form sends: the page's CSRF fields removed before sending."""
    page.evaluate("() => document.querySelectorAll('input[name=csrf_token]').forEach(i => i.remove())")


def test_a_form_without_its_token_gets_the_french_400_page(
    own_server: LiveServer, page: Page, screenshot: Callable[[Page, str], Path]
) -> None:
    lucie = add_learner(own_server)
    page.goto(own_server.url("/connexion"))
    strip_token(page)
    sign_in(page, lucie.email or "")
    expect(page.get_by_role("heading", level=1)).to_have_text("Formulaire expiré")
    expect(page.get_by_text("il a expiré ou ne vient pas de Blason")).to_be_visible()
    screenshot(page, "bad-input-csrf-visitor-phone-fr")
    assert not [c for c in page.context.cookies() if c["name"] == "blason_session"]  # not signed in
    # Signed in, a tampered form is refused the same way and nothing is done: still signed in.
    page.goto(own_server.url("/connexion"))
    sign_in(page, lucie.email or "")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Lucie Perrin")
    strip_token(page)
    with page.expect_response(lambda r: r.url.endswith("/deconnexion")) as sent:
        page.get_by_role("button", name="Se déconnecter").click()
    assert sent.value.status == 400
    expect(page.get_by_role("heading", level=1)).to_have_text("Formulaire expiré")
    screenshot(page, "bad-input-csrf-signed-in-phone-fr")
    page.goto(own_server.url("/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Lucie Perrin")


@pytest.mark.parametrize("ended", ["idle", "too_old"])
def test_an_ended_session_goes_to_sign_in_then_back_to_the_page_asked(
    own_server: LiveServer, page: Page, screenshot: Callable[[Page, str], Path], ended: str
) -> None:
    lucie = add_learner(own_server)
    asked = "/agir-pour?fin=ok"
    page.goto(own_server.url("/connexion"))
    sign_in(page, lucie.email or "")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Lucie Perrin")
    long_ago = utcnow() - timedelta(days=2)
    end_sessions(own_server, lucie, **({"last_seen_at": long_ago} if ended == "idle" else {"expires_at": long_ago}))
    page.goto(own_server.url(asked))
    expect(page.get_by_role("heading", level=1)).to_have_text("Se connecter")
    assert page.url == own_server.url("/connexion?next=%2Fagir-pour%3Ffin%3Dok")
    assert not [c for c in page.context.cookies() if c["name"] == "blason_session"]  # the ended one is cleared
    screenshot(page, f"bad-input-session-{ended}-phone-fr")
    sign_in(page, lucie.email or "")
    expect(page.get_by_role("heading", level=1)).to_have_text("Agir pour une personne accompagnée")
    assert page.url == own_server.url(asked)


def test_a_throttled_sign_in_says_so_without_telling_whether_the_account_exists(
    own_server: LiveServer, new_page: Callable[..., Page], screenshot: Callable[[Page, str], Path]
) -> None:
    lucie = add_learner(own_server)
    nobody = f"personne.{uuid.uuid4().hex[:6]}@demo.blason.fr"
    seen: dict[str, str] = {}
    for who, email in (("known", lucie.email or ""), ("unknown", nobody)):
        page = new_page()
        page.goto(own_server.url("/connexion"))
        for _attempt in range(5):  # the account's burst: each answered "wrong", known or not
            sign_in(page, email, "pas le bon")
            expect(page.get_by_text("E-mail ou mot de passe incorrect.")).to_be_visible()
        sign_in(page, email, PASSWORD if who == "known" else "pas le bon")  # even the right password waits
        alert = page.get_by_role("alert")
        expect(alert).to_have_text(THROTTLED_FR)
        expect(page.get_by_role("heading", level=1)).to_have_text("Se connecter")
        expect(page.get_by_label("Adresse e-mail")).to_have_value(email)
        assert not [c for c in page.context.cookies() if c["name"] == "blason_session"]
        seen[who] = page.locator("main").inner_text().replace(email, "EMAIL")
        screenshot(page, f"bad-input-throttled-{who}-phone-fr")
    assert seen["known"] == seen["unknown"]
    english = new_page(lang="en")
    english.goto(own_server.url("/connexion"))
    sign_in(english, nobody, "pas le bon")
    expect(english.get_by_role("alert")).to_have_text(THROTTLED_EN)


def test_the_pages_of_bad_input_are_accessible(
    own_server: LiveServer, audit: Callable[..., list[Path]], tmp_path: Path
) -> None:
    throttled = add_learner(own_server, "Karim Benali")
    refused = {"fr": ("Formulaire expiré", THROTTLED_FR), "en": ("Form expired", THROTTLED_EN)}

    def without_token(page: Page) -> None:
        page.goto(own_server.url("/connexion"))
        strip_token(page)
        sign_in(page, throttled.email or "", "pas le bon")
        expect(page.get_by_role("heading", level=1)).to_have_text(refused[page_lang(page)][0])

    def throttled_form(page: Page) -> None:
        page.goto(own_server.url("/connexion"))
        lang = page_lang(page)
        for _attempt in range(6):  # once the account's burst is spent, every page meets the limit at once
            sign_in(page, throttled.email or "", "pas le bon")
            if page.get_by_role("alert").filter(has_text=refused[lang][1]).count():
                break
        expect(page.get_by_role("alert")).to_have_text(refused[lang][1])

    audit(without_token, "bad-input-csrf")
    audit(own_server.url("/connexion?next=%2Fagir-pour"), "bad-input-signin-next")
    audit(throttled_form, "bad-input-throttled")
    audit(own_server.url("/cette-page-n-existe-pas"), "error-404", status=404)
