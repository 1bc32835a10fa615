"""CSV export: every sheet as rows and text, consistent with the plan, no files involved."""

import csv
import io
from datetime import timedelta

import pytest
from kitchen_builders import PARAMS, RECIPES, at, demo_departures, demo_order_lines, site, site_line

from kitchen import (
    Departure,
    ProductionPlan,
    Sheet,
    StopTiming,
    plan_production,
    sheet_csv,
    sheet_rows,
)


@pytest.fixture(scope="module")
def demo_plan() -> ProductionPlan:
    return plan_production(demo_order_lines(), RECIPES, demo_departures(), PARAMS)


def parsed(plan: ProductionPlan, sheet: Sheet) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(sheet_csv(plan, sheet))))


@pytest.mark.parametrize("sheet", list(Sheet))
def test_csv_text_round_trips_to_the_rows(demo_plan: ProductionPlan, sheet: Sheet) -> None:
    rows = sheet_rows(demo_plan, sheet)
    assert len(rows) > 1
    assert all(len(row) == len(rows[0]) for row in rows)
    assert [tuple(row) for row in csv.reader(io.StringIO(sheet_csv(demo_plan, sheet)))] == [
        tuple(str(cell) for cell in row) for row in rows
    ]


def test_production_sheet_counts_add_up(demo_plan: ProductionPlan) -> None:
    rows = parsed(demo_plan, Sheet.PRODUCTION)
    *dish_rows, total_row = rows
    assert total_row["variant"] == "total"
    assert int(total_row["portions"]) == sum(int(row["portions"]) for row in dish_rows) == 350
    assert dish_rows[0]["variant"] == "halal"


def test_destination_sheet_matches_the_plan(demo_plan: ProductionPlan) -> None:
    rows = parsed(demo_plan, Sheet.DESTINATIONS)
    assert sum(int(row["portions"]) for row in rows) == demo_plan.total_portions


def test_ingredient_quantities_are_plain_numbers(demo_plan: ProductionPlan) -> None:
    rows = {row["ingredient_id"]: row for row in parsed(demo_plan, Sheet.INGREDIENTS)}
    assert rows["salt"]["quantity"] == "559.5"
    assert rows["rice"]["quantity"] == "11500"
    assert all("E" not in row["quantity"] for row in rows.values())


def test_wave_rows_cover_every_portion(demo_plan: ProductionPlan) -> None:
    rows = parsed(demo_plan, Sheet.WAVES)
    assert sum(int(row["portions"]) for row in rows) == demo_plan.total_portions
    assert all(row["exceeds_limit_by_minutes"] == "" for row in rows)
    assert {row["safety_limit_minutes"] for row in rows} == {"120"}


def test_wave_rows_show_violations() -> None:
    departure = Departure(
        departure_id="D1",
        van_id="V1",
        departs_at=at(10),
        stops=(StopTiming(stop_id="S1", eating_at=at(13)),),
    )
    plan = plan_production(
        [site_line(site("D1", "S1"), 4, dish_ids=("rice",))],
        RECIPES,
        [departure],
        PARAMS,
        allow_violations=True,
    )
    [row] = parsed(plan, Sheet.WAVES)
    assert row["exceeds_limit_by_minutes"] == "75"
    assert plan.violations[0].excess == timedelta(minutes=75)


def test_packing_labels_and_samples_rows(demo_plan: ProductionPlan) -> None:
    packing = parsed(demo_plan, Sheet.PACKING)
    assert sum(int(row["portions"]) for row in packing) == demo_plan.total_portions
    labels = parsed(demo_plan, Sheet.LABELS)
    assert [row["delivery_id"] for row in labels] == [
        label.delivery_id for label in demo_plan.labels
    ]
    assert labels[0]["texture"] == "IDDSI 4 泥状"
    samples = parsed(demo_plan, Sheet.SAMPLES)
    assert len(samples) == len(demo_plan.batches)
    assert {row["grams"] for row in samples} == {"125"}
    assert all(row["staff"] == "" for row in samples)
    assert samples[0]["discard_at"].endswith("+08:00")
