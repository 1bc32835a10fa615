"""Standing orders: exactly the right bookings, never in a pause, nothing past cutoff touched."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from meals.accounts.models import Account
from meals.accounts.service import load_actor
from meals.bookings.models import Booking
from meals.errors import Invalid
from meals.standing_orders.service import (
    StandingOrderTerms,
    end_standing_order,
    expand_standing_orders,
    save_standing_order,
)
from meals.words import BookingStatus, Fulfilment, Role, Slot
from seed import demo
from tests.conftest import NOW, SHANGHAI, TODAY
from tests.meals.helpers import canteen, senior_at
from tests.pages.helpers import submit, visible_text

WEEKDAYS = frozenset(range(5))


async def _actor_for(db, senior_id):
    async with db() as s:
        account = await s.scalar(
            select(Account).where(Account.senior_id == senior_id, Account.role == Role.SENIOR)
        )
        if account is None:
            account = Account(
                login=f"test-{senior_id}",
                display_name="test",
                role=Role.SENIOR,
                password_hash="x",
                senior_id=senior_id,
            )
            s.add(account)
            await s.commit()
        return await load_actor(s, account_id=account.id)


async def _booked_days(db, senior_id):
    async with db() as s:
        rows = await s.execute(
            select(Booking.service_date, Booking.status).where(Booking.senior_id == senior_id)
        )
        return {day: status for day, status in rows}


async def test_weekday_order_with_a_pause_books_exactly_the_open_weekdays(db, settings):
    site = await canteen(db)
    senior = await senior_at(db, site.id, 0)
    actor = await _actor_for(db, senior.id)
    pause_day = TODAY + timedelta(days=2)  # Wednesday
    terms = StandingOrderTerms(
        slot=Slot.LUNCH,
        item_code="A",
        fulfilment=Fulfilment.DINE_IN,
        weekdays=WEEKDAYS,
        paused_from=pause_day,
        paused_to=pause_day,
    )

    async with db() as s:
        _, report = await save_standing_order(
            s, actor=actor, senior_id=senior.id, terms=terms, now=NOW, settings=settings
        )

    # Menus run Mon 23 – Sun 29: Mon, Tue, Thu, Fri; not Wed (paused) nor the weekend.
    expected = {TODAY + timedelta(days=d) for d in (0, 1, 3, 4)}
    assert set(await _booked_days(db, senior.id)) == expected
    assert len(report.created) == len(expected)
    async with db() as s:
        again = await expand_standing_orders(s, now=NOW, settings=settings)
    assert again.created == []
    assert set(await _booked_days(db, senior.id)) == expected


async def test_menus_published_later_are_booked_when_expanded_but_never_inside_a_pause(
    db, settings
):
    site = await canteen(db)
    senior = await senior_at(db, site.id, 0)
    actor = await _actor_for(db, senior.id)
    next_week = TODAY + timedelta(days=7)
    terms = StandingOrderTerms(
        slot=Slot.LUNCH,
        item_code="A",
        fulfilment=Fulfilment.DINE_IN,
        weekdays=frozenset({0}),
        paused_from=next_week,
        paused_to=None,
    )
    async with db() as s:
        await save_standing_order(
            s, actor=actor, senior_id=senior.id, terms=terms, now=NOW, settings=settings
        )
        await demo.ensure_menus(s, start=next_week, days=14, published_at=NOW)
        await s.commit()
        await expand_standing_orders(s, now=NOW, settings=settings)

    assert set(await _booked_days(db, senior.id)) == {TODAY}


async def test_a_senior_who_cancels_one_day_is_not_booked_again_for_it(db, settings):
    site = await canteen(db)
    senior = await senior_at(db, site.id, 0)
    actor = await _actor_for(db, senior.id)
    terms = StandingOrderTerms(Slot.LUNCH, "A", Fulfilment.DINE_IN, frozenset({1}))
    async with db() as s:
        _, report = await save_standing_order(
            s, actor=actor, senior_id=senior.id, terms=terms, now=NOW, settings=settings
        )
        from meals.bookings.service import cancel_booking

        await cancel_booking(s, actor=actor, booking_id=report.created[0], now=NOW)
        again = await expand_standing_orders(s, now=NOW, settings=settings)

    assert again.created == []
    assert set((await _booked_days(db, senior.id)).values()) == {BookingStatus.CANCELLED}


async def test_changing_or_ending_an_order_leaves_meals_past_cutoff_alone(db, settings, clock):
    site = await canteen(db)
    senior = await senior_at(db, site.id, 0)
    actor = await _actor_for(db, senior.id)
    every_day = StandingOrderTerms(Slot.LUNCH, "A", Fulfilment.DINE_IN, frozenset(range(7)))
    async with db() as s:
        await save_standing_order(
            s, actor=actor, senior_id=senior.id, terms=every_day, now=NOW, settings=settings
        )
    later = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)  # today's lunch is past cutoff
    pause_rest = StandingOrderTerms(
        Slot.LUNCH,
        "A",
        Fulfilment.DINE_IN,
        frozenset(range(7)),
        paused_from=TODAY + timedelta(days=2),
    )

    async with db() as s:
        _, report = await save_standing_order(
            s, actor=actor, senior_id=senior.id, terms=pause_rest, now=later, settings=settings
        )
    days = await _booked_days(db, senior.id)
    assert days[TODAY] is BookingStatus.BOOKED  # past cutoff: untouched
    assert days[TODAY + timedelta(days=1)] is BookingStatus.BOOKED  # still wanted
    assert {d for d, st in days.items() if st is BookingStatus.CANCELLED} == {
        TODAY + timedelta(days=n) for n in range(2, 7)
    }
    assert len(report.withdrawn) == 5

    async with db() as s:
        withdrawn = await end_standing_order(
            s, actor=actor, senior_id=senior.id, slot=Slot.LUNCH, now=later
        )
    days = await _booked_days(db, senior.id)
    assert len(withdrawn) == 1
    assert days[TODAY] is BookingStatus.BOOKED
    assert days[TODAY + timedelta(days=1)] is BookingStatus.CANCELLED


async def test_an_order_with_no_days_or_a_backwards_pause_is_refused(db, settings):
    site = await canteen(db)
    senior = await senior_at(db, site.id, 0)
    actor = await _actor_for(db, senior.id)
    backwards = StandingOrderTerms(
        Slot.LUNCH,
        "A",
        Fulfilment.DINE_IN,
        WEEKDAYS,
        paused_from=TODAY + timedelta(days=3),
        paused_to=TODAY,
    )
    async with db() as s:
        with pytest.raises(Invalid, match="ends before it starts"):
            await save_standing_order(
                s, actor=actor, senior_id=senior.id, terms=backwards, now=NOW, settings=settings
            )
        with pytest.raises(Invalid, match="at least one day"):
            await save_standing_order(
                s,
                actor=actor,
                senior_id=senior.id,
                terms=StandingOrderTerms(Slot.LUNCH, "A", Fulfilment.DINE_IN, frozenset()),
                now=NOW,
                settings=settings,
            )
    assert await _booked_days(db, senior.id) == {}


async def test_standing_order_page_saves_weekdays_and_shows_a_bad_date_as_a_sentence(client, db):
    from tests.pages.test_pages import _log_in_senior

    site = await canteen(db)
    senior = await _log_in_senior(client, db, site.id)
    fields = {"slot": "lunch", "item_code": "A", "fulfilment": "dine_in", "day_1": "true"}

    bad = await submit(client, "/standing", "/standing", {**fields, "paused_from": "31/12"})
    saved = await submit(client, "/standing", "/standing", fields)

    assert bad.status_code == 422
    assert "“31/12”不是日期，请用日历选择。" in visible_text(bad.text)
    assert saved.status_code == 303
    page = visible_text((await client.get("/standing")).text)
    assert "每周订餐已保存：新订 1 顿，取消 0 顿。" in page
    assert set(await _booked_days(db, senior.id)) == {TODAY + timedelta(days=1)}


async def test_ending_the_standing_order_on_its_page_cancels_what_it_booked(client, db):
    from tests.pages.test_pages import _log_in_senior

    site = await canteen(db)
    senior = await _log_in_senior(client, db, site.id)
    fields = {"slot": "lunch", "item_code": "A", "fulfilment": "dine_in", "day_1": "true"}
    saved = await submit(client, "/standing", "/standing", fields)
    assert saved.status_code == 303
    tomorrow = TODAY + timedelta(days=1)
    assert await _booked_days(db, senior.id) == {tomorrow: BookingStatus.BOOKED}

    ended = await submit(client, "/standing", "/standing/end", {"slot": "lunch"})

    assert ended.status_code == 303
    assert ended.headers["location"] == "/standing"
    page = visible_text((await client.get("/standing")).text)
    assert "已停止每周订餐，取消了 1 个未来的订餐。" in page
    assert await _booked_days(db, senior.id) == {tomorrow: BookingStatus.CANCELLED}
