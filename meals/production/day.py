"""The plan of the day, in one order: freeze the bookings → plan the routes → time the
cooking waves to the routed departures → pack per routed van, trip and stop.

Every way of planning (freezing on the kitchen page or the CLI, planning or re-planning on
the dispatch page, the API, a background job) goes through here, so the kitchen's packing
list, the labels, the driver's page and the route sheet always come from one plan. A plan
is stored whole or not at all: routes that the kitchen cannot cook for in time are refused
with the box, the stop and the minutes over.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kitchen import DestinationKind, ProductionPlan
from meals.accounts.service import Actor
from meals.db import begin_write
from meals.deliveries import service as deliveries
from meals.deliveries.models import RoutePlanRecord, RouteRun, StopKind
from meals.errors import check_planning_day
from meals.production import adapter
from meals.production import service as production
from meals.production.models import ProductionRun
from meals.settings import Settings
from meals.sites import fleet
from meals.words import Slot

MARGIN_SECONDS = 60
"""Slack added to a wave's shorter budget, so that ETAs rounded to the second stay inside."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DayPlan:
    """What one planning pass stored: the kitchen's run and the route plan it packs for."""

    run: ProductionRun
    route_plan: RoutePlanRecord


def _route_demand(
    demand: production.Demand,
    boxes: dict[str, tuple[int, int]],
    earliest_departure: dict[str, int],
) -> deliveries.FrozenDemand:
    portions: dict[int, int] = {}
    for count in demand.site_counts:
        portions[count.site_id] = portions.get(count.site_id, 0) + count.portions
    return deliveries.FrozenDemand(
        site_portions=portions,
        home_bookings=[(d.booking_id, d.site_id, d.senior_id) for d in demand.deliveries],
        boxes=boxes,
        earliest_departure=earliest_departure,
    )


def _earliest_departures(
    demand: production.Demand,
    kitchen: production.KitchenInputs,
    settings: Settings,
    service_date: date,
    frozen_at: datetime,
) -> dict[str, int]:
    """Per stop, the earliest its boxes can leave: cooking starts at the freeze, then the
    longest cooking and texture steps of its food, then packing. On a braising day the
    stops with the braise ride the first wave it is ready for, so nothing is cooked before
    the bookings are frozen (seconds since the kitchen's midnight)."""
    midnight = deliveries.kitchen_midnight(settings, service_date)
    freeze = (frozen_at - midnight).total_seconds()
    lead = settings.kitchen_packing_lead.total_seconds()
    return {
        stop: max(0, int(freeze + span.total_seconds() + lead))
        for stop, span in production.preparation_per_stop(demand, kitchen).items()
    }


def _with_processing(
    rules: deliveries.adapter.DeliveryRules, kitchen: production.KitchenInputs
) -> deliveries.adapter.DeliveryRules:
    """The router's time budget leaves room for the slowest processing after cooking
    (mincing, puréeing): those portions are ready that much later, so they must be eaten
    that much sooner after the van leaves."""
    processing = max(
        (
            sum((step.duration for step in change.extra_steps), timedelta())
            for recipe in kitchen.recipes.values()
            for change in recipe.variants.values()
        ),
        default=timedelta(),
    )
    return dataclasses.replace(rules, packing_lead=rules.packing_lead + processing)


def _refuse_without_van_time(rules: deliveries.adapter.DeliveryRules) -> None:
    """A limit shorter than packing and the slowest texture step leaves no time to deliver:
    refused in one sentence before anything is routed."""
    if rules.food_safety_limit > rules.packing_lead:
        return
    raise production.PlanRefused(
        "No meal can be delivered within the food-safety limit: {problems}",
        [
            f"the {_minutes(rules.food_safety_limit)} min limit is used up by packing and the "
            f"slowest texture step after cooking ({_minutes(rules.packing_lead)} min), "
            f"{_minutes(rules.packing_lead - rules.food_safety_limit)} min over before a van "
            "leaves"
        ],
        code="plan_infeasible",
    )


