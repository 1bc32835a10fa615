"""The kitchen sheets as HTML, PDF and CSV, rendered from a production plan.

One Jinja template per sheet, wrapped in ``kitchen/sheets.html``; the same HTML is shown in
the browser and printed to A4 by WeasyPrint, so the page and the PDF never disagree.
CSV comes from ``kitchen.sheet_csv`` untouched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from jinja2 import Environment

from kitchen import (
    Batch,
    BatchAllocation,
    DietVariant,
    ProcessingStep,
    ProductionPlan,
    Sheet,
    sheet_csv,
)
from meals.pages import jinja
from meals.pages.i18n import DEFAULT_LOCALE, N_, Language
from meals.pages.labels import SLOT as SLOT_LABELS
from meals.pages.labels import VARIANT as VARIANT_LABELS
from meals.pdf import render_pdf
from meals.production.labels import BoxRow
from meals.production.margins import RunBoxes
from meals.production.models import ProductionRun, SampleRecord
from meals.settings import Settings
from meals.words import Slot, Variant

GRAMS_PER_KILOGRAM = 1000
DEFAULT_MARGIN_WARNING = timedelta(minutes=15)
SHEET_TEMPLATE = "kitchen/sheets.html"
KITCHEN_LANGUAGE = Language(DEFAULT_LOCALE)
"""What the sheets speak when no reader chose: the CLI, the sheets readied after a freeze."""


class SheetFormat(StrEnum):
    HTML = "html"
    PDF = "pdf"
    CSV = "csv"


@dataclass(frozen=True, slots=True)
class SheetInfo:
    """A sheet's title (a catalogue message, worded in the reader's language) and template."""

    title: str
    template: str


SHEETS: dict[Sheet, SheetInfo] = {
    Sheet.PRODUCTION: SheetInfo(N_("Production sheet"), "kitchen/_production.html"),
    Sheet.DESTINATIONS: SheetInfo(N_("Portions per destination"), "kitchen/_destinations.html"),
    Sheet.INGREDIENTS: SheetInfo(N_("Ingredients to draw"), "kitchen/_ingredients.html"),
    Sheet.WAVES: SheetInfo(N_("Cooking waves"), "kitchen/_waves.html"),
    Sheet.PACKING: SheetInfo(N_("Packing lists"), "kitchen/_packing.html"),
    Sheet.LABELS: SheetInfo(N_("Home-delivery labels"), "kitchen/_labels.html"),
    Sheet.SAMPLES: SheetInfo(N_("Sample retention log"), "kitchen/_samples.html"),
}
EQUIPMENT_NAMES = {
    "wok": N_("Wok"),
    "braising_pan": N_("Braising pan"),
    "steamer": N_("Steamer"),
    "soup_kettle": N_("Soup kettle"),
    "cold_prep": N_("Cold prep room"),
    "small_pot": N_("Small pot"),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class VariantShare:
    """A batch's portions of one variant over all its departures, for the wave timetable."""

    variant: DietVariant
    portions: int
    steps: tuple[ProcessingStep, ...]
    ready_at: datetime
    departures: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SheetHeader:
    """What every sheet says at the top: which service, and whether it is frozen."""

    service_date: date
    slot: Slot
    run_id: int | None
    frozen_at: datetime | None
    timezone: str


