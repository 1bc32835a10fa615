"""Keep the message catalogues in step with the code: `python -m meals.pages.catalogue`.

Extracts every page string (`_`, `gettext`, `N_`) and every refusal a service raises (the first
argument of a DomainError), then merges them into each locale's .po, keeping translations.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po, write_po

from meals.pages.i18n import DOMAIN, LOCALE_DIR, LOCALES
from meals.settings import REPO_ROOT

REFUSALS = (
    "DomainError",
    "Invalid",
    "NotAuthenticated",
    "Forbidden",
    "NotFound",
    "Conflict",
    "TooManyAttempts",
)
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None, **{name: (1,) for name in REFUSALS}}
METHOD_MAP = [("meals/**.py", "python"), ("templates/**.html", "jinja2")]
SKIPPED = ("meals/migrations/",)


def extract(root: Path = REPO_ROOT) -> Catalog:
    """Every translatable message in the code, as a template catalogue."""
    catalog = Catalog(project="warmmeal", charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
        root, METHOD_MAP, keywords=KEYWORDS, comment_tags=("Translators:",)
    ):
        if filename.startswith(SKIPPED) or not isinstance(message, str) or not message:
            continue
        catalog.add(
            message, locations=[(filename, lineno)], auto_comments=comments, context=context
        )
    return catalog


def po_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(locale: str) -> Catalog:
    with po_path(locale).open("rb") as po_file:
        return read_po(po_file, locale=locale)


def update() -> None:
    """Merge newly extracted messages into each locale's .po; old translations are kept."""
    template = extract()
    for locale in LOCALES:
        path = po_path(locale)
        path.parent.mkdir(parents=True, exist_ok=True)
        catalog = read_catalog(locale) if path.exists() else Catalog(locale=locale)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.project, catalog.version, catalog.fuzzy = "WarmMeal", "1", False
        with path.open("wb") as po_file:
            write_po(
                po_file,
                catalog,
                width=100,
                omit_header=False,
                sort_output=True,
                ignore_obsolete=True,
                include_lineno=False,
            )


if __name__ == "__main__":
    update()
