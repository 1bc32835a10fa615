"""Route plans on the demo district: every home on one run or unserved with a reason, loads
within vans, no handover past the food-safety limit, one place per home, re-plan differences."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import date, timedelta

from click.testing import CliRunner
from litestar.testing import AsyncTestClient
from prometheus_client import REGISTRY
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kitchen import BoxKind
from meals.bookings.models import Booking
from meals.cli import main
from meals.clock import Clock
from meals.deliveries import adapter, planning, service
from meals.deliveries.models import (
    PlanningJob,
    PlanningStatus,
    PlanSource,
    RoutePlanRecord,
    RouteRun,
    RouteStop,
    StopKind,
)
from meals.errors import Conflict
from meals.jobs.queue import run_planning_jobs
from meals.production import day as one_plan
from meals.production import service as production
from meals.settings import Settings
from meals.sites.models import Site, Van
from meals.words import BookingStatus, Fulfilment, Role, SiteKind, Slot
from routing import Coordinates
from tests.conftest import NOW, TODAY
from tests.meals.helpers import Sessions, login_as
from tests.pages.helpers import submit

PLAN_LUNCH = {"service_date": TODAY.isoformat(), "slot": "lunch"}


async def _plan(db: Sessions, settings: Settings, **kw: object) -> RoutePlanRecord:
    async with db() as session:
        return await one_plan.plan_routes(
            session,
            settings=settings,
            service_date=TODAY,
            slot=Slot.LUNCH,
            actor=None,
            now=NOW,
            **kw,
        )


async def _stops(db: Sessions, plan_id: int) -> list[RouteStop]:
    async with db() as session:
        return list(await session.scalars(select(RouteStop).where(RouteStop.plan_id == plan_id)))


async def _runs(db: Sessions, plan_id: int) -> list[RouteRun]:
    async with db() as session:
        return list(await session.scalars(select(RouteRun).where(RouteRun.plan_id == plan_id)))


async def _delivery_bookings(db: Sessions) -> dict[int, int]:
    """Active home-delivery booking id -> senior id for today's lunch."""
    async with db() as session:
        rows = await session.execute(
            select(Booking.id, Booking.senior_id).where(
                Booking.service_date == TODAY,
                Booking.slot == Slot.LUNCH,
                Booking.fulfilment == Fulfilment.DELIVERY,
                Booking.status != BookingStatus.CANCELLED,
            )
        )
        return dict(rows.all())


async def test_every_home_delivery_is_on_exactly_one_run_or_unserved_with_a_reason(
    db: Sessions, settings: Settings, lunches: int
) -> None:
    bookings = await _delivery_bookings(db)
    assert len(bookings) >= 10, "the demo district should have home deliveries"
    plan = await _plan(db, settings)
    # planning the routes freezes the bookings first: one plan of the day
    assert plan.source is PlanSource.PRODUCTION_RUN
    stops = await _stops(db, plan.id)
    placed: dict[int, list[RouteStop]] = {}
    for stop in stops:
        for booking_id in stop.booking_ids:
            placed.setdefault(booking_id, []).append(stop)
    assert set(placed) == set(bookings)
    for booking_id, holders in placed.items():
        assert len(holders) == 1, f"booking {booking_id} is in {len(holders)} stops"
        stop = holders[0]
        served_by_van = stop.run_id is not None and stop.sequence is not None
        walked = stop.kind is StopKind.LAST_MILE_HOME and stop.sequence is not None
        unserved = stop.unserved_reason is not None
        assert served_by_van + walked + unserved == 1, stop.stop_key
        if unserved:
            assert stop.unserved_detail
    portions = {
        s.site_id: s.portions - s.last_mile_boxes for s in stops if s.kind is StopKind.SITE_DROP
    }
    async with db() as session:
        site_bookings = (
            await session.execute(
                select(Booking.site_id).where(
                    Booking.service_date == TODAY,
                    Booking.fulfilment != Fulfilment.DELIVERY,
                    Booking.status != BookingStatus.CANCELLED,
                )
            )
        ).scalars()
        expected: dict[int, int] = {}
        for site_id in site_bookings:
            expected[site_id] = expected.get(site_id, 0) + 1
    assert {k: v for k, v in portions.items() if v} == expected


