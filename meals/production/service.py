"""Production runs: plan a date and slot from its bookings, freeze it, show what changed since.

Rules live here; handlers and the CLI call these functions. A plan is computed from every
booking that is not cancelled (booked, served, delivered and no-show were all cooked for)
and frozen as a run; the kitchen cooks from the run, and later changes show as a diff.
"""

from __future__ import annotations

import gc
import json
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import msgspec
from sqlalchemy import String, Text, cast, func, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer, joinedload, selectinload

from kitchen import (
    InfeasiblePlanError,
    PlanInputError,
    ProductionPlan,
    SafetyViolation,
    plan_production,
)
from kitchen import Recipe as KitchenRecipe
from kitchen import boxes_per_stop as kitchen_boxes_per_stop
from kitchen import preparation_per_stop as kitchen_preparation_per_stop
from meals.accounts.service import Actor
from meals.bookings.models import Booking
from meals.errors import Conflict, NotFound
from meals.menus.models import Dish, Menu, MenuItem, MenuItemDish
from meals.production import adapter, labels
from meals.production.models import Ingredient, ProductionRun, Recipe, RecipeVariant
from meals.seniors.models import Senior
from meals.settings import Settings
from meals.sites.models import Site, SiteSlot
from meals.words import BookingStatus, Fulfilment, Slot

CountKey = tuple[int, int, str, str]
"""(site id, menu item id, variant, fulfilment): the grain of a run's booking snapshot."""


class PlanRefused(Conflict):
    """The plan cannot be made or would break the food-safety limit; ``problems`` say why."""

    def __init__(self, message: str, problems: Sequence[str], *, code: str) -> None:
        self.problems = tuple(problems)
        super().__init__(message, code=code, problems="; ".join(self.problems))


@dataclass(frozen=True, slots=True, kw_only=True)
class Demand:
    """What was booked for one date and slot, as the plan and the snapshot need it."""

    site_counts: list[adapter.SiteCount]
    deliveries: list[adapter.HomeDelivery]
    snapshot: dict[CountKey, int]


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanOutcome:
    plan: ProductionPlan
    snapshot: dict[CountKey, int]

    @property
    def bookings_counted(self) -> int:
        return sum(self.snapshot.values())


@dataclass(frozen=True, slots=True, kw_only=True)
class DiffLine:
    """One snapshot group whose count changed since the run was frozen."""

    site_name: str
    fulfilment: str
    menu_item_name: str
    variant: str
    frozen: int
    now: int

    @property
    def change(self) -> int:
        return self.now - self.frozen


@dataclass(frozen=True, slots=True, kw_only=True)
class RunDiff:
    lines: tuple[DiffLine, ...]
    frozen_total: int
    current_total: int

    @property
    def changed(self) -> bool:
        return bool(self.lines)


def active_bookings(service_date: date, slot: Slot):
    """The bookings the kitchen cooks for: every status but cancelled."""
    return (
        Booking.service_date == service_date,
        Booking.slot == slot,
        Booking.status != BookingStatus.CANCELLED,
    )


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for a burst of allocation with no awaits inside.

    Planning builds tens of thousands of small, acyclic, long-lived objects (one order
    line, label and box per home delivery). Each allocation burst makes the collector
    walk the whole heap again and again for nothing; refcounting frees these objects
    anyway. The collector is restored afterwards, exactly as it was.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


async def load_demand(session: AsyncSession, service_date: date, slot: Slot) -> Demand:
    """Site drops aggregated in SQL; home deliveries one row each (each gets a label)."""
    grouped = await session.execute(
        select(
            Booking.site_id,
            Booking.menu_item_id,
            Booking.variant,
            Booking.fulfilment,
            func.count(),
        )
        .where(*active_bookings(service_date, slot), Booking.fulfilment != Fulfilment.DELIVERY)
        .group_by(Booking.site_id, Booking.menu_item_id, Booking.variant, Booking.fulfilment)
    )
    snapshot: dict[CountKey, int] = {}
    site_portions: dict[tuple[int, int, str], int] = {}
    for site_id, item_id, variant, fulfilment, count in grouped:
        snapshot[(site_id, item_id, variant.value, fulfilment.value)] = count
        key = (site_id, item_id, variant.value)
        site_portions[key] = site_portions.get(key, 0) + count
    home_rows = await session.execute(
        select(
            Booking.id,
            Booking.site_id,
            Booking.menu_item_id,
            type_coerce(Booking.variant, String),  # the plain value: no enum lookup per row
            Senior.id,
            Senior.name,
            Senior.address,
            Senior.phone,
            Senior.delivery_notes,
            Senior.iddsi_level,
            Senior.halal,
            Senior.low_salt,
            Senior.low_sugar,
            # as text: a few distinct lists among thousands of rows, each decoded once below
            cast(Senior.allergens, Text),
        )
        .join(Senior, Senior.id == Booking.senior_id)
        .where(*active_bookings(service_date, slot), Booking.fulfilment == Fulfilment.DELIVERY)
        .order_by(Booking.id)
    )
    allergen_lists: dict[str | None, tuple[str, ...]] = {}
    deliveries = []
    with collector_paused():
        for row in home_rows:
            allergens_text = row[13]
            allergens = allergen_lists.get(allergens_text)
            if allergens is None:
                allergens = allergen_lists[allergens_text] = (
                    tuple(json.loads(allergens_text)) if allergens_text else ()
                )
            deliveries.append(adapter.HomeDelivery._make((*row[:13], allergens)))
    delivery = Fulfilment.DELIVERY.value
    home_counts = Counter((home.site_id, home.menu_item_id, home.variant) for home in deliveries)
    for (site_id, item_id, variant), count in home_counts.items():
        snapshot[(site_id, item_id, variant, delivery)] = count
    return Demand(
        site_counts=[
            adapter.SiteCount(site_id=s, menu_item_id=i, variant=v, portions=n)
            for (s, i, v), n in site_portions.items()
        ],
        deliveries=deliveries,
        snapshot=snapshot,
    )


