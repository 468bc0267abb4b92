"""The real-browser harness: a live server, Chromium pages at phone and desktop size, screenshots, axe-core.

Registered as a pytest plugin in tests/conftest.py. Playwright for Python drives Debian's Chromium
(``/usr/bin/chromium``, or ``BLASON_CHROMIUM``); Playwright's own browser download is never used.
Every test that asks for a browser fixture is skipped, with the reason, when Chromium or Playwright
is absent.

- ``live_server``: the app behind a real HTTP server, in a subprocess, on its own SQLite file (a
  server cannot share the tests' rolled-back connection); tests seed it through the services with
  ``live_server.session()``. One server per test session.
- ``new_page(screen=PHONE, lang="fr")``: a fresh page (own cookies) in the session's one browser;
  ``page`` is the phone-size French one, ``desktop_page`` the desktop one.
- ``screenshot(page, name)``: a full-page PNG under BLASON_SCREENSHOT_DIR, else the test's tmp dir.
- ``assert_accessible(page)``: axe-core (vendored from its npm package, tests/vendor/axe-core) against
  WCAG 2.0/2.1 A and AA; any violation fails with the rule, impact, elements and help.
- ``audit(url, name)``: open a page in French and English at phone and desktop width (and the phone
  in dark mode), check each with axe-core and screenshot the phone ones; all violations are reported
  together.
- ``live_worker(step_delay=None)``: start a job worker (``blason worker``) beside the live server, on
  its database, queue and files; stopped after the test.
- ``in_project(project, learners=, tutors=)`` and ``submitted_contribution(session, project, learner, ...)``:
  the seeding most journeys start from (people of a project, a learner's submitted contribution).
- ``open_session(site, page, person)`` and ``signed_in_at(site, person, path)``: a browser signed in
  as a person through a session opened directly (the sign-in form is its own journey's, and
  throttled per address); the second brings an audit's page to a path in the page's language.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy.orm import Session

from app import migrate
from app.db import make_engine
from app.models import Contribution, ContributionStatus, Membership, Person, Project, Role, ScopeType
from app.platform.urls import Urls
from app.services.identity import access, web_sessions
from app.services.identity.audit import Actor
from app.services.issuing.signing import IssuingSettings
from app.web.session_cookie import COOKIE
from tests.conftest import JWT_PEM, KEK
from tests.issuing_fixtures import KEKS

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("BLASON_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
AXE = ROOT / "tests" / "vendor" / "axe-core" / "axe.min.js"
AXE_VERSION = "4.14.1"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SYSTEM = access.Grants(Actor(None), platform_admin=True)
SESSIONS = web_sessions.SessionSettings(idle=timedelta(hours=1), lifetime=timedelta(hours=8))

# The server binds port 0 first, so the public base URL it signs into documents is its real address.
SERVER = """
import os
from werkzeug.serving import make_server
holder = {}
server = make_server("127.0.0.1", 0, lambda environ, start: holder["app"](environ, start), threaded=True)
os.environ["BLASON_PUBLIC_BASE_URL"] = "http://127.0.0.1:%d" % server.server_port
from app import create_app
holder["app"] = create_app()
print(server.server_port, flush=True)
server.serve_forever()
"""


@dataclass(frozen=True)
class Screen:
    name: str
    width: int
    height: int


PHONE = Screen("phone", 390, 844)
DESKTOP = Screen("desktop", 1280, 800)
LANGS = ("fr", "en")
LOCALES = {"fr": "fr-FR", "en": "en-GB"}


class LiveServer:
    """The running site: its address, and a database engine and settings to seed it through the services."""

    def __init__(self, base: str, engine: Any, folder: Path) -> None:
        self.base, self.engine, self.folder = base, engine, folder
        self.storage = folder / "storage"
        self.settings = IssuingSettings(urls=Urls(base), keks=KEKS)
        self.system = SYSTEM

    def url(self, path: str) -> str:
        return self.base + path

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A session on the server's database; commit in it to make data visible to the server."""
        with Session(self.engine, expire_on_commit=False) as session:
            yield session


