"""The operator's menu-cycle pages (desktop-first): the cycles, one cycle's rotation as a grid,
and the form for one day's set meals. Each handler calls one service function."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, PathParameter
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from meals.errors import DomainError, Invalid
from meals.menus import cycles
from meals.menus import service as menu_service
from meals.menus.cycles_api import CodePath
from meals.menus.models import Dish
from meals.pages.i18n import N_
from meals.pages.web import flash, language_of, read_form, render, see_other
from meals.sites.models import Site
from meals.web import (
    AppSettings,
    CurrentActor,
    DbSession,
    Now,
    OptionalQueryId,
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


class MoveForm(msgspec.Struct):
    to_code: Annotated[str, msgspec.Meta(min_length=1, max_length=8)]
    reason: Annotated[str, msgspec.Meta(max_length=300)] = ""


class TakeOffForm(msgspec.Struct):
    reason: Annotated[str, msgspec.Meta(max_length=300)] = ""
    cancel_bookings: bool = False


PUBLISHED_PAGE = 28


class PublishedMenuPages(Controller):
    """A site's published menus and one menu's set meals with their bookings, where the
    operator moves a set meal's bookings to another or takes it off (bookings named first).
    A refusal is shown at the set meal with what was typed kept."""

    path = "/menus/published"
    include_in_schema = False
    guards = [allow(Role.ADMIN)]  # noqa: RUF012

    @get("/", summary="A site's published menus by date")
    async def index(
        self,
        request: Request,
        db_session: DbSession,
        settings: AppSettings,
        now: Now,
        site: OptionalQueryId = None,
        offset: PageOffset = 0,
    ) -> Template:
        sites = list(
            await db_session.scalars(
                select(Site).where(Site.kind != SiteKind.KITCHEN).order_by(Site.code)
            )
        )
        chosen = next((s for s in sites if s.id == site), sites[0] if sites else None)
        page = None
        if chosen is not None:
            page = await menu_service.page_published(
                db_session,
                site_id=chosen.id,
                date_from=settings.district_today(now),
                limit=PUBLISHED_PAGE,
                offset=offset,
            )
        return render(
            request,
            "menus/published.html",
            sites=sites,
            site=chosen,
            page=page,
            kept=f"site={chosen.id}" if chosen else "",
            newest_first=False,
        )

    @get("/{menu_id:int}", summary="One published menu: set meals and their bookings")
    async def show(self, request: Request, db_session: DbSession, menu_id: PathId) -> Template:
        return await _menu_page(request, db_session, menu_id)

    @post("/{menu_id:int}/items/{code:str}/move", summary="Move a set meal's bookings")
    async def move(
        self,
        request: Request,
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        menu_id: PathId,
        code: CodePath,
    ) -> Response:
        form = await read_form(request, MoveForm)
        try:
            moved = await cycles.move_bookings(
                db_session,
                actor=actor,
                menu_id=menu_id,
                code=code,
                to_code=form.to_code,
                reason=form.reason,
                now=now,
            )
        except DomainError as refusal:
            await db_session.rollback()
            return await _menu_page(
                request, db_session, menu_id, refusal=(code, "move", refusal), typed=form
            )
        flash(
            request,
            language_of(request).gettext(
                "{count} bookings moved to set meal {meal}; their families are told.",
                count=len(moved),
                meal=form.to_code,
            ),
        )
        return see_other(f"/menus/published/{menu_id}")

    @post("/{menu_id:int}/items/{code:str}/remove", summary="Take a set meal off the menu")
    async def remove(
        self,
        request: Request,
        db_session: DbSession,
        actor: CurrentActor,
        now: Now,
        menu_id: PathId,
        code: CodePath,
    ) -> Response:
        form = await read_form(request, TakeOffForm)
        try:
            cancelled = await cycles.remove_menu_item(
                db_session,
                actor=actor,
                menu_id=menu_id,
                code=code,
                now=now,
                cancel_bookings=form.cancel_bookings,
                reason=form.reason,
            )
        except DomainError as refusal:
            await db_session.rollback()
            return await _menu_page(
                request, db_session, menu_id, refusal=(code, "remove", refusal), typed=form
            )
        flash(
            request,
            language_of(request).gettext(
                "Set meal {meal} is taken off; {count} bookings cancelled.",
                meal=code,
                count=len(cancelled),
            ),
        )
        return see_other(f"/menus/published/{menu_id}")


async def _menu_page(
    request: Request,
    session: AsyncSession,
    menu_id: int,
    *,
    refusal: tuple[str, str, DomainError] | None = None,
    typed: MoveForm | TakeOffForm | None = None,
) -> Template:
    menu, meals = await menu_service.menu_with_bookings(session, menu_id=menu_id)
    site = await session.get(Site, menu.site_id)
    error = None
    if refusal is not None:
        code, action, exc = refusal
        error = {"code": code, "action": action, "text": language_of(request).error(exc)}
    return render(
        request,
        "menus/published_menu.html",
        status_code=refusal[2].status_code if refusal else 200,
        menu=menu,
        site=site,
        meals=meals,
        error=error,
        typed=typed,
    )
