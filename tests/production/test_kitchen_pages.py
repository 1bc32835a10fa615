"""The kitchen's pages as a cook reads them: labels that moved since the sheets were printed,
each box's food-safety margin on the packing list, labels and route sheet, the warning
before cooking of a meal that would be late or not delivered, and the 留样 page."""

from __future__ import annotations

import dataclasses
import html
import io
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient
from pypdf import PdfReader
from sqlalchemy import func, select, update

from meals.accounts.models import Account
from meals.app import create_app
from meals.clock import Clock
from meals.deliveries.models import RouteRun, RouteStop
from meals.pages.i18n import Language
from meals.production import day as one_plan
from meals.production import margins, service
from meals.production.models import ProductionRun, SampleRecord
from meals.settings import Settings
from meals.words import Role
from seed.data import DEMO_PASSWORDS
from tests.conftest import NOW, SHANGHAI, TODAY, settings_for
from tests.deliveries.conftest import quick
from tests.meals.helpers import Sessions, login, login_as
from tests.pages.helpers import csrf_token, visible_text
from tests.production.conftest import book_lunches, replan_lunch_without

ZH = Language("zh_CN")
EN = Language("en")
LUNCH = {"service_date": TODAY.isoformat(), "slot": "lunch"}
KITCHEN_PAGE = f"/kitchen?service_date={TODAY.isoformat()}&slot=lunch"
SAMPLES_PAGE = f"/kitchen/samples?service_date={TODAY.isoformat()}&slot=lunch"
AFTER_LUNCH = NOW.replace(hour=14)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return quick(settings_for(database_url, tmp_path))


@pytest.fixture
async def frozen(client: AsyncTestClient, db: Sessions) -> ProductionRun:
    """Today's lunches booked and frozen into the plan of the day, logged in as the kitchen."""
    await book_lunches(db)
    await login_as(client, db, Role.KITCHEN)
    response = await client.post("/api/v1/kitchen/runs", json=LUNCH)
    assert response.status_code == 201, response.text
    async with db() as session:
        return await service.get_run(session, response.json()["id"])


def _place(language: Language, place: one_plan.LabelPlace | None) -> str:
    """A moved label's place as the kitchen page words it in ``language``."""
    if place is None:
        return language.gettext("no label (not delivered)")
    boxes = language.gettext("box {boxes}", boxes=",".join(str(n) for n in place.boxes))
    stop = language.gettext("stop {position}", position=place.stop)
    return f"{boxes} · {place.van} {_hm(place.departs_at)} · {stop}"


