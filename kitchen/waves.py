"""Cooking waves: batches sized to the equipment, timed backwards from the departures.

A demand is the portions of one dish variant on one departure. It must finish cooking
no earlier than (latest eating − limit) and be ready, after the variant's extra steps,
no later than (departure − packing lead). Demands of variants cooked identically (same
ingredients, e.g. regular rice and rice to be puréed) share a batch while their windows
overlap, up to the equipment's capacity. A diet batch (no regular portions: low-salt,
halal, puréed...) small enough for the small-batch equipment
(``KitchenParams.small_batch_equipment``) is cooked there instead of holding a large pan.
Batches are then placed on equipment units as
late as possible (fresher food), latest deadline first. When shared equipment pushes a
batch so early that the food of a later departure riding along in it would be eaten past
the limit, that departure's portions get batches of their own (cooked just before it
leaves) and the batches are placed again. A batch that still cannot end late enough is
reported with the stop it fails and by how much.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from kitchen.model import Departure, DietVariant, KitchenParams
from kitchen.recipes import ResolvedRecipe
from kitchen.result import Batch, BatchAllocation, CookingWave, SafetyViolation

DishVariant = tuple[str, DietVariant]
CookingKey = tuple[str, object]
"""(dish id, what makes the cooking distinct); variants with equal keys share batches."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DepartureDemand:
    """Portions of one dish variant on one departure and the stop that eats them last."""

    departure_id: str
    variant: DietVariant
    portions: int
    latest_eating_at: datetime
    latest_eating_stop_id: str


def cooking_key(recipe: ResolvedRecipe, params: KitchenParams) -> CookingKey:
    """Variants share a pot when their ingredients match, unless kept apart by setting."""
    if recipe.variant in params.separate_cooking_variants:
        return (recipe.dish_id, recipe.variant)
    ingredients = sorted(
        (line.ingredient.ingredient_id, line.unit, line.quantity) for line in recipe.lines
    )
    return (recipe.dish_id, (recipe.yield_portions, tuple(ingredients)))


@dataclass(slots=True, kw_only=True)
class _Window:
    """When a batch may end cooking: not before ``earliest_end``, not after ``latest_end``."""

    earliest_end: datetime
    latest_end: datetime

    def overlaps(self, other: _Window) -> bool:
        return max(self.earliest_end, other.earliest_end) <= min(self.latest_end, other.latest_end)

    def narrow_to(self, other: _Window) -> None:
        self.earliest_end = max(self.earliest_end, other.earliest_end)
        self.latest_end = min(self.latest_end, other.latest_end)


@dataclass(slots=True, kw_only=True)
class _DraftBatch:
    recipe: ResolvedRecipe
    equipment_kind: str
    window: _Window
    departs_at: datetime
    allocations: dict[tuple[str, DietVariant], int] = field(default_factory=dict)
    portions: int = 0
    equipment_unit: int = 0
    cook_end: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class WavePlan:
    """Scheduled batches in cooking order, their waves, and any limit breaches."""

    batches: tuple[Batch, ...]
    waves: tuple[CookingWave, ...]
    violations: tuple[SafetyViolation, ...]


def plan_waves(
    demands: Mapping[CookingKey, Iterable[DepartureDemand]],
    recipes: Mapping[DishVariant, ResolvedRecipe],
    departures: Mapping[str, Departure],
    params: KitchenParams,
) -> WavePlan:
    """Form, schedule and check the batches for every cooking key.

    A later departure whose portions ride along in an earlier departure's batch and break
    the limit there is cooked on its own in the next pass (a few passes at most).
    """
    solo: set[tuple[str, datetime]] = set()
    for _ in range(SOLO_PASSES):
        plan = _plan_waves(demands, recipes, departures, params, solo)
        riding = _riding_along_too_early(plan, departures) - solo
        if not riding:
            break
        solo |= riding
    return plan


SOLO_PASSES = 4
"""Passes giving riding-along departures batches of their own before reporting violations."""


def _riding_along_too_early(
    plan: WavePlan, departures: Mapping[str, Departure]
) -> set[tuple[str, datetime]]:
    first_departure = {
        batch.batch_id: min(departures[a.departure_id].departs_at for a in batch.allocations)
        for batch in plan.batches
    }
    return {
        (violation.dish_id, departures[violation.departure_id].departs_at)
        for violation in plan.violations
        if departures[violation.departure_id].departs_at != first_departure[violation.batch_id]
    }


