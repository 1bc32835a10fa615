"""Pure rules: the price after subsidy and the diet variant a senior gets."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meals.bookings.diet import DietProfile, MealOffer, choose_variant
from meals.errors import Conflict
from meals.subsidies.service import TierRule, age_on, effective_categories, quote_price
from meals.words import Variant

TIERS = [
    TierRule("civil", "民政", 60, 69, None, 300),
    TierRule("civil", "民政", 70, 79, None, 400),
    TierRule("civil", "民政", 60, None, "extreme_poverty", 1000),
    TierRule("street", "街道", 60, None, "lives_alone", 100),
    TierRule("operator", "运营方", 60, None, None, 100),
]


def test_largest_tier_per_source_and_sources_add_up():
    quote = quote_price(1200, 72, frozenset({"lives_alone"}), TIERS)
    assert quote.subsidy_fen == 400 + 100 + 100
    assert quote.price_fen == 600
    assert [line.source_code for line in quote.breakdown] == ["civil", "operator", "street"]


def test_subsidy_never_exceeds_the_list_price():
    quote = quote_price(800, 65, frozenset({"extreme_poverty", "lives_alone"}), TIERS)
    assert quote.price_fen == 0
    assert quote.subsidy_fen == 800
    assert sum(line.amount_fen for line in quote.breakdown) == 800


def test_under_60_gets_nothing():
    assert quote_price(1200, 59, frozenset(), TIERS).price_fen == 1200


@given(
    price=st.integers(min_value=0, max_value=100_000),
    age=st.integers(min_value=0, max_value=120),
    categories=st.sets(st.sampled_from(["extreme_poverty", "lives_alone", "empty_nest"])),
)
def test_price_is_list_minus_subsidy_and_never_negative(price, age, categories):
    quote = quote_price(price, age, frozenset(categories), TIERS)
    assert 0 <= quote.price_fen <= price
    assert quote.price_fen + quote.subsidy_fen == price
    assert quote.subsidy_fen == sum(line.amount_fen for line in quote.breakdown)


def test_age_counts_whole_years_and_advanced_age_is_derived():
    assert age_on(date(1946, 11, 24), date(2026, 11, 23)) == 79
    assert age_on(date(1946, 11, 23), date(2026, 11, 23)) == 80
    assert "advanced_age" in effective_categories([], 80, 80)
    assert "advanced_age" not in effective_categories([], 79, 80)


MEAL = MealOffer("A套餐", diet_tags=[], variants=["soft", "puree", "low_salt"], allergens=["egg"])


@pytest.mark.parametrize(
    ("diet", "requested", "expected"),
    [
        (DietProfile(), None, Variant.REGULAR),
        (DietProfile(iddsi_level=6), None, Variant.SOFT),
        (DietProfile(iddsi_level=4), Variant.REGULAR, Variant.PUREE),
        (DietProfile(low_salt=True), None, Variant.LOW_SALT),
        (DietProfile(low_salt=True), Variant.REGULAR, Variant.REGULAR),
        (DietProfile(low_sugar=True), None, Variant.REGULAR),
    ],
)
def test_variant_choice(diet, requested, expected):
    assert choose_variant(diet, MEAL, requested).variant is expected


@pytest.mark.parametrize(
    ("diet", "requested", "code"),
    [
        (DietProfile(halal=True), None, "diet_conflict"),
        (DietProfile(allergens=("egg",)), None, "diet_conflict"),
        (DietProfile(iddsi_level=5), None, "diet_conflict"),
        (DietProfile(), Variant.HALAL, "variant_unavailable"),
    ],
)
def test_variant_refusals_say_why(diet, requested, code):
    with pytest.raises(Conflict) as refused:
        choose_variant(diet, MEAL, requested)
    assert refused.value.code == code
    assert "A套餐" in refused.value.text


def test_two_hard_needs_in_different_variants_are_refused():
    meal = MealOffer("B", diet_tags=[], variants=["halal", "puree"], allergens=[])
    with pytest.raises(Conflict, match="at once"):
        choose_variant(DietProfile(halal=True, iddsi_level=4), meal)


def test_low_sugar_unavailable_is_said_not_refused():
    choice = choose_variant(DietProfile(low_sugar=True), MEAL)
    assert choice.variant is Variant.REGULAR
    assert "not available" in str(choice.notices[0])


def test_two_soft_needs_say_which_one_is_met():
    choice = choose_variant(DietProfile(low_sugar=True, low_salt=True), MEAL)  # low salt only
    assert choice.variant is Variant.LOW_SALT
    [notice] = choice.notices
    assert notice.tells_unmet and notice.params == {"variant": "low_salt", "other": "low_sugar"}
    assert "cannot make it low_sugar (低糖) as well" in str(notice)
