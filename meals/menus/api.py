"""Menu endpoints (read): what each site serves, with prices before subsidy."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec
from litestar import Controller, get
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from meals.menus import service
from meals.menus.models import Menu
from meals.web import ALL_ROLES, MAX_DB_INT, allow
from meals.words import Slot


class DishView(msgspec.Struct):
    id: int
    name: str
    name_en: str
    kind: str
    diet_tags: list[str]
    allergens: list[str]


class MenuItemView(msgspec.Struct):
    id: int
    code: str
    name: str
    name_en: str
    list_price_fen: int
    capacity: int
    remaining: int
    diet_tags: list[str]
    variants: list[str]
    allergens: list[str]
    dishes: list[DishView]


class MenuView(msgspec.Struct):
    id: int
    site_id: int
    service_date: date
    slot: Slot
    seat_capacity: int
    seats_remaining: int
    items: list[MenuItemView]

    @classmethod
    def of(cls, menu: Menu) -> MenuView:
        return cls(
            id=menu.id,
            site_id=menu.site_id,
            service_date=menu.service_date,
            slot=menu.slot,
            seat_capacity=menu.seat_capacity,
            seats_remaining=menu.seat_capacity - menu.seats_booked,
            items=[
                MenuItemView(
                    id=item.id,
                    code=item.code,
                    name=item.name,
                    name_en=item.name_en,
                    list_price_fen=item.list_price_fen,
                    capacity=item.capacity,
                    remaining=item.capacity - item.booked_count,
                    diet_tags=list(item.diet_tags),
                    variants=list(item.variants),
                    allergens=list(item.allergens),
                    dishes=[
                        DishView(
                            d.dish.id,
                            d.dish.name,
                            d.dish.name_en,
                            d.dish.kind,
                            list(d.dish.diet_tags),
                            list(d.dish.allergens),
                        )
                        for d in item.dishes
                    ],
                )
                for item in menu.items
            ],
        )


class MenuController(Controller):
    path = "/api/v1/menus"
    tags = ["menus"]  # noqa: RUF012
    guards = [allow(*ALL_ROLES)]  # noqa: RUF012

    @get("/", summary="Published menus by site and date range (at most 31 days)")
    async def index(
        self,
        db_session: AsyncSession,
        now: datetime,
        site_id: Annotated[int | None, Parameter(ge=1, le=MAX_DB_INT)] = None,
        date_from: date | None = None,
        date_to: date | None = None,
        slot: Slot | None = None,
    ) -> list[MenuView]:
        menus = await service.list_menus(
            db_session, now=now, site_id=site_id, date_from=date_from, date_to=date_to, slot=slot
        )
        return [MenuView.of(m) for m in menus]

    @get("/{menu_id:int}", summary="One published menu")
    async def show(
        self,
        db_session: AsyncSession,
        now: datetime,
        menu_id: Annotated[int, Parameter(ge=1, le=MAX_DB_INT)],
    ) -> MenuView:
        return MenuView.of(await service.get_menu(db_session, menu_id=menu_id, now=now))