async def _menu_items(
    session: AsyncSession, service_date: date, slot: Slot
) -> tuple[dict[int, adapter.MenuItemInfo], dict[int, str]]:
    """The slot's menu items with their dishes in order, and those dishes' names."""
    rows = await session.execute(
        select(MenuItem.id, MenuItem.name, MenuItemDish.dish_id, Dish.name)
        .join(Menu, Menu.id == MenuItem.menu_id)
        .join(MenuItemDish, MenuItemDish.menu_item_id == MenuItem.id)
        .join(Dish, Dish.id == MenuItemDish.dish_id)
        .where(Menu.service_date == service_date, Menu.slot == slot)
        .order_by(MenuItem.id, MenuItemDish.position)
    )
    names: dict[int, str] = {}
    dishes: dict[int, list[str]] = {}
    dish_names: dict[int, str] = {}
    for item_id, name, dish_id, dish_name in rows:
        names[item_id] = name
        dishes.setdefault(item_id, []).append(str(dish_id))
        dish_names[dish_id] = dish_name
    items = {
        item_id: adapter.MenuItemInfo(name=name, dish_ids=tuple(dishes[item_id]))
        for item_id, name in names.items()
    }
    return items, dish_names


async def _sites(session: AsyncSession, slot: Slot) -> dict[int, adapter.SiteInfo]:
    rows = await session.execute(
        select(Site.id, Site.code, Site.name, Site.timezone, SiteSlot.serve_start)
        .join(SiteSlot, SiteSlot.site_id == Site.id)
        .where(SiteSlot.slot == slot)
    )
    return {
        site_id: adapter.SiteInfo(
            site_id=site_id, code=code, name=name, timezone=timezone, serve_start=serve_start
        )
        for site_id, code, name, timezone, serve_start in rows
    }


async def _recipes(
    session: AsyncSession, dish_names: Mapping[int, str]
) -> dict[str, KitchenRecipe]:
    # two round trips, not five: recipes with their lines, then variants with theirs
    recipes = (
        (
            await session.scalars(
                select(Recipe)
                .where(Recipe.dish_id.in_(list(dish_names)))
                .options(
                    joinedload(Recipe.lines),
                    selectinload(Recipe.variants).options(
                        joinedload(RecipeVariant.lines), joinedload(RecipeVariant.steps)
                    ),
                )
            )
        )
        .unique()
        .all()
    )
    ingredients = {row.id: row for row in await session.scalars(select(Ingredient))}
    return adapter.kitchen_recipes(recipes, dish_names, ingredients)


@dataclass(frozen=True, slots=True, kw_only=True)
class KitchenInputs:
    """The slot's menu items, serving sites and recipes: what turns bookings into lines."""

    menu_items: dict[int, adapter.MenuItemInfo]
    sites: dict[int, adapter.SiteInfo]
    recipes: dict[str, KitchenRecipe]


async def kitchen_inputs(session: AsyncSession, service_date: date, slot: Slot) -> KitchenInputs:
    menu_items, dish_names = await _menu_items(session, service_date, slot)
    return KitchenInputs(
        menu_items=menu_items,
        sites=await _sites(session, slot),
        recipes=await _recipes(session, dish_names),
    )


