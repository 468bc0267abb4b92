"""The offline verifier page (issue 17) in a real headless Chromium at phone size: visited once with
the network, then with the browser context offline, it verifies compact signed badges (BL1) from
pasted text and from a photo of the QR code — genuine, tampered, revoked, unknown key, compromised
key, expired, ES256 — states the age of its lists, passes axe-core, and sends nothing about a scan;
its camera (Chromium's fake camera filming the printed code) reads the code too."""

from __future__ import annotations

import io
import re
import statistics
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import base45
import cbor2
import pytest

import badges
from app.models import KeyPurpose, Person
from app.platform.storage import LocalStorage
from app.services.issuing import achievements, awarding, issuers, keys, revocation
from app.services.verification import offline
from badges import compact
from tests.browser_fixtures import CHROMIUM, PHONE, LiveServer, assert_accessible

pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed (pip install -e '.[test]')")
from playwright.sync_api import Browser, Page, expect

BADGE = "Accueillir au repair café"
PAGE = "/verifier-hors-ligne/"


@dataclass(frozen=True)
class Codes:
    genuine: str
    revoked: str
    revoked_id: uuid.UUID
    compromised: str
    expired: str
    es256: str
    unknown_key: str
    tampered: str


def _tampered(text: str) -> str:
    """The same signature over claims whose badge name was changed (a forgery, still well formed)."""
    cose = cbor2.loads(zlib.decompress(base45.b45decode(text.removeprefix(compact.PREFIX))))
    protected, unprotected, payload, signature = cose.value
    claims = cbor2.loads(payload)
    claims[compact.BLASON_CLAIMS][2] = "Diriger une association"
    forged = cbor2.dumps(cbor2.CBORTag(18, [protected, unprotected, cbor2.dumps(claims), signature]))
    return compact.PREFIX + base45.b45encode(zlib.compress(forged, 9)).decode()


def _seed(site: LiveServer) -> Codes:
    """Two issuers, four badges (one whose key is then declared compromised), an expired and an unknown-key one."""
    n = uuid.uuid4().hex[:6]
    with site.session() as session:
        people = [
            Person(display_name=name, email=f"p{i}.{n}@demo.blason.fr") for i, name in enumerate(("Nadia", "Léo"))
        ]
        session.add_all(people)
        session.flush()
        texts = {}
        for label in ("moulin", "stolen"):
            issuer = issuers.create_issuer(
                session,
                site.system,
                {"name": f"Repair café du Moulin {label}", "url": "https://moulin.example.fr"},
                settings=site.settings,
            )
            achievement = achievements.create_achievement(
                session,
                site.system,
                issuer.id,
                {"name": BADGE, "description": "Accueillir et orienter.", "criteria": "Trois permanences."},
                storage=LocalStorage(site.storage),
                urls=site.settings.urls,
            )
            for person in people if label == "moulin" else people[:1]:
                credential = awarding.award(
                    session, site.system, achievement.id, {"learner_id": person.id}, settings=site.settings
                )
                texts[(label, person.display_name)] = (
                    credential,
                    offline.compact_of(session, credential, site.settings),
                )
            if label == "moulin":
                credential, genuine = texts[("moulin", "Nadia")]
                row = keys.active_key(session, issuer.id, KeyPurpose.DATA_INTEGRITY)
                signer = keys.decrypt_private_key(row, site.settings.keks)
                badge = offline.compact_badge(session, credential, site.settings.urls)
                now = datetime.now(UTC)
                past = replace(
                    badge,
                    valid_from=int((now - timedelta(days=400)).timestamp()),
                    valid_until=int((now - timedelta(days=35)).timestamp()),
                )
                expired = compact.sign_compact(past, signer, algorithm="EdDSA")
                unknown = compact.sign_compact(badge, badges.generate_key("Ed25519"), algorithm="EdDSA")
                p256 = keys.decrypt_private_key(
                    keys.active_key(session, issuer.id, KeyPurpose.VC_JWT), site.settings.keks
                )
                es256 = compact.sign_compact(badge, p256, algorithm="ES256")
            else:
                row = keys.active_key(session, issuer.id, KeyPurpose.DATA_INTEGRITY)
                keys.mark_compromised(session, site.system, issuer.id, row.id, "Ordinateur volé.", site.settings.keks)
        revoked_credential, revoked = texts[("moulin", "Léo")]
        session.commit()
    return Codes(
        genuine=genuine,
        revoked=revoked,
        revoked_id=revoked_credential.id,
        compromised=texts[("stolen", "Nadia")][1],
        expired=expired,
        es256=es256,
        unknown_key=unknown,
        tampered=_tampered(genuine),
    )


