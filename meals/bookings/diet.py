"""Which diet variant a senior gets of a set meal, or why they cannot have it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from meals.errors import Conflict
from meals.pages.i18n import N_
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
class Notice:
    """A notice about the variant: an English template (the gettext msgid) and its params, so
    pages show it in the reader's language; `str()` is the English the API returns.

    Params named `variant` or `other` hold a Variant value, shown by its label."""

    message: str
    params: dict[str, str] = field(default_factory=dict)

    @property
    def tells_unmet(self) -> bool:
        """The notice says a need is not met (the rest repeat the variant shown anyway)."""
        return self.message in (NOT_BOTH, NOT_AVAILABLE)

    def __str__(self) -> str:
        shown = {
            name: _label(Variant(value)) if name in VARIANT_PARAMS else value
            for name, value in self.params.items()
        }
        return self.message.format(**shown)


VARIANT_PARAMS = frozenset({"variant", "other"})
SWITCHED = N_("Switched to the {variant} variant this senior needs.")
MADE_AS_NEEDED = N_("Made as the {variant} variant this senior needs.")
MADE_AS = N_("Made as the {variant} variant.")
NOT_BOTH = N_("Made as the {variant} variant; the kitchen cannot make it {other} as well.")
NOT_AVAILABLE = N_("{meal} is not available as {variant}; regular recipe.")


@dataclass(frozen=True)
class VariantChoice:
    variant: Variant
    notices: tuple[Notice, ...]


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
        notices: tuple[Notice, ...] = ()
        if requested is not None and requested is not chosen:
            notices = (Notice(SWITCHED, {"variant": chosen.value}),)
        elif requested is None:
            notices = (Notice(MADE_AS_NEEDED, {"variant": chosen.value}),)
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
    # One booking is one variant: with two needs the kitchen meets the first it can make,
    # and the senior is told which one is not met.
    for variant in soft:
        if variant in can_make:
            others = [v for v in soft if v is not variant]
            if others:
                notice = Notice(NOT_BOTH, {"variant": variant.value, "other": others[0].value})
            else:
                notice = Notice(MADE_AS, {"variant": variant.value})
            return VariantChoice(variant, (notice,))
    if soft:
        return VariantChoice(
            Variant.REGULAR,
            tuple(Notice(NOT_AVAILABLE, {"meal": offer.name, "variant": v.value}) for v in soft),
        )
    return VariantChoice(Variant.REGULAR, ())