async def test_loads_never_exceed_vans_and_no_handover_breaks_the_food_safety_limit(
    db: Sessions, settings: Settings, lunches: int
) -> None:
    plan = await _plan(db, settings)
    runs = {run.id: run for run in await _runs(db, plan.id)}
    stops = await _stops(db, plan.id)
    async with db() as session:
        capacity = dict((await session.execute(select(Van.code, Van.capacity_boxes))).all())
    assert runs, "a plan with bookings uses vans"
    for run in runs.values():
        on_run = [s for s in stops if s.run_id == run.id]
        assert run.load_boxes == sum(s.boxes for s in on_run)
        assert run.load_boxes <= capacity[run.van_code]
        assert all((s.load_before_boxes or 0) <= capacity[run.van_code] for s in on_run)
    limit = settings.food_safety_limit - settings.kitchen_packing_lead
    for stop in stops:
        if stop.unserved_reason is not None:
            continue
        assert stop.since_departure_s is not None and stop.eta is not None
        assert timedelta(seconds=stop.since_departure_s) <= limit, stop.stop_key
        if stop.run_id is not None:
            run = runs[stop.run_id]
            assert stop.eta - run.departs_at <= limit, stop.stop_key
    drops = {s.site_id: s for s in stops if s.kind is StopKind.SITE_DROP}
    for home in (s for s in stops if s.kind is StopKind.LAST_MILE_HOME and s.eta):
        drop = drops[home.carried_by_site_id]
        assert home.eta >= drop.eta, "a walk starts after the van has handed the meals over"
        assert home.eta - runs[drop.run_id].departs_at <= limit, home.stop_key
    assert plan.longest_in_van_s <= settings.food_safety_limit.total_seconds()


async def test_two_echelon_puts_each_home_in_exactly_one_place_within_radius(
    db: Sessions, settings: Settings, lunches: int
) -> None:
    plan = await _plan(db, settings)
    stops = await _stops(db, plan.id)
    async with db() as session:
        points = {
            site.id: site
            for site in await session.scalars(select(Site).where(Site.kind == SiteKind.MEAL_POINT))
        }
    homes = [s for s in stops if s.senior_id is not None]
    assert len({h.senior_id for h in homes}) == len(homes), "one stop per senior"
    walked = [h for h in homes if h.kind is StopKind.LAST_MILE_HOME]
    assert walked, "some homes in the demo district lie within a meal point's radius"
    for home in walked:
        point = points[home.carried_by_site_id]
        distance = adapter.metres_between(
            Coordinates(home.latitude, home.longitude), Coordinates(point.latitude, point.longitude)
        )
        assert distance <= point.last_mile_radius_m
        assert home.run_id is None
    for home in homes:
        if home.kind is StopKind.HOME:
            assert home.carried_by_site_id is None
    drops = {s.site_id: s for s in stops if s.kind is StopKind.SITE_DROP}
    async with db() as session:
        run = await production.latest_run(session, TODAY, Slot.LUNCH)
        assert run is not None and run.route_plan_id == plan.id
    packed = production.plan_of(run).packing
    for site_id, drop in drops.items():
        riding = [h for h in walked if h.carried_by_site_id == site_id]
        assert drop.last_mile_boxes == sum(h.boxes + h.cold_boxes for h in riding)
        if drop.unserved_reason:
            continue
        # the router carries the hot boxes the kitchen packs for the site, and the walkers'
        own_hot = sum(
            1
            for van in packed
            for stop in van.stops
            if stop.stop_id == f"site-{site_id}"
            for box in stop.boxes
            if box.kind is BoxKind.HOT
        )
        assert drop.boxes == own_hot + sum(h.boxes for h in riding)
    by_point: dict[int, list[int]] = {}
    for home in walked:
        if home.sequence is not None:
            by_point.setdefault(home.carried_by_site_id, []).append(home.sequence)
    for sequences in by_point.values():
        assert sorted(sequences) == list(range(1, len(sequences) + 1))

    flat = await _plan(db, dataclasses.replace(settings, last_mile_enabled=False))
    assert all(s.kind is not StopKind.LAST_MILE_HOME for s in await _stops(db, flat.id))


