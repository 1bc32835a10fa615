"""A small demo kitchen and builders for order lines, shared by the kitchen tests."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from kitchen import (
    Departure,
    Destination,
    DestinationKind,
    DietVariant,
    Equipment,
    HomeRecipient,
    Ingredient,
    KitchenParams,
    OrderLine,
    ProcessingStep,
    Recipe,
    RecipeLine,
    StopTiming,
    VariantChange,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
SERVICE_DAY = datetime(2025, 3, 10, tzinfo=SHANGHAI)

RICE = Ingredient(ingredient_id="rice", name="大米", halal=True)
PORK = Ingredient(ingredient_id="pork", name="五花肉")
CHICKEN = Ingredient(ingredient_id="chicken", name="鸡腿肉", halal=True)
SALT = Ingredient(ingredient_id="salt", name="盐", halal=True)
SUGAR = Ingredient(ingredient_id="sugar", name="冰糖", halal=True)
SOY_SAUCE = Ingredient(ingredient_id="soy_sauce", name="酱油", allergens=frozenset({"soy"}))
EGG = Ingredient(ingredient_id="egg", name="鸡蛋", allergens=frozenset({"egg"}), halal=True)
TOMATO = Ingredient(ingredient_id="tomato", name="番茄", halal=True)
OIL = Ingredient(ingredient_id="oil", name="菜籽油", halal=True)

BLEND = ProcessingStep(name="blend to IDDSI 4", duration=timedelta(minutes=15))
MINCE = ProcessingStep(name="mince to IDDSI 5", duration=timedelta(minutes=10))
TEXTURE_CHANGES = {
    DietVariant.PUREE: VariantChange(extra_steps=(BLEND,)),
    DietVariant.MINCED: VariantChange(extra_steps=(MINCE,)),
    DietVariant.SOFT: VariantChange(),
}


def line(ingredient: Ingredient, grams: str, unit: str = "g") -> RecipeLine:
    return RecipeLine(ingredient=ingredient, quantity=Decimal(grams), unit=unit)


STEAMED_RICE = Recipe(
    dish_id="rice",
    dish_name="米饭",
    lines=(line(RICE, "1000"),),
    yield_portions=10,
    cook_time=timedelta(minutes=40),
    equipment_kind="steamer",
    variants={
        **TEXTURE_CHANGES,
        DietVariant.HALAL: VariantChange(),
        DietVariant.LOW_SALT: VariantChange(),
        DietVariant.LOW_SUGAR: VariantChange(),
        DietVariant.ALLERGEN_FREE: VariantChange(),
    },
)
BRAISED_PORK = Recipe(
    dish_id="braised_pork",
    dish_name="红烧肉",
    lines=(
        line(PORK, "150"),
        line(SUGAR, "8"),
        line(SALT, "3"),
        line(SOY_SAUCE, "10", "ml"),
        line(OIL, "5", "ml"),
    ),
    cook_time=timedelta(minutes=30),
    equipment_kind="wok",
    variants={
        **TEXTURE_CHANGES,
        DietVariant.LOW_SALT: VariantChange(set_lines=(line(SALT, "1"),)),
        DietVariant.LOW_SUGAR: VariantChange(remove=frozenset({"sugar"})),
        DietVariant.HALAL: VariantChange(
            remove=frozenset({"pork", "soy_sauce"}), set_lines=(line(CHICKEN, "150"),)
        ),
    },
)
TOMATO_EGG = Recipe(
    dish_id="tomato_egg",
    dish_name="番茄炒蛋",
    lines=(line(TOMATO, "120"), line(EGG, "60"), line(SALT, "2"), line(OIL, "8", "ml")),
    cook_time=timedelta(minutes=15),
    equipment_kind="wok",
    variants={
        **TEXTURE_CHANGES,
        DietVariant.LOW_SALT: VariantChange(set_lines=(line(SALT, "0.5"),)),
        DietVariant.HALAL: VariantChange(),
        DietVariant.LOW_SUGAR: VariantChange(),
    },
)
RECIPES = {recipe.dish_id: recipe for recipe in (STEAMED_RICE, BRAISED_PORK, TOMATO_EGG)}

SET_MEAL = ("rice", "braised_pork", "tomato_egg")

EQUIPMENT = {
    "wok": Equipment(units=6, max_portions_per_batch=60),
    "steamer": Equipment(units=2, max_portions_per_batch=120),
}
PARAMS = KitchenParams(equipment=EQUIPMENT)


def at(hour: int, minute: int = 0) -> datetime:
    """A time on the service day, Shanghai time."""
    return SERVICE_DAY.replace(hour=hour, minute=minute)


def site(departure_id: str, stop_id: str, sequence: int | None = None) -> Destination:
    return Destination(
        kind=DestinationKind.SITE,
        departure_id=departure_id,
        stop_id=stop_id,
        stop_name=f"site {stop_id}",
        stop_sequence=sequence,
    )


def home(departure_id: str, stop_id: str, sequence: int | None = None) -> Destination:
    return Destination(
        kind=DestinationKind.HOME,
        departure_id=departure_id,
        stop_id=stop_id,
        stop_name=f"home {stop_id}",
        stop_sequence=sequence,
    )


def site_line(
    destination: Destination,
    portions: int,
    variant: DietVariant = DietVariant.REGULAR,
    dish_ids: tuple[str, ...] = SET_MEAL,
) -> OrderLine:
    return OrderLine(
        menu_item_id="+".join(dish_ids),
        menu_item_name="套餐",
        dish_ids=dish_ids,
        variant=variant,
        destination=destination,
        portions=portions,
    )


def home_line(
    destination: Destination,
    delivery_id: str,
    variant: DietVariant = DietVariant.REGULAR,
    portions: int = 1,
    dish_ids: tuple[str, ...] = SET_MEAL,
    texture: str = "",
    diet_notes: str = "",
) -> OrderLine:
    return OrderLine(
        menu_item_id="+".join(dish_ids),
        menu_item_name="套餐",
        dish_ids=dish_ids,
        variant=variant,
        destination=destination,
        portions=portions,
        recipient=HomeRecipient(
            delivery_id=delivery_id,
            name=f"senior {delivery_id}",
            address=f"{delivery_id} 幸福路",
            phone="13800000000",
            texture=texture,
            diet_notes=diet_notes,
        ),
    )


def demo_departures() -> tuple[Departure, ...]:
    """Two vans: V1 to two canteens, V2 to homes; eating within the 2 h limit."""
    return (
        Departure(
            departure_id="V1-1",
            van_id="V1",
            departs_at=at(10, 45),
            stops=(
                StopTiming(stop_id="S1", eating_at=at(11, 30)),
                StopTiming(stop_id="S2", eating_at=at(11, 45)),
            ),
        ),
        Departure(
            departure_id="V2-1",
            van_id="V2",
            departs_at=at(10, 50),
            holding_celsius=65.0,
            stops=(
                StopTiming(stop_id="H1", travel_time=timedelta(minutes=20)),
                StopTiming(stop_id="H2", travel_time=timedelta(minutes=35)),
                StopTiming(stop_id="H3", travel_time=timedelta(minutes=50)),
            ),
        ),
    )


def demo_order_lines() -> list[OrderLine]:
    """Mixed variants, halal, purée and home deliveries on two vans."""
    s1, s2 = site("V1-1", "S1", 1), site("V1-1", "S2", 2)
    h1, h2, h3 = home("V2-1", "H1", 1), home("V2-1", "H2", 2), home("V2-1", "H3", 3)
    return [
        site_line(s1, 57),
        site_line(s1, 6, DietVariant.LOW_SALT),
        site_line(s1, 4, DietVariant.HALAL),
        site_line(s1, 3, DietVariant.PUREE),
        site_line(s1, 0, DietVariant.LOW_SUGAR),
        site_line(s2, 31),
        site_line(s2, 2, DietVariant.LOW_SUGAR, dish_ids=("rice", "braised_pork")),
        site_line(s2, 5, DietVariant.MINCED),
        site_line(s2, 9, dish_ids=("tomato_egg",)),
        home_line(h1, "D100"),
        home_line(h1, "D101", DietVariant.PUREE, texture="IDDSI 4 泥状"),
        home_line(h2, "D102", DietVariant.HALAL),
        home_line(h2, "D102", DietVariant.HALAL, dish_ids=("rice",)),
        home_line(h3, "D103", DietVariant.LOW_SALT, diet_notes="高血压"),
        home_line(h3, "D104", portions=2),
    ]


def expected_portions(lines: list[OrderLine]) -> Counter:
    """Portions per (departure, stop, delivery, dish, variant), booking by booking."""
    counts: Counter = Counter()
    for order_line in lines:
        delivery = order_line.recipient.delivery_id if order_line.recipient else None
        destination = order_line.destination
        for dish_id in order_line.dish_ids:
            key = (destination.departure_id, destination.stop_id, delivery, dish_id)
            counts[(*key, order_line.variant)] += order_line.portions
    return +counts


def as_fraction(quantity: Decimal) -> Fraction:
    return Fraction(quantity)
