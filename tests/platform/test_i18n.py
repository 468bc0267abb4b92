"""The one message catalogue: every message in both languages, every key the code uses in it."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import get_args

import pytest

from app.models import Decision, EvidenceKind, KeyStatus, StatusPurpose
from app.platform.i18n import LANGS, lang_of, read_catalogue, translator
from app.services.dossiers.build import STATES
from app.services.verification.verification import VERDICTS
from badges.report import CHECK_NAMES, Outcome

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")

# Keys code builds from a code or enum value: every value must have its message.
DYNAMIC_KEYS = [
    *(f"verdict_{code}" for code in VERDICTS),
    *(f"verdict_{code}_more" for code in VERDICTS),
    *(f"check_{name}" for name in CHECK_NAMES),
    *(f"outcome_{name}" for name in get_args(Outcome)),
    *(f"key_status_{status.value}" for status in KeyStatus),
    *(f"purpose_{p.value}" for p in StatusPurpose),
    *(
        f"mail.{kind}.{part}"
        for kind in ("submitted", "resubmitted", "second_review", *(d.value for d in Decision))
        for part in ("subject", "body")
    ),
    *(f"dossier.state.{state}" for state in STATES),
    *(f"dossier.claim.{status}" for status in ("validated", "pending", "needs_evidence")),
    *(f"dossier.decision.{d.value}" for d in Decision),
    *(f"dossier.kind.{k.value}" for k in EvidenceKind),
]


def messages(lang: str) -> dict[str, str]:
    return {message.id: message.string for message in read_catalogue(lang) if message.id}


def keys_used_in_code() -> set[str]:
    """Literal keys in templates (``_('…')``) and Python (``tr("…")``, ``API_WORDS("…")``, ``t.key``)."""
    keys: set[str] = set()
    for path in (ROOT / "app" / "templates").rglob("*.html"):
        keys.update(re.findall(r"""\b_\(\s*'([\w.]+)'\s*[,)]""", path.read_text()))
    for path in (ROOT / "app").rglob("*.py"):
        source = path.read_text()
        keys.update(
            re.findall(r"""\b(?:tr|API_WORDS|_both|t\.get|words\(\)\.get)\(\s*["']([\w.]+)["']\s*[,)]""", source)
        )
        if path.parent.name == "web":  # the pages' ``t = words()``
            keys.update(k for k in re.findall(r"\bt\.([a-z_]+)\b(?!\()", source) if k != "lang")
    return keys


@pytest.mark.parametrize("lang", LANGS)
def test_every_message_has_a_non_empty_text_in_each_language(lang: str) -> None:
    other = messages(LANGS[1 - LANGS.index(lang)])
    catalogue = messages(lang)
    assert set(catalogue) == set(other), "keys in one catalogue only: " + ", ".join(sorted(set(catalogue) ^ set(other)))
    assert [key for key, text in catalogue.items() if not text.strip()] == []


def test_both_languages_fill_the_same_placeholders_and_carry_no_bare_percent_sign() -> None:
    french, english = messages("fr"), messages("en")
    for key, text in french.items():
        assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(english[key])), key
        for value in (text, english[key]):
            # Jinja's _() always %-formats: a lone % would break the page (write %% for one).
            assert "%" not in PLACEHOLDER.sub("", value).replace("%%", ""), key


def test_every_key_the_code_uses_is_in_the_catalogue() -> None:
    used = keys_used_in_code() | set(DYNAMIC_KEYS)
    assert len(used) > 250  # the scan found the pages', e-mails', PDFs' and API's keys
    assert sorted(used - set(messages("fr"))) == []


def test_a_translator_fills_placeholders_and_writes_dates_as_people_do() -> None:
    french, english = translator("fr"), translator("en")
    assert french("verdict_expired_more", date="1 juin 2026") == "Ce badge était valable jusqu'au 1 juin 2026."
    assert english.get("checked_at", date="2 June 2026") == "Checked on 2 June 2026"
    assert french.verify_title == "Vérifier un badge" and english.verify_title == "Verify a badge"
    assert french("pdf.page", number=3) == "page 3"
    with pytest.raises(AttributeError):
        french.no_such_message  # noqa: B018
    assert french.date(datetime(2026, 8, 1, 23, 30, tzinfo=UTC)) == "1 août 2026"
    assert french.date(date(2026, 8, 1), first_ordinal=True) == "1er août 2026"
    assert english.date(date(2026, 2, 1), first_ordinal=True) == "1 February 2026"
    assert french.date(None) == ""
    assert translator("de") is translator("fr")
    assert [lang_of(v) for v in ("en-GB", "EN", "fr-FR", None, "de")] == ["en", "en", "fr", "fr", "fr"]


@pytest.mark.parametrize(
    ("query", "headers", "expected"),
    [
        ("", {}, ("Vérifier un badge", "Aller au contenu")),
        ("?lang=en", {}, ("Verify a badge", "Skip to content")),
        ("", {"Accept-Language": "en-GB,en;q=0.8"}, ("Verify a badge", "Skip to content")),
        ("?lang=fr", {"Accept-Language": "en"}, ("Vérifier un badge", "Aller au contenu")),
    ],
)
def test_pages_take_their_words_from_the_catalogue_in_the_chosen_language(
    client,
    query,
    headers,  # type: ignore[no-untyped-def]
    expected,
) -> None:
    html = client.get(f"/verify{query}", headers=headers).get_data(as_text=True)
    assert all(f">{text}<" in html for text in expected), html[:600]


def test_flask_babel_reads_the_same_catalogue(app) -> None:  # type: ignore[no-untyped-def]
    from flask_babel import get_locale, gettext

    with app.test_request_context("/verify?lang=en"):
        assert str(get_locale()) == "en" and gettext("verify_title") == "Verify a badge"
        assert gettext("checked_at", date="2 June 2026") == "Checked on 2 June 2026"
    with app.test_request_context("/verify"):
        assert gettext("verify_title") == "Vérifier un badge"


def test_a_message_is_text_on_a_page_never_markup(app) -> None:  # type: ignore[no-untyped-def]
    with app.test_request_context("/verify"):
        html = app.jinja_env.from_string("{{ _('verdict_expired_more', date='<b>') }}").render()
    assert html == "Ce badge était valable jusqu&#39;au &lt;b&gt;."