async def test_homes_beyond_a_walks_share_of_the_limit_go_by_van(
    db: Sessions, settings: Settings, lunches: int
) -> None:
    """A meal point walks only as far as its share of the food-safety limit allows; the
    homes further along its walk are delivered by van, none is lost."""
    roomy = await _plan(db, dataclasses.replace(settings, last_mile_walk_share=0.9))
    tight = await _plan(db, dataclasses.replace(settings, last_mile_walk_share=0.1))
    rules = service.delivery_rules(settings, TODAY, Slot.LUNCH)
    allowance = 0.1 * (rules.in_van_limit - settings.delivery_site_service.total_seconds())

    roomy_stops, tight_stops = await _stops(db, roomy.id), await _stops(db, tight.id)
    walked = {s.senior_id for s in roomy_stops if s.kind is StopKind.LAST_MILE_HOME}
    kept = {s.senior_id for s in tight_stops if s.kind is StopKind.LAST_MILE_HOME}
    assert kept < walked, "a tighter share keeps fewer homes on the walking lists"
    by_van = {s.senior_id for s in tight_stops if s.kind is StopKind.HOME}
    assert walked - kept <= by_van
    drops = {s.site_id: s for s in tight_stops if s.kind is StopKind.SITE_DROP}
    for home in tight_stops:
        if home.kind is StopKind.LAST_MILE_HOME and home.eta is not None:
            drop = drops[home.carried_by_site_id]
            walk = (
                home.eta - drop.eta
            ).total_seconds() - settings.delivery_site_service.total_seconds()
            assert walk <= allowance
    placed = sorted(b for s in tight_stops for b in s.booking_ids)
    assert placed == sorted(await _delivery_bookings(db))


async def test_replan_without_a_broken_van_shows_what_moved(
    client: AsyncTestClient, db: Sessions, lunches: int
) -> None:
    await login_as(client, db, Role.KITCHEN)
    first = await client.post("/api/v1/deliveries/plans", json=PLAN_LUNCH)
    assert first.status_code == 201, first.text
    before = first.json()
    assert before["changes"] == []
    broken = before["runs"][0]["van_code"]
    again = await client.post(
        "/api/v1/deliveries/plans", json={**PLAN_LUNCH, "exclude_vans": [broken]}
    )
    assert again.status_code == 201, again.text
    after = again.json()
    assert broken not in {run["van_code"] for run in after["runs"]}
    moved = {stop["id"] for stop in before["runs"][0]["stops"]}
    assert moved and after["changes"], "the broken van's stops moved"
    assert any(change["before"].startswith(broken) for change in after["changes"])
    assert not any(change["after"].startswith(broken) for change in after["changes"])

    page = await client.get(f"/dispatch?service_date={TODAY.isoformat()}&slot=lunch")
    assert page.status_code == 200
    assert after["changes"][0]["before"] in page.text


async def test_replan_lists_a_stop_whose_arrival_moved_even_on_the_same_van(
    client: AsyncTestClient, db: Sessions, settings: Settings, lunches: int
) -> None:
    await login_as(client, db, Role.KITCHEN)
    first = await client.post("/api/v1/deliveries/plans", json=PLAN_LUNCH)
    again = await client.post("/api/v1/deliveries/plans", json=PLAN_LUNCH)
    assert first.status_code == again.status_code == 201, again.text
    plan_id = again.json()["id"]
    already_moved = {change["stop_key"] for change in again.json()["changes"]}
    stops = await _stops(db, plan_id)
    placed = sorted(
        (s for s in stops if s.eta is not None and s.stop_key not in already_moved),
        key=lambda s: s.id,
    )
    late, slightly_late = placed[0], placed[1]
    shift = settings.delivery_eta_shift_reported
    async with db() as session:
        for stop, by in ((late, shift), (slightly_late, shift - timedelta(minutes=1))):
            moved = await session.get(RouteStop, stop.id)
            moved.eta = moved.eta + by
        await session.commit()

    shown = await client.get(f"/api/v1/deliveries/plans/{plan_id}")

    assert shown.status_code == 200
    changed = {change["stop_key"]: change for change in shown.json()["changes"]}
    assert late.stop_key in changed and slightly_late.stop_key not in changed
    before, after = changed[late.stop_key]["before"], changed[late.stop_key]["after"]
    assert before.rsplit(" ", 1)[0] == after.rsplit(" ", 1)[0]  # same van, trip and place
    assert before.rsplit(" ", 1)[1] != after.rsplit(" ", 1)[1]  # a later arrival


