"""``plan_production``: order lines in, production plan out, no I/O.

One pass over the order lines aggregates portions per packing unit (departure, stop,
home delivery) and dish variant; everything else is derived from that aggregate, so the
cost is linear in order lines and independent of how many bookings each line counts.
Units with equal contents share them, so per home delivery there is only the work that
is really its own: its packing unit, its boxes and its label.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from kitchen.errors import InfeasiblePlanError, PlanInputError
from kitchen.model import (
    Departure,
    Destination,
    DestinationKind,
    DietVariant,
    HomeRecipient,
    Ingredient,
    KitchenParams,
    OrderLine,
    Recipe,
    StopTiming,
)
from kitchen.packing import PackingInput, PackingUnitKey, StopKey, count_boxes, pack
from kitchen.recipes import ResolvedRecipe, resolve_recipe, variant_problems
from kitchen.result import (
    DestinationPortions,
    DishPortions,
    DishUse,
    IngredientTotal,
    ProductionDestination,
    ProductionPlan,
    SampleEntry,
)
from kitchen.waves import CookingKey, DepartureDemand, cooking_key, plan_waves

DishVariant = tuple[str, DietVariant]


def plan_production(
    order_lines: Iterable[OrderLine],
    recipes: Mapping[str, Recipe],
    departures: Iterable[Departure],
    params: KitchenParams,
    *,
    allow_violations: bool = False,
) -> ProductionPlan:
    """Plan one service (a date and meal slot) for the central kitchen.

    ``recipes`` maps dish id to recipe. Raises PlanInputError when the inputs are
    inconsistent, and InfeasiblePlanError (carrying the draft) when a batch cannot meet
    the food-safety limit — unless ``allow_violations``, for showing what went wrong.
    """
    departures_by_id = _index_departures(departures)
    contents, stops, recipients = _aggregate(order_lines)
    used = {key for unit in _distinct(contents.values()) for key in unit}
    timings = {
        (departure.departure_id, timing.stop_id): timing
        for departure in departures_by_id.values()
        for timing in departure.stops
    }
    _validate(used, stops, timings, recipes, departures_by_id, params)
    resolved = {key: resolve_recipe(recipes[key[0]], key[1]) for key in used}
    eating_at = {
        stop_key: timings[stop_key].eating_time(departures_by_id[stop_key[0]].departs_at)
        for stop_key in stops
    }
    totals = _totals(contents, stops, eating_at, departures_by_id)

    demands_by_cooking: dict[CookingKey, list[DepartureDemand]] = {}
    departure_demand = totals.departure_demand
    for key in sorted(departure_demand, key=lambda k: (k[0], k[1].display_rank)):
        demands_by_cooking.setdefault(cooking_key(resolved[key], params), []).extend(
            DepartureDemand(
                departure_id=departure_id,
                variant=key[1],
                portions=portions,
                latest_eating_at=latest_eating,
                latest_eating_stop_id=stop_id,
            )
            for departure_id, (portions, latest_eating, stop_id) in departure_demand[key].items()
        )
    waves = plan_waves(demands_by_cooking, resolved, departures_by_id, params)
    packing, labels = pack(
        PackingInput(contents=contents, stops=stops, eating_at=eating_at, recipients=recipients),
        resolved,
        departures_by_id,
        params.box_capacity_portions,
        params.cold_box_capacity_portions,
    )
    dish_totals = totals.dishes
    plan = ProductionPlan(
        total_portions=sum(dish_totals.values()),
        dishes=_dish_lines(dish_totals, resolved),
        destinations=_destination_lines(totals.destinations, totals.destination_of, resolved),
        ingredients=scale_ingredients(dish_totals, resolved),
        batches=waves.batches,
        waves=waves.waves,
        samples=tuple(
            SampleEntry(
                batch_id=batch.batch_id,
                dish_id=batch.dish_id,
                dish_name=batch.dish_name,
                variants=batch.variants,
                sampled_at=batch.ready_at,
                grams=params.sample_grams,
                discard_at=batch.ready_at + params.sample_retention,
            )
            for batch in waves.batches
        ),
        packing=packing,
        labels=labels,
        violations=waves.violations,
    )
    if plan.violations and not allow_violations:
        raise InfeasiblePlanError(plan.violations, plan)
    return plan


def boxes_per_stop(
    order_lines: Iterable[OrderLine], recipes: Mapping[str, Recipe], params: KitchenParams
) -> dict[str, tuple[int, int]]:
    """(hot, cold) boxes each stop id will receive, before any van or departure is known.

    The box model the router loads vans by: the same packing as :func:`plan_production`
    does, so a routed van carries exactly the boxes the kitchen packs for it. The lines'
    departure ids are ignored.
    """
    contents, _, _ = _aggregate(order_lines)
    used = {key for unit in _distinct(contents.values()) for key in unit}
    problems = [
        f"dish {dish_id} has no recipe"
        for dish_id in sorted({k[0] for k in used})
        if dish_id not in recipes
    ]
    if problems:
        raise PlanInputError(problems)
    resolved = {key: resolve_recipe(recipes[key[0]], key[1]) for key in used}
    return count_boxes(
        contents, resolved, params.box_capacity_portions, params.cold_box_capacity_portions
    )


def preparation_per_stop(
    order_lines: Iterable[OrderLine], recipes: Mapping[str, Recipe]
) -> dict[str, timedelta]:
    """Per stop id, the longest cooking plus texture steps of anything it receives.

    Cooking starts no earlier than the freeze, so a stop's boxes cannot leave before the
    freeze plus this plus packing: the router puts food that takes long (a braise to be
    puréed) on the first wave it can be ready for. Equipment shared between batches can
    only make it later; the plan of the day checks that with the waves it schedules.
    """
    contents, _, _ = _aggregate(order_lines)
    longest: dict[str, timedelta] = {}
    resolved: dict[DishVariant, timedelta] = {}
    for (_, stop_id, _), unit in contents.items():
        for key in unit:
            if key not in resolved:
                recipe = resolve_recipe(recipes[key[0]], key[1])
                resolved[key] = recipe.cook_time + recipe.extra_steps_duration
            if resolved[key] > longest.get(stop_id, timedelta()):
                longest[stop_id] = resolved[key]
    return longest


def scale_ingredients(
    portions: Mapping[DishVariant, int], recipes: Mapping[DishVariant, ResolvedRecipe]
) -> tuple[IngredientTotal, ...]:
    """Ingredient totals by ingredient and unit, each summed once over all dish variants.

    Sums are exact (fractions) and rounded once, to Decimal, at the end: a kitchen that
    draws by the sheet must not lose grams to repeated rounding.
    """
    exact: dict[tuple[str, str], Fraction] = {}
    uses: dict[tuple[str, str], list[DishUse]] = {}
    ingredients: dict[str, Ingredient] = {}
    for key in sorted(portions, key=lambda k: (k[0], k[1].display_rank)):
        count = portions[key]
        recipe = recipes[key]
        if not count:
            continue
        for line in recipe.lines:
            total_key = (line.ingredient.ingredient_id, line.unit)
            amount = Fraction(line.quantity) * count / recipe.yield_portions
            exact[total_key] = exact.get(total_key, Fraction(0)) + amount
            uses.setdefault(total_key, []).append(
                DishUse(dish_id=key[0], variant=key[1], quantity=fraction_to_decimal(amount))
            )
            ingredients.setdefault(line.ingredient.ingredient_id, line.ingredient)
    return tuple(
        IngredientTotal(
            ingredient_id=ingredient_id,
            name=ingredients[ingredient_id].name,
            unit=unit,
            quantity=fraction_to_decimal(total),
            allergens=ingredients[ingredient_id].allergens,
            used_by=tuple(uses[(ingredient_id, unit)]),
        )
        for (ingredient_id, unit), total in sorted(
            exact.items(), key=lambda item: (ingredients[item[0][0]].name, item[0])
        )
    )


def fraction_to_decimal(value: Fraction) -> Decimal:
    """Exact when the fraction is a finite decimal; otherwise rounded to Decimal precision."""
    return Decimal(value.numerator) / Decimal(value.denominator)


def _index_departures(departures: Iterable[Departure]) -> dict[str, Departure]:
    indexed: dict[str, Departure] = {}
    for departure in departures:
        if departure.departure_id in indexed:
            raise PlanInputError([f"departure {departure.departure_id} given twice"])
        indexed[departure.departure_id] = departure
    return indexed


def _aggregate(
    order_lines: Iterable[OrderLine],
) -> tuple[
    dict[PackingUnitKey, dict[DishVariant, int]],
    dict[StopKey, Destination],
    dict[str, HomeRecipient],
]:
    """The one pass over order lines: portions per packing unit and dish variant.

    Units with equal contents share one (never mutated) contents dict, so everything
    derived from contents (totals, box layouts, labels) is computed once per distinct
    contents rather than once per home delivery. A unit given several lines gets its own
    dict, merged here and then shared with any other unit of equal contents.
    """
    contents: dict[PackingUnitKey, dict[DishVariant, int]] = {}
    stops: dict[StopKey, Destination] = {}
    recipients: dict[str, HomeRecipient] = {}
    stop_of_delivery: dict[str, StopKey] = {}
    line_contents: dict[tuple[tuple[str, ...], DietVariant, int], dict[DishVariant, int]] = {}
    merged: set[PackingUnitKey] = set()
    for line in order_lines:
        portions = line.portions
        if not portions:
            continue
        destination = line.destination
        departure_id = destination.departure_id
        stop_id = destination.stop_id
        stop_key = (departure_id, stop_id)
        known_stop = stops.setdefault(stop_key, destination)
        if known_stop is not destination and known_stop != destination:
            raise PlanInputError([f"stop {stop_key} is described two different ways"])
        recipient = line.recipient
        delivery_id = None
        if recipient is not None:
            delivery_id = recipient.delivery_id
            known_recipient = recipients.setdefault(delivery_id, recipient)
            if known_recipient is not recipient and known_recipient != recipient:
                raise PlanInputError([f"delivery {delivery_id} has two different recipients"])
            if stop_of_delivery.setdefault(delivery_id, stop_key) != stop_key:
                raise PlanInputError([f"delivery {delivery_id} goes to two different stops"])
        shared_key = (line.dish_ids, line.variant, portions)
        shared = line_contents.get(shared_key)
        if shared is None:
            shared = line_contents[shared_key] = _line_contents(*shared_key)
        unit_key = (departure_id, stop_id, delivery_id)
        unit = contents.get(unit_key)
        if unit is None:
            contents[unit_key] = shared
            continue
        if unit_key not in merged:
            merged.add(unit_key)
            unit = contents[unit_key] = dict(unit)
        for key, count in shared.items():
            unit[key] = unit.get(key, 0) + count
    interned: dict[tuple[tuple[DishVariant, int], ...], dict[DishVariant, int]] = {}
    for unit_key in merged:
        unit = contents[unit_key]
        contents[unit_key] = interned.setdefault(tuple(unit.items()), unit)
    return contents, stops, recipients


def _line_contents(
    dish_ids: tuple[str, ...], variant: DietVariant, portions: int
) -> dict[DishVariant, int]:
    unit: dict[DishVariant, int] = {}
    for dish_id in dish_ids:
        key = (dish_id, variant)
        unit[key] = unit.get(key, 0) + portions
    return unit


def _distinct(mappings: Iterable[Mapping]) -> list[Mapping]:
    """Each mapping object once, in first-seen order (units share contents objects)."""
    return list({id(mapping): mapping for mapping in mappings}.values())


@dataclass(slots=True, kw_only=True)
class _Totals:
    """Portions per dish variant, per destination, and per departure for the waves.

    ``departure_demand`` maps a dish variant to, per departure, [portions, latest eating
    time, the first stop eating that late].
    """

    dishes: dict[DishVariant, int]
    destinations: dict[tuple[tuple[str, str], DishVariant], int]
    destination_of: dict[tuple[str, str], ProductionDestination]
    departure_demand: dict[DishVariant, dict[str, list]]


def _totals(
    contents: Mapping[PackingUnitKey, Mapping[DishVariant, int]],
    stops: Mapping[StopKey, Destination],
    eating_at: Mapping[StopKey, datetime],
    departures: Mapping[str, Departure],
) -> _Totals:
    """Sum the units, grouped first by what they share so the work follows distinct contents.

    Units going to the same destination on the same departure, eaten at the same time and
    with the same (shared) contents add up identically, so each group is counted once and
    its contents scaled by its size. Groups keep first-seen order, so the stop reported as
    eating a dish variant last is the first such stop in order-line order.
    """
    destination_of: dict[tuple[str, str], ProductionDestination] = {}
    home_destination: dict[str, tuple[str, str]] = {}
    stop_class: dict[StopKey, tuple] = {}
    classes: dict[tuple, tuple] = {}
    groups: dict[tuple, list] = {}
    for unit_key, unit in contents.items():
        departure_id, stop_id, _ = unit_key
        stop_key = (departure_id, stop_id)
        stop = stop_class.get(stop_key)
        if stop is None:
            destination = stops[stop_key]
            if destination.kind is DestinationKind.SITE:
                destination_id = (DestinationKind.SITE, destination.stop_id)
                if destination_id not in destination_of:
                    destination_of[destination_id] = ProductionDestination(
                        kind=DestinationKind.SITE,
                        destination_id=destination.stop_id,
                        name=destination.stop_name,
                    )
            else:
                destination_id = home_destination.get(departure_id)
                if destination_id is None:
                    destination_id = home_destination[departure_id] = (
                        DestinationKind.HOME,
                        departure_id,
                    )
                    destination_of.setdefault(
                        destination_id,
                        ProductionDestination(
                            kind=DestinationKind.HOME,
                            destination_id=departure_id,
                            name=departures[departure_id].van_id,
                        ),
                    )
            class_key = (destination_id, departure_id, eating_at[stop_key])
            stop = stop_class[stop_key] = classes.setdefault(class_key, class_key)
        group_key = (stop, id(unit))
        group = groups.get(group_key)
        if group is None:
            groups[group_key] = [1, unit, stop, stop_id]
        else:
            group[0] += 1

    dishes: dict[DishVariant, int] = {}
    destinations: dict[tuple[tuple[str, str], DishVariant], int] = {}
    departure_demand: dict[DishVariant, dict[str, list]] = {}
    for size, unit, (destination_id, departure_id, eating), stop_id in groups.values():
        for key, count in unit.items():
            portions = count * size
            dishes[key] = dishes.get(key, 0) + portions
            destination_key = (destination_id, key)
            destinations[destination_key] = destinations.get(destination_key, 0) + portions
            by_departure = departure_demand.get(key)
            if by_departure is None:
                by_departure = departure_demand[key] = {}
            demand = by_departure.get(departure_id)
            if demand is None:
                by_departure[departure_id] = [portions, eating, stop_id]
                continue
            demand[0] += portions
            if eating > demand[1]:
                demand[1], demand[2] = eating, stop_id
    return _Totals(
        dishes=dishes,
        destinations=destinations,
        destination_of=destination_of,
        departure_demand=departure_demand,
    )


def _validate(
    used: set[DishVariant],
    stops: Mapping[StopKey, Destination],
    timings: Mapping[StopKey, StopTiming],
    recipes: Mapping[str, Recipe],
    departures: Mapping[str, Departure],
    params: KitchenParams,
) -> None:
    """Collect every input problem, so one run shows everything to fix."""
    problems: list[str] = []
    for dish_id, variant in sorted(used):
        recipe = recipes.get(dish_id)
        if recipe is None:
            problems.append(f"no recipe for dish {dish_id}")
            continue
        problems.extend(variant_problems(recipe, variant))
        if recipe.equipment_kind not in params.equipment:
            problems.append(f"dish {dish_id} needs unknown equipment {recipe.equipment_kind}")
    unplaced = [stop_key for stop_key in stops if stop_key not in timings]
    for departure_id, stop_id in sorted(unplaced):
        if departure_id not in departures:
            problems.append(f"no departure {departure_id} for stop {stop_id}")
        else:
            problems.append(f"departure {departure_id} has no timing for stop {stop_id}")
    _check_ingredient_identity(used, recipes, problems)
    if problems:
        raise PlanInputError(problems)


def _check_ingredient_identity(
    used: set[DishVariant], recipes: Mapping[str, Recipe], problems: list[str]
) -> None:
    """One ingredient id must mean one ingredient, or merged totals would mix two."""
    seen: dict[str, Ingredient] = {}
    for dish_id in sorted({dish_id for dish_id, _ in used}):
        recipe = recipes.get(dish_id)
        if recipe is None:
            continue
        changes = recipe.variants.values()
        lines = [*recipe.lines, *(line for change in changes for line in change.set_lines)]
        for line in lines:
            known = seen.setdefault(line.ingredient.ingredient_id, line.ingredient)
            if known != line.ingredient:
                problems.append(
                    f"ingredient {line.ingredient.ingredient_id} is defined differently "
                    f"in dish {dish_id}"
                )


def _dish_lines(
    totals: Mapping[DishVariant, int], recipes: Mapping[DishVariant, ResolvedRecipe]
) -> tuple[DishPortions, ...]:
    lines = [
        DishPortions(
            dish_id=dish_id,
            dish_name=recipes[(dish_id, variant)].dish_name,
            variant=variant,
            portions=portions,
            allergens=recipes[(dish_id, variant)].allergens,
        )
        for (dish_id, variant), portions in totals.items()
    ]
    lines.sort(key=lambda line: (line.variant.display_rank, line.dish_name, line.dish_id))
    return tuple(lines)


def _destination_lines(
    totals: Mapping[tuple[tuple[str, str], DishVariant], int],
    destinations: Mapping[tuple[str, str], ProductionDestination],
    recipes: Mapping[DishVariant, ResolvedRecipe],
) -> tuple[DestinationPortions, ...]:
    lines = [
        DestinationPortions(
            destination=destinations[destination_id],
            dish_id=dish_id,
            dish_name=recipes[(dish_id, variant)].dish_name,
            variant=variant,
            portions=portions,
        )
        for (destination_id, (dish_id, variant)), portions in totals.items()
    ]
    lines.sort(
        key=lambda line: (
            line.destination.kind,
            line.destination.name,
            line.destination.destination_id,
            line.variant.display_rank,
            line.dish_name,
            line.dish_id,
        )
    )
    return tuple(lines)
