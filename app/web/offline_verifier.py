"""The offline verifier page (issue 17): ``/verifier-hors-ligne/``, open to everyone, no account.

The page verifies a compact signed badge (``BL1:``, README "Compact signed badge") entirely in the
browser: its scripts (``/static/offline/``) decode the code read from the camera, a picture or pasted
text and check it with Web Crypto against the trust list (``/trust/issuers.jws``) and the status
bundle (``/trust/status.jws``), both signed by the platform key this page embeds. Its service worker
(``/verifier-hors-ligne/sw.js``) keeps the page, its files and the two lists on the device and
refreshes them whenever there is a network. Nothing about a scan is sent to the server.

This page alone (with Mes badges and the job page) runs scripts: ours, from this origin, never inline;
its policy also lets it fetch the lists, start its worker and read its manifest from this origin.
"""

from __future__ import annotations

import hashlib
import io
import json
from functools import cache
from pathlib import Path

from flask import Blueprint, Response, request, url_for

from app.platform.i18n import translator
from app.platform.urls import Urls
from app.runtime import runtime
from app.web import pages
from app.web.i18n import current_lang
from app.web.security_headers import page_policy

bp = Blueprint("offline_verifier", __name__)

SCOPE = "/verifier-hors-ligne/"
STATIC = Path(__file__).resolve().parents[1] / "static" / "offline"
# The page's own files, in the order the page loads them (vendored: see static/offline/vendor/NOTICE).
SCRIPTS = ("vendor/cbor-x.min.js", "vendor/jsQR.js", "bl1.js", "page.js")
ICON_SIZES = (192, 512)
LISTS = ("/trust/issuers.jws", "/trust/status.jws")
WARN_DAYS = 7  # lists older than this get a warning on the page
# Messages the page's script shows (they travel in the page, so it works offline in its language).
JS_WORDS = (
    *(
        f"offline_verdict_{v}{more}"
        for v in (
            *("genuine", "tampered", "unknown_issuer", "compromised", "expired", "not_yet_valid"),
            *("revoked", "suspended", "status_unknown", "unreadable", "no_lists"),
        )
        for more in ("", "_more")
    ),
    *("offline_lists_none", "offline_lists_issuers", "offline_lists_status", "offline_lists_date"),
    *("offline_lists_old", "offline_lists_online", "offline_lists_offline", "offline_checked"),
    *("offline_content", "offline_content_hint", "offline_badge", "offline_type", "offline_issuer"),
    *("offline_issuer_id", "offline_holder", "offline_holder_hidden", "offline_issued", "offline_valid_from"),
    *("offline_expires", "offline_no_expiry", "offline_competencies", "offline_competencies_more"),
    *("offline_address", "offline_address_hint", "offline_key", "offline_key_retired"),
    *("offline_image_no_code", "offline_image_unreadable", "offline_not_signed_code"),
    *("offline_camera_start", "offline_camera_stop", "offline_camera_none", "offline_camera_denied"),
)
POLICY_SCRIPTS = "default-src 'none'; script-src 'self'; connect-src 'self'; worker-src 'self'; manifest-src 'self';"


@cache
def version() -> str:
    """A digest of the page's files: their addresses carry it, and the worker's cache is named by it."""
    digest = hashlib.sha256()
    for name in (*SCRIPTS, "sw.js"):
        digest.update((STATIC / name).read_bytes())
    return digest.hexdigest()[:16]


def _script_urls() -> list[str]:
    return [f"/static/offline/{name}?v={version()}" for name in SCRIPTS]


def _with_lang(path: str, lang: str) -> str:
    return path if lang == "fr" else f"{path}?lang={lang}"


@bp.get(SCOPE)
def page() -> Response:
    """The verifier: what it does, how to prepare a phone, and (with JavaScript) the verifier itself."""
    lang = current_lang()
    tr = translator(lang)
    config = {
        "lang": lang,
        "base": Urls(runtime().settings.public_base_url).base,
        "platformJwk": _platform_jwk(),
        "trustUrl": LISTS[0],
        "statusUrl": LISTS[1],
        "worker": url_for("offline_verifier.worker"),
        "scope": SCOPE,
        "warnDays": WARN_DAYS,
        "words": {key: tr(key) for key in JS_WORDS},
    }
    response = pages.render_page(
        "public/offline_verifier.html",
        config=json.dumps(config, ensure_ascii=False, separators=(",", ":")),
        scripts=_script_urls(),
        manifest=_with_lang(url_for("offline_verifier.manifest"), lang),
        icon=f"{SCOPE}icon-192.png",
        online_form=_with_lang("/verify", lang),
        warn_days=WARN_DAYS,
    )
    response.headers["Content-Security-Policy"] = page_policy().replace("default-src 'none';", POLICY_SCRIPTS, 1)
    response.headers["Cache-Control"] = "no-cache"
    return response


def _platform_jwk() -> dict[str, str]:
    public = runtime().platform_key.public
    jwk = public.jwk(public.thumbprint(), alg="EdDSA")
    return {k: v for k, v in jwk.items() if k in ("kty", "crv", "x", "kid")}


@bp.get(f"{SCOPE}sw.js")
def worker() -> Response:
    """The service worker, with the addresses it keeps and the version its cache is named by."""
    pages = [SCOPE, f"{SCOPE}?lang=en"]
    assets = [*pages, *_script_urls(), f"{SCOPE}manifest.webmanifest"] + [f"{SCOPE}icon-{s}.png" for s in ICON_SIZES]
    source = (STATIC / "sw.js").read_text(encoding="utf-8")
    source = source.replace("__VERSION__", version()).replace("__ASSETS__", json.dumps(assets))
    source = source.replace("__LISTS__", json.dumps(list(LISTS)))
    response = Response(source, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get(f"{SCOPE}manifest.webmanifest")
def manifest() -> Response:
    """The web app manifest: the verifier can be installed on a phone's home screen."""
    lang = "en" if request.args.get("lang") == "en" else "fr"
    tr = translator(lang)
    document = {
        "name": tr("offline_app_name"),
        "short_name": tr("offline_app_short_name"),
        "description": tr("offline_intro"),
        "lang": lang,
        "start_url": _with_lang(SCOPE, lang),
        "scope": SCOPE,
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0b4f9c",
        "icons": [
            {"src": f"{SCOPE}icon-{size}.png", "sizes": f"{size}x{size}", "type": "image/png", "purpose": "any"}
            for size in ICON_SIZES
        ],
    }
    response = Response(json.dumps(document, ensure_ascii=False), mimetype="application/manifest+json")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get(f"{SCOPE}icon-<int:size>.png")
def icon(size: int) -> Response:
    """The app's icon: a white shield with a check mark on Blason's blue, drawn once per size."""
    if size not in ICON_SIZES:
        return Response("No icon of this size.", status=404, mimetype="text/plain")
    response = Response(_icon_png(size), mimetype="image/png")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@cache
def _icon_png(size: int) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (size, size), "#0b4f9c")
    draw = ImageDraw.Draw(image)
    u = size / 100  # drawn on a 100-unit grid, inside the maskable safe zone (the central 80%)
    shield = [(30, 24), (70, 24), (70, 52), (50, 78), (30, 52)]
    draw.polygon([(x * u, y * u) for x, y in shield], fill="#ffffff")
    draw.line([(38 * u, 49 * u), (47 * u, 58 * u), (63 * u, 38 * u)], fill="#0b4f9c", width=max(2, round(6 * u)))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