def _plan_solves() -> float:
    return REGISTRY.get_sample_value("warmmeal_plan_solve_seconds_count", {"slot": "lunch"}) or 0


async def _planned_in_the_background(
    db: Sessions, settings: Settings, timeout_s: float = 120.0
) -> PlanningJob:
    """Wait, as the dispatcher's page does, until the last planning job has finished: on
    SQLite the web process's own queue solves it; on PostgreSQL a worker run here does."""
    if not settings.is_sqlite:
        await run_planning_jobs(settings, db, Clock(NOW))
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        async with db() as session:
            job = await session.scalar(select(PlanningJob).order_by(PlanningJob.id.desc()))
        if job is not None and job.status in (PlanningStatus.DONE, PlanningStatus.FAILED):
            return job
        assert asyncio.get_running_loop().time() < deadline, "the planning job never finished"
        await asyncio.sleep(0.2)


async def test_the_dispatcher_plans_and_replans_from_the_page_without_a_broken_van(
    client: AsyncTestClient, db: Sessions, settings: Settings, lunches: int
) -> None:
    await login_as(client, db, Role.KITCHEN)
    page = f"/dispatch?service_date={TODAY.isoformat()}&slot=lunch"
    form = {"service_date": TODAY.isoformat(), "slot": "lunch"}

    planned = await submit(client, page, "/dispatch/plans", form)
    await _planned_in_the_background(db, settings)
    async with db() as session:
        first = await session.scalar(select(RoutePlanRecord).order_by(RoutePlanRecord.id.desc()))
    broken = (await _runs(db, first.id))[0].van_code
    replanned = await submit(client, page, "/dispatch/plans", {**form, "exclude": broken})
    await _planned_in_the_background(db, settings)

    assert planned.status_code == replanned.status_code == 303
    assert replanned.headers["location"] == page
    async with db() as session:
        latest = await session.scalar(select(RoutePlanRecord).order_by(RoutePlanRecord.id.desc()))
    assert latest.previous_plan_id == first.id
    assert broken not in {run.van_code for run in await _runs(db, latest.id)}
    shown = await client.get(page)
    assert shown.status_code == 200 and broken in shown.text  # the re-plan's changes name it


REROUTES = Settings.plan_reroute_attempts


async def test_a_replan_runs_in_the_background_with_progress_on_the_page(
    client: AsyncTestClient, db: Sessions, settings: Settings, lunches: int
) -> None:
    """The page answers at once while the plan is made, shows progress and refreshes itself,
    refuses a second request meanwhile, then shows the new plan."""
    await login_as(client, db, Role.ADMIN)
    page = f"/dispatch?service_date={TODAY.isoformat()}&slot=lunch"
    form = {"service_date": TODAY.isoformat(), "slot": "lunch"}
    solves_before = _plan_solves()

    asked = await submit(client, page, "/dispatch/plans", form)
    assert asked.status_code == 303
    async with db() as session:
        assert await service.latest_plan(session, TODAY, Slot.LUNCH) is None  # not waited for
    waiting = await client.get(page)
    assert waiting.status_code == 200
    assert "正在规划路线" in waiting.text and '<progress max="100"' in waiting.text
    assert 'http-equiv="refresh"' in waiting.text
    again = await submit(client, page, "/dispatch/plans", form)
    assert again.status_code == 303
    refused = await client.get(page)
    assert "这一餐的路线正在规划中，请等它完成。" in refused.text

    await _planned_in_the_background(db, settings)
    done = await client.get(page)
    assert "正在规划路线" not in done.text and 'http-equiv="refresh"' not in done.text
    async with db() as session:
        plans = list(await session.scalars(select(RoutePlanRecord)))
    assert len(plans) == 1  # the refused second request planned nothing
    assert f"计划 {plans[0].id}" in done.text
    # /metrics counts each solve's time (a wave cooked early is routed again)
    assert solves_before + 1 <= _plan_solves() <= solves_before + 1 + REROUTES


