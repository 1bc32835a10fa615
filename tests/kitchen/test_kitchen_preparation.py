"""How long a stop's food takes from the freeze to packing: the longest cooking plus
texture steps of what it gets, so the router never sends it before it can be cooked."""

from datetime import timedelta

from kitchen_builders import RECIPES, home, home_line, site, site_line

from kitchen import DietVariant, preparation_per_stop


def test_a_stop_waits_for_its_slowest_dish_and_its_texture_steps() -> None:
    lines = [
        site_line(site("", "S1"), 30),
        home_line(home("", "H1"), "H1"),
        home_line(home("", "H2"), "H2", DietVariant.PUREE),
    ]

    longest = preparation_per_stop(lines, RECIPES)

    rice = RECIPES["rice"].cook_time  # the slowest dish of the set meal (40 min steamed)
    assert longest == {"S1": rice, "H1": rice, "H2": rice + timedelta(minutes=15)}