def _hm(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%H:%M")


def _text(page: str) -> str:
    return " ".join(visible_text(page).split())


async def test_a_van_out_lists_the_moved_labels_on_the_kitchen_page(
    client: AsyncTestClient, db: Sessions, settings: Settings, frozen: ProductionRun
) -> None:
    before = _text((await client.get(KITCHEN_PAGE)).text)
    assert ZH.gettext("No sheet of this meal has been printed or downloaded yet.") in before

    printed = await client.get(f"/kitchen/runs/{frozen.id}/labels?format=csv")
    assert printed.status_code == 200
    assert ZH.gettext("No label moved since the last print.") in _text(
        (await client.get(KITCHEN_PAGE)).text
    )

    first = service.plan_of(frozen)
    out = first.labels[0].van_id  # a van carrying home deliveries goes out of service
    again = await replan_lunch_without(db, settings, out)
    moved = one_plan.label_changes(first, service.plan_of(again.run))
    was_on_out = {int(label.delivery_id) for label in first.labels if label.van_id == out}
    assert was_on_out <= {change.booking_id for change in moved}

    page = _text((await client.get(KITCHEN_PAGE)).text)
    section = page.split(ZH.gettext("Labels moved since the last print"))[1]
    assert (
        ZH.gettext(
            "Printed from run {printed}; the plan was made again since. Re-print the packing "
            "list and these labels:",
            printed=frozen.id,
        )
        in section
    )
    for change in moved:
        assert f"#{change.booking_id}" in section
        printed, now = ZH.gettext("Printed:"), ZH.gettext("Now:")
        assert f"{printed} {_place(ZH, change.before)} {now} {_place(ZH, change.after)}" in section
        assert change.after is None or change.after.van != out
    assert "stop" not in section and "箱" in section and "第" in section

    client.cookies["lang"] = "en"
    english = _text((await client.get(KITCHEN_PAGE)).text)
    change = moved[0]
    assert f"Printed: {_place(EN, change.before)} Now: {_place(EN, change.after)}" in english
    assert "第" not in english.split(EN.gettext("Labels moved since the last print"))[1]


async def test_every_sheet_shows_each_boxs_margin(
    client: AsyncTestClient, db: Sessions, settings: Settings, frozen: ProductionRun
) -> None:
    async with db() as session:
        boxes = await margins.run_boxes(session, settings, frozen)
        trip = await session.scalar(
            select(RouteRun).where(RouteRun.plan_id == frozen.route_plan_id).order_by(RouteRun.id)
        )
    van_rows = [row for row in boxes.rows if row.van == trip.van_code]
    assert van_rows and all(row.margin_minutes >= 0 for row in boxes.rows)

    packing = await client.get(f"/kitchen/runs/{frozen.id}/packing?van={trip.van_code}")
    assert packing.status_code == 200
    for row in van_rows:
        cell = f"{row.cook_to_eat_minutes}/{row.limit_minutes} · <b>余 {row.margin_minutes}</b>"
        assert cell in packing.text, row
    assert {van for van in boxes.by_label().values() if van.van != trip.van_code}
    assert all(
        f"<b>{row.label}</b>" not in packing.text for row in boxes.rows if row.van != trip.van_code
    )

    labels_pdf = await client.get(f"/kitchen/runs/{frozen.id}/labels?format=pdf")
    text = "".join(
        "".join(page.extract_text().split())
        for page in PdfReader(io.BytesIO(labels_pdf.content)).pages
    )
    home = [row for row in boxes.rows if row.booking_ids]
    assert home and "出锅→食用" in text
    assert (
        f"{home[0].cook_to_eat_minutes}/{home[0].limit_minutes}分钟·余{home[0].margin_minutes}"
        in text
    )

    sheet = await client.get(f"/dispatch/runs/{trip.id}/sheet")
    assert sheet.status_code == 200
    sheet_text = _text(sheet.text)
    assert ZH.gettext("Cook → eat / limit, margin (min)") in sheet_text
    trip_rows = [row for row in van_rows if row.departure == trip.departs_at]
    for row in trip_rows:
        assert str(row.label) in sheet_text
    worst = min(trip_rows, key=lambda row: row.margin_minutes)
    assert f"{worst.cook_to_eat_minutes}/{worst.limit_minutes} {worst.margin_minutes}" in sheet_text


async def test_the_kitchen_and_dispatch_pages_warn_before_cooking(
    db: Sessions, settings: Settings
) -> None:
    await book_lunches(db)
    wary = dataclasses.replace(settings, kitchen_margin_warning=timedelta(hours=10))
    async with AsyncTestClient(app=create_app(wary, clock=Clock(NOW))) as client:
        await login_as(client, db, Role.KITCHEN)
        run = (await client.post("/api/v1/kitchen/runs", json=LUNCH)).json()
        async with db() as session:
            frozen = await service.get_run(session, run["id"])
            tightest = (await margins.run_boxes(session, wary, frozen)).tight(
                wary.kitchen_margin_warning
            )[0]
            stop = await session.scalar(
                select(RouteStop)
                .where(RouteStop.plan_id == frozen.route_plan_id, RouteStop.kind == "home")
                .order_by(RouteStop.id.desc())
            )
            await session.execute(
                update(RouteStop)
                .where(RouteStop.id == stop.id)
                .values(unserved_reason="fleet_too_small", unserved_remedy="one_more_van")
            )
            await session.commit()

        kitchen = _text((await client.get(KITCHEN_PAGE)).text)
        dispatch = _text((await client.get(f"/dispatch?service_date={TODAY.isoformat()}")).text)
    unserved = ZH.gettext(
        "{reason}: {remedy}",
        reason=ZH.gettext("no room left in the fleet"),
        remedy=ZH.gettext("one more van (or one more trip) would serve it"),
    )
    box = ZH.gettext(
        "eaten {minutes} min after cooking, only {margin} min inside the {limit} min limit. Pack "
        "it last and keep the van on time: a delay of more than {margin} min makes it late; a "
        "re-plan with one more van gives it more time.",
        minutes=tightest.cook_to_eat_minutes,
        margin=tightest.margin_minutes,
        limit=tightest.limit_minutes,
    )
    for page in (kitchen, dispatch):
        assert ZH.gettext("Before cooking: meals that would be late or not delivered") in page
        assert f"{ZH.gettext('Box {label}', label=tightest.label)} →" in page
        assert box in page
        assert unserved in page
    assert ZH.gettext("{count} stop(s) would get no delivery:", count=1) in kitchen


async def _record(client: AsyncTestClient, fields: dict[str, object]):
    opened = await client.get(SAMPLES_PAGE)
    data = {
        "_csrf_token": csrf_token(opened.text),
        **LUNCH,
        **{k: str(v) for k, v in fields.items()},
    }
    return await client.post("/kitchen/samples", data=data, follow_redirects=False)


async def _samples(db: Sessions) -> int:
    async with db() as session:
        return await session.scalar(select(func.count()).select_from(SampleRecord)) or 0


async def test_kitchen_staff_record_each_sample_and_see_what_is_missing(
    client: AsyncTestClient, db: Sessions, settings: Settings, frozen: ProductionRun, clock: Clock
) -> None:
    batches = service.plan_of(frozen).samples
    first, second = batches[0], batches[1]
    clock.set(AFTER_LUNCH)  # every batch cooked: samples are taken from the cooked food
    cooked = _hm(first.sampled_at)
    page = _text((await client.get(SAMPLES_PAGE)).text)
    assert ZH.gettext("Still to sample: {count}", count=len(batches)) in page

    too_small = await _record(
        client, {"batch_id": first.batch_id, "taken_at": "06:40", "grams": 90, "fridge_celsius": 4}
    )
    assert too_small.status_code == 422
    assert "留样 90 克不够：每个菜品至少留 125 克。" in _text(too_small.text)
    warm = await _record(
        client,
        {"batch_id": first.batch_id, "taken_at": "06:40", "grams": 130, "fridge_celsius": 12},
    )
    assert warm.status_code == 422 and "冰箱温度 12 °C" in _text(warm.text)
    typo = await _record(
        client,
        {"batch_id": first.batch_id, "taken_at": "06:40", "grams": "lots", "fridge_celsius": 4},
    )
    assert typo.status_code == 422 and "grams" in _text(typo.text)
    unknown = await _record(
        client, {"batch_id": "Z99", "taken_at": "06:40", "grams": 130, "fridge_celsius": 4}
    )
    assert unknown.status_code == 404
    cook_end = next(
        b.cook_end for b in service.plan_of(frozen).batches if b.batch_id == first.batch_id
    )
    raw = await _record(
        client,
        {
            "batch_id": first.batch_id,
            "taken_at": _hm(cook_end - timedelta(minutes=1)),
            "grams": 130,
            "fridge_celsius": 4,
        },
    )
    assert raw.status_code == 422
    assert ZH.gettext(
        "Batch {batch} finishes cooking at {time}: take its sample from the cooked food, "
        "at {time} or later.",
        batch=first.batch_id,
        time=_hm(cook_end),
    ) in _text(raw.text)
    assert await _samples(db) == 0

    kept = await _record(
        client,
        {"batch_id": first.batch_id, "taken_at": cooked, "grams": 130, "fridge_celsius": 3.5},
    )
    assert kept.status_code == 303, kept.text
    twice = await _record(
        client, {"batch_id": first.batch_id, "taken_at": cooked, "grams": 140, "fridge_celsius": 3}
    )
    assert twice.status_code == 409
    client.cookies["lang"] = "en"
    english = await _record(
        client,
        {"batch_id": second.batch_id, "taken_at": "06:40", "grams": 100, "fridge_celsius": 4},
    )
    assert english.status_code == 422
    assert "A sample of 100 g is too small: keep at least 125 g of every dish." in _text(
        english.text
    )
    client.cookies["lang"] = "zh_CN"

    async with db() as session:
        record = (await session.scalars(select(SampleRecord))).one()
    assert (record.batch_id, record.grams, record.fridge_celsius) == (first.batch_id, 130, 3.5)
    assert record.staff_name and record.account_id is not None
    page = _text((await client.get(SAMPLES_PAGE)).text)
    assert ZH.gettext("Still to sample: {count}", count=len(batches) - 1) in page
    assert f"{first.dish_name} · 批次 {first.batch_id} · {cooked} · 130 g · 3.5 °C" in page

    sheet = html.unescape((await client.get(f"/kitchen/runs/{frozen.id}/samples")).text)
    still = ZH.gettext("Still without a sample: {count}", count=len(batches) - 1)
    assert still in sheet
    assert f"{second.batch_id} {second.dish_name}" in sheet.split(still)[1]
    assert "130</td>" in sheet


async def test_samples_past_48_hours_are_listed_for_disposal(
    client: AsyncTestClient, db: Sessions, settings: Settings
) -> None:
    async with db() as session:
        for hours, batch in ((49, "W01"), (20, "W02")):
            session.add(
                SampleRecord(
                    service_date=(NOW - timedelta(hours=hours)).date(),
                    slot="lunch",
                    batch_id=batch,
                    dish_name=f"红烧肉{batch}",
                    sampled_at=NOW - timedelta(hours=hours),
                    grams=130,
                    fridge_celsius=4.0,
                    staff_name="厨师",
                    recorded_at=NOW - timedelta(hours=hours),
                )
            )
        await session.commit()
        old, young = (await session.scalars(select(SampleRecord).order_by(SampleRecord.id))).all()
    await login_as(client, db, Role.KITCHEN)
    page = await client.get(SAMPLES_PAGE)
    due = _text(page.text).split(ZH.gettext("Due for disposal"))[1]
    assert "红烧肉W01" in due and "红烧肉W02" not in due

    token = csrf_token(page.text)
    early = await client.post(
        f"/kitchen/samples/{young.id}/dispose", data={"_csrf_token": token}, follow_redirects=False
    )
    assert early.status_code == 409
    assert "此留样须保存到" in _text(early.text)
    done = await client.post(
        f"/kitchen/samples/{old.id}/dispose", data={"_csrf_token": token}, follow_redirects=False
    )
    assert done.status_code == 303
    after = _text((await client.get(SAMPLES_PAGE)).text)
    assert ZH.gettext("No sample is due for disposal.") in after
    async with db() as session:
        disposed = await session.get(SampleRecord, old.id)
        assert disposed.disposed_at is not None and disposed.disposed_by_account_id is not None


@pytest.mark.parametrize("role", [Role.DRIVER, Role.SITE_STAFF, Role.SENIOR])
async def test_only_kitchen_staff_and_operators_reach_the_samples(
    client: AsyncTestClient, db: Sessions, role: Role
) -> None:
    anonymous = await client.get(SAMPLES_PAGE, follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    await login_as(client, db, role)
    assert (await client.get(SAMPLES_PAGE)).status_code == 403
    refused = await client.post("/kitchen/samples/1/dispose", data={})
    assert refused.status_code == 403
    assert await _samples(db) == 0


async def test_a_stop_has_one_number_on_every_sheet_and_no_two_stops_share_it(
    client: AsyncTestClient, db: Sessions, frozen: ProductionRun
) -> None:
    """A walking-list home rides to its meal point's stop 3 and is numbered 3·1, 3·2: the
    packing list, the label, the driver's page and the route sheet say so alike."""
    plan = service.plan_of(frozen)
    for van in plan.packing:
        numbers = [stop.stop_number for stop in van.stops]
        assert len(numbers) == len(set(numbers)), van.departure_id
    packed_at = {
        box.box_number: stop.stop_number
        for van in plan.packing
        for stop in van.stops
        for box in stop.boxes
    }
    for label in plan.labels:
        assert {packed_at[n] for n in label.box_numbers} == {label.stop_number}
    walked = [label for label in plan.labels if label.walk_sequence is not None]
    assert walked, "the test day has walking lists"
    home = walked[0]
    assert home.stop_number == f"{home.stop_sequence}·{home.walk_sequence}"
    boxes = ", ".join(str(n) for n in home.box_numbers)

    packing = (await client.get(f"/kitchen/runs/{frozen.id}/packing?van={home.van_id}")).text
    assert f'<span class="seq">{home.stop_number}</span>' in packing
    labels = _text((await client.get(f"/kitchen/runs/{frozen.id}/labels?van={home.van_id}")).text)
    assert ZH.gettext("stop {position}", position=home.stop_number) in labels

    async with db() as session:
        trip = await session.scalar(
            select(RouteRun).where(
                RouteRun.plan_id == frozen.route_plan_id,
                RouteRun.van_code == home.van_id,
                RouteRun.departs_at
                == next(
                    van.departs_at for van in plan.packing if van.departure_id == home.departure_id
                ),
            )
        )
        driver = await session.get(Account, trip.driver_account_id)
    handed = f"{home.stop_number} {home.name} · {ZH.gettext('label no. {labels}', labels=boxes)}"
    sheet = _text((await client.get(f"/dispatch/runs/{trip.id}/sheet")).text)
    assert handed in sheet

    # the dispatcher's walking lists and the meal point's /walking page number it alike
    async with db() as session:
        point = await session.scalar(
            select(RouteStop.carried_by_site_id).where(
                RouteStop.plan_id == frozen.route_plan_id, RouteStop.stop_key == home.stop_id
            )
        )
    dispatch = _text((await client.get(f"/dispatch?service_date={TODAY}&slot=lunch")).text)
    assert re.search(rf"{re.escape(home.stop_number)} \d\d:\d\d · {re.escape(home.name)}", dispatch)
    await login_as(client, db, Role.ADMIN)
    walking = (await client.get(f"/walking?site_id={point}")).text
    assert f'<span class="seq">{home.stop_number}</span> {html.escape(home.name)}' in walking
    assert '<span class="seq">1</span>' not in walking.split('id="walk-lunch"')[1]
    await login(client, driver.login, DEMO_PASSWORDS["driver"])
    assert handed in _text((await client.get("/driver")).text)
