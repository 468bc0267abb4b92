"""The pages' language: Flask-Babel over the one catalogue (``app.platform.i18n``).

French first, English on request: ``?lang=en`` (the link to the other language every page
carries), then the browser's Accept-Language, then French. Flask-Babel asks :func:`current_lang`
once per request; templates write ``{{ _('verify_title') }}`` and ``{{ when|day }}``; views use
``Words(current_lang())``. Flask-Babel reads its translations from the same in-memory objects
as the services (built from the ``.po`` files on first use), so there is no ``.mo`` to compile.
"""

from __future__ import annotations

from typing import Any

from babel.support import Translations
from flask import Flask, g, request
from flask_babel import Babel, Domain, get_locale
from markupsafe import Markup, escape
from werkzeug.utils import cached_property

from app.platform.i18n import DEFAULT_LANG, LANGS, Translator, day_in_words, translations

__all__ = ["LANGS", "Words", "current_lang", "init_app"]

Words = Translator  # the pages' ``t``: ``t.verify_title``, ``t.get("checked_at", date=…)``, ``t.date(…)``


def current_lang() -> str:
    """``?lang=`` first, then the signed-in person's language, then the browser's Accept-Language, then French."""
    asked = request.args.get("lang")
    if asked in LANGS:
        return asked
    signed_in = g.get("web_session")
    if signed_in is not None and signed_in.locale in LANGS:
        return str(signed_in.locale)
    return request.accept_languages.best_match(list(LANGS)) or DEFAULT_LANG


class _CatalogueDomain(Domain):  # type: ignore[misc]
    """Flask-Babel's message domain, answered from the catalogue already in memory."""

    def get_translations(self) -> Translations:
        locale = str(get_locale())
        return translations(locale if locale in LANGS else DEFAULT_LANG)


class _Babel(Babel):  # type: ignore[misc]
    @cached_property
    def domain_instance(self) -> Domain:
        return _CatalogueDomain()


def _template_gettext(key: str) -> Markup:
    # A message is text, not markup: escape it like any other value; Jinja then fills its
    # %(placeholders)s with escaped values.
    return escape(_CatalogueDomain().get_translations().gettext(key))


def _template_ngettext(singular: str, plural: str, n: int) -> Markup:
    return escape(_CatalogueDomain().get_translations().ngettext(singular, plural, n))


def _day(value: Any) -> str:
    return day_in_words(value, str(get_locale()) if str(get_locale()) in LANGS else DEFAULT_LANG)


def init_app(app: Flask) -> None:
    """Install Flask-Babel (locale from :func:`current_lang`), ``_()`` and the ``day`` filter."""
    _Babel(app, locale_selector=current_lang, default_locale=DEFAULT_LANG)
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=_template_gettext, ngettext=_template_ngettext, newstyle=True
    )
    app.jinja_env.filters["day"] = _day
