"""留样 (GB 31654-2021): one sample of every dish of every batch, ≥ 125 g, kept 48 h."""

from datetime import timedelta

from kitchen_builders import EQUIPMENT, PARAMS, RECIPES, demo_departures, demo_order_lines

from kitchen import KitchenParams, plan_production


def test_one_sample_per_dish_per_batch() -> None:
    plan = plan_production(demo_order_lines(), RECIPES, demo_departures(), PARAMS)
    assert len(plan.batches) > len({batch.dish_id for batch in plan.batches})
    sampled = [(sample.batch_id, sample.dish_id) for sample in plan.samples]
    assert sorted(sampled) == sorted((batch.batch_id, batch.dish_id) for batch in plan.batches)
    assert len(set(sampled)) == len(sampled)


def test_samples_weigh_at_least_125_g_and_are_kept_48_hours() -> None:
    plan = plan_production(demo_order_lines(), RECIPES, demo_departures(), PARAMS)
    batches = {batch.batch_id: batch for batch in plan.batches}
    for sample in plan.samples:
        batch = batches[sample.batch_id]
        assert sample.grams >= 125
        assert sample.sampled_at == batch.ready_at
        assert sample.discard_at == sample.sampled_at + timedelta(hours=48)
        assert sample.variants == batch.variants
        assert sample.staff == ""


def test_sample_weight_and_retention_are_settings() -> None:
    params = KitchenParams(
        equipment=EQUIPMENT, sample_grams=150, sample_retention=timedelta(hours=72)
    )
    plan = plan_production(demo_order_lines(), RECIPES, demo_departures(), params)
    assert plan.samples
    assert {sample.grams for sample in plan.samples} == {150}
    assert all(s.discard_at - s.sampled_at == timedelta(hours=72) for s in plan.samples)
