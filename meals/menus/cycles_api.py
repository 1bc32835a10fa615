"""Menu cycles and edits to published menus (operator only): JSON API under /api/v1."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import msgspec
from litestar import Controller, get, patch, post, put
from litestar.params import FromPath, JSONBody, PathParameter
from litestar.status_codes import HTTP_200_OK

from meals.menus import cycles
from meals.menus.api import MenuView
from meals.menus.models import MenuCycle
from meals.menus.service import get_menu
from meals.web import (
    AppSettings,
    CurrentActor,
    DbSession,
    Now,
    PageLimit,
    PageOffset,
    PathId,
    RecordId,
    allow,
)
from meals.words import Role, Slot

PRINTABLE = r"^[^\x00-\x1f\x7f]+$"
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=80, pattern=PRINTABLE)]
EnglishName = Annotated[str, msgspec.Meta(max_length=120, pattern=r"^[^\x00-\x1f\x7f]*$")]
Code = Annotated[str, msgspec.Meta(min_length=1, max_length=8, pattern=r"^[A-Za-z0-9]+$")]
Fen = Annotated[int, msgspec.Meta(ge=0, le=1_000_000)]
Portions = Annotated[int, msgspec.Meta(ge=0, le=100_000)]
Weeks = Annotated[int, msgspec.Meta(ge=1, le=cycles.MAX_CYCLE_WEEKS)]
DayIndex = Annotated[int, PathParameter(ge=0, le=cycles.MAX_CYCLE_WEEKS * 7 - 1)]
CodePath = Annotated[str, PathParameter(min_length=1, max_length=8, pattern=r"^[A-Za-z0-9]+$")]
Reason = Annotated[str, msgspec.Meta(max_length=300, pattern=r"^[^\x00-\x1f\x7f]*$")]
Day = Annotated[date, msgspec.Meta()]


class CycleItemView(msgspec.Struct):
    day_index: int
    slot: Slot
    code: str
    name: str
    name_en: str
    list_price_fen: int
    portions: int | None
    dish_ids: list[int]


class CycleView(msgspec.Struct):
    id: int
    name: str
    weeks: int
    starts_on: date
    active: bool
    site_ids: list[int]
    items: list[CycleItemView]
    # After a day's edit: published menus that followed it, and those kept for their bookings.
    republished_menu_ids: list[int] = msgspec.field(default_factory=list)
    kept_menu_ids: list[int] = msgspec.field(default_factory=list)

    @classmethod
    def of(cls, cycle: MenuCycle, followed: cycles.FollowReport | None = None) -> CycleView:
        return cls(
            id=cycle.id,
            name=cycle.name,
            weeks=cycle.weeks,
            starts_on=cycle.starts_on,
            active=cycle.active,
            site_ids=cycle.site_ids,
            items=[
                CycleItemView(
                    i.day_index,
                    i.slot,
                    i.code,
                    i.name,
                    i.name_en,
                    i.list_price_fen,
                    i.portions,
                    list(i.dish_ids),
                )
                for i in cycle.items
            ],
            republished_menu_ids=followed.republished if followed else [],
            kept_menu_ids=followed.kept_with_bookings if followed else [],
        )


class CyclePage(msgspec.Struct):
    items: list[CycleView]
    total: int
    limit: int
    offset: int


class NewCycle(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    weeks: Weeks
    starts_on: Day
    site_ids: Annotated[list[RecordId], msgspec.Meta(max_length=500)] = msgspec.field(
        default_factory=list
    )


class CycleChange(msgspec.Struct, forbid_unknown_fields=True):
    name: Name | None = None
    weeks: Weeks | None = None
    starts_on: Day | None = None
    active: bool | None = None
    site_ids: Annotated[list[RecordId], msgspec.Meta(max_length=500)] | None = None


class SetMealIn(msgspec.Struct, forbid_unknown_fields=True):
    code: Code
    name: Name
    list_price_fen: Fen
    dish_ids: Annotated[list[RecordId], msgspec.Meta(min_length=1, max_length=8)]
    name_en: EnglishName = ""
    portions: Portions | None = None


class CycleDay(msgspec.Struct, forbid_unknown_fields=True):
    set_meals: Annotated[list[SetMealIn], msgspec.Meta(max_length=cycles.MAX_SET_MEALS)]


class PublishReport(msgspec.Struct):
    menus_published: int


class MenuItemChange(msgspec.Struct, forbid_unknown_fields=True):
    list_price_fen: Fen | None = None
    capacity: Portions | None = None
    name: Name | None = None
    name_en: EnglishName | None = None


class MenuItemRemoval(msgspec.Struct, forbid_unknown_fields=True):
    cancel_bookings: bool = False
    reason: Reason = ""


class CancelledBooking(msgspec.Struct):
    booking_id: int
    senior_id: int
    senior_name: str


class RemovalReport(msgspec.Struct):
    cancelled: list[CancelledBooking]


class BookingsMove(msgspec.Struct, forbid_unknown_fields=True):
    to_code: Code
    reason: Reason


class MoveReport(msgspec.Struct):
    moved: list[CancelledBooking]


class MenuCycleController(Controller):
    path = "/api/v1/menu-cycles"
    tags = ["menus"]  # noqa: RUF012
    guards = [allow(Role.ADMIN)]  # noqa: RUF012

    @get("/", summary="Menu cycles, paged, with the total")
    async def index(
        self, db_session: DbSession, limit: PageLimit = 50, offset: PageOffset = 0
    ) -> CyclePage:
        found, total = await cycles.list_cycles(db_session, limit=limit, offset=offset)
        return CyclePage([CycleView.of(c) for c in found], total, limit, offset)

    @post("/", summary="Create a menu cycle for a group of sites")
    async def create(
        self, data: JSONBody[NewCycle], db_session: DbSession, actor: CurrentActor, now: Now
    ) -> CycleView:
        cycle = await cycles.create_cycle(
            db_session,
            actor=actor,
            name=data.name,
            weeks=data.weeks,
            starts_on=data.starts_on,
            site_ids=data.site_ids,
            now=now,
        )
        return CycleView.of(cycle)

    @get("/{cycle_id:int}", summary="One menu cycle with its set meals")
    async def show(self, db_session: DbSession, cycle_id: PathId) -> CycleView:
        return CycleView.of(await cycles.get_cycle(db_session, cycle_id))

    @patch("/{cycle_id:int}", summary="Change a cycle's name, length, start, sites or state")
    async def change(
        self,
        data: JSONBody[CycleChange],
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        cycle_id: PathId,
    ) -> CycleView:
        cycle = await cycles.update_cycle(
            db_session,
            actor=actor,
            cycle_id=cycle_id,
            now=now,
            name=data.name,
            weeks=data.weeks,
            starts_on=data.starts_on,
            active=data.active,
            site_ids=data.site_ids,
        )
        return CycleView.of(cycle)

    @put("/{cycle_id:int}/days/{day_index:int}/{slot:str}", summary="Set one day's set meals")
    async def set_day(
        self,
        data: JSONBody[CycleDay],
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        settings: AppSettings,
        cycle_id: PathId,
        day_index: DayIndex,
        slot: FromPath[Slot],
    ) -> CycleView:
        cycle, followed = await cycles.edit_cycle_day(
            db_session,
            actor=actor,
            cycle_id=cycle_id,
            day_index=day_index,
            slot=slot,
            meals=[
                cycles.SetMealSpec(
                    m.code, m.name, m.name_en, m.list_price_fen, tuple(m.dish_ids), m.portions
                )
                for m in data.set_meals
            ],
            now=now,
            settings=settings,
        )
        return CycleView.of(cycle, followed)

    @post(
        "/{cycle_id:int}/publish",
        status_code=HTTP_200_OK,
        summary="Publish the cycle's missing menus now (the worker also does, on its schedule)",
    )
    async def publish(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        settings: AppSettings,
        cycle_id: PathId,
    ) -> PublishReport:
        await cycles.get_cycle(db_session, cycle_id)
        created = await cycles.publish_now(
            db_session, actor=actor, cycle_id=cycle_id, now=now, settings=settings
        )
        return PublishReport(created)


class MenuEditController(Controller):
    path = "/api/v1/menus/{menu_id:int}/items/{code:str}"
    tags = ["menus"]  # noqa: RUF012
    guards = [allow(Role.ADMIN)]  # noqa: RUF012

    @patch("/", summary="Change one day's set meal: price, portions or name")
    async def change(
        self,
        data: JSONBody[MenuItemChange],
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        menu_id: PathId,
        code: CodePath,
    ) -> MenuView:
        await cycles.update_menu_item(
            db_session,
            actor=actor,
            menu_id=menu_id,
            code=code,
            now=now,
            list_price_fen=data.list_price_fen,
            capacity=data.capacity,
            name=data.name,
            name_en=data.name_en,
        )
        return MenuView.of(await get_menu(db_session, menu_id=menu_id, now=now))

    @post(
        "/remove",
        status_code=HTTP_200_OK,
        summary="Take a set meal off a published menu (refused while it has bookings, naming "
        "them, unless they are cancelled here with a reason)",
    )
    async def remove(
        self,
        data: JSONBody[MenuItemRemoval],
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        menu_id: PathId,
        code: CodePath,
    ) -> RemovalReport:
        cancelled = await cycles.remove_menu_item(
            db_session,
            actor=actor,
            menu_id=menu_id,
            code=code,
            now=now,
            cancel_bookings=data.cancel_bookings,
            reason=data.reason,
        )
        return RemovalReport(
            [CancelledBooking(b.booking_id, b.senior_id, b.senior_name) for b in cancelled]
        )

    @post(
        "/move",
        status_code=HTTP_200_OK,
        summary="Move the set meal's bookings to another set meal of the same menu (prices kept, "
        "families told), so it can be taken off",
    )
    async def move(
        self,
        data: JSONBody[BookingsMove],
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        menu_id: PathId,
        code: CodePath,
    ) -> MoveReport:
        moved = await cycles.move_bookings(
            db_session,
            actor=actor,
            menu_id=menu_id,
            code=code,
            to_code=data.to_code,
            reason=data.reason,
            now=now,
        )
        return MoveReport(
            [CancelledBooking(b.booking_id, b.senior_id, b.senior_name) for b in moved]
        )
