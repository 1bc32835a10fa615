"""Small helpers the service tests share: logging in, finding demo data, counting rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from meals.accounts.models import Account, FamilyBinding, StaffSite
from meals.bookings.models import Booking
from meals.db import begin_write
from meals.menus.models import Menu, MenuItem
from meals.seniors.models import Senior
from meals.sites.models import Site
from meals.words import Role, SiteKind, Slot
from seed.data import DEMO_PASSWORDS

Sessions = async_sessionmaker[AsyncSession]
DEMO_SECRET_OF_ROLE = {
    Role.ADMIN: "admin",
    Role.KITCHEN: "kitchen",
    Role.DRIVER: "driver",
    Role.SITE_STAFF: "staff",
    Role.FAMILY: "family",
    Role.SENIOR: "senior_pin",
    Role.VIEWER: "viewer",
}


async def login(client: AsyncTestClient, login_name: str, password: str) -> dict:
    response = await client.post(
        "/api/v1/auth/login", json={"login": login_name, "password": password}
    )
    assert response.status_code == 200, response.text
    return response.json()


async def login_as(client: AsyncTestClient, db: Sessions, role: Role, **kw: int) -> dict:
    """Log in as a demo account of `role` (a senior's own account with senior_id=…)."""
    async with db() as s:
        query = select(Account).where(Account.role == role)
        if "senior_id" in kw:
            query = query.where(Account.senior_id == kw["senior_id"])
        if "site_id" in kw:
            query = query.join(StaffSite).where(StaffSite.site_id == kw["site_id"])
        account = (await s.scalars(query.order_by(Account.id))).first()
    assert account is not None, f"no demo {role} account for {kw}"
    return await login(client, account.login, DEMO_PASSWORDS[DEMO_SECRET_OF_ROLE[role]])


@dataclass
class MealRef:
    site_id: int
    menu_id: int
    item_id: int
    service_date: date


async def canteen(db: Sessions, index: int = 0) -> Site:
    async with db() as s:
        sites = (
            await s.scalars(select(Site).where(Site.kind == SiteKind.CANTEEN).order_by(Site.id))
        ).all()
    return sites[index]


async def meal(
    db: Sessions, site_id: int, day: date, slot: Slot = Slot.LUNCH, code: str = "A"
) -> MealRef:
    async with db() as s:
        row = (
            await s.execute(
                select(Menu.id, MenuItem.id)
                .join(MenuItem)
                .where(
                    Menu.site_id == site_id,
                    Menu.service_date == day,
                    Menu.slot == slot,
                    MenuItem.code == code,
                )
            )
        ).one()
    return MealRef(site_id, row[0], row[1], day)


async def a_senior(db: Sessions, *conditions, with_account: bool = False) -> Senior:
    async with db() as s:
        query = select(Senior).where(*conditions).order_by(Senior.id)
        if with_account:
            query = query.join(Account, Account.senior_id == Senior.id)
        senior = (await s.scalars(query)).first()
    assert senior is not None, "no demo senior matches"
    return senior


async def bound_senior_ids(db: Sessions, family_login: str = "family") -> list[int]:
    async with db() as s:
        rows = await s.scalars(
            select(FamilyBinding.senior_id)
            .join(Account, Account.id == FamilyBinding.account_id)
            .where(Account.login == family_login)
        )
        return sorted(rows)


async def count_bookings(db: Sessions, *conditions) -> int:
    async with db() as s:
        return int(
            await s.scalar(select(func.count()).select_from(Booking).where(*conditions)) or 0
        )


async def counters(db: Sessions, ref: MealRef) -> tuple[int, int]:
    """(portions booked of the set meal, seats booked on the menu)."""
    async with db() as s:
        item = await s.get(MenuItem, ref.item_id)
        menu = await s.get(Menu, ref.menu_id)
        return item.booked_count, menu.seats_booked


async def set_capacity(
    db: Sessions, ref: MealRef, *, portions: int | None = None, seats: int | None = None
) -> None:
    async with db() as s:
        await begin_write(s)  # read then write: wait for the app's writers, never fail the upgrade
        if portions is not None:
            item = await s.get(MenuItem, ref.item_id)
            item.capacity = portions
        if seats is not None:
            menu = await s.get(Menu, ref.menu_id)
            menu.seat_capacity = seats
        await s.commit()


PLAIN_DIET = {
    "halal": False,
    "low_salt": False,
    "low_sugar": False,
    "iddsi_level": 7,
    "allergens": [],
    "delivery_eligible": False,
}


async def senior_at(db: Sessions, site_id: int, nth: int = 0, **attributes: object) -> Senior:
    """The nth demo senior whose home is `site_id`, set to a plain diet plus `attributes`."""
    async with db() as s:
        await begin_write(s)  # read then write: wait for the app's writers, never fail the upgrade
        seniors = (
            await s.scalars(
                select(Senior).where(Senior.home_site_id == site_id).order_by(Senior.id)
            )
        ).all()
        senior = seniors[nth]
        for name, value in {**PLAIN_DIET, **attributes}.items():
            setattr(senior, name, value)
        await s.commit()
        await s.refresh(senior)
    return senior