def _plan_waves(
    demands: Mapping[CookingKey, Iterable[DepartureDemand]],
    recipes: Mapping[DishVariant, ResolvedRecipe],
    departures: Mapping[str, Departure],
    params: KitchenParams,
    solo: set[tuple[str, datetime]],
) -> WavePlan:
    drafts_by_kind: dict[str, list[_DraftBatch]] = {}
    demand_index: dict[tuple[str, DietVariant, str], DepartureDemand] = {}
    for (dish_id, _), key_demands in demands.items():
        windows = []
        for demand in key_demands:
            recipe = recipes[(dish_id, demand.variant)]
            departure = departures[demand.departure_id]
            windows.append((demand, _window_for(demand, recipe, departure, params)))
            demand_index[(dish_id, demand.variant, demand.departure_id)] = demand
        if not windows:
            continue
        first_recipe = recipes[(dish_id, windows[0][0].variant)]
        capacity = params.equipment[first_recipe.equipment_kind].max_portions_per_batch
        for draft in _form_batches(first_recipe, windows, capacity, departures, solo):
            draft.equipment_kind = _equipment_for(draft, params)
            drafts_by_kind.setdefault(draft.equipment_kind, []).append(draft)
    for kind, drafts in drafts_by_kind.items():
        _schedule(drafts, params.equipment[kind].units)
    all_drafts = [draft for drafts in drafts_by_kind.values() for draft in drafts]
    all_drafts.sort(key=_cooking_order)
    return _finish(all_drafts, demand_index, recipes, departures, params)


def _equipment_for(draft: _DraftBatch, params: KitchenParams) -> str:
    """The small-batch kind for a diet batch (no regular portions) that fits one of its
    batches; the recipe's kind otherwise."""
    small = params.small_batch_equipment
    if (
        small is None
        or any(variant is DietVariant.REGULAR for _, variant in draft.allocations)
        or draft.portions > params.equipment[small].max_portions_per_batch
    ):
        return draft.recipe.equipment_kind
    return small


def _window_for(
    demand: DepartureDemand,
    recipe: ResolvedRecipe,
    departure: Departure,
    params: KitchenParams,
) -> _Window:
    limit = params.safety_limit_for(departure, recipe.served_hot)
    return _Window(
        earliest_end=demand.latest_eating_at - limit,
        latest_end=departure.departs_at - params.packing_lead_time - recipe.extra_steps_duration,
    )


def _form_batches(
    recipe: ResolvedRecipe,
    windows: list[tuple[DepartureDemand, _Window]],
    capacity: int,
    departures: Mapping[str, Departure],
    solo: set[tuple[str, datetime]],
) -> list[_DraftBatch]:
    """Fill batches latest deadline first; a demand joins a batch while windows overlap,
    unless it or the batch leaves at another time and is to be cooked on its own."""
    windows.sort(
        key=lambda pair: (
            pair[1].latest_end,
            pair[1].earliest_end,
            -pair[0].variant.display_rank,
            pair[0].departure_id,
        ),
        reverse=True,
    )
    drafts: list[_DraftBatch] = []
    current: _DraftBatch | None = None
    for demand, window in windows:
        remaining = demand.portions
        allocation_key = (demand.departure_id, demand.variant)
        departs_at = departures[demand.departure_id].departs_at
        while remaining > 0:
            if (
                current is None
                or current.portions >= capacity
                or not current.window.overlaps(window)
                or (
                    current.departs_at != departs_at
                    and (
                        (recipe.dish_id, departs_at) in solo
                        or (recipe.dish_id, current.departs_at) in solo
                    )
                )
            ):
                current = _DraftBatch(
                    recipe=recipe,
                    equipment_kind=recipe.equipment_kind,
                    window=_Window(earliest_end=window.earliest_end, latest_end=window.latest_end),
                    departs_at=departs_at,
                )
                drafts.append(current)
            else:
                current.window.narrow_to(window)
            taken = min(remaining, capacity - current.portions)
            current.allocations[allocation_key] = current.allocations.get(allocation_key, 0) + taken
            current.portions += taken
            remaining -= taken
    return drafts


def _schedule(drafts: list[_DraftBatch], units: int) -> None:
    """Place batches as late as allowed on the unit that stays free the latest."""
    free_until: list[datetime | None] = [None] * units
    drafts.sort(key=_deadline_order, reverse=True)
    for draft in drafts:
        unit = _latest_free_unit(free_until)
        unit_free = free_until[unit]
        latest_end = draft.window.latest_end
        cook_end = latest_end if unit_free is None else min(latest_end, unit_free)
        draft.cook_end = cook_end
        draft.equipment_unit = unit + 1
        free_until[unit] = cook_end - draft.recipe.cook_time


