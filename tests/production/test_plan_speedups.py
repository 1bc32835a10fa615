"""How the service plans 100,000 bookings fast: same labels, and no trace left behind."""

from __future__ import annotations

import gc
import itertools

import pytest

from meals.production import adapter
from meals.production.service import collector_paused


def _delivery(booking_id: int, **needs: object) -> adapter.HomeDelivery:
    fields: dict[str, object] = {
        "booking_id": booking_id,
        "site_id": 1,
        "menu_item_id": 7,
        "variant": "regular",
        "senior_id": 100 + booking_id,
        "name": f"senior {booking_id}",
        "address": "幸福路 1 号",
        "phone": None,
        "delivery_notes": None,
        "iddsi_level": 7,
        "halal": False,
        "low_salt": False,
        "low_sugar": False,
        "allergens": None,
    }
    fields.update(needs)
    return adapter.HomeDelivery(**fields)  # type: ignore[arg-type]


NEEDS = [
    {},
    {"halal": True},
    {"low_salt": True, "low_sugar": True},
    {"allergens": ("peanut", "egg")},
    {"allergens": ["egg"]},
    {"allergens": ()},
    {"iddsi_level": 4},
    {"iddsi_level": 5, "halal": True, "delivery_notes": "狗不咬人", "phone": "13800000000"},
]


def test_cached_diet_notes_match_uncached_ones() -> None:
    diets: dict[tuple, tuple[str, str]] = {}
    deliveries = [
        _delivery(n, **needs)
        for n, needs in enumerate(itertools.chain(NEEDS, NEEDS, reversed(NEEDS)))
    ]
    for delivery in deliveries:
        assert adapter.recipient(delivery, diets) == adapter.recipient(delivery)
    assert len(diets) == len(NEEDS) - 1  # None and () allergens spell the same
    label = adapter.recipient(_delivery(1, halal=True, allergens=("peanut",), iddsi_level=4))
    assert label.diet_notes == "清真 · 忌花生"
    assert label.texture.startswith("IDDSI 4")


@pytest.mark.parametrize("enabled", [True, False])
def test_collector_is_restored_as_it_was(enabled: bool) -> None:
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        with collector_paused():
            assert not gc.isenabled()
        assert gc.isenabled() is enabled
        with pytest.raises(RuntimeError), collector_paused():
            raise RuntimeError("planning failed")
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