async def _request_lunch_plan(session: AsyncSession, settings: Settings) -> PlanningJob:
    """Today's lunch asked to be planned, by nobody in particular, with every van."""
    return await planning.request_plan(
        session,
        settings=settings,
        service_date=TODAY,
        slot=Slot.LUNCH,
        actor=None,
        now=NOW,
        excluded_vans=[],
    )


async def test_a_job_whose_planner_stopped_is_failed_with_a_sentence_and_planned_again(
    client: AsyncTestClient, db: Sessions, settings: Settings
) -> None:
    """A web process or worker that died mid-solve leaves its job running with an old
    heartbeat: the page says so at once, the next request fails it and queues a new one, and
    the queue's task leaves the failed one alone if it is ever taken up."""
    old_beat = planning.real_now() - settings.planning_lease - timedelta(seconds=1)
    async with db() as session:
        stuck = PlanningJob(
            service_date=TODAY,
            slot=Slot.LUNCH,
            excluded_vans=[],
            requested_at=NOW,
            started_at=NOW,
            heartbeat_at=old_beat,
            time_limit_s=planning.expected_seconds(settings),
            status=PlanningStatus.RUNNING,
        )
        session.add(stuck)
        await session.commit()
    await login_as(client, db, Role.KITCHEN)

    shown = await client.get(f"/dispatch?service_date={TODAY.isoformat()}&slot=lunch")
    assert "规划程序停止了，请再按一次重新规划。" in shown.text
    assert 'http-equiv="refresh"' not in shown.text
    async with db() as session:
        fresh = await _request_lunch_plan(session, settings)
    skipped = await planning.solve_job(db, settings, job_id=stuck.id, clock=Clock(NOW))

    async with db() as session:
        failed = await session.get(PlanningJob, stuck.id)
        queued = await session.get(PlanningJob, fresh.id)
    assert (failed.status, failed.error) == (PlanningStatus.FAILED, planning.STOPPED)
    assert queued.status is PlanningStatus.QUEUED and "skipped" in skipped


async def test_two_requests_racing_to_plan_one_meal_queue_one_job(
    db: Sessions, settings: Settings
) -> None:
    """Two dispatchers press re-plan at the same instant (two web workers): one job is queued,
    the other request is refused with the sentence, whichever database."""

    async def request() -> PlanningJob | Conflict:
        async with db() as session:
            try:
                return await _request_lunch_plan(session, settings)
            except Conflict as refused:
                return refused

    outcomes = await asyncio.gather(*(request() for _ in range(4)))

    queued = [outcome for outcome in outcomes if isinstance(outcome, PlanningJob)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, Conflict)]
    assert len(queued) == 1 and len(refused) == 3
    assert {refusal.message for refusal in refused} == {
        "A plan for this day is already being made; wait for it to finish."
    }
    async with db() as session:
        jobs = list(await session.scalars(select(PlanningJob)))
    assert [(job.id, job.status) for job in jobs] == [(queued[0].id, PlanningStatus.QUEUED)]


async def test_frozen_production_run_is_the_source_when_there_is_one(
    client: AsyncTestClient, db: Sessions, settings: Settings, lunches: int
) -> None:
    await login_as(client, db, Role.KITCHEN)
    frozen = await client.post("/api/v1/kitchen/runs", json=PLAN_LUNCH)
    assert frozen.status_code == 201, frozen.text
    plan = await _plan(db, settings)
    assert plan.source is PlanSource.PRODUCTION_RUN
    # the same frozen bookings, re-flowed into the run that packs for these routes
    async with db() as session:
        first = await production.get_run(session, frozen.json()["id"])
        latest = await production.latest_run(session, TODAY, Slot.LUNCH)
    assert latest is not None and plan.production_run_id == latest.id
    assert latest.frozen_at == first.frozen_at
    stops = await _stops(db, plan.id)
    assert {b for s in stops for b in s.booking_ids} == set(await _delivery_bookings(db))


