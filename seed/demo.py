"""The demo district generator: deterministic for a seed, scales to tens of thousands of seniors."""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from meals.accounts.models import Account, FamilyBinding, StaffSite
from meals.accounts.service import hash_password
from meals.bookings.diet import DietProfile, MealOffer, VariantChoice, choose_variant
from meals.bookings.models import Booking
from meals.errors import Conflict
from meals.menus.cycles import publish_ahead
from meals.menus.models import (
    Dish,
    Menu,
    MenuCycle,
    MenuCycleItem,
    MenuCycleSite,
    MenuItem,
)
from meals.seniors.models import EmergencyContact, Senior
from meals.sites.models import Site, SiteSlot, Van
from meals.subsidies.models import FundingSource, SubsidyPolicy, SubsidyTier
from meals.subsidies.service import PriceQuote, TierRule, age_on, effective_categories, quote_price
from meals.words import BookedBy, BookingStatus, Fulfilment, Role, SiteKind, Slot
from seed import data
from seed.recipes import seed_recipes

KM_PER_DEGREE_LAT = 111.32
BATCH = 2000
POLICY_START = date(2024, 1, 1)
CAPACITY_ROUNDING = 10
SEAT_SHARE_OF_SENIORS = 0.8
ADVANCED_AGE_YEARS = 80

Progress = Callable[[str, int, int], None]


def _no_progress(_task: str, _done: int, _total: int) -> None:
    return None


@dataclass
class SeedSummary:
    sites: int = 0
    seniors: int = 0
    accounts: int = 0
    menus: int = 0
    bookings: int = 0
    demo_logins: dict[str, str] = field(default_factory=dict)


def _offset(origin: tuple[float, float], north_km: float, east_km: float) -> tuple[float, float]:
    lat, lon = origin
    return (
        lat + north_km / KM_PER_DEGREE_LAT,
        lon + east_km / (KM_PER_DEGREE_LAT * math.cos(math.radians(lat))),
    )


def _scatter(rng: random.Random, origin: tuple[float, float], radius_km: float):
    distance = radius_km * math.sqrt(rng.random())
    angle = rng.uniform(0, 2 * math.pi)
    return _offset(origin, distance * math.cos(angle), distance * math.sin(angle))