def _skip_without_browser() -> None:
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Chromium is not installed ({CHROMIUM}): apt-get install chromium")
    pytest.importorskip(
        "playwright.sync_api", reason="Playwright for Python is not installed (pip install -e '.[test]')"
    )


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The app served by a real HTTP server in a subprocess, on a migrated SQLite file of its own."""
    _skip_without_browser()
    folder = tmp_path_factory.mktemp("live")
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
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
        if server.stdout is not None:
            server.stdout.close()
        engine.dispose()


@pytest.fixture()
def live_worker(live_server: LiveServer, tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start a job worker (`blason worker`) on the live server's database, queue and files, for this test.

    ``step_delay`` (seconds, BLASON_JOB_TEST_STEP_DELAY) slows each progress step of a job so that its
    progress can be seen moving. Each worker is stopped after the test as Ctrl-C would (it ends its
    current job), killed if it lingers; its output (``worker-<n>.log`` in the test's tmp dir) is
    printed when it did not stop cleanly.
    """
    started: list[tuple[subprocess.Popen[bytes], Path]] = []

    def start(step_delay: str | None = None) -> subprocess.Popen[bytes]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BLASON_")}
        env |= {
            "BLASON_ENV": "testing",
            "BLASON_INSTANCE_DIR": str(live_server.folder),
            "BLASON_DATABASE_URL": f"sqlite:///{live_server.folder / 'site.db'}",
            "BLASON_PUBLIC_BASE_URL": live_server.base,
            "BLASON_SECRET_KEY": "browser-test",
            "BLASON_JWT_PRIVATE_KEY": JWT_PEM,
            "BLASON_KEY_ENCRYPTION_KEYS": KEK,
            "BLASON_PASSWORD_HASH_TIME_COST": "1",
            "BLASON_PASSWORD_HASH_MEMORY_KIB": "8",
            "BLASON_LOG_LEVEL": "INFO",
            "PYTHONPATH": str(ROOT),
        }
        if step_delay is not None:
            env["BLASON_JOB_TEST_STEP_DELAY"] = step_delay
        log = tmp_path / f"worker-{len(started)}.log"
        command = [sys.executable, "-m", "flask", "--app", "wsgi", "blason", "worker", "--poll", "0.2"]
        with open(log, "wb") as out:
            process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        started.append((process, log))
        return process

    yield start
    for process, log in started:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        if process.returncode not in (0, -signal.SIGINT):
            print(log.read_text(errors="replace"))


def in_project(project: Project, *, learners: Iterable[Person] = (), tutors: Iterable[Person] = ()) -> list[Membership]:
    """The memberships that make ``learners`` learners and ``tutors`` tutors of ``project`` (to add)."""
    return [
        Membership(person_id=person.id, role=role, scope_type=ScopeType.PROJECT, scope_id=project.id)
        for role, people in ((Role.LEARNER, learners), (Role.TUTOR, tutors))
        for person in people
    ]


def submitted_contribution(
    session: Session, project: Project, learner: Person, title: str, narrative: str, **fields: Any
) -> Contribution:
    """A contribution of ``learner`` to ``project``, written by them and submitted (added and flushed)."""
    contribution = Contribution(
        project_id=project.id,
        learner_id=learner.id,
        created_by_id=learner.id,
        title=title,
        narrative=narrative,
        status=ContributionStatus.SUBMITTED,
        **fields,
    )
    session.add(contribution)
    session.flush()
    return contribution


def open_session(site: LiveServer, page: Page, person: Person) -> None:
    """Give the page's browser a session of ``person``, as signing in would (opened directly)."""
    with site.session() as session:
        token = web_sessions.start(session, person.id, replacing=None, settings=SESSIONS)
        session.commit()
    page.context.add_cookies([{"name": COOKIE, "value": token, "url": site.base}])


def signed_in_at(
    site: LiveServer, person: Person, path: str, *, fresh: bool = False, status: int = 200
) -> Callable[[Page], None]:
    """Bring a page (an audit's) to ``path`` signed in as ``person``, in the page's language.

    The page's browser keeps the session it has; ``fresh`` clears it first (the audit's pages are
    reused by the next call, maybe for someone else).
    """

    def go(page: Page) -> None:
        if fresh:
            page.context.clear_cookies()
        if not any(c["name"] == COOKIE for c in page.context.cookies()):
            open_session(site, page, person)
        lang = "en" if page.evaluate("navigator.language").startswith("en") else "fr"
        response = page.goto(site.url(path + ("&" if "?" in path else "?") + f"lang={lang}"))
        assert response is not None and response.status == status, path
        assert page.evaluate("() => document.documentElement.lang") == lang

    return go


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """The test session's one headless Chromium (Debian's executable, not a Playwright download)."""
    _skip_without_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--disable-dev-shm-usage"])
        yield chromium
        chromium.close()


class PageProblems:
    """What a page reported that no test asked for: script errors and CSP refusals."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def watch(self, page: Page) -> None:
        page.on("pageerror", lambda error: self.items.append(f"{page.url}: script error: {error}"))
        page.on(
            "console",
            lambda message: (
                self.items.append(f"{page.url}: {message.text}")
                if message.type == "error" and "Content Security Policy" in message.text
                else None
            ),
        )


@pytest.fixture()
def new_page(browser: Browser) -> Iterator[Callable[..., Page]]:
    """Open a fresh page (its own cookies) at a screen size, in a language (Accept-Language)."""
    contexts: list[Any] = []
    problems = PageProblems()

    def make(screen: Screen = PHONE, lang: str = "fr", *, color_scheme: str = "light") -> Page:
        context = browser.new_context(
            viewport={"width": screen.width, "height": screen.height},
            locale=LOCALES[lang],
            color_scheme=color_scheme,  # type: ignore[arg-type]
            is_mobile=screen is PHONE,
            has_touch=screen is PHONE,
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        problems.watch(page)
        return page

    yield make
    for context in contexts:
        context.close()
    assert not problems.items, "the pages reported problems:\n" + "\n".join(problems.items)


@pytest.fixture()
def page(new_page: Callable[..., Page]) -> Page:
    """A phone-size (390×844) page in French."""
    return new_page(PHONE, "fr")


@pytest.fixture()
def desktop_page(new_page: Callable[..., Page]) -> Page:
    """A desktop-size (1280×800) page in French."""
    return new_page(DESKTOP, "fr")


def screenshot_dir(tmp_path: Path) -> Path:
    """BLASON_SCREENSHOT_DIR when set (kept after the run), else the test's own tmp dir."""
    folder = Path(os.environ["BLASON_SCREENSHOT_DIR"]) if os.environ.get("BLASON_SCREENSHOT_DIR") else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture()
