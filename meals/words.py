"""The shared vocabulary of the service (see DESIGN.md, "Words"), as enums stored by value."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Enum


class Role(StrEnum):
    SENIOR = "senior"
    FAMILY = "family"
    SITE_STAFF = "site_staff"
    KITCHEN = "kitchen"
    DRIVER = "driver"
    ADMIN = "admin"
    VIEWER = "viewer"  # civil-affairs (民政): reads the board, settlement and audit, never writes


class SiteKind(StrEnum):
    KITCHEN = "kitchen"
    CANTEEN = "canteen"
    MEAL_POINT = "meal_point"


class Slot(StrEnum):
    LUNCH = "lunch"
    DINNER = "dinner"


class Fulfilment(StrEnum):
    DINE_IN = "dine_in"
    PICKUP = "pickup"
    DELIVERY = "delivery"


class BookingStatus(StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"
    SERVED = "served"
    DELIVERED = "delivered"
    NO_SHOW = "no_show"


class Variant(StrEnum):
    """Diet variants the kitchen can make of a set meal."""

    REGULAR = "regular"
    LOW_SALT = "low_salt"
    LOW_SUGAR = "low_sugar"
    SOFT = "soft"
    MINCED = "minced"
    PUREE = "puree"
    HALAL = "halal"
    ALLERGEN_FREE = "allergen_free"


class Category(StrEnum):
    """Categories that subsidy tiers and welfare checks depend on."""

    EXTREME_POVERTY = "extreme_poverty"  # 特困
    MINIMUM_INCOME = "minimum_income"  # 低保
    DISABLED = "disabled"  # 失能
    SEMI_DISABLED = "semi_disabled"  # 半失能
    LIVES_ALONE = "lives_alone"  # 独居
    EMPTY_NEST = "empty_nest"  # 空巢
    ADVANCED_AGE = "advanced_age"  # 高龄, derived from age, never stored


class BookedBy(StrEnum):
    SELF = "self"
    FAMILY = "family"
    STAFF = "staff"


CATEGORY_LABELS_ZH = {
    Category.EXTREME_POVERTY: "特困",
    Category.MINIMUM_INCOME: "低保",
    Category.DISABLED: "失能",
    Category.SEMI_DISABLED: "半失能",
    Category.LIVES_ALONE: "独居",
    Category.EMPTY_NEST: "空巢",
    Category.ADVANCED_AGE: "高龄",
}

VARIANT_LABELS_ZH = {
    Variant.REGULAR: "普通",
    Variant.LOW_SALT: "低盐",
    Variant.LOW_SUGAR: "低糖",
    Variant.SOFT: "软食",
    Variant.MINCED: "细碎",
    Variant.PUREE: "糊状",
    Variant.HALAL: "清真",
    Variant.ALLERGEN_FREE: "无过敏原",
}

# IDDSI food texture levels: 7 regular, 6 soft & bite-sized, 5 minced & moist, 4 puréed.
IDDSI_REGULAR = 7
TEXTURE_VARIANT_BY_IDDSI = {6: Variant.SOFT, 5: Variant.MINCED, 4: Variant.PUREE}


def enum_column(enum_cls: type[StrEnum], name: str | None = None) -> Enum:
    """A portable enum column: stored as its string value, checked by a named constraint
    (`name` it when a table holds two columns of one enum)."""
    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_cls),
        values_callable=lambda members: [m.value for m in members],
        name=name or enum_cls.__name__.lower(),
        validate_strings=True,
    )


# Allergens a senior can be recorded with and a dish can contain (codes stored by value).
ALLERGENS = ("peanut", "fish", "egg", "wheat", "soy", "milk", "shellfish", "sesame")
# Categories the console records; 高龄 follows from age and is never stored.
STORED_CATEGORIES = tuple(c for c in Category if c is not Category.ADVANCED_AGE)
IDDSI_LEVELS = (4, 5, 6, 7)
