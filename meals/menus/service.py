"""Reading published menus with their set meals and dishes."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from meals.errors import Invalid, NotFound
from meals.menus.models import Menu, MenuItem, MenuItemDish
from meals.words import Slot

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
