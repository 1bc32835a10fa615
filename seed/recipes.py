"""Recipes of the demo dishes: realistic grams per portion and how each diet variant changes them.

Variants follow from a few kitchen rules so every dish of a set meal can be made in every
variant the menus offer: 低盐 halves salt and soy sauce, 低糖 drops sugar, IDDSI textures
add a processing step after cooking, 无过敏原 swaps or drops allergen ingredients, 清真
swaps pork for beef and drops cooking wine.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from meals.menus.models import Dish
from meals.production.models import (
    MILLI,
    Ingredient,
    Recipe,
    RecipeLine,
    RecipeVariant,
    RecipeVariantLine,
    RecipeVariantStep,
)
from meals.words import Variant
from seed import data

GRAMS = "g"
RECIPE_YIELD_PORTIONS = 10
"""Recipe cards are written for ten portions, as kitchens scale them."""
LOW_SALT_SHARE = Decimal("0.5")

# code -> (name, allergens, halal)
INGREDIENTS: dict[str, tuple[str, tuple[str, ...], bool]] = {
    "pork_belly": ("五花肉", (), False),
    "beef_brisket": ("牛腩", (), True),
    "mutton": ("羊肉", (), True),
    "chicken_leg": ("鸡腿肉", (), True),
    "chicken_breast": ("鸡胸肉", (), True),
    "fish": ("鲈鱼", ("fish",), True),
    "egg": ("鸡蛋", ("egg",), True),
    "peanut": ("花生米", ("peanut",), True),
    "wheat_flour": ("面粉", ("wheat",), True),
    "rice_flour": ("米粉", (), True),
    "yeast": ("酵母", (), True),
    "rice": ("大米", (), True),
    "mixed_grains": ("杂粮", (), True),
    "millet": ("小米", (), True),
    "tomato": ("番茄", (), True),
    "cabbage": ("大白菜", (), True),
    "lettuce": ("油麦菜", (), True),
    "potato": ("土豆", (), True),
    "carrot": ("胡萝卜", (), True),
    "onion": ("洋葱", (), True),
    "green_pepper": ("青椒", (), True),
    "greens": ("小青菜", (), True),
    "shiitake": ("香菇", (), True),
    "courgette": ("西葫芦", (), True),
    "cucumber": ("黄瓜", (), True),
    "winter_melon": ("冬瓜", (), True),
    "seaweed": ("紫菜", (), True),
    "ginger": ("生姜", (), True),
    "scallion": ("葱", (), True),
    "garlic": ("大蒜", (), True),
    "dried_chili": ("干辣椒", (), True),
    "salt": ("盐", (), True),
    "sugar": ("白糖", (), True),
    "rock_sugar": ("冰糖", (), True),
    "soy_sauce": ("酱油", ("soy",), True),
    "vinegar": ("米醋", (), True),
    "cooking_wine": ("料酒", (), False),
    "starch": ("淀粉", (), True),
    "oil": ("菜籽油", (), True),
}

SALTY = frozenset({"salt", "soy_sauce"})
SWEET = frozenset({"sugar", "rock_sugar"})
ALLERGEN_SUBSTITUTES = {"wheat_flour": "rice_flour", "fish": "chicken_breast"}
HALAL_SUBSTITUTES = {"pork_belly": "beef_brisket"}
TEXTURE_STEPS = {
    Variant.SOFT: ("切小块焖软 IDDSI 6", 5),
    Variant.MINCED: ("切碎 IDDSI 5", 10),
    Variant.PUREE: ("打成泥 IDDSI 4", 15),
}

# dish code -> (equipment kind, cook minutes, served hot, {ingredient: grams per portion})
RECIPES: dict[str, tuple[str, int, bool, dict[str, str]]] = {
    "hongshaorou": (
        "braising_pan",
        60,
        True,
        {
            "pork_belly": "120",
            "rock_sugar": "6",
            "soy_sauce": "8",
            "cooking_wine": "5",
            "salt": "2",
            "ginger": "3",
            "scallion": "3",
            "oil": "5",
        },
    ),
    "tudou_niurou": (
        "braising_pan",
        70,
        True,
        {
            "beef_brisket": "100",
            "potato": "80",
            "carrot": "30",
            "onion": "20",
            "salt": "2",
            "sugar": "2",
            "ginger": "3",
            "oil": "6",
        },
    ),
    "qingdun_yangrou": (
        "braising_pan",
        90,
        True,
        {"mutton": "120", "carrot": "40", "ginger": "5", "scallion": "3", "salt": "1.5"},
    ),
    "gongbao_jiding": (
        "wok",
        15,
        True,
        {
            "chicken_breast": "100",
            "peanut": "15",
            "green_pepper": "20",
            "dried_chili": "2",
            "scallion": "5",
            "vinegar": "5",
            "sugar": "4",
            "salt": "2",
            "starch": "5",
            "oil": "8",
        },
    ),
    "qingzheng_yu": (
        "steamer",
        15,
        True,
        {"fish": "130", "ginger": "4", "scallion": "4", "salt": "1.5", "oil": "5"},
    ),
    "dapanji": (
        "wok",
        35,
        True,
        {
            "chicken_leg": "110",
            "potato": "70",
            "green_pepper": "30",
            "onion": "20",
            "dried_chili": "2",
            "salt": "2",
            "sugar": "2",
            "oil": "8",
        },
    ),
    "fanqie_chaodan": (
        "wok",
        10,
        True,
        {"tomato": "120", "egg": "60", "sugar": "3", "salt": "1.5", "oil": "8"},
    ),
    "suanla_baicai": (
        "wok",
        10,
        True,
        {
            "cabbage": "150",
            "vinegar": "8",
            "sugar": "3",
            "dried_chili": "1",
            "salt": "1.5",
            "oil": "6",
        },
    ),
    "qingchao_youmai": (
        "wok",
        8,
        True,
        {"lettuce": "150", "garlic": "4", "salt": "1.5", "oil": "6"},
    ),
    "tudousi": (
        "wok",
        10,
        True,
        {"potato": "130", "green_pepper": "15", "vinegar": "5", "salt": "1.5", "oil": "7"},
    ),
    "xianggu_qingcai": (
        "wok",
        10,
        True,
        {"greens": "130", "shiitake": "25", "garlic": "3", "salt": "1.5", "oil": "6"},
    ),
    "xihulu": (
        "wok",
        10,
        True,
        {"courgette": "130", "egg": "40", "salt": "1.5", "oil": "7"},
    ),
    "liangban_huanggua": (
        "cold_prep",
        10,
        False,
        {
            "cucumber": "130",
            "garlic": "5",
            "vinegar": "6",
            "sugar": "2",
            "salt": "1",
            "oil": "3",
        },
    ),
    "mifan": ("steamer", 40, True, {"rice": "100"}),
    "mantou": ("steamer", 30, True, {"wheat_flour": "80", "yeast": "1", "sugar": "3"}),
    "zalianmi": ("steamer", 45, True, {"rice": "60", "mixed_grains": "40"}),
    "zicai_tang": (
        "soup_kettle",
        20,
        True,
        {"seaweed": "3", "egg": "25", "scallion": "2", "salt": "1.5", "oil": "2"},
    ),
    "donggua_tang": (
        "soup_kettle",
        30,
        True,
        {"winter_melon": "120", "ginger": "2", "salt": "1.5", "oil": "2"},
    ),
    "xiaomi_zhou": ("soup_kettle", 45, True, {"millet": "40"}),
}


def _milli(grams_per_portion: Decimal) -> int:
    """Stored quantity for the recipe's yield, in thousandths of a gram."""
    return int(grams_per_portion * RECIPE_YIELD_PORTIONS * MILLI)


