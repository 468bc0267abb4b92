"""The one message catalogue: every text people read, French first, English available.

The catalogue is gettext's: ``app/translations/{fr,en}/LC_MESSAGES/messages.po``. A message id
is a stable key (``verify_title``, ``mail.validated.subject``), never the French sentence, so
that both languages are translations of it and a test can require both to be non-empty.
Placeholders are Python's named ``%(name)s``, the form Flask-Babel and Jinja's ``_()`` fill.

The ``.po`` files are read directly with babel's reader on first use (and kept per process):
there is no compiled ``.mo`` to build or commit. Pages reach the same objects through
Flask-Babel (``app.web.i18n``); services, which never import Flask, are handed a language and
call :func:`translator` here.
"""

from __future__ import annotations

import io
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from babel.dates import format_date
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LANGS = ("fr", "en")
DEFAULT_LANG = "fr"
CATALOGUE_DIR = Path(__file__).resolve().parent.parent / "translations"
DOMAIN = "messages"


def lang_of(locale: str | None) -> str:
    """One of LANGS for a stored locale (``en-GB`` → ``en``); French for anything else."""
    return "en" if (locale or "").lower().startswith("en") else DEFAULT_LANG


def po_path(lang: str) -> Path:
    return CATALOGUE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalogue(lang: str) -> Catalog:
    """The parsed ``.po`` of one language (for tests and tools; :func:`translations` for use)."""
    with po_path(lang).open("rb") as handle:
        return read_po(handle, locale=lang, domain=DOMAIN)


@cache
def translations(lang: str) -> Translations:
    """The gettext translations of ``lang``, built in memory from its ``.po`` once per process."""
    if lang not in LANGS:
        raise ValueError(f"no catalogue for language {lang!r}")
    buffer = io.BytesIO()
    write_mo(buffer, read_catalogue(lang))
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


class Translator:
    """One language's messages: ``tr("verify_title")``, ``tr("checked_at", date=…)``.

    Templates and older code also read ``tr.verify_title`` and ``tr.get(key, **values)``.
    """

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGS else DEFAULT_LANG
        self._gettext = translations(self.lang).gettext

    def __call__(self, key: str, **values: Any) -> str:
        """The message ``key`` with its ``%(placeholders)s`` filled (an unknown key reads as itself)."""
        text = self._gettext(key)
        return text % values if values else text

    get = __call__

    def __getattr__(self, key: str) -> str:
        if key.startswith("_"):
            raise AttributeError(key)
        text = self._gettext(key)
        if text == key:
            raise AttributeError(key)
        return text

    def date(self, value: date | datetime | None, *, first_ordinal: bool = False) -> str:
        """A date in words: « 2 juin 2026 », "2 June 2026"; « 1er juin » in print (``first_ordinal``)."""
        return day_in_words(value, self.lang, first_ordinal=first_ordinal)


def translator(lang: str | None) -> Translator:
    """The translator of ``lang`` (French when it is not a catalogue language)."""
    return _translator(lang if lang in LANGS else DEFAULT_LANG)


@cache
def _translator(lang: str) -> Translator:
    return Translator(lang)


def day_in_words(value: date | datetime | None, lang: str, *, first_ordinal: bool = False) -> str:
    """The day as people write it (the date as given, no time zone shift); empty for None."""
    if value is None:
        return ""
    day = value.date() if isinstance(value, datetime) else value
    words = format_date(day, "d MMMM y", locale=lang)
    if first_ordinal and lang == "fr" and day.day == 1:
        words = "1er" + words[1:]
    return words
