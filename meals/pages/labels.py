"""Plain-word labels for the service's enums, and the words that appear inside refusals."""

from __future__ import annotations

from meals.pages.i18n import N_
from meals.words import BookedBy, BookingStatus, Category, Fulfilment, Slot, Variant

SLOT = {Slot.LUNCH: N_("Lunch"), Slot.DINNER: N_("Dinner")}
FULFILMENT = {
    Fulfilment.DINE_IN: N_("Eat at the canteen"),
    Fulfilment.PICKUP: N_("Pick up"),
    Fulfilment.DELIVERY: N_("Deliver to my home"),
}
STATUS = {
    BookingStatus.BOOKED: N_("Booked"),
    BookingStatus.CANCELLED: N_("Cancelled"),
    BookingStatus.SERVED: N_("Served"),
    BookingStatus.DELIVERED: N_("Delivered"),
    BookingStatus.NO_SHOW: N_("Did not come"),
}
BOOKED_BY = {
    BookedBy.SELF: N_("by the senior"),
    BookedBy.FAMILY: N_("by family"),
    BookedBy.STAFF: N_("by staff"),
}
VARIANT = {
    Variant.REGULAR: N_("Regular"),
    Variant.LOW_SALT: N_("Low salt"),
    Variant.LOW_SUGAR: N_("Low sugar"),
    Variant.SOFT: N_("Soft"),
    Variant.MINCED: N_("Minced"),
    Variant.PUREE: N_("Puréed"),
    Variant.HALAL: N_("Halal"),
    Variant.ALLERGEN_FREE: N_("Allergen-free"),
}
DIET_TAG = {
    "halal": N_("Halal"),
    "low_salt": N_("Low salt"),
    "low_sugar": N_("Low sugar"),
}

CATEGORY = {
    Category.EXTREME_POVERTY.value: N_("Extreme poverty support"),
    Category.MINIMUM_INCOME.value: N_("Minimum income"),
    Category.DISABLED.value: N_("Disabled"),
    Category.SEMI_DISABLED.value: N_("Semi-disabled"),
    Category.LIVES_ALONE.value: N_("Lives alone"),
    Category.EMPTY_NEST.value: N_("Empty nest"),
    Category.ADVANCED_AGE.value: N_("Advanced age"),
    "none": N_("No category"),
}
# What a booking counted as in settlement.
OUTCOME = {
    "served": N_("Served or delivered"),
    "no_show": N_("Did not come"),
    "not_served": N_("Booked, not served"),
    "adjustment": N_("Adjustment"),
}
CALLBACK_REASON = {
    "sample": N_("Drawn by lot"),
    "low_rating": N_("Rated a meal low"),
    "failed_delivery": N_("A delivery failed"),
}

FAILURE_REASON = {
    "no_answer": N_("No answer"),
    "refused": N_("Refused"),
    "not_at_address": N_("Not at address"),
    "other": N_("Other"),
}
# Who booked a meal for a family member's senior (in the family's notice).
BOOKED_BY_WHO = {
    "site_staff": N_("The meal point's staff"),
    "admin": N_("The operator"),
    "family": N_("Another family member"),
    "senior": N_("Your senior"),
}
# The small mark beside each dish on a senior's menu (荤 / 素).
DISH_MARK = {"meat": N_("meat"), "vegetable": N_("vegetable")}
ROLE = {
    "senior": N_("Senior"),
    "family": N_("Family member"),
    "site_staff": N_("Meal-point staff"),
    "kitchen": N_("Kitchen"),
    "driver": N_("Driver"),
    "admin": N_("Operator"),
    "viewer": N_("Civil affairs (read-only)"),
}
ENTITY = {
    "account": N_("Account"),
    "senior": N_("Senior"),
    "family_binding": N_("Family binding"),
    "site": N_("Site"),
    "dish": N_("Dish"),
    "subsidy_policy": N_("Subsidy policy"),
    "funding_source": N_("Funding source"),
    "ingredient": N_("Ingredient"),
    "van": N_("Van"),
    "wave": N_("Departure wave"),
    "booking": N_("Booking"),
}
SITE_KIND = {
    "kitchen": N_("Central kitchen"),
    "canteen": N_("Community canteen"),
    "meal_point": N_("Meal point"),
}
DISH_KIND = {
    "meat": N_("Meat"),
    "vegetable": N_("Vegetable"),
    "staple": N_("Staple"),
    "soup": N_("Soup"),
}
BINDING_STATUS = {
    "pending": N_("Waiting for consent"),
    "bound": N_("Bound"),
    "declined": N_("Declined"),
    "ended": N_("Ended"),
}
CONSENT_BY = {"senior": N_("the senior"), "staff": N_("staff, with the senior present")}

# Values that services put into refusal sentences; translated with the sentence.
WORDS_IN_REFUSALS = (
    N_("lunch"),
    N_("dinner"),
    N_("Booking"),
    N_("Cancelling"),
    N_("booked"),
    N_("cancelled"),
    N_("served"),
    N_("delivered"),
    N_("no_show"),
    N_("senior"),
    N_("family"),
    N_("site_staff"),
    N_("kitchen"),
    N_("driver"),
    N_("admin"),
    N_("viewer"),
    N_("dine_in"),
    N_("pickup"),
    N_("delivery"),
    N_("peanut"),
    N_("fish"),
    N_("egg"),
    N_("wheat"),
    N_("soy"),
    N_("milk"),
    N_("shellfish"),
    N_("sesame"),
)

ALL = {
    "slot": SLOT,
    "fulfilment": FULFILMENT,
    "status": STATUS,
    "booked_by": BOOKED_BY,
    "variant": VARIANT,
    "diet_tag": DIET_TAG,
    "category": CATEGORY,
    "outcome": OUTCOME,
    "callback_reason": CALLBACK_REASON,
    "failure_reason": FAILURE_REASON,
    "dish_mark": DISH_MARK,
    "role": ROLE,
    "entity": ENTITY,
    "site_kind": SITE_KIND,
    "dish_kind": DISH_KIND,
    "binding_status": BINDING_STATUS,
    "consent_by": CONSENT_BY,
}