def _deadline_order(draft: _DraftBatch) -> tuple[datetime, datetime]:
    return (draft.window.latest_end, draft.window.earliest_end)


def _latest_free_unit(free_until: list[datetime | None]) -> int:
    """An unused unit first, else the first of those staying free the latest."""
    if None in free_until:
        return free_until.index(None)
    return free_until.index(max(free_until))  # type: ignore[type-var]


def _cooking_order(draft: _DraftBatch) -> tuple:
    assert draft.cook_end is not None
    return (
        draft.cook_end - draft.recipe.cook_time,
        draft.equipment_kind,
        draft.equipment_unit,
        draft.recipe.dish_id,
    )


def _finish(
    drafts: list[_DraftBatch],
    demand_index: Mapping[tuple[str, DietVariant, str], DepartureDemand],
    recipes: Mapping[DishVariant, ResolvedRecipe],
    departures: Mapping[str, Departure],
    params: KitchenParams,
) -> WavePlan:
    """Number batches in cooking order, group them into waves and check the limit."""
    wave_times = sorted(
        {
            departures[departure_id].departs_at
            for draft in drafts
            for departure_id, _ in draft.allocations
        }
    )
    wave_number_at = {moment: number for number, moment in enumerate(wave_times, start=1)}
    batches: list[Batch] = []
    violations: list[SafetyViolation] = []
    for number, draft in enumerate(drafts, start=1):
        dish = draft.recipe
        cook_end = draft.cook_end
        assert cook_end is not None
        batch_id = f"B{number}"
        allocations: list[BatchAllocation] = []
        binding: tuple[timedelta, datetime, timedelta] | None = None
        for (departure_id, variant), portions in sorted(
            draft.allocations.items(), key=lambda item: (item[0][1].display_rank, item[0][0])
        ):
            recipe = recipes[(dish.dish_id, variant)]
            demand = demand_index[(dish.dish_id, variant, departure_id)]
            limit = params.safety_limit_for(departures[departure_id], recipe.served_hot)
            slack = limit - (demand.latest_eating_at - cook_end)
            if binding is None or slack < binding[0]:
                binding = (slack, demand.latest_eating_at, limit)
            if slack < timedelta():
                violations.append(
                    SafetyViolation(
                        batch_id=batch_id,
                        dish_id=dish.dish_id,
                        dish_name=dish.dish_name,
                        variant=variant,
                        departure_id=departure_id,
                        stop_id=demand.latest_eating_stop_id,
                        cook_end=cook_end,
                        eating_at=demand.latest_eating_at,
                        limit=limit,
                        excess=-slack,
                    )
                )
            allocations.append(
                BatchAllocation(
                    departure_id=departure_id,
                    variant=variant,
                    portions=portions,
                    extra_steps=recipe.extra_steps,
                    ready_at=cook_end + recipe.extra_steps_duration,
                )
            )
        assert binding is not None
        first_departure = min(departures[a.departure_id].departs_at for a in allocations)
        batches.append(
            Batch(
                batch_id=batch_id,
                wave_number=wave_number_at[first_departure],
                dish_id=dish.dish_id,
                dish_name=dish.dish_name,
                variants=tuple(dict.fromkeys(a.variant for a in allocations)),
                portions=draft.portions,
                equipment_kind=draft.equipment_kind,
                equipment_unit=draft.equipment_unit,
                cook_start=cook_end - dish.cook_time,
                cook_end=cook_end,
                ready_at=max(a.ready_at for a in allocations),
                latest_eating_at=binding[1],
                safety_limit=binding[2],
                allocations=tuple(allocations),
            )
        )
    return WavePlan(
        batches=tuple(batches),
        waves=_waves(batches, wave_times, departures),
        violations=tuple(violations),
    )


def _waves(
    batches: list[Batch], wave_times: list[datetime], departures: Mapping[str, Departure]
) -> tuple[CookingWave, ...]:
    used_departures = {allocation.departure_id for b in batches for allocation in b.allocations}
    return tuple(
        CookingWave(
            wave_number=number,
            departs_at=moment,
            departure_ids=tuple(
                sorted(d for d in used_departures if departures[d].departs_at == moment)
            ),
            batch_ids=tuple(b.batch_id for b in batches if b.wave_number == number),
        )
        for number, moment in enumerate(wave_times, start=1)
    )
