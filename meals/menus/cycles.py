"""Menu cycles: the operator's rotation of set meals, and publishing menus ahead from it.

Publishing is idempotent (a date, site and slot already on a menu is left alone), so the
worker's periodic job, the operator's "publish now" and the demo seeder all call the same
`publish_ahead`. A published menu is edited one set meal at a time; a set meal with bookings
is never taken off silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from advanced_alchemy.filters import LimitOffset, OrderBy
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from meals.accounts.service import Actor
from meals.audit.service import changed, record_change, snapshot
from meals.bookings.diet import choose_variant
from meals.bookings.models import Booking
from meals.bookings.service import diet_of, offer_of
from meals.db import begin_write, forget_references
from meals.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from meals.menus.models import (
    Dish,
    Menu,
    MenuCycle,
    MenuCycleItem,
    MenuCycleSite,
    MenuItem,
    MenuItemDish,
)
from meals.notifications.service import NoticeKind, notify_family
from meals.seniors.models import Senior
from meals.settings import DEFAULT_MENU_VARIANTS, Settings
from meals.sites.models import Site, SiteSlot
from meals.words import BookingStatus, SiteKind, Slot

MAX_CYCLE_WEEKS = 8
MAX_SET_MEALS = 6
CYCLE_FIELDS = ("name", "weeks", "starts_on", "active", "site_ids")
ITEM_FIELDS = ("code", "name", "name_en", "list_price_fen", "capacity")
NAMED_BOOKINGS_MAX = 20


class MenuCycleRepository(SQLAlchemyAsyncRepository[MenuCycle]):
    model_type = MenuCycle


class MenuCycleService(SQLAlchemyAsyncRepositoryService[MenuCycle]):
    """Paged lists of cycles with their total (advanced-alchemy's offset pagination)."""

    repository_type = MenuCycleRepository


@dataclass(frozen=True)
class SetMealSpec:
    """One set meal as the operator writes it into a cycle day."""

    code: str
    name: str
    name_en: str
    list_price_fen: int
    dish_ids: tuple[int, ...]
    portions: int | None = None


def _ensure_operator(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("Only the operator may edit menus.", code="not_operator")


async def list_cycles(
    session: AsyncSession, *, limit: int, offset: int
) -> tuple[Sequence[MenuCycle], int]:
    service = MenuCycleService(session=session)
    return await service.get_many_and_count(LimitOffset(limit, offset), OrderBy("id", "asc"))


async def get_cycle(session: AsyncSession, cycle_id: int) -> MenuCycle:
    cycle = await session.get(MenuCycle, cycle_id)
    if cycle is None:
        raise NotFound("There is no menu cycle {cycle_id}.", cycle_id=cycle_id)
    return cycle


async def _check_sites(session: AsyncSession, site_ids: Sequence[int], cycle_id: int | None):
    wanted = set(site_ids)
    if len(wanted) != len(site_ids):
        raise Invalid("A site is listed twice.")
    sites = list(await session.scalars(select(Site).where(Site.id.in_(wanted))))
    missing = wanted - {s.id for s in sites}
    if missing:
        raise Invalid("There is no site {site_id}.", site_id=min(missing))
    kitchens = [s.name for s in sites if s.kind is SiteKind.KITCHEN]
    if kitchens:
        raise Invalid("{site} is a kitchen and serves no menu.", site=kitchens[0])
    taken = (
        await session.execute(
            select(Site.name, MenuCycle.name)
            .join(MenuCycleSite, MenuCycleSite.site_id == Site.id)
            .join(MenuCycle, MenuCycle.id == MenuCycleSite.cycle_id)
            .where(Site.id.in_(wanted), MenuCycle.id != (cycle_id or 0))
        )
    ).first()
    if taken:
        raise Conflict(
            "{site} already follows the cycle {cycle}; take it out of that one first.",
            code="site_in_other_cycle",
            site=taken[0],
            cycle=taken[1],
        )


def _check_cycle_shape(name: str, weeks: int, starts_on: date) -> None:
    if not name.strip():
        raise Invalid("Give the cycle a name.")
    if not 1 <= weeks <= MAX_CYCLE_WEEKS:
        raise Invalid("A cycle lasts 1 to {max} weeks.", max=MAX_CYCLE_WEEKS)
    if starts_on.weekday() != 0:
        raise Invalid("A cycle starts on a Monday; {day} is not one.", day=starts_on.isoformat())


async def _name_taken(session: AsyncSession, name: str, cycle_id: int | None) -> None:
    other = await session.scalar(
        select(MenuCycle.id).where(MenuCycle.name == name, MenuCycle.id != (cycle_id or 0))
    )
    if other is not None:
        raise Conflict("There is already a cycle named {name}.", code="name_taken", name=name)


def _cycle_snapshot(cycle: MenuCycle) -> dict:
    return snapshot(cycle, CYCLE_FIELDS)


async def create_cycle(
    session: AsyncSession,
    *,
    actor: Actor,
    name: str,
    weeks: int,
    starts_on: date,
    site_ids: Sequence[int],
    now: datetime,
) -> MenuCycle:
    """A new, empty rotation for a group of sites; its days are filled one by one."""
    _ensure_operator(actor)
    name = name.strip()
    _check_cycle_shape(name, weeks, starts_on)
    await begin_write(session)
    await _name_taken(session, name, None)
    await _check_sites(session, site_ids, None)
    cycle = MenuCycle(
        name=name, weeks=weeks, starts_on=starts_on, active=True, created_at=now, updated_at=now
    )
    cycle.sites = [MenuCycleSite(site_id=s) for s in site_ids]
    cycle.items = []
    session.add(cycle)
    await session.flush()
    record_change(
        session,
        actor,
        action="create",
        entity="menu_cycle",
        entity_id=cycle.id,
        at=now,
        after=_cycle_snapshot(cycle),
        summary=f"menu cycle {name} ({weeks} weeks)",
    )
    await session.commit()
    return cycle


async def update_cycle(
    session: AsyncSession,
    *,
    actor: Actor,
    cycle_id: int,
    now: datetime,
    name: str | None = None,
    weeks: int | None = None,
    starts_on: date | None = None,
    active: bool | None = None,
    site_ids: Sequence[int] | None = None,
) -> MenuCycle:
    """Change a cycle; menus already published stay as they are (they are edited one by one)."""
    _ensure_operator(actor)
    await begin_write(session)
    cycle = await get_cycle(session, cycle_id)
    before = _cycle_snapshot(cycle)
    new_name = cycle.name if name is None else name.strip()
    new_weeks = cycle.weeks if weeks is None else weeks
    new_start = cycle.starts_on if starts_on is None else starts_on
    _check_cycle_shape(new_name, new_weeks, new_start)
    await _name_taken(session, new_name, cycle.id)
    if any(item.day_index >= new_weeks * 7 for item in cycle.items):
        raise Conflict(
            "Days beyond week {weeks} have set meals; clear them before shortening the cycle.",
            code="cycle_days_in_use",
            weeks=new_weeks,
        )
    if site_ids is not None:
        await _check_sites(session, site_ids, cycle.id)
        cycle.sites = [MenuCycleSite(site_id=s) for s in site_ids]
    cycle.name, cycle.weeks, cycle.starts_on = new_name, new_weeks, new_start
    if active is not None:
        cycle.active = active
    cycle.updated_at = now
    old, new = changed(before, _cycle_snapshot(cycle))
    record_change(
        session,
        actor,
        action="update",
        entity="menu_cycle",
        entity_id=cycle.id,
        at=now,
        before=old,
        after=new,
        summary=f"menu cycle {cycle.name}",
    )
    await session.commit()
    return cycle


async def _check_set_meals(session: AsyncSession, meals: Sequence[SetMealSpec]) -> None:
    if len(meals) > MAX_SET_MEALS:
        raise Invalid("A day offers at most {max} set meals.", max=MAX_SET_MEALS)
    codes = [m.code for m in meals]
    if len(set(codes)) != len(codes):
        raise Invalid("Two set meals share the code {meal}.", meal=codes[0])
    dish_ids = {d for m in meals for d in m.dish_ids}
    known = set(await session.scalars(select(Dish.id).where(Dish.id.in_(dish_ids))))
    for meal in meals:
        if not meal.name.strip() or not meal.code.strip():
            raise Invalid("Every set meal needs a code and a name.")
        if not meal.dish_ids:
            raise Invalid("Set meal {meal} has no dishes.", meal=meal.code)
        if len(set(meal.dish_ids)) != len(meal.dish_ids):
            raise Invalid("Set meal {meal} lists a dish twice.", meal=meal.code)
        unknown = set(meal.dish_ids) - known
        if unknown:
            raise Invalid("There is no dish {dish_id}.", dish_id=min(unknown))


async def set_cycle_day(
    session: AsyncSession,
    *,
    actor: Actor,
    cycle_id: int,
    day_index: int,
    slot: Slot,
    meals: Sequence[SetMealSpec],
    now: datetime,
) -> MenuCycle:
    """Replace the set meals of one day and slot of the cycle (an empty list clears it)."""
    _ensure_operator(actor)
    await begin_write(session)
    cycle = await get_cycle(session, cycle_id)
    if not 0 <= day_index < cycle.weeks * 7:
        raise Invalid(
            "Day {day} is outside this {weeks}-week cycle (days 0 to {last}).",
            day=day_index,
            weeks=cycle.weeks,
            last=cycle.weeks * 7 - 1,
        )
    await _check_set_meals(session, meals)
    old_items = [i for i in cycle.items if i.day_index == day_index and i.slot is slot]
    before = [
        snapshot(i, ("code", "name", "list_price_fen", "portions", "dish_ids")) for i in old_items
    ]
    for item in old_items:
        cycle.items.remove(item)
    await session.flush()
    for meal in meals:
        cycle.items.append(
            MenuCycleItem(
                day_index=day_index,
                slot=slot,
                code=meal.code.strip(),
                name=meal.name.strip(),
                name_en=meal.name_en.strip(),
                list_price_fen=meal.list_price_fen,
                portions=meal.portions,
                dish_ids=list(meal.dish_ids),
            )
        )
    cycle.updated_at = now
    await session.flush()
    after = [
        snapshot(i, ("code", "name", "list_price_fen", "portions", "dish_ids"))
        for i in cycle.items
        if i.day_index == day_index and i.slot is slot
    ]
    record_change(
        session,
        actor,
        action="update",
        entity="menu_cycle_day",
        entity_id=f"{cycle.id}:{day_index}:{slot.value}",
        at=now,
        before={"set_meals": before},
        after={"set_meals": after},
        summary=f"menu cycle {cycle.name}, day {day_index + 1} {slot.value}",
    )
    await session.commit()
    return cycle


def cycle_day(cycle: MenuCycle, day: date) -> int:
    """Which day of the rotation `day` is."""
    return (day - cycle.starts_on).days % (cycle.weeks * 7)


def publish_window(now: datetime, settings: Settings) -> tuple[date, date]:
    """Today to the end of the week `menu_publish_weeks_ahead` weeks on (inclusive)."""
    today = settings.district_today(now)
    last = today + timedelta(days=6 - today.weekday() + 7 * settings.menu_publish_weeks_ahead)
    return today, last


async def publish_ahead(
    session: AsyncSession,
    *,
    now: datetime,
    settings: Settings | None = None,
    window: tuple[date, date] | None = None,
    cycle_ids: Sequence[int] | None = None,
) -> int:
    """Publish every missing menu of every active cycle's sites for the publishing window
    (from `settings`, or `window` given), published at `now`.

    Idempotent and safe beside another worker: a menu already there is skipped, and one
    written at the same moment by someone else is left to them (unique site, date, slot).
    """
    if window is None:
        if settings is None:
            raise ValueError("publish_ahead needs settings or a window")
        window = publish_window(now, settings)
    first, last = window
    variants = settings.menu_variants if settings is not None else DEFAULT_MENU_VARIANTS
    query = select(MenuCycle).where(MenuCycle.active.is_(True)).order_by(MenuCycle.id)
    if cycle_ids is not None:
        query = query.where(MenuCycle.id.in_(list(cycle_ids)))
    wanted = list(await session.scalars(query.with_only_columns(MenuCycle.id)))
    created = 0
    for cycle_id in wanted:
        # Loaded afresh: a rollback while publishing the one before expires loaded rows.
        cycle = await session.get(MenuCycle, cycle_id, populate_existing=True)
        if cycle is not None:
            created += await _publish_cycle(session, cycle, first, last, now, variants)
    return created


async def _publish_cycle(
    session: AsyncSession,
    cycle: MenuCycle,
    first: date,
    last: date,
    now: datetime,
    variants: Sequence[str],
) -> int:
    site_ids = cycle.site_ids
    if not site_ids or not cycle.items:
        return 0
    weeks, starts_on = cycle.weeks, cycle.starts_on
    items = [
        (i.day_index, i.slot, i.code, i.name, i.name_en, i.list_price_fen, i.portions, i.dish_ids)
        for i in cycle.items
    ]
    # Plain values: a rollback (another worker published the same menu) expires ORM rows.
    slots = (
        await session.execute(
            select(SiteSlot.site_id, SiteSlot.slot, SiteSlot.capacity)
            .where(SiteSlot.site_id.in_(site_ids))
            .order_by(SiteSlot.site_id, SiteSlot.slot)  # every worker inserts in one order
        )
    ).all()
    dish_ids = {d for *_, dishes in items for d in dishes}
    dishes = {
        d.id: (d.id, tuple(d.diet_tags or ()), tuple(d.allergens or ()))
        for d in await session.scalars(select(Dish).where(Dish.id.in_(dish_ids)))
    }
    existing = set(
        (
            await session.execute(
                select(Menu.site_id, Menu.service_date, Menu.slot).where(
                    Menu.site_id.in_(site_ids),
                    Menu.service_date >= first,
                    Menu.service_date <= last,
                )
            )
        ).all()
    )
    created = 0
    day = first
    await begin_write(session)
    while day <= last:
        index = (day - starts_on).days % (weeks * 7)
        for site_id, slot, seats in slots:
            key = (site_id, day, slot)
            todays = [i for i in items if i[0] == index and i[1] is slot]
            if key in existing or not todays:
                continue
            try:
                async with session.begin_nested():
                    await _add_menu(session, key, seats, todays, dishes, now, variants)
            except IntegrityError:
                continue  # published by another worker at the same moment: theirs stands
            created += 1
        day += timedelta(days=1)
    # One transaction for the cycle (a savepoint per menu): a commit per menu made publishing
    # a district's weeks ahead take seconds per site on a busy PostgreSQL.
    await session.commit()
    return created


async def _add_menu(
    session: AsyncSession,
    key: tuple[int, date, Slot],
    seats: int,
    todays: Sequence[tuple],
    dishes: dict[int, tuple],
    now: datetime,
    variants: Sequence[str],
) -> None:
    site_id, day, slot = key
    menu = Menu(
        site_id=site_id,
        service_date=day,
        slot=slot,
        published_at=now,
        seat_capacity=seats,
        seats_booked=0,
    )
    session.add(menu)
    await session.flush()
    for _i, _s, code, name, name_en, price, portions, item_dishes in todays:
        chosen = [dishes[d] for d in item_dishes if d in dishes]
        tags = sorted(set.intersection(*(set(d[1]) for d in chosen))) if chosen else []
        item = MenuItem(
            menu_id=menu.id,
            code=code,
            name=name,
            name_en=name_en,
            list_price_fen=price,
            capacity=portions if portions is not None else seats,
            booked_count=0,
            diet_tags=tags,
            variants=list(variants),
            allergens=sorted({a for d in chosen for a in d[2]}),
        )
        session.add(item)
        await session.flush()
        session.add_all(
            MenuItemDish(menu_item_id=item.id, dish_id=d[0], position=pos)
            for pos, d in enumerate(chosen)
        )
    await session.flush()


async def publish_now(
    session: AsyncSession, *, actor: Actor, cycle_id: int, now: datetime, settings: Settings
) -> int:
    """The operator's "publish now": the same publishing as the worker's, recorded as theirs."""
    _ensure_operator(actor)
    created = await publish_ahead(session, now=now, settings=settings, cycle_ids=[cycle_id])
    first, last = publish_window(now, settings)
    await begin_write(session)
    record_change(
        session,
        actor,
        action="publish",
        entity="menu_cycle",
        entity_id=cycle_id,
        at=now,
        after={"menus_published": created, "from": first, "to": last},
        summary=f"{created} menus published from cycle {cycle_id}",
    )
    await session.commit()
    return created


# --- one published menu ------------------------------------------------------------------


async def _menu_for_edit(session: AsyncSession, menu_id: int) -> Menu:
    menu = await session.get(Menu, menu_id)
    if menu is None:
        raise NotFound("There is no menu {menu_id}.", menu_id=menu_id)
    return menu


async def _item(session: AsyncSession, menu_id: int, code: str) -> MenuItem:
    item = await session.scalar(
        select(MenuItem).where(
            MenuItem.menu_id == menu_id, MenuItem.code == code, MenuItem.withdrawn_at.is_(None)
        )
    )
    if item is None:
        raise NotFound("Menu {menu_id} has no set meal {meal}.", menu_id=menu_id, meal=code)
    return item


async def update_menu_item(
    session: AsyncSession,
    *,
    actor: Actor,
    menu_id: int,
    code: str,
    now: datetime,
    list_price_fen: int | None = None,
    capacity: int | None = None,
    name: str | None = None,
    name_en: str | None = None,
) -> MenuItem:
    """Change one day's set meal: price (bookings already made keep theirs) or portions."""
    _ensure_operator(actor)
    await begin_write(session)
    menu = await _menu_for_edit(session, menu_id)
    item = await _item(session, menu_id, code)
    before = snapshot(item, ITEM_FIELDS)
    if capacity is not None and capacity < item.booked_count:
        raise Conflict(
            "{booked} portions of set meal {meal} are already booked; offer at least that many.",
            code="below_booked",
            booked=item.booked_count,
            meal=code,
        )
    if list_price_fen is not None:
        item.list_price_fen = list_price_fen
    if capacity is not None:
        item.capacity = capacity
    if name is not None:
        if not name.strip():
            raise Invalid("A set meal needs a name.")
        item.name = name.strip()
    if name_en is not None:
        item.name_en = name_en.strip()
    old, new = changed(before, snapshot(item, ITEM_FIELDS))
    record_change(
        session,
        actor,
        action="update",
        entity="menu_item",
        entity_id=item.id,
        at=now,
        before=old,
        after=new,
        site_id=menu.site_id,
        summary=f"set meal {code} on {menu.service_date.isoformat()} {menu.slot.value}",
    )
    await session.commit()
    return item


@dataclass(frozen=True)
class NamedBooking:
    booking_id: int
    senior_id: int
    senior_name: str


async def _live_bookings(session: AsyncSession, item_id: int) -> list[NamedBooking]:
    rows = await session.execute(
        select(Booking.id, Senior.id, Senior.name)
        .join(Senior, Senior.id == Booking.senior_id)
        .where(Booking.menu_item_id == item_id, Booking.status == BookingStatus.BOOKED)
        .order_by(Booking.id)
    )
    return [NamedBooking(*row) for row in rows]


async def remove_menu_item(
    session: AsyncSession,
    *,
    actor: Actor,
    menu_id: int,
    code: str,
    now: datetime,
    cancel_bookings: bool = False,
    reason: str = "",
) -> list[NamedBooking]:
    """Take a set meal off a published menu; refused while it has bookings, naming them,
    unless the operator cancels them here with a reason the seniors are told."""
    _ensure_operator(actor)
    await begin_write(session)
    menu = await _menu_for_edit(session, menu_id)
    item = await _item(session, menu_id, code)
    live = await _live_bookings(session, item.id)
    if live and not cancel_bookings:
        names = ", ".join(
            f"{b.senior_name} (booking {b.booking_id})" for b in live[:NAMED_BOOKINGS_MAX]
        )
        if len(live) > NAMED_BOOKINGS_MAX:
            names += ", …"
        raise Conflict(
            "Set meal {meal} has {count} bookings: {names}. Move or cancel them first "
            "(cancel them here with a reason the seniors are told).",
            code="set_meal_has_bookings",
            meal=code,
            count=len(live),
            names=names,
        )
    if live and not reason.strip():
        raise Invalid("Say why the bookings are cancelled; the seniors are told.")
    if live:
        await session.execute(
            update(Booking)
            .where(Booking.id.in_([b.booking_id for b in live]))
            .where(Booking.status == BookingStatus.BOOKED)
            .values(
                status=BookingStatus.CANCELLED,
                cancelled_at=now,
                updated_at=now,
                cancel_reason=reason.strip()[:300],
            )
            .execution_options(synchronize_session=False)
        )
        await session.execute(
            update(Menu)
            .where(Menu.id == menu.id)
            .values(seats_booked=Menu.seats_booked - len(live))
            .execution_options(synchronize_session=False)
        )
        for booking in live:  # each senior's family is told why, with the change itself
            await notify_family(
                session,
                booking.senior_id,
                NoticeKind.MEAL_CANCELLED,
                now=now,
                params={
                    "day": menu.service_date.isoformat(),
                    "slot": menu.slot.value,
                    "reason": reason.strip()[:300],
                },
            )
    any_booking = await session.scalar(
        select(func.count()).select_from(Booking).where(Booking.menu_item_id == item.id)
    )
    before = snapshot(item, ITEM_FIELDS)
    if any_booking:
        item.withdrawn_at = now  # bookings (now cancelled) still point at it
        item.booked_count = 0
        item.capacity = 0
    else:
        await session.execute(delete(MenuItem).where(MenuItem.id == item.id))
    record_change(
        session,
        actor,
        action="delete",
        entity="menu_item",
        entity_id=item.id,
        at=now,
        before=before,
        after={"cancelled_bookings": [b.booking_id for b in live], "reason": reason.strip()},
        site_id=menu.site_id,
        summary=f"set meal {code} taken off {menu.service_date.isoformat()} {menu.slot.value}",
    )
    await session.commit()
    forget_references(session)  # bookings read the set meal from that cache
    return live


# --- moving a set meal's bookings ---------------------------------------------------------


async def move_bookings(
    session: AsyncSession,
    *,
    actor: Actor,
    menu_id: int,
    code: str,
    to_code: str,
    reason: str,
    now: datetime,
) -> list[NamedBooking]:
    """Move every open booking of set meal `code` to set meal `to_code` of the same menu, so
    the first can be taken off. Each booking keeps the price it was made at (its policy
    version) and its diet variant, if the other set meal suits the senior; each senior's family
    is told why. Refused whole, naming the senior, when one cannot be moved."""
    _ensure_operator(actor)
    if code == to_code:
        raise Invalid("Choose another set meal to move the bookings to.", code="same_set_meal")
    if not reason.strip():
        raise Invalid("Say why the bookings are moved; the seniors are told.", code="no_reason")
    await begin_write(session)
    menu = await _menu_for_edit(session, menu_id)
    source = await _item(session, menu_id, code)
    target = await _item(session, menu_id, to_code)
    live = await _live_bookings(session, source.id)
    if not live:
        return []
    if target.booked_count + len(live) > target.capacity:
        raise Conflict(
            "Set meal {meal} has {left} portions left, fewer than the {count} bookings to move; "
            "offer more portions first.",
            code="target_full",
            meal=to_code,
            left=max(0, target.capacity - target.booked_count),
            count=len(live),
        )
    bookings = {
        b.id: b
        for b in await session.scalars(
            select(Booking).where(Booking.id.in_([n.booking_id for n in live]))
        )
    }
    offer = offer_of(target)
    for named in live:
        senior = await session.get(Senior, named.senior_id)
        booking = bookings[named.booking_id]
        try:
            choice = choose_variant(diet_of(senior), offer, booking.variant)
        except DomainError as refusal:
            raise Conflict(
                "Set meal {meal} does not suit {name} ({why}); cancel their booking instead.",
                code="move_unsuitable",
                meal=to_code,
                name=named.senior_name,
                why=refusal.text,
            ) from None
        booking.menu_item_id = target.id
        booking.variant = choice.variant
        booking.updated_at = now
    source.booked_count -= len(live)
    target.booked_count += len(live)
    for named in live:
        await notify_family(
            session,
            named.senior_id,
            NoticeKind.MEAL_MOVED,
            now=now,
            params={
                "day": menu.service_date.isoformat(),
                "slot": menu.slot.value,
                "meal": target.name,
                "meal_en": target.name_en,
                "reason": reason.strip()[:300],
            },
        )
    record_change(
        session,
        actor,
        action="move_bookings",
        entity="menu_item",
        entity_id=source.id,
        at=now,
        before={"set_meal": code, "bookings": [b.booking_id for b in live]},
        after={"set_meal": to_code, "reason": reason.strip()},
        site_id=menu.site_id,
        summary=f"{len(live)} bookings moved from set meal {code} to {to_code} on "
        f"{menu.service_date.isoformat()} {menu.slot.value}",
    )
    await session.commit()
    return live


# --- published menus following the cycle ----------------------------------------------------


@dataclass(frozen=True)
class FollowReport:
    """What an edit of a cycle day did to menus already published from it."""

    republished: list[int]
    kept_with_bookings: list[int]


async def edit_cycle_day(
    session: AsyncSession,
    *,
    actor: Actor,
    cycle_id: int,
    day_index: int,
    slot: Slot,
    meals: Sequence[SetMealSpec],
    now: datetime,
    settings: Settings,
) -> tuple[MenuCycle, FollowReport]:
    """Set one day of the cycle, and have the menus already published from it (today on) follow:
    one nobody booked yet is published again from the new day; one with bookings keeps its set
    meals (the operator edits it: move or cancel bookings, take set meals off)."""
    cycle = await set_cycle_day(
        session,
        actor=actor,
        cycle_id=cycle_id,
        day_index=day_index,
        slot=slot,
        meals=meals,
        now=now,
    )
    today = settings.district_today(now)
    await begin_write(session)
    published = (
        await session.execute(
            select(Menu.id, Menu.service_date).where(
                Menu.site_id.in_(cycle.site_ids), Menu.slot == slot, Menu.service_date >= today
            )
        )
    ).all()
    ours = [(m, d) for m, d in published if cycle_day(cycle, d) == day_index]
    booked = set(
        await session.scalars(
            select(Booking.menu_id).where(Booking.menu_id.in_([m for m, _ in ours])).distinct()
        )
    )
    stale = [(m, d) for m, d in ours if m not in booked]
    if stale:
        stale_ids = [m for m, _ in stale]
        item_ids = select(MenuItem.id).where(MenuItem.menu_id.in_(stale_ids))
        await session.execute(delete(MenuItemDish).where(MenuItemDish.menu_item_id.in_(item_ids)))
        await session.execute(delete(MenuItem).where(MenuItem.menu_id.in_(stale_ids)))
        await session.execute(delete(Menu).where(Menu.id.in_(stale_ids)))
        record_change(
            session,
            actor,
            action="republish",
            entity="menu",
            entity_id=f"{cycle.id}:{day_index}:{slot.value}",
            at=now,
            after={"menus": len(stale), "days": sorted({d.isoformat() for _, d in stale})},
            summary=f"{len(stale)} published menus follow menu cycle {cycle.name}",
        )
    await session.commit()
    for day in sorted({d for _, d in stale}):
        await publish_ahead(
            session, now=now, settings=settings, window=(day, day), cycle_ids=[cycle.id]
        )
    forget_references(session)
    republished = await session.scalars(
        select(Menu.id).where(
            Menu.site_id.in_(cycle.site_ids),
            Menu.slot == slot,
            Menu.service_date.in_(sorted({d for _, d in stale})),
            Menu.id.not_in(booked),
        )
    )
    return cycle, FollowReport(sorted(republished), sorted(booked))