class Helpers:
    """Formatting used by the templates in the reader's language: local times, slot,
    variant, allergen and equipment names, grams."""

    def __init__(
        self,
        timezone: str,
        plan: ProductionPlan,
        warning: timedelta = DEFAULT_MARGIN_WARNING,
        language: Language = KITCHEN_LANGUAGE,
    ) -> None:
        self._language = language
        self._zone = ZoneInfo(timezone)
        self._dish_names = {line.dish_id: line.dish_name for line in plan.dishes}
        self._warning_minutes = int(warning.total_seconds() // 60)
        first = plan.samples[0] if plan.samples else None
        self.retention = first.discard_at - first.sampled_at if first else timedelta(0)

    def margin_class(self, row: BoxRow | None) -> str:
        """``over`` past the limit, ``tight`` within the warning of it: printed inverted."""
        if row is None:
            return ""
        if row.margin_minutes < 0:
            return "over"
        return "tight" if row.margin_minutes < self._warning_minutes else ""

    @staticmethod
    def worst_margin(margins: Mapping[int, BoxRow], numbers: Sequence[int]) -> BoxRow | None:
        """The tightest of a label's boxes: what the label warns about."""
        rows = [margins[n] for n in numbers if n in margins]
        return min(rows, key=lambda row: row.margin_minutes) if rows else None

    def hm(self, moment: datetime) -> str:
        return moment.astimezone(self._zone).strftime("%H:%M")

    def stamp(self, moment: datetime) -> str:
        return moment.astimezone(self._zone).strftime("%m-%d %H:%M")

    def minutes(self, duration: timedelta) -> int:
        return int(duration.total_seconds() // 60)

    def hours(self, duration: timedelta) -> str:
        return f"{duration / timedelta(hours=1):g}"

    def slot(self, slot: Slot | str) -> str:
        return self._language.gettext(SLOT_LABELS[Slot(str(slot))])

    def variant(self, variant: DietVariant | str) -> str:
        return self._language.gettext(VARIANT_LABELS[Variant(str(variant))])

    @staticmethod
    def is_special(variant: DietVariant | str) -> bool:
        return DietVariant(str(variant)).is_special

    def allergens(self, allergens: Sequence[str] | frozenset[str]) -> str:
        return self._language.words(sorted(allergens))

    def equipment(self, kind: str) -> str:
        name = EQUIPMENT_NAMES.get(kind)
        return self._language.gettext(name) if name else kind

    @staticmethod
    def shares(batch: Batch) -> list[VariantShare]:
        """A batch split by variant (not by van): what the cook portions out and processes."""
        by_variant: dict[DietVariant, list[BatchAllocation]] = {}
        for allocation in batch.allocations:
            by_variant.setdefault(allocation.variant, []).append(allocation)
        return [
            VariantShare(
                variant=variant,
                portions=sum(a.portions for a in allocations),
                steps=allocations[0].extra_steps,
                ready_at=max(a.ready_at for a in allocations),
                departures=len(allocations),
            )
            for variant, allocations in sorted(
                by_variant.items(), key=lambda item: item[0].display_rank
            )
        ]

    def dish_name(self, dish_id: str) -> str:
        return self._dish_names.get(dish_id, dish_id)

    def quantity(self, quantity: Decimal, unit: str) -> str:
        """Grams to the gram, with kilograms beside them for anything drawn by the kilo."""
        whole = quantity.quantize(Decimal(1))
        text = f"{whole:,} {unit}"
        if unit == "g" and quantity >= GRAMS_PER_KILOGRAM:
            kilograms = (quantity / GRAMS_PER_KILOGRAM).quantize(Decimal("0.01"))
            text += f" ({kilograms} kg)"
        return text


def header_of(run: ProductionRun, settings: Settings) -> SheetHeader:
    """The header of a frozen run's sheets."""
    return SheetHeader(
        service_date=run.service_date,
        slot=run.slot,
        run_id=run.id,
        frozen_at=run.frozen_at,
        timezone=settings.default_timezone,
    )


def sheet_context(
    plan: ProductionPlan,
    header: SheetHeader,
    sheets: Sequence[Sheet],
    nav: str = "",
    *,
    boxes: RunBoxes | None = None,
    recorded: Mapping[str, SampleRecord] | None = None,
    van: str | None = None,
    warning: timedelta = DEFAULT_MARGIN_WARNING,
    language: Language = KITCHEN_LANGUAGE,
) -> dict[str, Any]:
    """Template context for ``sheets`` of ``plan`` (one sheet, or all of them for printing).

    ``boxes`` give each box's cook-to-eat minutes and margin (packing list and labels);
    ``recorded`` the 留样 samples taken, so the samples sheet shows what is missing; ``van``
    keeps the packing list and labels of one van (as its driver carries them); a box
    within ``warning`` of its limit is printed inverted. The sheets speak ``language``, as
    the pages do (Chinese unless the reader chose English).
    """
    packing = [v for v in plan.packing if van is None or v.van_id == van]
    home_labels = [label for label in plan.labels if van is None or label.van_id == van]
    return {
        "plan": plan,
        "nav": nav,
        "packing": packing,
        "home_labels": home_labels,
        "van": van,
        "margins": boxes.by_label() if boxes else {},
        "recorded": dict(recorded or {}),
        "recipients": {label.delivery_id: label for label in plan.labels},
        "header": header,
        "sections": [(sheet.value, SHEETS[sheet]) for sheet in sheets],
        "h": Helpers(header.timezone, plan, warning, language),
        "_": language.gettext,
        "lang": language,
        "special_count": sum(line.portions for line in plan.dishes if line.variant.is_special),
    }


def render_html(engine: Environment, context: dict[str, Any]) -> str:
    return engine.get_template(SHEET_TEMPLATE).render(context)


def sheet_html(
    engine: Environment,
    plan: ProductionPlan,
    header: SheetHeader,
    chosen: Sequence[Sheet],
    nav: str = "",
) -> str:
    """The printable HTML of the `chosen` sheets of a plan."""
    return render_html(engine, sheet_context(plan, header, list(chosen), nav=nav))


def render_csv(plan: ProductionPlan, sheet: Sheet) -> str:
    return sheet_csv(plan, sheet)


def download_name(header: SheetHeader, sheet: Sheet | None, sheet_format: SheetFormat) -> str:
    """e.g. ``kitchen-2026-11-23-lunch-production.pdf``."""
    part = sheet.value if sheet else "all"
    return f"kitchen-{header.service_date.isoformat()}-{header.slot.value}-{part}.{sheet_format}"


def template_engine(settings: Settings) -> Environment:
    """The pages' shared Jinja environment, for rendering outside a request (CLI)."""
    return jinja.environment(settings)


def export(
    plan: ProductionPlan,
    header: SheetHeader,
    *,
    engine: Environment,
    sheet_format: str,
    sheet: Sheet | None,
    context: Mapping[str, Any] | None = None,
) -> bytes:
    """One sheet (or all, for HTML and PDF) in ``sheet_format``: html, pdf, csv or json;
    ``context`` (margins, samples) is added to the sheets' own."""
    if sheet_format == "json":
        return msgspec.json.format(msgspec.json.encode(plan))
    if sheet_format == SheetFormat.CSV:
        return render_csv(plan, sheet or Sheet.PRODUCTION).encode()
    chosen = [sheet] if sheet else list(SHEETS)
    html = render_html(engine, {**sheet_context(plan, header, chosen), **(context or {})})
    if sheet_format == SheetFormat.PDF:
        return render_pdf(html)
    return html.encode()