def _refuse_frozen_too_late(
    earliest: dict[str, int],
    rules: deliveries.adapter.DeliveryRules,
    settings: Settings,
    service_date: date,
    frozen_at: datetime,
) -> None:
    """Frozen so late that no stop's food can be cooked for any wave: refused in one
    sentence, not stored as a plan that serves nobody."""
    if not earliest or min(earliest.values()) <= max(rules.departure_waves):
        return
    zone = settings.district_zone
    last = deliveries.seconds_to_moment(settings, service_date, max(rules.departure_waves))
    first = deliveries.seconds_to_moment(settings, service_date, min(earliest.values()))
    raise production.PlanRefused(
        "Cooking would start before the bookings were frozen: {problems}",
        [
            f"frozen at {frozen_at.astimezone(zone):%Y-%m-%d %H:%M}, the first food is "
            f"cooked and packed at {first.astimezone(zone):%H:%M}, after the last departure "
            f"wave ({last.astimezone(zone):%H:%M}); an earlier freeze would fix it"
        ],
        code="cooking_before_freeze",
    )


def _minutes(span: timedelta) -> int:
    return int(span.total_seconds() // 60)


def _early_cooking(
    draft: ProductionPlan,
    trips: Sequence[adapter.RoutedTrip],
    rules: deliveries.adapter.DeliveryRules,
    settings: Settings,
    service_date: date,
) -> tuple[int, ...]:
    """Per departure wave, how much earlier than the router assumed (departure − packing
    lead − slowest texture step) the kitchen's shared equipment finishes the earliest batch
    cooked for that wave (and any batch of an earlier wave whose food for this one would be
    eaten past the limit); never less than what was already given to the router.
    Unchanged when no box breaks the limit."""
    if not draft.violations:
        return rules.early_cooking
    midnight = deliveries.kitchen_midnight(settings, service_date)
    leaves = {trip.departure_id: trip.departs_at for trip in trips}
    given = rules.early_cooking or (0,) * len(rules.departure_waves)
    early = dict(zip(rules.departure_waves, given, strict=True))
    late = {(v.batch_id, v.departure_id) for v in draft.violations}
    for batch in draft.batches:
        first = min(leaves[allocation.departure_id] for allocation in batch.allocations)
        for allocation in batch.allocations:
            departs_at = leaves[allocation.departure_id]
            wave = int((departs_at - midnight).total_seconds())
            riding = departs_at != first and (batch.batch_id, allocation.departure_id) not in late
            if wave not in early or riding:
                continue
            shortfall = int((departs_at - rules.packing_lead - batch.cook_end).total_seconds())
            early[wave] = max(early[wave], shortfall + MARGIN_SECONDS)
    return tuple(early[wave] for wave in rules.departure_waves)


async def routed_trips(
    session: AsyncSession, settings: Settings, route_plan: RoutePlanRecord
) -> list[adapter.RoutedTrip]:
    """The route plan's trips as the kitchen packs them: stops in order with their handover.

    A home on a meal point's walking list rides in the drop: same trip and position, its
    place on the walk (numbered ``3·2`` on every sheet) and its own handover time at the end
    of the walk.
    """
    zone = settings.district_zone
    runs = list(
        await session.scalars(
            select(RouteRun)
            .where(RouteRun.plan_id == route_plan.id)
            .order_by(RouteRun.departs_at, RouteRun.van_code)
        )
    )
    stops = await deliveries.plan_stops(session, route_plan)
    names = await deliveries.stop_names(session, stops)
    drops = {(s.site_id, s.kind): s for s in stops if s.kind is StopKind.SITE_DROP}
    by_run: dict[int, list[adapter.RoutedStop]] = {run.id: [] for run in runs}
    for stop in stops:
        if stop.unserved_reason or stop.eta is None:
            continue
        if stop.kind is StopKind.LAST_MILE_HOME:
            drop = drops.get((stop.carried_by_site_id, StopKind.SITE_DROP))
            if drop is None or drop.run_id is None or drop.sequence is None:
                continue
            run_id, sequence, carried_by = drop.run_id, drop.sequence, drop.stop_key
            walk: int | None = stop.sequence
        elif stop.run_id is None or stop.sequence is None:
            continue
        else:
            run_id, sequence, carried_by, walk = stop.run_id, stop.sequence, None, None
        by_run[run_id].append(
            adapter.RoutedStop(
                stop_id=stop.stop_key,
                kind=DestinationKind.SITE
                if stop.kind is StopKind.SITE_DROP
                else DestinationKind.HOME,
                name=names.get(stop.id, stop.stop_key),
                sequence=sequence,
                eta=stop.eta.astimezone(zone),
                carried_by=carried_by,
                walk_sequence=walk,
            )
        )
    return [
        adapter.RoutedTrip(
            departure_id=adapter.departure_label(run.van_code, run.departs_at.astimezone(zone)),
            van=run.van_code,
            departs_at=run.departs_at.astimezone(zone),
            stops=tuple(by_run[run.id]),
        )
        for run in runs
    ]


async def _plan_and_store(
    session: AsyncSession,
    *,
    settings: Settings,
    service_date: date,
    slot: Slot,
    demand: production.Demand,
    frozen_at: datetime,
    actor: Actor | None,
    now: datetime,
    excluded_vans: Sequence[str],
    executor: Executor | None,
) -> DayPlan:
    await deliveries.refuse_if_started(session, service_date, slot)
    kitchen = await production.kitchen_inputs(session, service_date, slot)
    boxes = production.boxes_per_stop(demand, kitchen, settings)
    waves = await fleet.waves_for(session, slot, settings)
    rules = _with_processing(
        deliveries.delivery_rules(settings, service_date, slot, waves), kitchen
    )
    _refuse_without_van_time(rules)
    earliest = _earliest_departures(demand, kitchen, settings, service_date, frozen_at)
    _refuse_frozen_too_late(earliest, rules, settings, service_date, frozen_at)
    inputs = await deliveries.load_inputs(
        session,
        settings=settings,
        service_date=service_date,
        slot=slot,
        demand=_route_demand(demand, boxes, earliest),
        excluded_vans=excluded_vans,
    )
    attempts = settings.plan_reroute_attempts
    first: tuple[ProductionPlan, int] | None = None
    while True:
        if session.in_transaction():
            await session.commit()
        result, provider_name = await deliveries.solve_routes(
            inputs, rules, settings, slot, executor=executor
        )
        await begin_write(session)
        try:
            await deliveries.refuse_if_started(session, service_date, slot)
            record = await deliveries.store_routes(
                session,
                settings=settings,
                service_date=service_date,
                slot=slot,
                actor=actor,
                now=now,
                inputs=inputs,
                rules=rules,
                result=result,
                provider_name=provider_name,
                excluded_vans=excluded_vans,
            )
            trips = await routed_trips(session, settings, record)
            draft = production.plan_for_routes(
                demand, kitchen, trips, settings, not_before=frozen_at, allow_violations=True
            )
            unserved = sum(
                1 for stop in await deliveries.plan_stops(session, record) if stop.unserved_reason
            )
            if first is None:
                first = (draft, unserved)
            elif unserved > first[1]:
                # routing each wave within when its food is really cooked leaves stops out:
                # the kitchen cannot cook this day in time, so nothing is stored
                raise production.infeasible(
                    first[0],
                    f"routing each wave within the time its food is really cooked leaves "
                    f"{unserved - first[1]} more stops unserved",
                )
            shorter = _early_cooking(draft, trips, rules, settings, service_date)
            if draft.violations and attempts > 0 and shorter != rules.early_cooking:
                # the kitchen's shared equipment finishes some of a wave's food earlier
                # than that wave's packing lead: route again with that wave's budget
                # counted from when its food really finishes cooking
                attempts -= 1
                await session.rollback()
                rules = dataclasses.replace(rules, early_cooking=shorter)
                continue
            plan = production.plan_for_routes(
                demand, kitchen, trips, settings, not_before=frozen_at
            )
            run = production.new_run(
                service_date=service_date,
                slot=slot,
                demand=demand,
                plan=plan,
                route_plan_id=record.id,
                frozen_at=frozen_at,
                actor=actor,
            )
            session.add(run)
            await session.flush()
            record.production_run_id = run.id
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
        break
    return DayPlan(run=run, route_plan=record)


async def freeze_day(
    session: AsyncSession,
    *,
    settings: Settings,
    service_date: date,
    slot: Slot,
    actor: Actor | None,
    now: datetime,
    excluded_vans: Sequence[str] = (),
    executor: Executor | None = None,
) -> DayPlan:
    """Freeze the current bookings and make the whole plan of the day from them."""
    check_planning_day(settings.planning_days(now), service_date)
    demand = await production.load_demand(session, service_date, slot)
    return await _plan_and_store(
        session,
        settings=settings,
        service_date=service_date,
        slot=slot,
        demand=demand,
        frozen_at=now,
        actor=actor,
        now=now,
        excluded_vans=excluded_vans,
        executor=executor,
    )


async def replan_day(
    session: AsyncSession,
    *,
    settings: Settings,
    service_date: date,
    slot: Slot,
    actor: Actor | None,
    now: datetime,
    excluded_vans: Sequence[str] = (),
    executor: Executor | None = None,
) -> DayPlan:
    """Plan the routes again (a van out) for the frozen bookings and re-flow the kitchen's
    waves, packing and labels; with nothing frozen yet, freeze first."""
    check_planning_day(settings.planning_days(now), service_date)
    run = await production.latest_run(session, service_date, slot)
    if run is None:
        return await freeze_day(
            session,
            settings=settings,
            service_date=service_date,
            slot=slot,
            actor=actor,
            now=now,
            excluded_vans=excluded_vans,
            executor=executor,
        )
    demand = await production.frozen_demand(session, run)
    return await _plan_and_store(
        session,
        settings=settings,
        service_date=service_date,
        slot=slot,
        demand=demand,
        frozen_at=run.frozen_at,
        actor=actor,
        now=now,
        excluded_vans=excluded_vans,
        executor=executor,
    )


async def freeze_run(session: AsyncSession, **kwargs: object) -> ProductionRun:
    """The kitchen's run of :func:`freeze_day` (callers that only want the run)."""
    return (await freeze_day(session, **kwargs)).run  # type: ignore[arg-type]


async def plan_routes(session: AsyncSession, **kwargs: object) -> RoutePlanRecord:
    """The route plan of :func:`replan_day` (callers that only want the routes)."""
    return (await replan_day(session, **kwargs)).route_plan  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True, kw_only=True)
