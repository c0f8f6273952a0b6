"""Translations (gettext catalogs compiled in memory from the shipped .po files).

The language of the current request lives in a context variable, so templates,
errors and actions all translate the same way without passing it around.
"""

from __future__ import annotations

import io
from contextvars import ContextVar
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LANGUAGES = ("zh_CN", "en")
LOCALE_DIR = Path(__file__).parent / "locale"
current_language: ContextVar[str] = ContextVar("current_language", default="zh_CN")


@cache
def translations(language: str) -> NullTranslations:
    po_path = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    if not po_path.is_file():
        return NullTranslations()
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def gettext(message: str, **params: object) -> str:
    text = translations(current_language.get()).gettext(message)
    return text % params if params else text


def ngettext(singular: str, plural: str, n: int, **params: object) -> str:
    text = translations(current_language.get()).ngettext(singular, plural, n)
    return text % {"num": n, **params}


_ = gettext


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated later, when shown."""
    return message


def pick_language(user_choice: str | None, accept_language: str, default: str) -> str:
    """The user's own setting, else the browser's first shipped preference, else the default."""
    if user_choice in LANGUAGES:
        return user_choice
    for part in accept_language.split(","):
        tag = part.split(";")[0].strip().replace("-", "_").lower()
        if tag.startswith("zh"):
            return "zh_CN"
        if tag.startswith("en"):
            return "en"
    return default