def boxes_per_stop(
    demand: Demand, inputs: KitchenInputs, settings: Settings
) -> dict[str, tuple[int, int]]:
    """(hot, cold) boxes per stop, packed by the kitchen's box model: the router's loads."""
    lines = adapter.order_lines(
        demand.site_counts,
        demand.deliveries,
        inputs.menu_items,
        adapter.unrouted_destinations(demand.site_counts, demand.deliveries),
    )
    try:
        with collector_paused():
            return kitchen_boxes_per_stop(lines, inputs.recipes, adapter.kitchen_params(settings))
    except PlanInputError as error:
        raise PlanRefused(
            "The plan cannot be made: {problems}", error.problems, code="plan_input"
        ) from error


def preparation_per_stop(demand: Demand, inputs: KitchenInputs) -> dict[str, timedelta]:
    """Per stop, the longest cooking and texture steps of its food (see
    ``kitchen.preparation_per_stop``): with the freeze, when its boxes can leave at the
    earliest."""
    lines = adapter.order_lines(
        demand.site_counts,
        demand.deliveries,
        inputs.menu_items,
        adapter.unrouted_destinations(demand.site_counts, demand.deliveries),
    )
    with collector_paused():
        return kitchen_preparation_per_stop(lines, inputs.recipes)


def plan_for_routes(
    demand: Demand,
    inputs: KitchenInputs,
    trips: Sequence[adapter.RoutedTrip],
    settings: Settings,
    *,
    not_before: datetime,
    allow_violations: bool = False,
) -> ProductionPlan:
    """Cooking waves timed to the routed departures, packing and labels per routed stop.

    Refused (unless ``allow_violations``) when a batch would start cooking before
    ``not_before`` (the freeze) or a box would be eaten past the food-safety limit.
    """
    try:
        with collector_paused():
            plan = plan_production(
                adapter.order_lines(
                    demand.site_counts,
                    demand.deliveries,
                    inputs.menu_items,
                    adapter.routed_destinations(trips),
                ),
                inputs.recipes,
                adapter.departures(trips, settings.kitchen_van_holding_celsius),
                adapter.kitchen_params(settings),
                allow_violations=allow_violations,
            )
    except PlanInputError as error:
        raise PlanRefused(
            "The plan cannot be made: {problems}", error.problems, code="plan_input"
        ) from error
    except InfeasiblePlanError as error:
        raise PlanRefused(
            "No cooking schedule meets the food-safety limit: {problems}",
            [_violation_text(v, error.draft) for v in error.violations],
            code="plan_infeasible",
        ) from error
    if allow_violations:
        return plan
    early = [batch for batch in plan.batches if batch.cook_start < not_before]
    if early:
        zone = settings.district_zone
        raise PlanRefused(
            "Cooking would start before the bookings were frozen: {problems}",
            [
                f"batch {b.batch_id} ({b.dish_name}) at {b.cook_start.astimezone(zone):%H:%M}, "
                f"frozen at {not_before.astimezone(zone):%H:%M}; a later departure wave "
                "or an earlier freeze would fix it"
                for b in early
            ],
            code="cooking_before_freeze",
        )
    over = [
        row
        for row in labels.box_rows(plan, trips, labels.SafetyRule.of(settings))
        if row.minutes_over > 0
    ]
    if over:
        raise PlanRefused(
            "Some boxes would be eaten past the food-safety limit: {problems}",
            [
                f"box {row.label} to {row.stop_id} (stop {row.stop_position} of {row.van} "
                f"{row.departure:%H:%M}) {row.minutes_over} min over the "
                f"{row.limit_minutes} min limit"
                for row in over
            ],
            code="plan_infeasible",
        )
    return plan


def infeasible(draft: ProductionPlan, *more: str) -> PlanRefused:
    """The refusal of a plan whose boxes would be eaten past the limit: batch, box labels,
    stop and minutes over, one per box's batch and stop (and any further reasons)."""
    return PlanRefused(
        "No cooking schedule meets the food-safety limit: {problems}",
        [*(_violation_text(v, draft) for v in draft.violations), *more],
        code="plan_infeasible",
    )