def _check(page: Page, text: str, verdict: str) -> float:
    page.get_by_label("Ou le texte du code").fill(text)
    page.get_by_role("button", name="Vérifier", exact=True).click()
    expect(page.locator("#result")).to_have_attribute("data-verdict", verdict)
    return float(page.locator("#result").get_attribute("data-ms") or "nan")


def _from_image(page: Page, text: str, verdict: str) -> None:
    png = badges.qr_png(text, error_correction="M", module_size=6)
    page.locator("#result").evaluate("node => { node.replaceChildren(); delete node.dataset.verdict; }")
    page.get_by_label("Une photo du code QR").set_input_files(
        files=[{"name": "code.png", "mimeType": "image/png", "buffer": png}]
    )
    expect(page.locator("#result")).to_have_attribute("data-verdict", verdict)
    assert page.get_by_label("Ou le texte du code").input_value() == text


def test_the_verifier_works_offline_after_one_visit(
    live_server: LiveServer, new_page: Callable[..., Page], screenshot: Callable[[Page, str], Path]
) -> None:
    codes = _seed(live_server)
    page = new_page(PHONE, "fr")

    # Once with the network: the worker installs and keeps the page, its files and both lists.
    page.goto(live_server.url(PAGE))
    root = page.locator("#offline-verifier")
    expect(root).to_have_attribute("data-ready", "true")
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    expect(root).to_have_attribute("data-lists", "ready")
    expect(page.locator("#nojs")).to_be_hidden()

    # Verifying sends nothing: no request at all while a code is checked.
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url))
    _check(page, codes.genuine, "genuine")
    _check(page, codes.revoked, "genuine")
    assert sent == []

    # The issuer revokes Léo's badge; the lists are refreshed while the network is there.
    with live_server.session() as session:
        revocation.revoke(
            session, live_server.system, codes.revoked_id, "Erreur d'attribution.", settings=live_server.settings
        )
        session.commit()
    page.get_by_role("button", name="Mettre à jour les listes").click()
    expect(root).to_have_attribute("data-lists", "ready")

    # Offline: the page reopens from the worker's copies and verifies everything on the phone.
    page.context.set_offline(True)
    page.reload()
    expect(root).to_have_attribute("data-ready", "true")
    expect(root).to_have_attribute("data-lists", "ready")
    lists = page.locator("#lists-state")
    expect(lists).to_contain_text("Hors ligne : la page utilise les listes gardées sur cet appareil.")
    expect(lists).to_contain_text("listes du ")
    expect(lists).to_contain_text("il y a ")
    assert page.evaluate("navigator.onLine") is False

    timings = [_check(page, codes.genuine, "genuine")]
    result = page.locator("#result")
    expect(result.get_by_role("heading", level=2)).to_have_accessible_name("Authentique")
    expect(result).to_contain_text(BADGE)
    expect(result).to_contain_text("Repair café du Moulin moulin")
    expect(result).to_contain_text("Valable jusqu’ausans date de fin")
    assert_accessible(page)
    screenshot(page, "offline-verifier-genuine-phone-fr")

    _check(page, codes.tampered, "tampered")
    expect(result.get_by_role("heading", level=2)).to_have_accessible_name("Falsifié")
    expect(result).not_to_contain_text("Diriger une association")  # a forged content is never shown
    screenshot(page, "offline-verifier-tampered-phone-fr")

    _check(page, codes.revoked, "revoked")
    expect(result.get_by_role("heading", level=2)).to_have_accessible_name(re.compile("^Révoqué selon les listes du "))
    assert_accessible(page)
    screenshot(page, "offline-verifier-revoked-phone-fr")

    _check(page, codes.unknown_key, "unknown_issuer")
    expect(result.get_by_role("heading", level=2)).to_have_accessible_name("Émetteur inconnu")
    _check(page, codes.compromised, "compromised")
    expect(result.get_by_role("heading", level=2)).to_have_accessible_name("Clé compromise")
    screenshot(page, "offline-verifier-compromised-phone-fr")
    _check(page, codes.expired, "expired")
    expect(result.get_by_role("heading", level=2)).to_have_accessible_name("Expiré")
    _check(page, codes.es256, "genuine")  # the issuer's P-256 key: ECDSA with a raw r||s signature
    expect(result).to_contain_text("ES256")
    _check(page, codes.es256[:-12] + codes.genuine[-12:], "tampered")
    _check(page, "https://blason.example.fr/credentials/1", "unreadable")
    _check(page, codes.genuine[:-6] + "ABCDEF", "tampered")  # a damaged code

    # From a photo of the printed QR code (jsQR: headless Chromium has no BarcodeDetector).
    _from_image(page, codes.genuine, "genuine")
    _from_image(page, codes.tampered, "tampered")
    _from_image(page, codes.revoked, "revoked")

    # The in-browser verification time of one payload, the page's own measure (performance.now()).
    timings += [_check(page, codes.genuine, "genuine") for _ in range(20)]
    print(
        f"\nin-browser verification of one BL1 payload: first {timings[0]:.2f} ms, "
        f"median of 20 more {statistics.median(timings[1:]):.2f} ms, payload {len(codes.genuine)} characters"
    )
    assert statistics.median(timings[1:]) < 200
    page.context.set_offline(False)