async def test_cli_plans_and_prints_the_summary(
    settings: Settings, db: Sessions, lunches: int, monkeypatch
) -> None:
    monkeypatch.setenv("WARMMEAL_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("WARMMEAL_VAR_DIR", str(settings.var_dir))
    monkeypatch.setenv("WARMMEAL_SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("WARMMEAL_FROZEN_NOW", NOW.isoformat())
    monkeypatch.setenv("WARMMEAL_DELIVERY_SOLVER_SECONDS", "1")
    result = await asyncio.to_thread(
        CliRunner().invoke, main, ["routes", "plan", "--date", TODAY.isoformat(), "--slot", "lunch"]
    )
    assert result.exit_code == 0, result.output
    assert "vans used" in result.output and "VAN-0" in result.output
    async with db() as session:
        assert await service.latest_plan(session, TODAY, Slot.LUNCH) is not None


async def test_bad_plan_requests_are_refused_not_crashed(
    client: AsyncTestClient, db: Sessions
) -> None:
    await login_as(client, db, Role.KITCHEN)
    for body in (
        {"service_date": "not-a-date"},
        {"service_date": TODAY.isoformat(), "slot": "breakfast"},
        {"service_date": TODAY.isoformat(), "exclude_vans": "VAN-01"},
        {"service_date": TODAY.isoformat(), "surprise": 1},
    ):
        response = await client.post("/api/v1/deliveries/plans", json=body)
        assert response.status_code == 400, (body, response.text)
    assert (await client.get("/api/v1/deliveries/plans/999999")).status_code == 404
    bad_form = await client.post("/dispatch/plans", data={"service_date": "x"})
    assert bad_form.status_code in (400, 403)
    await login_as(client, db, Role.DRIVER)
    assert (await client.post("/api/v1/deliveries/plans", json=PLAN_LUNCH)).status_code == 403


async def test_plans_for_days_far_from_today_are_refused_with_the_days_allowed(
    client: AsyncTestClient, db: Sessions
) -> None:
    await login_as(client, db, Role.ADMIN)
    for day in ("0001-01-01", "9999-12-31", (TODAY + timedelta(days=60)).isoformat()):
        for path in ("/api/v1/deliveries/plans", "/api/v1/kitchen/runs"):
            response = await client.post(path, json={"service_date": day, "slot": "lunch"})
            assert response.status_code == 422, (path, day, response.text)
            assert response.json()["code"] == "day_out_of_range"
            assert "2026-11-16" in response.json()["detail"]  # a week before today
    async with db() as session:
        assert await service.latest_plan(session, date(1, 1, 1), Slot.LUNCH) is None


async def test_a_fleet_too_small_leaves_stops_unserved_with_reasons_shown_in_red(
    client: AsyncTestClient, db: Sessions, lunches: int
) -> None:
    await login_as(client, db, Role.ADMIN)
    async with db() as session:
        vans = list(await session.scalars(select(Van.code).order_by(Van.code)))
    response = await client.post(
        "/api/v1/deliveries/plans", json={**PLAN_LUNCH, "exclude_vans": vans[1:]}
    )
    assert response.status_code == 201, response.text
    plan = response.json()
    assert {run["van_code"] for run in plan["runs"]} == {vans[0]}
    assert plan["unserved"], "one van cannot reach every stop in time"
    reasons = {stop["unserved_reason"] for stop in plan["unserved"]}
    assert reasons <= {
        "fleet_too_small",
        "window_unreachable",
        "after_shift_end",
        "beyond_food_safety_limit",
        "drop_unserved",
    }
    placed = [b for run in plan["runs"] for s in run["stops"] for b in s["booking_ids"]]
    placed += [b for s in plan["unserved"] for b in s["booking_ids"]]
    placed += [b for homes in plan["walking"].values() for s in homes for b in s["booking_ids"]]
    assert sorted(placed) == sorted(await _delivery_bookings(db))
    page = await client.get(f"/dispatch?service_date={TODAY.isoformat()}&slot=lunch")
    assert page.status_code == 200
    assert page.text.count('<li class="unserved">') == len(plan["unserved"])
    assert "未能安排" in page.text
    # Each unserved stop says what would serve it, in the dispatcher's language.
    routed_out = [s for s in plan["unserved"] if s["unserved_reason"] == "fleet_too_small"]
    assert routed_out, "one van leaves stops for want of room"
    assert {s["unserved_remedy"] for s in routed_out} == {"one_more_van"}
    assert page.text.count("再加一辆车（或多跑一趟）就能送到") == len(routed_out)