def _hhmm(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


async def is_seeded(session: AsyncSession) -> bool:
    return bool(await session.scalar(select(func.count()).select_from(Site)))


async def _insert_with_ids(session: AsyncSession, model: Any, rows: list[dict]) -> list[int]:
    """Bulk insert with ids assigned here: far faster than RETURNING for many rows."""
    if not rows:
        return []
    table = model.__table__
    first = int(await session.scalar(select(func.coalesce(func.max(table.c.id), 0))) or 0) + 1
    ids = list(range(first, first + len(rows)))
    for row, row_id in zip(rows, ids, strict=True):
        row["id"] = row_id
    for start in range(0, len(rows), BATCH):
        await session.execute(insert(table), rows[start : start + BATCH])
    if session.bind.dialect.name == "postgresql":
        await session.execute(
            text("SELECT setval(pg_get_serial_sequence(:table, 'id'), :last)"),
            {"table": table.name, "last": ids[-1]},
        )
    return ids


async def _seed_policy(session: AsyncSession) -> None:
    ids = await _insert_with_ids(
        session,
        FundingSource,
        [{"code": c, "name": n, "name_en": e} for c, n, e in data.FUNDING_SOURCES],
    )
    by_code = dict(zip([c for c, _, _ in data.FUNDING_SOURCES], ids, strict=True))
    policy = SubsidyPolicy(
        name="2026年助餐补贴政策",
        effective_from=POLICY_START,
        note="",
        created_at=datetime.combine(POLICY_START, time.min, tzinfo=UTC),
        created_by="seed",
    )
    session.add(policy)
    await session.flush()
    await session.execute(
        insert(SubsidyTier.__table__),
        [
            {
                "funding_source_id": by_code[source],
                "min_age": low,
                "max_age": high,
                "category": category,
                "amount_fen": amount,
                "valid_from": POLICY_START,
                "valid_to": None,
                "policy_id": policy.id,
            }
            for source, low, high, category, amount in data.SUBSIDY_TIERS
        ],
    )


@dataclass
class _SitePlan:
    code: str
    name: str
    kind: SiteKind
    address: str
    latlon: tuple[float, float]
    timezone: str
    offers_delivery: bool
    slots: dict[str, dict]
    id: int = 0


def _plan_sites(rng: random.Random) -> list[_SitePlan]:
    centre = data.DISTRICT_CENTRE
    k = data.KITCHEN
    plans = [
        _SitePlan(
            k["code"],
            k["name"],
            SiteKind.KITCHEN,
            k["address"],
            _offset(centre, *k["offset_km"]),
            data.DEFAULT_TZ,
            True,
            {},
        )
    ]
    for (code, street, offset), points in zip(
        data.STREETS, data.MEAL_POINTS_PER_CANTEEN, strict=True
    ):
        tz = data.LOCAL_TZ if code in data.URUMQI_TIME_STREETS else data.DEFAULT_TZ
        canteen_at = _offset(centre, *offset)
        plans.append(
            _SitePlan(
                f"{code}-C",
                f"{street}社区老年食堂",
                SiteKind.CANTEEN,
                f"{street}街道{rng.randint(1, 199)}号",
                canteen_at,
                data.DEFAULT_TZ,
                True,
                data.CANTEEN_SLOTS,
            )
        )
        for n in range(1, points + 1):
            plans.append(
                _SitePlan(
                    f"{code}-P{n}",
                    f"{street}第{n}助餐点",
                    SiteKind.MEAL_POINT,
                    f"{street}{rng.randint(1, 40)}小区{rng.randint(1, 30)}栋",
                    _scatter(rng, canteen_at, data.MEAL_POINT_RADIUS_KM),
                    tz,
                    n == 1,
                    data.MEAL_POINT_SLOTS,
                )
            )
    return plans


def _random_name(rng: random.Random, halal: bool) -> str:
    if halal and rng.random() < 0.6:
        return rng.choice(data.UYGHUR_KAZAKH_NAMES)
    return rng.choice(data.SURNAMES) + "".join(rng.choices(data.GIVEN, k=rng.choice((1, 2))))


def _random_age(rng: random.Random) -> int:
    bands, weights = zip(*data.AGE_BANDS, strict=True)
    low, high = rng.choices(bands, weights=weights)[0]
    return rng.randint(low, high)


def _senior_row(rng: random.Random, index: int, site: _SitePlan, today: date) -> dict[str, Any]:
    halal = rng.random() < data.DIET_SHARES["halal"]
    age = _random_age(rng)
    birth = today - timedelta(days=age * 365 + rng.randint(0, 364))
    categories = [c for c, share in data.CATEGORY_SHARES.items() if rng.random() < share]
    frail = "disabled" in categories or "semi_disabled" in categories or age >= 85
    iddsi = 7
    roll = rng.random()
    for level, share in sorted(data.IDDSI_SHARES.items()):
        if roll < share:
            iddsi = level
            break
        roll -= share
    allergens = [rng.choice(data.ALLERGENS)] if rng.random() < data.DIET_SHARES["allergy"] else []
    delivery = rng.random() < (data.DELIVERY_SHARE_FRAIL if frail else data.DELIVERY_SHARE)
    lat, lon = _scatter(rng, site.latlon, data.SENIOR_RADIUS_KM)
    phone = f"1{rng.choice('3589')}{index:09d}" if rng.random() < data.PHONE_SHARE else None
    return {
        "name": _random_name(rng, halal),
        "phone": phone,
        "card_number": f"KMY{index:07d}",
        "birth_date": birth,
        "id_card_masked": f"650203********{rng.randint(0, 9999):04d}",
        "address": f"{site.address.split('街道')[0]}{rng.randint(1, 60)}栋{rng.randint(1, 6)}单元"
        f"{rng.randint(1, 6)}0{rng.randint(1, 4)}",
        "latitude": round(lat, 6),
        "longitude": round(lon, 6),
        "home_site_id": site.id,
        "categories": categories,
        "low_salt": rng.random() < data.DIET_SHARES["low_salt"],
        "low_sugar": rng.random() < data.DIET_SHARES["low_sugar"],
        "iddsi_level": iddsi,
        "halal": halal,
        "allergens": allergens,
        "delivery_eligible": delivery,
        "delivery_notes": rng.choice(data.DOOR_NOTES) if delivery else None,
    }


async def _seed_seniors(
    session: AsyncSession,
    rng: random.Random,
    serving: Sequence[_SitePlan],
    count: int,
    today: date,
    progress: Progress,
) -> tuple[list[int], list[dict[str, Any]]]:
    weights = [3 if s.kind is SiteKind.CANTEEN else 2 for s in serving]
    homes = rng.choices(serving, weights=weights, k=count)
    rows = [_senior_row(rng, i + 1, site, today) for i, site in enumerate(homes)]
    ids: list[int] = []
    for start in range(0, count, BATCH):
        ids += await _insert_with_ids(session, Senior, rows[start : start + BATCH])
        progress("seniors", min(start + BATCH, count), count)
    contacts = []
    for senior_id, row in zip(ids, rows, strict=True):
        contacts.append(
            {
                "senior_id": senior_id,
                "name": rng.choice(data.SURNAMES) + rng.choice(data.GIVEN),
                "phone": f"139{rng.randint(0, 99_999_999):08d}",
                "relation": rng.choice(data.RELATIONS),
            }
        )
        row["id"] = senior_id
    for start in range(0, len(contacts), BATCH):
        await session.execute(insert(EmergencyContact.__table__), contacts[start : start + BATCH])
    return ids, rows


NUTRITION_FIELDS = ("energy_kcal", "protein_g", "fat_g", "carbohydrate_g", "sodium_mg")


async def _seed_dishes(session: AsyncSession) -> dict[str, int]:
    codes = list(data.DISHES)
    ids = await _insert_with_ids(
        session,
        Dish,
        [
            {
                "name": n,
                "name_en": e,
                "kind": k,
                "diet_tags": t,
                "allergens": a,
                **dict(zip(NUTRITION_FIELDS, data.NUTRITION[code], strict=True)),
            }
            for code, (n, e, k, t, a) in data.DISHES.items()
        ],
    )
    return dict(zip(codes, ids, strict=True))


def _set_meal_tags(dish_codes: Sequence[str]) -> tuple[list[str], list[str]]:
    tag_sets = [set(data.DISHES[c][3]) for c in dish_codes]
    tags = sorted(set.intersection(*tag_sets))
    allergens = sorted({a for c in dish_codes for a in data.DISHES[c][4]})
    return tags, allergens


DEMO_CYCLE_NAME = "克拉玛依四周轮换菜单"
DEMO_CYCLE_WEEKS = 4


def _demo_set_meals(day_index: int, slot: Slot) -> list[tuple[str, str, str, int, list[str]]]:
    """The demo rotation: the weekday's two set meals, shifted by two days each week."""
    week, weekday = divmod(day_index, 7)
    set_meals = data.SET_MEALS_BY_WEEKDAY[(weekday + 2 * week + int(slot is Slot.DINNER)) % 7]
    specs = []
    for code, (*dishes, price) in zip("AB", set_meals, strict=True):
        names = [data.DISHES[d][0] for d in dishes]
        english = [data.DISHES[d][1] for d in dishes]
        specs.append(
            (
                code,
                f"{code}套餐：{names[0]}+{names[1]}",
                f"Set {code}: {english[0]}, {english[1]}",
                price,
                names,
            )
        )
    return specs


async def ensure_demo_cycle(session: AsyncSession, *, today: date, now: datetime) -> MenuCycle:
    """The demo district's four-week cycle, followed by every serving site (made once)."""
    cycle = await session.scalar(select(MenuCycle).where(MenuCycle.name == DEMO_CYCLE_NAME))
    if cycle is not None:
        return cycle
    dish_ids = dict((await session.execute(select(Dish.name, Dish.id))).all())
    serving = list(await session.scalars(select(Site.id).where(Site.kind != SiteKind.KITCHEN)))
    cycle = MenuCycle(
        name=DEMO_CYCLE_NAME,
        weeks=DEMO_CYCLE_WEEKS,
        starts_on=today - timedelta(days=today.weekday()),
        active=True,
        created_at=now,
        updated_at=now,
    )
    cycle.sites = [MenuCycleSite(site_id=site_id) for site_id in serving]
    cycle.items = [
        MenuCycleItem(
            day_index=day_index,
            slot=slot,
            code=code,
            name=name,
            name_en=name_en,
            list_price_fen=price,
            portions=None,
            dish_ids=[dish_ids[n] for n in names],
        )
        for day_index in range(DEMO_CYCLE_WEEKS * 7)
        for slot in Slot
        for code, name, name_en, price, names in _demo_set_meals(day_index, slot)
    ]
    session.add(cycle)
    await session.flush()
    return cycle


async def ensure_menus(
    session: AsyncSession, *, start: date, days: int, published_at: datetime
) -> int:
    """Publish the demo cycle's menus for every serving site, date and slot not yet on a menu,
    through the same service as the worker's publishing job."""
    await ensure_demo_cycle(session, today=start, now=published_at)
    return await publish_ahead(
        session,
        now=published_at,
        window=(start, start + timedelta(days=days - 1)),
    )


async def _seed_accounts(
    session: AsyncSession,
    rng: random.Random,
    sites: Sequence[_SitePlan],
    senior_rows: Sequence[dict[str, Any]],
    now: datetime,
) -> dict[str, str]:
    pw = {role: hash_password(secret) for role, secret in data.DEMO_PASSWORDS.items()}
    logins: dict[str, str] = {}

    def account(login: str, name: str, role: Role, secret: str, **extra: Any) -> dict[str, Any]:
        return {
            "login": login,
            "display_name": name,
            "role": role,
            "password_hash": pw[secret],
            "active": True,
            "locale": "zh_CN",
            "senior_id": None,
            **extra,
        }

    staff_rows = [
        account("admin", "区民政局管理员", Role.ADMIN, "admin"),
        account("kitchen", "中央厨房", Role.KITCHEN, "kitchen"),
        account("civil", "区民政局（只读）", Role.VIEWER, "viewer"),
    ]
    logins["admin"] = data.DEMO_PASSWORDS["admin"]
    logins["civil"] = data.DEMO_PASSWORDS["viewer"]
    logins["kitchen"] = data.DEMO_PASSWORDS["kitchen"]
    for code, *_ in data.VANS:
        staff_rows.append(account(f"driver-{code[-2:]}", f"司机 {code}", Role.DRIVER, "driver"))
    logins["driver-01"] = data.DEMO_PASSWORDS["driver"]
    serving = [s for s in sites if s.kind is not SiteKind.KITCHEN]
    for site in serving:
        staff_rows.append(
            account(f"staff-{site.code}", f"{site.name}工作人员", Role.SITE_STAFF, "staff")
        )
    logins[f"staff-{serving[0].code}"] = data.DEMO_PASSWORDS["staff"]
    ids = await _insert_with_ids(session, Account, staff_rows)
    by_login = dict(zip([r["login"] for r in staff_rows], ids, strict=True))
    await session.execute(
        insert(StaffSite.__table__),
        [{"account_id": by_login[f"staff-{s.code}"], "site_id": s.id} for s in serving],
    )
    for n, (code, boxes, cold) in enumerate(data.VANS, start=1):
        await session.execute(
            insert(Van).values(
                code=code,
                depot_site_id=sites[0].id,
                capacity_boxes=boxes,
                cold_capacity_boxes=cold,
                driver_account_id=by_login[f"driver-{n:02d}"],
            )
        )
    senior_accounts = [
        account(row["phone"], row["name"], Role.SENIOR, "senior_pin", senior_id=row["id"])
        for row in senior_rows
        if row["phone"]
    ]
    for start in range(0, len(senior_accounts), BATCH):
        await session.execute(insert(Account.__table__), senior_accounts[start : start + BATCH])
    if senior_accounts:
        logins[senior_accounts[0]["login"]] = data.DEMO_PASSWORDS["senior_pin"]
    family_rows, bindings = [], []
    first_site = serving[0].id
    candidates = [r for r in senior_rows if r["home_site_id"] == first_site][:2] or senior_rows[:2]
    family_rows.append(account("family", "家属（演示）", Role.FAMILY, "family"))
    bindings.append([r["id"] for r in candidates])
    for row in senior_rows:
        if row["phone"] is None and rng.random() < 0.3:
            family_rows.append(
                account(
                    f"family-{row['card_number']}", f"{row['name']}的家属", Role.FAMILY, "family"
                )
            )
            bindings.append([row["id"]])
    family_ids: list[int] = []
    for start in range(0, len(family_rows), BATCH):
        family_ids += await _insert_with_ids(session, Account, family_rows[start : start + BATCH])
    binding_rows = [
        {
            "account_id": account_id,
            "senior_id": senior_id,
            "relation": rng.choice(data.RELATIONS),
            "consented_at": now,
        }
        for account_id, seniors in zip(family_ids, bindings, strict=True)
        for senior_id in seniors
    ]
    for start in range(0, len(binding_rows), BATCH):
        await session.execute(insert(FamilyBinding.__table__), binding_rows[start : start + BATCH])
    logins["family"] = data.DEMO_PASSWORDS["family"]
    return logins


async def _load_tier_rules(session: AsyncSession) -> list[TierRule]:
    rows = await session.execute(
        select(SubsidyTier, FundingSource.code, FundingSource.name).join(FundingSource)
    )
    return [TierRule(c, n, t.min_age, t.max_age, t.category, t.amount_fen) for t, c, n in rows]


def _first_suitable(
    diet: DietProfile,
    options: Sequence[tuple[int, MenuItem]],
    memo: dict[tuple[DietProfile, int], VariantChoice | None],
) -> tuple[int, MenuItem, VariantChoice] | None:
    """The first set meal this senior may eat, as a senior scrolling the menu would pick.

    Seniors share few diet profiles, so each (profile, set meal) answer is computed once.
    """
    for menu_id, item in options:
        key = (diet, item.id)
        if key not in memo:
            offer = MealOffer(item.name, item.diet_tags, item.variants, item.allergens)
            try:
                memo[key] = choose_variant(diet, offer)
            except Conflict:
                memo[key] = None
        if memo[key] is not None:
            return menu_id, item, memo[key]
    return None


BOOKING_PROFILE_COLUMNS = (
    "id",
    "home_site_id",
    "halal",
    "low_salt",
    "low_sugar",
    "iddsi_level",
    "allergens",
    "delivery_eligible",
    "phone",
    "birth_date",
    "categories",
)
"""The columns of a senior that :func:`seed_bookings` books from."""


async def top_up_bookings(
    session: AsyncSession, *, seed: int, start: date, days: int, now: datetime
) -> int:
    """Lunch bookings for each of ``days`` days from ``start`` that has none yet.

    So a demo started on a later day still has a day of bookings to show in the kitchen and
    on the dispatch page.
    """
    made = 0
    seniors = None
    for offset in range(days):
        day = start + timedelta(days=offset)
        booked = await session.scalar(
            select(func.count())
            .select_from(Booking)
            .where(Booking.service_date == day, Booking.slot == Slot.LUNCH)
        )
        if booked:
            continue
        if seniors is None:
            rows = (await session.scalars(select(Senior).order_by(Senior.id))).all()
            seniors = [{c: getattr(r, c) for c in BOOKING_PROFILE_COLUMNS} for r in rows]
        rng = random.Random(seed * 10_007 + day.toordinal())
        made += await seed_bookings(session, rng, seniors, start=day, days=1, now=now)
    return made


async def seed_bookings(
    session: AsyncSession,
    rng: random.Random,
    senior_rows: Sequence[dict[str, Any]],
    *,
    start: date,
    days: int,
    now: datetime,
    progress: Progress = _no_progress,
) -> int:
    """Lunch bookings for a share of seniors each day, priced and varianted as the service would."""
    rows = await booking_rows(session, rng, senior_rows, start=start, days=days, now=now)
    await write_bookings(session, rows, progress)
    return len(rows)


async def booking_rows(
    session: AsyncSession,
    rng: random.Random,
    senior_rows: Sequence[dict[str, Any]],
    *,
    start: date,
    days: int,
    now: datetime,
) -> list[dict[str, Any]]:
    """The rows of lunch bookings for a share of seniors each day (status booked)."""
    tiers = await _load_tier_rules(session)
    menus = (
        await session.execute(
            select(Menu.id, Menu.site_id, Menu.service_date, MenuItem)
            .join(MenuItem, MenuItem.menu_id == Menu.id)
            .where(
                Menu.slot == Slot.LUNCH,
                Menu.service_date >= start,
                Menu.service_date < start + timedelta(days=days),
            )
        )
    ).all()
    items: dict[tuple[int, date], list[tuple[int, MenuItem]]] = {}
    for menu_id, site_id, day, item in menus:
        items.setdefault((site_id, day), []).append((menu_id, item))
    delivery_sites = set(await session.scalars(select(Site.id).where(Site.offers_delivery)))
    rows: list[dict[str, Any]] = []
    variant_memo: dict[tuple[DietProfile, int], VariantChoice | None] = {}
    price_memo: dict[tuple[int, int, frozenset[str]], tuple[PriceQuote, list]] = {}
    for offset in range(days):
        day = start + timedelta(days=offset)
        for senior in senior_rows:
            if rng.random() >= data.BOOKING_SHARE_PER_DAY:
                continue
            options = items.get((senior["home_site_id"], day))
            if not options:
                continue
            diet = DietProfile(
                senior["halal"],
                senior["low_salt"],
                senior["low_sugar"],
                senior["iddsi_level"],
                tuple(senior["allergens"]),
            )
            suitable = _first_suitable(
                diet, sorted(options, key=lambda _: rng.random()), variant_memo
            )
            if suitable is None:
                continue
            menu_id, item, choice = suitable
            delivers = senior["delivery_eligible"] and senior["home_site_id"] in delivery_sites
            fulfilment = (
                Fulfilment.DELIVERY
                if delivers
                else rng.choice((Fulfilment.DINE_IN, Fulfilment.DINE_IN, Fulfilment.PICKUP))
            )
            age = age_on(senior["birth_date"], day)
            categories = effective_categories(senior["categories"], age, ADVANCED_AGE_YEARS)
            price_key = (item.list_price_fen, age, categories)
            if price_key not in price_memo:
                quote = quote_price(item.list_price_fen, age, categories, tiers)
                price_memo[price_key] = (quote, quote.breakdown_json())
            quote, breakdown = price_memo[price_key]
            rows.append(
                {
                    "senior_id": senior["id"],
                    "site_id": senior["home_site_id"],
                    "menu_id": menu_id,
                    "menu_item_id": item.id,
                    "service_date": day,
                    "slot": Slot.LUNCH,
                    "fulfilment": fulfilment,
                    "variant": choice.variant,
                    "status": BookingStatus.BOOKED,
                    "booked_by": BookedBy.SELF if senior["phone"] else BookedBy.STAFF,
                    "account_id": None,
                    "idempotency_key": None,
                    "list_price_fen": quote.list_price_fen,
                    "subsidy_fen": quote.subsidy_fen,
                    "price_fen": quote.price_fen,
                    "subsidy_breakdown": breakdown,
                    "created_at": now,
                    "updated_at": now,
                }
            )
    return rows


async def write_bookings(
    session: AsyncSession, rows: list[dict[str, Any]], progress: Progress = _no_progress
) -> list[int]:
    """Insert booking rows (ids assigned here) and count their portions and seats."""
    ids: list[int] = []
    for begin in range(0, len(rows), BATCH):
        ids += await _insert_with_ids(session, Booking, rows[begin : begin + BATCH])
        progress("bookings", min(begin + BATCH, len(rows)), len(rows))
    active = [row for row in rows if row["status"] is not BookingStatus.CANCELLED]
    item_counts = Counter(row["menu_item_id"] for row in active)
    menu_counts = Counter(row["menu_id"] for row in active)
    for item_id, n in item_counts.items():
        await session.execute(
            MenuItem.__table__.update()
            .where(MenuItem.id == item_id)
            .values(booked_count=MenuItem.booked_count + n)
        )
    for menu_id, n in menu_counts.items():
        await session.execute(
            Menu.__table__.update()
            .where(Menu.id == menu_id)
            .values(seats_booked=Menu.seats_booked + n)
        )
    return ids


async def seed_demo(
    session: AsyncSession,
    *,
    seed: int,
    seniors: int,
    today: date,
    now: datetime,
    menu_days: int = 7,
    booking_days: int = 0,
    progress: Progress = _no_progress,
) -> SeedSummary:
    """Create the whole demo district in one transaction (the caller commits)."""
    rng = random.Random(seed)
    summary = SeedSummary()
    await _seed_policy(session)
    plans = _plan_sites(rng)
    site_ids = await _insert_with_ids(
        session,
        Site,
        [
            {
                "code": p.code,
                "name": p.name,
                "kind": p.kind,
                "address": p.address,
                "latitude": round(p.latlon[0], 6),
                "longitude": round(p.latlon[1], 6),
                "timezone": p.timezone,
                "offers_delivery": p.offers_delivery,
                "last_mile_radius_m": data.LAST_MILE_RADIUS_M
                if p.kind is SiteKind.MEAL_POINT
                else None,
            }
            for p in plans
        ],
    )
    for plan, site_id in zip(plans, site_ids, strict=True):
        plan.id = site_id
    summary.sites = len(plans)
    serving = [p for p in plans if p.kind is not SiteKind.KITCHEN]
    senior_ids, senior_rows = await _seed_seniors(session, rng, serving, seniors, today, progress)
    summary.seniors = len(senior_ids)
    per_site = Counter(row["home_site_id"] for row in senior_rows)
    slot_rows = []
    for plan in serving:
        for slot, spec in plan.slots.items():
            needed = per_site[plan.id] * SEAT_SHARE_OF_SENIORS
            capacity = max(
                spec["capacity"], math.ceil(needed / CAPACITY_ROUNDING) * CAPACITY_ROUNDING
            )
            slot_rows.append(
                {
                    "site_id": plan.id,
                    "slot": Slot(slot),
                    "serve_start": _hhmm(spec["serve"][0]),
                    "serve_end": _hhmm(spec["serve"][1]),
                    "cutoff_time": _hhmm(spec["cutoff"][0]),
                    "cutoff_days_before": spec["cutoff"][1],
                    "capacity": capacity,
                }
            )
    await session.execute(insert(SiteSlot.__table__), slot_rows)
    await _seed_dishes(session)
    await seed_recipes(session)
    summary.menus = await ensure_menus(
        session, start=today, days=menu_days, published_at=now - timedelta(days=1)
    )
    summary.demo_logins = await _seed_accounts(session, rng, plans, senior_rows, now)
    summary.accounts = int(await session.scalar(select(func.count()).select_from(Account)) or 0)
    if booking_days:
        summary.bookings = await seed_bookings(
            session, rng, senior_rows, start=today, days=booking_days, now=now, progress=progress
        )
    return summary