def test_old_lists_are_flagged_and_the_page_reads_in_english(
    live_server: LiveServer, new_page: Callable[..., Page], screenshot: Callable[[Page, str], Path]
) -> None:
    page = new_page(PHONE, "en")
    page.clock.install(time=datetime.now(UTC) + timedelta(days=9))  # the lists, signed now, look 9 days old
    page.goto(live_server.url(PAGE + "?lang=en"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Verify a badge with no network")
    expect(page.locator("#offline-verifier")).to_have_attribute("data-lists", "ready")
    lists = page.locator("#lists-state")
    expect(lists).to_contain_text("9 days ago")
    expect(lists).to_contain_text("Warning: these lists are 9 days old.")
    assert_accessible(page)
    screenshot(page, "offline-verifier-old-lists-phone-en")


def test_without_javascript_the_page_says_what_to_do(
    live_server: LiveServer,
    browser,
    screenshot: Callable[[Page, str], Path],  # type: ignore[no-untyped-def]
) -> None:
    context = browser.new_context(
        java_script_enabled=False, locale="fr-FR", viewport={"width": PHONE.width, "height": PHONE.height}
    )
    try:
        page = context.new_page()
        page.goto(live_server.url(PAGE))
        expect(page.locator("#nojs")).to_be_visible()
        expect(page.locator("#app")).to_be_hidden()
        expect(page.get_by_role("link", name="Vérifier un badge en ligne")).to_have_attribute("href", "/verify")
        expect(page.get_by_role("heading", name="Préparez votre téléphone avant de partir")).to_be_visible()
        screenshot(page, "offline-verifier-no-javascript-phone-fr")
    finally:
        context.close()


def _camera_video(text: str, folder: Path) -> Path:
    """A one-frame Y4M video of the QR code held in front of the camera (Chromium's fake camera plays it)."""
    from PIL import Image

    code = Image.open(io.BytesIO(badges.qr_png(text, error_correction="M", module_size=6))).convert("L")
    frame = Image.new("L", (640, 480), 235)
    code.thumbnail((460, 460))
    frame.paste(code, ((640 - code.width) // 2, (480 - code.height) // 2))
    chroma = bytes([128]) * (320 * 240)
    path = folder / "camera.y4m"
    path.write_bytes(b"YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\nFRAME\n" + frame.tobytes() + chroma + chroma)
    return path


def test_the_camera_reads_the_signed_code(
    live_server: LiveServer, browser: Browser, tmp_path: Path, screenshot: Callable[[Page, str], Path]
) -> None:
    codes = _seed(live_server)
    video = _camera_video(codes.genuine, tmp_path)
    # A Chromium of its own, whose fake camera films the code.
    chromium = browser.browser_type.launch(
        executable_path=CHROMIUM,
        args=[
            "--disable-dev-shm-usage",
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
    )
    try:
        context = chromium.new_context(
            viewport={"width": PHONE.width, "height": PHONE.height}, locale="fr-FR", is_mobile=True, has_touch=True
        )
        context.grant_permissions(["camera"], origin=live_server.base)
        page = context.new_page()
        page.goto(live_server.url(PAGE))
        expect(page.locator("#offline-verifier")).to_have_attribute("data-lists", "ready")
        # On the first screen of a phone: the scan button first, how fresh the lists are right after.
        scan = page.get_by_role("button", name="Scanner avec la caméra")
        expect(scan).to_be_visible()
        scan_box, lists_box = scan.bounding_box(), page.locator("#lists").bounding_box()
        assert scan_box and lists_box and scan_box["y"] + scan_box["height"] <= PHONE.height
        assert scan_box["y"] < lists_box["y"] < PHONE.height  # the lists' dates begin on the first screen too
        assert_accessible(page)
        screenshot(page, "offline-verifier-start-phone-fr")
        scan.click()
        expect(page.locator("#result")).to_have_attribute("data-verdict", "genuine", timeout=20_000)
        expect(page.get_by_label("Ou le texte du code")).to_have_value(codes.genuine)
        expect(page.get_by_role("button", name="Scanner avec la caméra")).to_have_attribute("aria-pressed", "false")
        assert page.locator("#video").is_hidden()  # the camera is off once the code is read
        screenshot(page, "offline-verifier-camera-phone-fr")
    finally:
        chromium.close()
