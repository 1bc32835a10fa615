"""Locales, message catalogues and formatting of dates and money for the pages.

Catalogues are compiled from the committed .po files when first used, so a fresh clone
works without a build step and the .po stays the one source of truth.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from babel.dates import format_skeleton
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations

from meals.errors import DomainError

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "messages"
DEFAULT_LOCALE = "zh_CN"
LOCALES = {"zh_CN": "中文", "en": "English"}
HTML_LANG = {"zh_CN": "zh-CN", "en": "en"}
LOCALE_COOKIE = "lang"
FEN_PER_YUAN = 100


def N_(message: str) -> str:
    """Mark a word for the catalogue without translating it here (translated where shown)."""
    return message


@cache
def translations(locale: str) -> Translations:
    """The compiled catalogue for `locale` (read once per process)."""
    path = LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as po_file:
        catalog = read_po(po_file, locale=locale)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def pick_locale(requested: str | None) -> str:
    return requested if requested in LOCALES else DEFAULT_LOCALE


@dataclass(frozen=True)
class Language:
    """Everything a page needs to speak one locale: gettext and locale-aware formatting."""

    locale: str

    @property
    def html_lang(self) -> str:
        return HTML_LANG[self.locale]

    def gettext(self, message: str, **params: Any) -> str:
        text = translations(self.locale).gettext(message)
        return text.format(**params) if params else text

    def error(self, exc: DomainError) -> str:
        """A refusal as a sentence in this language; its word-like params are translated too."""
        params = {
            name: translations(self.locale).gettext(value) if isinstance(value, str) else value
            for name, value in exc.params.items()
        }
        return self.gettext(exc.message, **params)

    def words(self, values: list[str] | tuple[str, ...]) -> str:
        """Catalogue words as one list: 鸡蛋、鱼 / egg, fish."""
        separator = "、" if self.locale == DEFAULT_LOCALE else ", "
        return separator.join(self.gettext(value) for value in values)

    def pick(self, chinese: str, english: str) -> str:
        """The Chinese or the English form of a name kept in both (set meals, dishes)."""
        return chinese if self.locale == DEFAULT_LOCALE else english

    def money(self, fen: int) -> str:
        """¥ and yuan with two decimals, e.g. ¥12.50."""
        yuan = Decimal(fen) / FEN_PER_YUAN
        return "¥" + format_decimal(yuan, format="#,##0.00", locale=self.locale)

    def day(self, value: date) -> str:
        """A short day with weekday: 11月23日周一 / Mon, Nov 23."""
        return format_skeleton("MMMEd", value, locale=self.locale)

    def weekday(self, value: date) -> str:
        """The short weekday: 周三 / Wed."""
        return format_skeleton("E", value, locale=self.locale)

    def month_day(self, value: date) -> str:
        """The short date without weekday: 12月2日 / Dec 2."""
        return format_skeleton("MMMd", value, locale=self.locale)

    def time(self, value: datetime) -> str:
        return value.strftime("%H:%M")

    def relative_day(self, value: date, today: date) -> str:
        """ "today" / "tomorrow" / "yesterday" near today, else the short day."""
        near = {0: N_("today"), 1: N_("tomorrow"), -1: N_("yesterday")}
        offset = (value - today).days
        return self.gettext(near[offset]) if offset in near else self.day(value)

    def deadline(self, moment: datetime, today: date) -> str:
        """When booking closes, in plain words: "09:00 today"."""
        return self.gettext(
            "{time} {day}", time=self.time(moment), day=self.relative_day(moment.date(), today)
        )
