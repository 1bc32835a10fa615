"""The kitchen sheets as HTML, PDF and CSV, rendered from a production plan.

One Jinja template per sheet, wrapped in ``kitchen/sheets.html``; the same HTML is shown in
the browser and printed to A4 by WeasyPrint, so the page and the PDF never disagree.
CSV comes from ``kitchen.sheet_csv`` untouched.
"""

from __future__ import annotations

from collections.abc import Sequence
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
from meals.pdf import render_pdf
from meals.production.adapter import ALLERGEN_NAMES_ZH
from meals.settings import Settings
from meals.words import VARIANT_LABELS_ZH, Slot, Variant

GRAMS_PER_KILOGRAM = 1000
SHEET_TEMPLATE = "kitchen/sheets.html"


class SheetFormat(StrEnum):
    HTML = "html"
    PDF = "pdf"
    CSV = "csv"


@dataclass(frozen=True, slots=True)
class SheetInfo:
    title_zh: str
    title_en: str
    template: str


SHEETS: dict[Sheet, SheetInfo] = {
    Sheet.PRODUCTION: SheetInfo("生产单", "Production sheet", "kitchen/_production.html"),
    Sheet.DESTINATIONS: SheetInfo(
        "分点份数", "Portions per destination", "kitchen/_destinations.html"
    ),
    Sheet.INGREDIENTS: SheetInfo("领料单", "Ingredients to draw", "kitchen/_ingredients.html"),
    Sheet.WAVES: SheetInfo("烹饪批次时间表", "Cooking waves", "kitchen/_waves.html"),
    Sheet.PACKING: SheetInfo("装车单", "Packing lists", "kitchen/_packing.html"),
    Sheet.LABELS: SheetInfo("送餐标签", "Home-delivery labels", "kitchen/_labels.html"),
    Sheet.SAMPLES: SheetInfo("留样记录", "Sample retention log", "kitchen/_samples.html"),
}
SLOT_NAMES_ZH = {Slot.LUNCH: "午餐", Slot.DINNER: "晚餐"}
EQUIPMENT_NAMES_ZH = {
    "wok": "炒锅",
    "braising_pan": "炖锅",
    "steamer": "蒸柜",
    "soup_kettle": "汤桶",
    "cold_prep": "凉菜间",
    "small_pot": "小锅",
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

    @property
    def slot_zh(self) -> str:
        return SLOT_NAMES_ZH[self.slot]


class Helpers:
    """Formatting used by the templates: local times, variant and allergen names, grams."""

    def __init__(self, timezone: str, plan: ProductionPlan) -> None:
        self._zone = ZoneInfo(timezone)
        self._dish_names = {line.dish_id: line.dish_name for line in plan.dishes}

    def hm(self, moment: datetime) -> str:
        return moment.astimezone(self._zone).strftime("%H:%M")

    def stamp(self, moment: datetime) -> str:
        return moment.astimezone(self._zone).strftime("%m-%d %H:%M")

    def minutes(self, duration: timedelta) -> int:
        return int(duration.total_seconds() // 60)

    def hours(self, duration: timedelta) -> str:
        return f"{duration / timedelta(hours=1):g}"

    @staticmethod
    def variant_zh(variant: DietVariant | str) -> str:
        return VARIANT_LABELS_ZH[Variant(str(variant))]

    @staticmethod
    def is_special(variant: DietVariant | str) -> bool:
        return DietVariant(str(variant)).is_special

    @staticmethod
    def allergens_zh(allergens: Sequence[str] | frozenset[str]) -> str:
        return "、".join(ALLERGEN_NAMES_ZH.get(code, code) for code in sorted(allergens))

    @staticmethod
    def equipment_zh(kind: str) -> str:
        return EQUIPMENT_NAMES_ZH.get(kind, kind)

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

    @staticmethod
    def quantity(quantity: Decimal, unit: str) -> str:
        """Grams to the gram, with kilograms beside them for anything drawn by the kilo."""
        whole = quantity.quantize(Decimal(1))
        text = f"{whole:,} {unit}"
        if unit == "g" and quantity >= GRAMS_PER_KILOGRAM:
            kilograms = (quantity / GRAMS_PER_KILOGRAM).quantize(Decimal("0.01"))
            text += f"（{kilograms} kg）"
        return text


def sheet_context(
    plan: ProductionPlan, header: SheetHeader, sheets: Sequence[Sheet], nav: str = ""
) -> dict[str, Any]:
    """Template context for ``sheets`` of ``plan`` (one sheet, or all of them for printing)."""
    return {
        "plan": plan,
        "nav": nav,
        "recipients": {label.delivery_id: label for label in plan.labels},
        "header": header,
        "sections": [(sheet.value, SHEETS[sheet]) for sheet in sheets],
        "h": Helpers(header.timezone, plan),
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
    """The web pages' own Jinja configuration, for rendering outside a request (CLI)."""
    from meals.pages.setup import template_config

    return template_config(settings).to_engine().engine


def export(
    plan: ProductionPlan,
    header: SheetHeader,
    *,
    engine: Environment,
    sheet_format: str,
    sheet: Sheet | None,
) -> bytes:
    """One sheet (or all, for HTML and PDF) in ``sheet_format``: html, pdf, csv or json."""
    if sheet_format == "json":
        return msgspec.json.format(msgspec.json.encode(plan))
    if sheet_format == SheetFormat.CSV:
        return render_csv(plan, sheet or Sheet.PRODUCTION).encode()
    html = sheet_html(engine, plan, header, [sheet] if sheet else list(SHEETS))
    if sheet_format == SheetFormat.PDF:
        return render_pdf(html)
    return html.encode()
