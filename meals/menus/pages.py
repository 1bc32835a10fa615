"""The operator's menu-cycle pages (desktop-first): the cycles, one cycle's rotation as a grid,
and the form for one day's set meals. Each handler calls one service function."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.params import FromPath, PathParameter
from litestar.response import Redirect, Template
from sqlalchemy import select

from meals.errors import Invalid
from meals.menus import cycles
from meals.menus.models import Dish
from meals.pages.i18n import N_
from meals.pages.web import flash, language_of, render, see_other
from meals.sites.models import Site
from meals.web import (
    AppSettings,
    CurrentActor,
    DbSession,
    Now,
    PageOffset,
    PathId,
    allow,
)
from meals.words import Role, SiteKind, Slot

PAGE_SIZE = 20
FORM_ROWS = 3
DISH_KINDS = ("meat", "vegetable", "staple", "soup")
KIND_LABELS = {
    "meat": N_("Meat"),
    "vegetable": N_("Vegetable"),
    "staple": N_("Staple"),
    "soup": N_("Soup"),
}
FEN_PER_YUAN = 100
DayIndex = Annotated[int, PathParameter(ge=0, le=cycles.MAX_CYCLE_WEEKS * 7 - 1)]


FIELD_MAX = 120
DAY_FIELDS = ("code", "name", "name_en", "price_yuan", "portions", *DISH_KINDS)


async def _form_lists(request: Request, fields: tuple[str, ...]) -> dict[str, list[str]]:
    """Repeated form fields as lists (a checkbox list, the rows of a table form), each value
    cut to a sane length: a browser sends one value or many under the same name."""
    form = await request.form()
    return {
        name: [str(v)[:FIELD_MAX] for v in form.getall(name, [])][: FORM_ROWS * 200]
        for name in fields
    }


def _int(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise Invalid("Write weeks, portions and choices as whole numbers, e.g. 4.") from None


def _fen(text: str) -> int:
    try:
        yuan = Decimal(text.strip())
    except InvalidOperation:
        raise Invalid("Write the price in yuan, e.g. 12.50.") from None
    if not yuan.is_finite() or yuan < 0 or yuan != yuan.quantize(Decimal("0.01")):
        raise Invalid("Write the price in yuan, e.g. 12.50.")
    return int(yuan * FEN_PER_YUAN)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise Invalid("Write the first day as YYYY-MM-DD.") from None


def _meals_of(form: dict[str, list[str]]) -> list[cycles.SetMealSpec]:
    meals = []
    for row, name in enumerate(form["name"][:FORM_ROWS]):
        if not name.strip():
            continue

        def pick(values: list[str], row: int = row) -> str:
            return values[row] if row < len(values) else ""

        dishes = [pick(form[kind]) for kind in DISH_KINDS]
        portions = pick(form["portions"]).strip()
        meals.append(
            cycles.SetMealSpec(
                code=pick(form["code"]).strip() or "ABC"[row],
                name=name,
                name_en=pick(form["name_en"]),
                list_price_fen=_fen(pick(form["price_yuan"])),
                dish_ids=tuple(_int(d) for d in dishes if d.strip()),
                portions=_int(portions) if portions else None,
            )
        )
    return meals


class MenuCyclePages(Controller):
    path = "/menus/cycles"
    include_in_schema = False
    guards = [allow(Role.ADMIN)]  # noqa: RUF012

    @get("/", summary="Menu cycles")
    async def index(
        self, request: Request, db_session: DbSession, offset: PageOffset = 0
    ) -> Template:
        found, total = await cycles.list_cycles(db_session, limit=PAGE_SIZE, offset=offset)
        sites = list(
            await db_session.scalars(
                select(Site).where(Site.kind != SiteKind.KITCHEN).order_by(Site.code)
            )
        )
        return render(
            request,
            "menus/cycles.html",
            cycles=found,
            total=total,
            offset=offset,
            page_size=PAGE_SIZE,
            sites=sites,
            site_names={s.id: s.name for s in sites},
        )

    @post("/", summary="Create a menu cycle")
    async def create(
        self,
        request: Request,
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
    ) -> Redirect:
        form = await _form_lists(request, ("name", "weeks", "starts_on", "site_ids"))
        cycle = await cycles.create_cycle(
            db_session,
            actor=actor,
            name=next(iter(form["name"]), ""),
            weeks=_int(next(iter(form["weeks"]), "")),
            starts_on=_date(next(iter(form["starts_on"]), "")),
            site_ids=[_int(s) for s in form["site_ids"]],
            now=now,
        )
        flash(request, language_of(request).gettext("Menu cycle {name} created.", name=cycle.name))
        return see_other(f"/menus/cycles/{cycle.id}")

    @get("/{cycle_id:int}", summary="One menu cycle as a grid")
    async def show(
        self,
        request: Request,
        db_session: DbSession,
        cycle_id: PathId,
        settings: AppSettings,
        now: Now,
    ) -> Template:
        cycle = await cycles.get_cycle(db_session, cycle_id)
        grid = {(i.day_index, i.slot): [] for i in cycle.items}
        for item in cycle.items:
            grid[(item.day_index, item.slot)].append(item)
        sites = list(await db_session.scalars(select(Site).where(Site.id.in_(cycle.site_ids))))
        first, last = cycles.publish_window(now, settings)
        return render(
            request,
            "menus/cycle.html",
            cycle=cycle,
            grid=grid,
            slots=list(Slot),
            sites=sorted(sites, key=lambda s: s.code),
            first=first,
            last=last,
            weeks_ahead=settings.menu_publish_weeks_ahead,
        )

    @get("/{cycle_id:int}/days/{day_index:int}/{slot:str}", summary="Edit one day's set meals")
    async def day(
        self,
        request: Request,
        db_session: DbSession,
        cycle_id: PathId,
        day_index: DayIndex,
        slot: FromPath[Slot],
    ) -> Template:
        cycle = await cycles.get_cycle(db_session, cycle_id)
        items = [i for i in cycle.items if i.day_index == day_index and i.slot is slot]
        dishes = list(await db_session.scalars(select(Dish).order_by(Dish.kind, Dish.name)))
        rows = [*items, *[None] * max(0, FORM_ROWS - len(items))]
        return render(
            request,
            "menus/cycle_day.html",
            cycle=cycle,
            day_index=day_index,
            slot=slot,
            rows=rows,
            kinds=DISH_KINDS,
            kind_labels=KIND_LABELS,
            dishes_by_kind={k: [d for d in dishes if d.kind == k] for k in DISH_KINDS},
        )

    @post("/{cycle_id:int}/days/{day_index:int}/{slot:str}", summary="Save one day's set meals")
    async def save_day(
        self,
        request: Request,
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        settings: AppSettings,
        cycle_id: PathId,
        day_index: DayIndex,
        slot: FromPath[Slot],
    ) -> Redirect:
        _, followed = await cycles.edit_cycle_day(
            db_session,
            actor=actor,
            cycle_id=cycle_id,
            day_index=day_index,
            slot=slot,
            meals=_meals_of(await _form_lists(request, DAY_FIELDS)),
            now=now,
            settings=settings,
        )
        language = language_of(request)
        flash(request, language.gettext("The day's set meals are saved."))
        if followed.republished:
            flash(
                request,
                language.gettext(
                    "{count} menus already published follow the change.",
                    count=len(followed.republished),
                ),
            )
        if followed.kept_with_bookings:
            flash(
                request,
                language.gettext(
                    "{count} published menus have bookings and keep their set meals: move or "
                    "cancel those bookings on each menu before taking a set meal off.",
                    count=len(followed.kept_with_bookings),
                ),
                "warn",
            )
        return see_other(f"/menus/cycles/{cycle_id}")

    @post("/{cycle_id:int}/publish", summary="Publish the cycle's missing menus now")
    async def publish(
        self,
        request: Request,
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        settings: AppSettings,
        cycle_id: PathId,
    ) -> Redirect:
        created = await cycles.publish_now(
            db_session, actor=actor, cycle_id=cycle_id, now=now, settings=settings
        )
        flash(
            request,
            language_of(request).gettext("{count} menus published.", count=created),
        )
        return see_other(f"/menus/cycles/{cycle_id}")
