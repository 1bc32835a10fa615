"""Reading published menus with their set meals and dishes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from advanced_alchemy.filters import CollectionFilter, OnBeforeAfter, OrderBy
from advanced_alchemy.service import OffsetPagination
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from meals.bookings.models import Booking
from meals.errors import Invalid, NotFound
from meals.listing import page_of
from meals.menus.models import Menu, MenuItem, MenuItemDish
from meals.seniors.models import Senior
from meals.words import BookingStatus, Slot

_WITH_ITEMS = selectinload(Menu.items).selectinload(MenuItem.dishes).joinedload(MenuItemDish.dish)


async def list_menus(
    session: AsyncSession,
    *,
    now: datetime,
    site_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    slot: Slot | None = None,
    max_days: int = 31,
) -> list[Menu]:
    """Published menus; a date range is bounded so one request cannot read a whole year."""
    if date_from and date_to:
        if date_from > date_to:
            raise Invalid("date_from is after date_to.")
        if (date_to - date_from).days > max_days:
            raise Invalid("Ask for at most {days} days of menus at once.", days=max_days)
    query = select(Menu).options(_WITH_ITEMS).where(Menu.published_at <= now)
    if site_id is not None:
        query = query.where(Menu.site_id == site_id)
    if date_from:
        query = query.where(Menu.service_date >= date_from)
    if date_to:
        query = query.where(Menu.service_date <= date_to)
    if slot is not None:
        query = query.where(Menu.slot == slot)
    query = query.order_by(Menu.service_date, Menu.slot, Menu.site_id).limit(max_days * 2 * 50)
    return list(await session.scalars(query))


async def get_menu(session: AsyncSession, *, menu_id: int, now: datetime) -> Menu:
    menu = await session.scalar(
        select(Menu).options(_WITH_ITEMS).where(Menu.id == menu_id, Menu.published_at <= now)
    )
    if menu is None:
        raise NotFound("There is no published menu {menu_id}.", menu_id=menu_id)
    return menu


# --- the operator's view of published menus ------------------------------------------------


async def page_published(
    session: AsyncSession,
    *,
    site_id: int,
    date_from: date | None = None,
    limit: int = 28,
    offset: int = 0,
) -> OffsetPagination[Menu]:
    """One site's published menus by date (from `date_from` on), with the total: what the
    worker published from the cycle, for the operator to open one and act on its bookings."""
    filters: list[Any] = [
        CollectionFilter(field_name="site_id", values=[site_id]),
        OrderBy(field_name="service_date", sort_order="asc"),
        OrderBy(field_name="slot", sort_order="asc"),
    ]
    if date_from is not None:
        filters.append(
            OnBeforeAfter(field_name="service_date", on_or_before=None, on_or_after=date_from)
        )
    return await page_of(
        session,
        Menu,
        *filters,
        limit=limit,
        offset=offset,
        statement=select(Menu).options(selectinload(Menu.items)),
    )


@dataclass(frozen=True)
class SetMealBookings:
    """One set meal of a published menu with the seniors booked on it (named before any move
    or removal, so the operator sees whom an action touches)."""

    item: MenuItem
    bookings: list[tuple[int, str]]  # (booking id, senior's name)


async def menu_with_bookings(
    session: AsyncSession, *, menu_id: int
) -> tuple[Menu, list[SetMealBookings]]:
    """A published menu's set meals still offered, each with its open bookings named."""
    menu = await session.scalar(select(Menu).options(_WITH_ITEMS).where(Menu.id == menu_id))
    if menu is None:
        raise NotFound("There is no menu {menu_id}.", menu_id=menu_id)
    items = [i for i in menu.items if i.withdrawn_at is None]
    rows = await session.execute(
        select(Booking.menu_item_id, Booking.id, Senior.name)
        .join(Senior, Senior.id == Booking.senior_id)
        .where(
            Booking.menu_item_id.in_([i.id for i in items]),
            Booking.status == BookingStatus.BOOKED,
        )
        .order_by(Booking.id)
    )
    named: dict[int, list[tuple[int, str]]] = {}
    for item_id, booking_id, name in rows:
        named.setdefault(item_id, []).append((booking_id, name))
    return menu, [SetMealBookings(i, named.get(i.id, [])) for i in items]