def screenshot(tmp_path: Path) -> Callable[[Page, str], Path]:
    """Write a full-page PNG of ``page`` as ``<name>.png``; return its path."""

    def take(page: Page, name: str) -> Path:
        path = screenshot_dir(tmp_path) / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Run the vendored axe-core on the page's document, WCAG 2.0/2.1 A and AA rules only."""
    # evaluate() runs through the DevTools protocol, which the page's CSP does not govern: the CSP
    # under test stays on (a <script> tag would need the context to bypass it for every page).
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    return page.evaluate(
        """async (tags) => {
        const results = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
        return results.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
            nodes: v.nodes.map(n => ({target: n.target.map(t => Array.isArray(t) ? t.join(' >>> ') : t),
                                      summary: n.failureSummary || ''}))}));
    }""",
        WCAG_TAGS,
    )


def describe_violations(violations: list[dict[str, Any]], where: str) -> str:
    """A readable list: rule id, impact, help, the elements' selectors and axe's reason for the first."""
    lines = [f"{len(violations)} accessibility violation(s) on {where}:"]
    for v in violations:
        lines.append(f"- {v['id']} [{v['impact']}] {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:8]:
            lines.append(f"    at {', '.join(node['target'])}")
        if len(v["nodes"]) > 8:
            lines.append(f"    … and {len(v['nodes']) - 8} more")
        if v["nodes"] and v["nodes"][0]["summary"]:
            lines.append("    " + v["nodes"][0]["summary"].replace("\n", "\n    "))
    return "\n".join(lines)


def _where(page: Page) -> str:
    size = page.viewport_size or {"width": 0, "height": 0}
    lang = page.evaluate("() => document.documentElement.lang")
    return f"{page.url} ({size['width']}×{size['height']}, lang={lang})"


def assert_accessible(page: Page) -> None:
    """Fail with a readable list when axe-core finds a WCAG 2.0/2.1 A or AA violation on the page."""
    violations = axe_violations(page)
    assert not violations, describe_violations(violations, _where(page))


# Where every page is checked: both languages at both widths, and the phone in dark mode (its own colours).
VARIANTS = [
    (PHONE, "fr", "light"),
    (PHONE, "en", "light"),
    (DESKTOP, "fr", "light"),
    (DESKTOP, "en", "light"),
    (PHONE, "fr", "dark"),
]


@pytest.fixture()
def audit(new_page: Callable[..., Page], screenshot: Callable[[Page, str], Path]) -> Callable[..., list[Path]]:
    """Check a page in French and English at phone and desktop width (and the phone in dark mode) with
    axe-core; screenshot it at phone size; fail once with every violation found.

    ``target`` is a URL (the language asked through Accept-Language, as a browser does; ``?lang=`` in
    it overrides that) or a function that brings the given page to the state to check. The pages are
    reused by every call in the test. Returns the phone screenshots' paths.
    """
    pages: dict[tuple[Screen, str, str], Page] = {}

    def check(target: str | Callable[[Page], Any], name: str, *, status: int = 200) -> list[Path]:
        reports, shots = [], []
        for screen, lang, scheme in VARIANTS:
            page = pages.get((screen, lang, scheme))
            if page is None:
                page = pages[(screen, lang, scheme)] = new_page(screen, lang, color_scheme=scheme)
            if isinstance(target, str):
                response = page.goto(target)
                assert response is not None and response.status == status, (
                    f"{target}: HTTP {response and response.status}, expected {status}"
                )
                if "lang=" not in target:
                    assert page.evaluate("() => document.documentElement.lang") == lang, f"{target} is not in {lang}"
            else:
                target(page)
            if screen is PHONE:
                shots.append(screenshot(page, f"{name}-phone-{lang}" + ("-dark" if scheme == "dark" else "")))
            violations = axe_violations(page)
            if violations:
                reports.append(describe_violations(violations, _where(page) + (" dark" if scheme == "dark" else "")))
        assert not reports, "\n\n".join(reports)
        return shots

    return check
