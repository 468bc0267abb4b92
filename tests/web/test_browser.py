"""The verification page in a real headless Chromium, served by a real HTTP server.

The server runs in its own process on its own SQLite file (the test session's rolled-back
connection cannot be shared with a server), seeded here through the services on a separate
engine. Skipped when Chromium is absent. Set BLASON_SCREENSHOT_DIR to keep the phone screenshots.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest
from sqlalchemy.orm import Session

from app import migrate
from app.db import make_engine
from app.models import Membership, Person, Role, ScopeType
from app.services.identity import access
from app.services.issuing import achievements, awarding, issuers, revocation
from app.services.issuing.signing import IssuingSettings
from app.platform.urls import Urls
from app.platform.storage import LocalStorage
from tests.conftest import JWT_PEM, KEK
from tests.issuing_fixtures import KEKS

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
SERVER = """
import os, sys
from werkzeug.serving import make_server
holder = {}
server = make_server("127.0.0.1", 0, lambda environ, start: holder["app"](environ, start), threaded=True)
os.environ["BLASON_PUBLIC_BASE_URL"] = "http://127.0.0.1:%d" % server.server_port
from app import create_app
holder["app"] = create_app()
print(server.server_port, flush=True)
server.serve_forever()
"""

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Chromium is not installed (/usr/bin/chromium)")


class Site:
    def __init__(self, base: str, engine: Any, storage: Path) -> None:
        self.base, self.engine, self.storage = base, engine, storage
        self.settings = IssuingSettings(urls=Urls(base), keks=KEKS)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{folder / 'site.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    env = {**os.environ, "BLASON_ENV": "testing", "BLASON_INSTANCE_DIR": str(folder), "BLASON_DATABASE_URL": url,
           "BLASON_SECRET_KEY": "browser-test", "BLASON_JWT_PRIVATE_KEY": JWT_PEM, "BLASON_KEY_ENCRYPTION_KEYS": KEK,
           "BLASON_LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen([sys.executable, "-c", SERVER], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline().strip() or 0)
        assert port, "the test server did not start"
        yield Site(f"http://127.0.0.1:{port}", engine, folder / "storage")
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


def _issue(site: Site) -> uuid.UUID:
    with Session(site.engine, expire_on_commit=False) as session:
        admin = Person(display_name="Iris Émettrice", email=f"iris.{uuid.uuid4().hex[:6]}@example.fr")
        learner = Person(display_name="Léa Apprenante", email=f"lea.{uuid.uuid4().hex[:6]}@example.fr",
                         show_name_publicly=True)
        session.add_all([admin, learner])
        session.flush()
        session.add(Membership(person_id=admin.id, role=Role.PLATFORM_ADMIN, scope_type=ScopeType.PLATFORM))
        session.flush()
        grants = access.load_grants(session, admin.id)
        issuer = issuers.create_issuer(session, grants, {"name": "Collectif des territoires apprenants",
                                                         "url": "https://collectif.example.fr"},
                                       settings=site.settings)
        achievement = achievements.create_achievement(
            session, grants, issuer.id, {"name": "Animer une réunion publique",
                                         "description": "Préparer, animer et rendre compte d'une réunion publique.",
                                         "criteria": "Une réunion publique animée, validée par un tuteur.",
                                         "achievement_type": "Competency"},
            storage=LocalStorage(site.storage), urls=site.settings.urls)
        credential = awarding.award(session, grants, achievement.id,
                                    {"learner_id": learner.id, "narrative": "Réunion du conseil de quartier, 3 mars.",
                                     "evidence_url": "https://mairie.example.fr/compte-rendu"},
                                    settings=site.settings)
        session.commit()
        return credential.id


def _revoke(site: Site, credential_id: uuid.UUID) -> None:
    with Session(site.engine) as session:
        revocation.revoke(session, access.Grants(access.Actor(None), platform_admin=True), credential_id,
                          "Délivré par erreur", settings=site.settings)
        session.commit()


def _chromium(tmp_path: Path, url: str, *args: str) -> str:
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}", *args, url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _keep(screenshot: Path) -> None:
    folder = os.environ.get("BLASON_SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(screenshot, Path(folder) / screenshot.name)


def test_scanned_qr_lands_on_a_readable_genuine_page_then_revoked(site: Site, tmp_path: Path) -> None:
    credential_id = _issue(site)
    with Session(site.engine) as session:
        from app.models import Credential
        short_code = session.get(Credential, credential_id).short_code  # type: ignore[union-attr]
    short_url = f"{site.base}/c/{short_code}"  # what the QR code carries

    dom = _chromium(tmp_path, short_url, "--accept-lang=fr-FR,fr", "--dump-dom")
    assert '<html lang="fr">' in dom
    assert "Badge authentique" in dom and "Animer une réunion publique" in dom
    assert "Léa Apprenante" in dom and "Collectif des territoires apprenants" in dom
    assert "Vérification" in dom or "Détail des vérifications" in dom

    english = _chromium(tmp_path, f"{short_url}?lang=en", "--dump-dom")
    assert "Genuine badge" in english and '<html lang="en">' in english

    phone = tmp_path / "verification-phone.png"
    _chromium(tmp_path, short_url, "--accept-lang=fr-FR,fr", f"--screenshot={phone}", "--window-size=390,844",
              "--hide-scrollbars")
    assert phone.read_bytes().startswith(b"\x89PNG")
    _keep(phone)
    full = tmp_path / "verification-phone-full.png"
    _chromium(tmp_path, short_url, "--accept-lang=fr-FR,fr", f"--screenshot={full}", "--window-size=390,2600",
              "--hide-scrollbars")
    _keep(full)

    _revoke(site, credential_id)
    dom = _chromium(tmp_path, short_url, "--accept-lang=fr-FR,fr", "--dump-dom")
    assert "Badge révoqué" in dom and "Délivré par erreur" in dom and "authentique" not in dom
    revoked = tmp_path / "verification-phone-revoked.png"
    _chromium(tmp_path, short_url, "--accept-lang=fr-FR,fr", f"--screenshot={revoked}", "--window-size=390,844",
              "--hide-scrollbars")
    _keep(revoked)


def test_the_verification_form_renders_in_a_browser(site: Site, tmp_path: Path) -> None:
    dom = _chromium(tmp_path, f"{site.base}/verify", "--accept-lang=fr-FR,fr", "--dump-dom")
    assert '<html lang="fr">' in dom and "Vérifier un badge" in dom
    assert 'type="file"' in dom and 'name="badge"' in dom and 'method="post"' in dom
    phone = tmp_path / "verify-form-phone.png"
    _chromium(tmp_path, f"{site.base}/verify", "--accept-lang=fr-FR,fr", f"--screenshot={phone}",
              "--window-size=390,844", "--hide-scrollbars")
    assert phone.read_bytes().startswith(b"\x89PNG")
    _keep(phone)