def _violation_text(violation: SafetyViolation, draft: ProductionPlan | None = None) -> str:
    minutes = -(-int(violation.excess.total_seconds()) // 60)  # a second over is a minute
    boxes = sorted(
        box.box_number
        for van in (draft.packing if draft is not None else ())
        if van.departure_id == violation.departure_id
        for stop in van.stops
        if stop.stop_id == violation.stop_id
        for box in stop.boxes
        if box.variant is violation.variant
        and any(item.dish_id == violation.dish_id for item in box.items)
    )
    labels = f" (box {', '.join(f'#{n}' for n in boxes)})" if boxes else ""
    return (
        f"batch {violation.batch_id} ({violation.dish_name}, {violation.variant}) for "
        f"{violation.departure_id} would be eaten {minutes} min past the "
        f"{int(violation.limit.total_seconds() // 60)} min limit at {violation.stop_id}{labels}"
    )


def new_run(
    *,
    service_date: date,
    slot: Slot,
    demand: Demand,
    plan: ProductionPlan,
    route_plan_id: int | None,
    frozen_at: datetime,
    actor: Actor | None,
) -> ProductionRun:
    """The run to store: the frozen bookings and the kitchen's plan for one route plan."""
    return ProductionRun(
        service_date=service_date,
        slot=slot,
        frozen_at=frozen_at,
        frozen_by_account_id=actor.account_id if actor else None,
        total_portions=plan.total_portions,
        bookings_counted=sum(demand.snapshot.values()),
        booking_counts=[[*key, count] for key, count in sorted(demand.snapshot.items())],
        plan=msgspec.json.encode(plan).decode(),
        route_plan_id=route_plan_id,
        home_booking_ids=sorted(d.booking_id for d in demand.deliveries),
    )


async def frozen_demand(session: AsyncSession, run: ProductionRun) -> Demand:
    """The run's frozen bookings again, for a re-plan: the same site counts and homes.

    Home deliveries cancelled since the freeze are left out (nobody to hand them to).
    """
    live = await load_demand(session, run.service_date, run.slot)
    frozen_homes = set(run.home_booking_ids)
    site_portions: dict[tuple[int, int, str], int] = {}
    snapshot: dict[CountKey, int] = {}
    for site_id, item_id, variant, fulfilment, count in run.booking_counts:
        snapshot[(site_id, item_id, variant, fulfilment)] = count
        if fulfilment != Fulfilment.DELIVERY.value:
            key = (site_id, item_id, variant)
            site_portions[key] = site_portions.get(key, 0) + count
    return Demand(
        site_counts=[
            adapter.SiteCount(site_id=s, menu_item_id=i, variant=v, portions=n)
            for (s, i, v), n in site_portions.items()
        ],
        deliveries=[d for d in live.deliveries if d.booking_id in frozen_homes],
        snapshot=snapshot,
    )


async def get_run(session: AsyncSession, run_id: int) -> ProductionRun:
    run = await session.get(ProductionRun, run_id)
    if run is None:
        raise NotFound("Production run {run_id} does not exist.", run_id=run_id)
    return run


async def latest_run(session: AsyncSession, service_date: date, slot: Slot) -> ProductionRun | None:
    """The run the kitchen cooks from: the last one frozen for the date and slot."""
    return (
        await session.scalars(
            select(ProductionRun)
            .where(ProductionRun.service_date == service_date, ProductionRun.slot == slot)
            .order_by(ProductionRun.frozen_at.desc(), ProductionRun.id.desc())
            .limit(1)
        )
    ).first()


def plan_of(run: ProductionRun) -> ProductionPlan:
    """The frozen plan, exactly as it was computed."""
    return msgspec.json.decode(run.plan, type=ProductionPlan)


async def run_diff(session: AsyncSession, run: ProductionRun) -> RunDiff:
    """Bookings now against the run's snapshot: late cancellations and late additions."""
    current = (await load_demand(session, run.service_date, run.slot)).snapshot
    frozen: dict[CountKey, int] = {
        (site_id, item_id, variant, fulfilment): count
        for site_id, item_id, variant, fulfilment, count in run.booking_counts
    }
    changed = sorted(
        key for key in frozen.keys() | current.keys() if frozen.get(key, 0) != current.get(key, 0)
    )
    site_names = dict((await session.execute(select(Site.id, Site.name))).all())
    item_ids = {key[1] for key in changed}
    item_names = (
        dict(
            (
                await session.execute(
                    select(MenuItem.id, MenuItem.name).where(MenuItem.id.in_(item_ids))
                )
            ).all()
        )
        if item_ids
        else {}
    )
    return RunDiff(
        lines=tuple(
            DiffLine(
                site_name=site_names.get(key[0], str(key[0])),
                fulfilment=key[3],
                menu_item_name=item_names.get(key[1], str(key[1])),
                variant=key[2],
                frozen=frozen.get(key, 0),
                now=current.get(key, 0),
            )
            for key in changed
        ),
        frozen_total=sum(frozen.values()),
        current_total=sum(current.values()),
    )


async def list_runs(session: AsyncSession, service_date: date, slot: Slot) -> list[ProductionRun]:
    return list(
        (
            await session.scalars(
                select(ProductionRun)
                .where(ProductionRun.service_date == service_date, ProductionRun.slot == slot)
                .options(defer(ProductionRun.plan))
                .order_by(ProductionRun.id.desc())
            )
        ).all()
    )
