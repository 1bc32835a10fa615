"""The message catalogues: every string in the code is in them, and Chinese is complete."""

from __future__ import annotations

import re

from meals.pages import i18n
from meals.pages.catalogue import extract, read_catalog

PLACEHOLDER = re.compile(r"\{(\w+)\}")


def test_every_message_in_the_code_is_in_both_catalogues():
    wanted = {message.id for message in extract() if message.id}
    for locale in i18n.LOCALES:
        have = {message.id for message in read_catalog(locale) if message.id}
        missing = sorted(wanted - have)
        assert not missing, f"run `python -m meals.pages.catalogue` ({locale}): {missing[:5]}"


def test_every_chinese_translation_is_there_and_keeps_its_placeholders():
    for message in read_catalog("zh_CN"):
        if not message.id:
            continue
        assert message.string, f"no Chinese for {message.id!r}"
        assert not message.fuzzy, f"fuzzy Chinese for {message.id!r}"
        assert set(PLACEHOLDER.findall(message.string)) == set(PLACEHOLDER.findall(message.id)), (
            message.id
        )


def test_money_and_dates_are_formatted_for_each_locale():
    from datetime import date

    chinese, english = i18n.Language("zh_CN"), i18n.Language("en")
    assert chinese.money(1250) == english.money(1250) == "¥12.50"
    assert chinese.money(123_400) == "¥1,234.00"
    assert chinese.day(date(2026, 11, 23)) == "11月23日周一"
    assert english.day(date(2026, 11, 23)) == "Mon, Nov 23"
    assert chinese.gettext("Lunch") == "午餐"
    assert english.gettext("Lunch") == "Lunch"
