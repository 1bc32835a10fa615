"""``plan_production``: order lines in, production plan out, no I/O.

One pass over the order lines aggregates portions per packing unit (departure, stop,
home delivery) and dish variant; everything else is derived from that aggregate, so the
cost is linear in order lines and independent of how many bookings each line counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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
from kitchen.packing import PackingInput, PackingUnitKey, StopKey, pack
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
    used = {key for unit in contents.values() for key in unit}
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
    destination_of_stop = {
        stop_key: _production_destination(destination, departures_by_id)
        for stop_key, destination in stops.items()
    }

    stop_totals: dict[tuple[StopKey, DishVariant], int] = {}
    for (departure_id, stop_id, _), unit in contents.items():
        for key, portions in unit.items():
            total_key = ((departure_id, stop_id), key)
            stop_totals[total_key] = stop_totals.get(total_key, 0) + portions

    dish_totals: dict[DishVariant, int] = {}
    destination_totals: dict[tuple[tuple[str, str], DishVariant], int] = {}
    destinations: dict[tuple[str, str], ProductionDestination] = {}
    departure_demand: dict[DishVariant, dict[str, list]] = {}
    for (stop_key, key), portions in stop_totals.items():
        destination = destination_of_stop[stop_key]
        destination_id = (destination.kind, destination.destination_id)
        destinations.setdefault(destination_id, destination)
        dish_totals[key] = dish_totals.get(key, 0) + portions
        destination_key = (destination_id, key)
        destination_totals[destination_key] = destination_totals.get(destination_key, 0) + portions
        departure_id, stop_id = stop_key
        stop_eating = eating_at[stop_key]
        demand = departure_demand.setdefault(key, {}).setdefault(
            departure_id, [0, stop_eating, stop_id]
        )
        demand[0] += portions
        if stop_eating > demand[1]:
            demand[1], demand[2] = stop_eating, stop_id

    demands_by_cooking: dict[CookingKey, list[DepartureDemand]] = {}
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
    )
    plan = ProductionPlan(
        total_portions=sum(dish_totals.values()),
        dishes=_dish_lines(dish_totals, resolved),
        destinations=_destination_lines(destination_totals, destinations, resolved),
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
    """The one pass over order lines: portions per packing unit and dish variant."""
    contents: dict[PackingUnitKey, dict[DishVariant, int]] = {}
    stops: dict[StopKey, Destination] = {}
    recipients: dict[str, HomeRecipient] = {}
    stop_of_delivery: dict[str, StopKey] = {}
    for line in order_lines:
        if not line.portions:
            continue
        destination = line.destination
        stop_key = (destination.departure_id, destination.stop_id)
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
        unit_key = (destination.departure_id, destination.stop_id, delivery_id)
        unit = contents.get(unit_key)
        if unit is None:
            unit = contents[unit_key] = {}
        variant = line.variant
        for dish_id in line.dish_ids:
            key = (dish_id, variant)
            unit[key] = unit.get(key, 0) + line.portions
    return contents, stops, recipients


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
    for departure_id, stop_id in sorted(stops):
        if departure_id not in departures:
            problems.append(f"no departure {departure_id} for stop {stop_id}")
        elif (departure_id, stop_id) not in timings:
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


def _production_destination(
    destination: Destination, departures: Mapping[str, Departure]
) -> ProductionDestination:
    """A site is its own destination; home deliveries are grouped by their van trip."""
    if destination.kind is DestinationKind.SITE:
        return ProductionDestination(
            kind=DestinationKind.SITE,
            destination_id=destination.stop_id,
            name=destination.stop_name,
        )
    departure = departures[destination.departure_id]
    return ProductionDestination(
        kind=DestinationKind.HOME,
        destination_id=departure.departure_id,
        name=departure.van_id,
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
