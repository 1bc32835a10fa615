"""The kitchen's JSON API: freeze a date and slot, read a run and what changed since.

Kitchen staff and admins only. Handlers are one service call and a view; a refused plan
(infeasible or inconsistent) answers 409 with its reasons. The pages are in ``pages.py``.
"""

from __future__ import annotations

from datetime import date, datetime

import msgspec
from litestar import Controller, get, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_201_CREATED

from meals.production import day as one_plan
from meals.production import service
from meals.production.models import ProductionRun
from meals.web import AppSettings, CurrentActor, DbSession, Now, PathId, allow
from meals.words import Role, Slot

KITCHEN_ROLES = (Role.KITCHEN, Role.ADMIN)


class FreezeRequest(msgspec.Struct, forbid_unknown_fields=True):
    service_date: date
    slot: Slot = Slot.LUNCH


class DishLineView(msgspec.Struct):
    dish_id: str
    dish_name: str
    variant: str
    portions: int


class RunView(msgspec.Struct):
    id: int
    service_date: date
    slot: Slot
    frozen_at: datetime
    total_portions: int
    bookings_counted: int
    dishes: list[DishLineView]

    @classmethod
    def of(cls, run: ProductionRun) -> RunView:
        plan = service.plan_of(run)
        return cls(
            id=run.id,
            service_date=run.service_date,
            slot=run.slot,
            frozen_at=run.frozen_at,
            total_portions=run.total_portions,
            bookings_counted=run.bookings_counted,
            dishes=[
                DishLineView(line.dish_id, line.dish_name, line.variant.value, line.portions)
                for line in plan.dishes
            ],
        )


class DiffLineView(msgspec.Struct):
    site_name: str
    fulfilment: str
    menu_item_name: str
    variant: str
    frozen: int
    now: int
    change: int


class DiffView(msgspec.Struct):
    run_id: int
    frozen_total: int
    current_total: int
    lines: list[DiffLineView]


class KitchenApi(Controller):
    path = "/api/v1/kitchen"
    tags = ["kitchen"]  # noqa: RUF012
    guards = [allow(*KITCHEN_ROLES)]  # noqa: RUF012

    @post(
        "/runs",
        status_code=HTTP_201_CREATED,
        summary="Freeze the production plan of a date and slot from its current bookings",
    )
    async def freeze(
        self,
        db_session: DbSession,
        settings: AppSettings,
        actor: CurrentActor,
        now: Now,
        data: JSONBody[FreezeRequest],
    ) -> RunView:
        run = (
            await one_plan.freeze_day(
                db_session,
                settings=settings,
                service_date=data.service_date,
                slot=data.slot,
                actor=actor,
                now=now,
            )
        ).run
        return RunView.of(run)

    @get("/runs/{run_id:int}", summary="A frozen production run")
    async def show(self, db_session: DbSession, run_id: PathId) -> RunView:
        return RunView.of(await service.get_run(db_session, run_id))

    @get("/runs/{run_id:int}/diff", summary="Bookings now against the frozen run")
    async def diff(self, db_session: DbSession, run_id: PathId) -> DiffView:
        run = await service.get_run(db_session, run_id)
        diff = await service.run_diff(db_session, run)
        return DiffView(
            run_id=run.id,
            frozen_total=diff.frozen_total,
            current_total=diff.current_total,
            lines=[
                DiffLineView(
                    line.site_name,
                    line.fulfilment,
                    line.menu_item_name,
                    line.variant,
                    line.frozen,
                    line.now,
                    line.change,
                )
                for line in diff.lines
            ],
        )
