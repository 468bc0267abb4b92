"""The offline verifier page (issue 17), as the server serves it: the page, its worker, manifest,
icons and vendored scripts (the verification itself runs in the browser: test_browser_offline_verifier)."""

from __future__ import annotations

import hashlib
import html
import io
import json
import re
from pathlib import Path

from PIL import Image

from app.platform.i18n import read_catalogue
from app.web import offline_verifier

ROOT = Path(__file__).resolve().parents[2]
OFFLINE = ROOT / "app" / "static" / "offline"


def policy_of(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    directives = (d.strip().split(" ", 1) for d in response.headers["Content-Security-Policy"].split(";") if d.strip())
    return {d[0]: d[1] if len(d) > 1 else "" for d in directives}


def config_of(page: str) -> dict:  # type: ignore[type-arg]
    found = re.search(r'data-config="([^"]+)"', page)
    assert found, "the page carries its configuration"
    return json.loads(html.unescape(found.group(1)))


def test_the_page_explains_in_french_and_runs_only_its_own_scripts(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/verifier-hors-ligne/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '<html lang="fr">' in page
    assert "Vérifier un badge sans réseau" in page and "Préparez votre téléphone avant de partir" in page
    assert "Rien de ce que vous scannez ne quitte votre appareil" in page
    # Without JavaScript: what to do, and the online form.
    assert 'id="nojs"' in page and 'href="/verify"' in page and '<div id="app" hidden>' in page
    assert re.findall(r"<script>", page) == [] and "onclick" not in page
    scripts = re.findall(r'<script src="([^"]+)" defer></script>', page)
    assert [s.split("?")[0] for s in scripts] == [f"/static/offline/{name}" for name in offline_verifier.SCRIPTS]
    assert all(s.endswith(f"?v={offline_verifier.version()}") for s in scripts)
    policy = policy_of(response)
    assert policy["script-src"] == "'self'" and policy["connect-src"] == "'self'"
    assert policy["worker-src"] == "'self'" and policy["manifest-src"] == "'self'"
    assert policy["default-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
    assert 'rel="manifest" href="/verifier-hors-ligne/manifest.webmanifest"' in page
    config = config_of(page)
    assert config["lang"] == "fr" and config["scope"] == "/verifier-hors-ligne/"
    assert config["worker"] == "/verifier-hors-ligne/sw.js"
    assert (config["trustUrl"], config["statusUrl"]) == ("/trust/issuers.jws", "/trust/status.jws")
    assert config["platformJwk"]["kty"] == "OKP" and config["platformJwk"]["crv"] == "Ed25519"
    assert "d" not in config["platformJwk"]  # the public half only
    assert config["words"]["offline_verdict_tampered"] == "Falsifié"


def test_the_page_in_english_and_without_trailing_slash(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/verifier-hors-ligne/?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in page and "Prepare your phone before you leave" in page
    assert 'href="/verify?lang=en"' in page
    assert config_of(page)["words"]["offline_verdict_revoked"] == "Revoked according to the lists of %(date)s"
    assert "manifest.webmanifest?lang=en" in page
    moved = client.get("/verifier-hors-ligne")
    assert moved.status_code in (301, 308) and moved.headers["Location"].endswith("/verifier-hors-ligne/")


def test_the_rest_of_the_site_stays_script_free(client) -> None:  # type: ignore[no-untyped-def]
    assert "script-src" not in policy_of(client.get("/verify"))


def test_the_service_worker_keeps_the_page_its_files_and_both_lists(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/verifier-hors-ligne/sw.js")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    source = response.get_data(as_text=True)
    assert "__" not in re.sub(r"//.*", "", source), "every placeholder is filled"
    assets = json.loads(re.search(r"var ASSETS = (\[.*?\]);", source).group(1))  # type: ignore[union-attr]
    lists = json.loads(re.search(r"var LISTS = (\[.*?\]);", source).group(1))  # type: ignore[union-attr]
    assert lists == ["/trust/issuers.jws", "/trust/status.jws"]
    assert "/verifier-hors-ligne/" in assets and "/verifier-hors-ligne/?lang=en" in assets
    page = client.get("/verifier-hors-ligne/").get_data(as_text=True)
    assert set(re.findall(r'<script src="([^"]+)"', page)) <= set(assets)
    assert f'var VERSION = "{offline_verifier.version()}"' in source
    for asset in assets:
        with client.get(asset) as kept:  # static files are streamed: closed here
            assert kept.status_code == 200, asset


def test_the_manifest_makes_it_installable(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/verifier-hors-ligne/manifest.webmanifest")
    assert response.mimetype == "application/manifest+json"
    manifest = response.get_json(force=True)
    assert manifest["start_url"] == "/verifier-hors-ligne/" and manifest["scope"] == "/verifier-hors-ligne/"
    assert manifest["display"] == "standalone" and manifest["lang"] == "fr"
    assert manifest["name"].startswith("Blason") and manifest["short_name"]
    assert {icon["sizes"] for icon in manifest["icons"]} == {"192x192", "512x512"}
    for icon in manifest["icons"]:
        png = client.get(icon["src"])
        assert png.status_code == 200 and png.mimetype == "image/png"
        size = int(icon["sizes"].split("x")[0])
        assert Image.open(io.BytesIO(png.data)).size == (size, size)
    english = client.get("/verifier-hors-ligne/manifest.webmanifest?lang=en").get_json(force=True)
    assert english["start_url"] == "/verifier-hors-ligne/?lang=en" and english["lang"] == "en"
    assert client.get("/verifier-hors-ligne/icon-64.png").status_code == 404


def test_vendored_scripts_match_their_notice() -> None:
    notice = (OFFLINE / "vendor" / "NOTICE").read_text()
    blocks = [dict(re.findall(r"^([\w ]+): (.+)$", b, re.M)) for b in notice.split("\n\n") if "file: " in b]
    assert {b["file"] for b in blocks} == {"cbor-x.min.js", "jsQR.js"}
    for block in blocks:
        assert hashlib.sha256((OFFLINE / "vendor" / block["file"]).read_bytes()).hexdigest() == block["sha256"]
        assert block["version"] and block["licence"] and block["package"]
    assert {"LICENSE.cbor-x", "LICENSE.jsqr"} <= {p.name for p in (OFFLINE / "vendor").iterdir()}


def test_every_message_the_script_shows_travels_in_the_page() -> None:
    script = (OFFLINE / "page.js").read_text()
    used = set(re.findall(r"""say\(\s*"(offline_\w+)"\s*[,)]""", script))
    used |= set(re.findall(r"""note\(\s*"(offline_\w+)"\s*\)""", script))
    verdicts = set(re.findall(r"\b(\w+): \"(?:ok|warn|bad)\"", script))
    used |= {f"offline_verdict_{v}{more}" for v in verdicts for more in ("", "_more")}
    assert len(used) > 40
    assert sorted(used - set(offline_verifier.JS_WORDS)) == []
    for lang in ("fr", "en"):
        catalogue = {m.id for m in read_catalogue(lang) if m.id}
        assert sorted(set(offline_verifier.JS_WORDS) - catalogue) == []
