"""The supervision board: today's figures per site follow check-ins; only the operator and
civil affairs see it; the map is drawn from the sites' coordinates."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime

from meals.words import Role
from tests.conftest import SHANGHAI, TODAY
from tests.meals.helpers import canteen, login_as, meal, senior_at
from tests.pages.helpers import submit

LUNCH = datetime(TODAY.year, TODAY.month, TODAY.day, 11, 45, tzinfo=SHANGHAI)


def site_row(board: dict, site_id: int) -> dict:
    return next(site for site in board["sites"] if site["site_id"] == site_id)


async def test_a_check_in_shows_on_the_board_for_its_site(client, db, clock):
    site = await canteen(db)
    senior = await senior_at(db, site.id, 0)
    ref = await meal(db, site.id, TODAY)
    await login_as(client, db, Role.SITE_STAFF, site_id=site.id)
    booked = await client.post(
        "/api/v1/bookings", json={"senior_id": senior.id, "menu_item_id": ref.item_id}
    )
    assert booked.status_code == 201
    await login_as(client, db, Role.VIEWER)
    before = (await client.get("/api/v1/board")).json()

    clock.set(LUNCH)
    await login_as(client, db, Role.SITE_STAFF, site_id=site.id)
    scanned = await submit(
        client,
        f"/staff/checkin?site={site.id}",
        "/staff/checkin",
        {"site_id": site.id, "slot": "lunch", "card": senior.card_number},
    )
    assert scanned.status_code == 200
    staff_board = await client.get("/api/v1/board")
    await login_as(client, db, Role.VIEWER)
    after = (await client.get("/api/v1/board")).json()

    assert site_row(before, site.id)["booked"] == 1 and site_row(before, site.id)["served"] == 0
    assert site_row(after, site.id)["served"] == 1 and site_row(after, site.id)["waiting"] == 0
    assert after["totals"]["served"] == before["totals"]["served"] + 1
    assert staff_board.status_code == 403


async def test_the_board_page_draws_every_site_on_the_map(client, db, app):
    await login_as(client, db, Role.ADMIN)
    page = await client.get("/board")
    app.state.settings = replace(
        app.state.settings, board_tile_url="https://tiles.example/{z}/{x}/{y}.png"
    )
    with_tiles = await client.get("/board")

    assert page.status_code == 200
    board = (await client.get("/api/v1/board")).json()
    mark = r'<g class="site-mark [a-z_]+" data-site="(\d+)" '
    marks = re.findall(mark + r'transform="translate\(([\d.]+) ([\d.]+)\)"', page.text)
    assert sorted(int(m[0]) for m in marks) == sorted(s["site_id"] for s in board["sites"])
    width, height = (
        float(x) for x in re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', page.text).groups()
    )
    assert all(0 < float(x) < width and 0 < float(y) < height for _, x, y in marks)
    assert "<image" not in page.text
    assert re.search(r'<image href="https://tiles.example/\d+/\d+/\d+.png"', with_tiles.text)
    assert 'src="/static/board.js"' in page.text


async def test_civil_affairs_sees_the_alert_count_without_a_link_it_cannot_open(client, db):
    await login_as(client, db, Role.VIEWER)
    viewer = await client.get("/board")
    await login_as(client, db, Role.ADMIN)
    admin = await client.get("/board")

    assert 'href="/alerts"' not in viewer.text and "未处理的关爱预警" in viewer.text
    assert 'href="/alerts"' in admin.text
