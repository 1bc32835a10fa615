"""Which diet variant a senior gets of a set meal, or why they cannot have it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from meals.errors import Conflict
from meals.words import IDDSI_REGULAR, TEXTURE_VARIANT_BY_IDDSI, VARIANT_LABELS_ZH, Variant


@dataclass(frozen=True)
class DietProfile:
    halal: bool = False
    low_salt: bool = False
    low_sugar: bool = False
    iddsi_level: int = IDDSI_REGULAR
    allergens: tuple[str, ...] = ()


@dataclass(frozen=True)
class MealOffer:
    name: str
    diet_tags: Sequence[str]
    variants: Sequence[str]
    allergens: Sequence[str]


@dataclass(frozen=True)
class VariantChoice:
    variant: Variant
    notices: tuple[str, ...]


def _label(variant: Variant) -> str:
    return f"{variant.value} ({VARIANT_LABELS_ZH[variant]})"


def choose_variant(
    diet: DietProfile, offer: MealOffer, requested: Variant | None = None
) -> VariantChoice:
    """Safety needs (清真, allergens, texture) are hard; 低盐 / 低糖 are met where the kitchen can.

    A booking has one variant, so two hard needs that only different variants meet are refused.
    """
    can_make = {Variant(v) for v in offer.variants} | {Variant.REGULAR}
    tags = set(offer.diet_tags)
    hard: list[Variant] = []
    if diet.halal and Variant.HALAL.value not in tags:
        if Variant.HALAL not in can_make:
            raise Conflict(
                "{meal} is not halal (清真) and cannot be made halal; choose a halal set meal.",
                code="diet_conflict",
                meal=offer.name,
            )
        hard.append(Variant.HALAL)
    clash = sorted(set(diet.allergens) & set(offer.allergens))
    if clash:
        if Variant.ALLERGEN_FREE not in can_make:
            raise Conflict(
                "{meal} contains {allergens}, which this senior must not eat.",
                code="diet_conflict",
                meal=offer.name,
                allergens=", ".join(clash),
            )
        hard.append(Variant.ALLERGEN_FREE)
    texture = TEXTURE_VARIANT_BY_IDDSI.get(diet.iddsi_level)
    if texture is not None:
        if texture not in can_make:
            raise Conflict(
                "{meal} cannot be made {texture}, which this senior needs.",
                code="diet_conflict",
                meal=offer.name,
                texture=_label(texture),
            )
        hard.append(texture)
    if len(hard) > 1:
        raise Conflict(
            "{meal} cannot be made {variants} at once; choose another set meal.",
            code="diet_conflict",
            meal=offer.name,
            variants=" + ".join(_label(v) for v in hard),
        )
    if hard:
        chosen = hard[0]
        notices = ()
        if requested is not None and requested is not chosen:
            notices = (f"Switched to the {_label(chosen)} variant this senior needs.",)
        elif requested is None:
            notices = (f"Made as the {_label(chosen)} variant this senior needs.",)
        return VariantChoice(chosen, notices)
    if requested is not None:
        if requested not in can_make and requested.value not in tags:
            raise Conflict(
                "{meal} cannot be made {variant}.",
                code="variant_unavailable",
                meal=offer.name,
                variant=_label(requested),
            )
        return VariantChoice(requested, ())
    soft = [
        v
        for wanted, v in ((diet.low_sugar, Variant.LOW_SUGAR), (diet.low_salt, Variant.LOW_SALT))
        if wanted and v.value not in tags
    ]
    for variant in soft:
        if variant in can_make:
            return VariantChoice(variant, (f"Made as the {_label(variant)} variant.",))
    if soft:
        missing = ", ".join(_label(v) for v in soft)
        return VariantChoice(
            Variant.REGULAR, (f"{offer.name} is not available as {missing}; regular recipe.",)
        )
    return VariantChoice(Variant.REGULAR, ())