def _variant_changes(
    grams: dict[str, str],
) -> dict[Variant, tuple[set[str], dict[str, Decimal], list[tuple[str, int]]]]:
    """Per variant: ingredients removed, lines set (grams per portion), steps added."""
    changes: dict[Variant, tuple[set[str], dict[str, Decimal], list[tuple[str, int]]]] = {
        Variant.LOW_SALT: (
            set(),
            {code: Decimal(g) * LOW_SALT_SHARE for code, g in grams.items() if code in SALTY},
            [],
        ),
        Variant.LOW_SUGAR: ({code for code in grams if code in SWEET}, {}, []),
    }
    for variant, step in TEXTURE_STEPS.items():
        changes[variant] = (set(), {}, [step])
    allergic = {code for code in grams if INGREDIENTS[code][1]}
    changes[Variant.ALLERGEN_FREE] = (
        allergic,
        {
            ALLERGEN_SUBSTITUTES[code]: Decimal(grams[code])
            for code in allergic
            if code in ALLERGEN_SUBSTITUTES
        },
        [],
    )
    not_halal = {code for code in grams if not INGREDIENTS[code][2]}
    changes[Variant.HALAL] = (
        not_halal,
        {
            HALAL_SUBSTITUTES[code]: Decimal(grams[code])
            for code in not_halal
            if code in HALAL_SUBSTITUTES
        },
        [],
    )
    return changes


async def seed_recipes(session: AsyncSession) -> int:
    """Add the demo ingredients and a recipe for every demo dish that has none; returns how many."""
    known = dict((await session.execute(select(Ingredient.code, Ingredient.id))).all())
    missing = [code for code in INGREDIENTS if code not in known]
    new_ingredients = [
        Ingredient(
            code=code,
            name=INGREDIENTS[code][0],
            allergens=list(INGREDIENTS[code][1]),
            halal=INGREDIENTS[code][2],
        )
        for code in missing
    ]
    session.add_all(new_ingredients)
    await session.flush()
    known.update({ingredient.code: ingredient.id for ingredient in new_ingredients})

    dish_ids = dict((await session.execute(select(Dish.name, Dish.id))).all())
    with_recipe = set(await session.scalars(select(Recipe.dish_id)))
    added = 0
    for code, (equipment, minutes, hot, grams) in RECIPES.items():
        dish_id = dish_ids.get(data.DISHES[code][0])
        if dish_id is None or dish_id in with_recipe:
            continue
        recipe = Recipe(
            dish_id=dish_id,
            yield_portions=RECIPE_YIELD_PORTIONS,
            cook_minutes=minutes,
            equipment_kind=equipment,
            served_hot=hot,
            lines=[
                RecipeLine(
                    ingredient_id=known[ingredient],
                    quantity_milli=_milli(Decimal(g)),
                    unit=GRAMS,
                )
                for ingredient, g in grams.items()
            ],
            variants=[
                RecipeVariant(
                    variant=variant,
                    removed_ingredient_ids=sorted(known[c] for c in removed),
                    lines=[
                        RecipeVariantLine(
                            ingredient_id=known[c], quantity_milli=_milli(g), unit=GRAMS
                        )
                        for c, g in set_lines.items()
                    ],
                    steps=[
                        RecipeVariantStep(position=n, name=name, minutes=step_minutes)
                        for n, (name, step_minutes) in enumerate(steps)
                    ],
                )
                for variant, (removed, set_lines, steps) in _variant_changes(grams).items()
            ],
        )
        session.add(recipe)
        added += 1
    await session.flush()
    return added