class LabelPlace:
    """Where a home delivery's label puts its boxes: data, so each page words it in its
    own language ("box 12 · VAN-01 10:15 · stop 3·1" / "箱 12 · VAN-01 10:15 · 第 3·1 站")."""

    boxes: tuple[int, ...]
    van: str
    departs_at: datetime
    stop: str
    """The stop number as the sheets print it (``3``, or ``3·1`` on a walking list)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LabelChange:
    """A home delivery's box whose number, van, departure or stop moved since the last
    print; ``None`` on a side where the delivery had no label (not routed, or cancelled)."""

    booking_id: int
    before: LabelPlace | None
    after: LabelPlace | None


def label_places(plan: ProductionPlan) -> dict[int, LabelPlace]:
    """Each home delivery's label place in a plan, by booking id."""
    departs = {van.departure_id: van.departs_at for van in plan.packing}
    return {
        int(label.delivery_id): LabelPlace(
            boxes=label.box_numbers,
            van=label.van_id,
            departs_at=departs[label.departure_id],
            stop=label.stop_number,
        )
        for label in plan.labels
    }


def label_changes(before: ProductionPlan, after: ProductionPlan) -> list[LabelChange]:
    """Home deliveries whose label number, van, departure or stop changed between two plans."""
    old, new = label_places(before), label_places(after)
    return [
        LabelChange(booking_id=key, before=old.get(key), after=new.get(key))
        for key in sorted(old.keys() | new.keys())
        if old.get(key) != new.get(key)
    ]


async def previous_run(session: AsyncSession, run: ProductionRun) -> ProductionRun | None:
    """The run printed before this one for the same date and slot, if any."""
    return (
        await session.scalars(
            select(ProductionRun)
            .where(
                ProductionRun.service_date == run.service_date,
                ProductionRun.slot == run.slot,
                ProductionRun.id < run.id,
            )
            .order_by(ProductionRun.id.desc())
            .limit(1)
        )
    ).first()


__all__ = [
    "DayPlan",
    "LabelChange",
    "LabelPlace",
    "freeze_day",
    "label_changes",
    "label_places",
    "previous_run",
    "replan_day",
    "routed_trips",
]
