"""The gettext catalogs of mails and the code sheet: found, compiled and checked once per process.

Mails and the code sheet are translated with gettext catalogs: one bridge/locale/<locale>/LC_MESSAGES/
messages.po per language, extracted from the templates and bridge code by `scripts/i18n.sh extract` and
compiled to .mo at build time (scripts/bootstrap.sh, the Dockerfile). A source checkout without .mo files
still works: the .po is compiled in memory on first use. Which catalog a tag names is a pure rule
(:func:`bridge.domain.locales.best_match`); this module only reads the files.
"""

from __future__ import annotations

import gettext
import io
import logging
import re
from functools import cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from bridge.domain.locales import best_match

CATALOG_DIR = Path(__file__).resolve().parents[1] / "locale"  # bridge/locale: shared by notify and sheet
DOMAIN = "messages"
SOURCE_LOCALE = "en"  # msgids are English: a missing translation reads as English, never as a key

_PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")

log = logging.getLogger(__name__)


def catalog_locales() -> tuple[str, ...]:
    """The locales with a catalog in bridge/locale, plus English (the msgids themselves), sorted."""
    return _catalog_locales(CATALOG_DIR)


@cache
def _catalog_locales(directory: Path) -> tuple[str, ...]:
    found = {p.parent.parent.name for p in directory.glob(f"*/LC_MESSAGES/{DOMAIN}.po")}
    found |= {p.parent.parent.name for p in directory.glob(f"*/LC_MESSAGES/{DOMAIN}.mo")}
    return tuple(sorted(found | {SOURCE_LOCALE}))


def negotiate(*requested: str | None) -> str:
    """The catalog for the first of ``requested`` we can speak (user's locale, realm default, setting),
    else English (:func:`bridge.domain.locales.best_match` says how a tag names a catalog)."""
    return best_match(requested, catalog_locales(), SOURCE_LOCALE)


def translations(locale: str) -> gettext.NullTranslations:
    """The compiled catalog of ``locale`` (English msgids when there is none), loaded once per process.

    A translation whose placeholders do not match its msgid's (a translator typo such as ``%(relm)s``)
    is dropped with a warning, so the English sentence is used instead of a mail failing to render.
    """
    return _translations(CATALOG_DIR, locale)


@cache
def _translations(directory: Path, locale: str) -> gettext.NullTranslations:
    catalog = _read_catalog(directory / locale / "LC_MESSAGES", locale)
    if catalog is None:
        return gettext.NullTranslations()
    for message in list(catalog):
        if message.id and message.string and not _placeholders_fit(message.id, message.string):
            log.warning(
                "catalog %s: translation of %r has other placeholders; English is used",
                locale,
                message.id if isinstance(message.id, str) else message.id[0],
            )
            message.string = ("",) * len(message.string) if isinstance(message.string, tuple) else ""
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def _read_catalog(directory: Path, locale: str) -> Catalog | None:
    """The .mo compiled at build time, else the .po compiled now (a source checkout), else None."""
    mo, po = directory / f"{DOMAIN}.mo", directory / f"{DOMAIN}.po"
    if mo.is_file() and (not po.is_file() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as handle:
            return read_mo(handle)
    if po.is_file():
        with po.open("rb") as handle:
            return read_po(handle, locale=locale)
    return None


def _placeholders_fit(msgid: str | tuple[str, ...], translation: str | tuple[str, ...]) -> bool:
    """Every form of the translation formats with the msgid's named placeholders, and nothing else."""
    ids = (msgid,) if isinstance(msgid, str) else msgid
    forms = (translation,) if isinstance(translation, str) else translation
    allowed = {name for text in ids for name in _PLACEHOLDER.findall(text)}
    probe = dict.fromkeys(allowed, 1)
    for form in forms:
        if not form:
            continue
        if not set(_PLACEHOLDER.findall(form)) <= allowed:
            return False
        try:
            form % probe
        except (KeyError, ValueError, TypeError):
            return False
    return True
