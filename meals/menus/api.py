"""Menu endpoints (read): what each site serves, with prices before subsidy."""

from __future__ import annotations

from datetime import date

import msgspec
from litestar import Controller, get
from litestar.params import FromQuery

from meals.menus import service
from meals.menus.models import Menu
from meals.web import (
    ALL_ROLES,
    DbSession,
    Now,
    OptionalQueryId,
    PathId,
    allow,
)
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
                if item.withdrawn_at is None
            ],
        )


class MenuController(Controller):
    path = "/api/v1/menus"
    tags = ["menus"]  # noqa: RUF012
    guards = [allow(*ALL_ROLES)]  # noqa: RUF012

    @get("/", summary="Published menus by site and date range (at most 31 days)")
    async def index(
        self,
        db_session: DbSession,
        now: Now,
        site_id: OptionalQueryId = None,
        date_from: FromQuery[date | None] = None,
        date_to: FromQuery[date | None] = None,
        slot: FromQuery[Slot | None] = None,
    ) -> list[MenuView]:
        menus = await service.list_menus(
            db_session, now=now, site_id=site_id, date_from=date_from, date_to=date_to, slot=slot
        )
        return [MenuView.of(m) for m in menus]

    @get("/{menu_id:int}", summary="One published menu")
    async def show(
        self,
        db_session: DbSession,
        now: Now,
        menu_id: PathId,
    ) -> MenuView:
        return MenuView.of(await service.get_menu(db_session, menu_id=menu_id, now=now))
