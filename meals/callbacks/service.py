"""Monthly satisfaction callbacks (满意度回访): who is called, and what seniors said.

Each month a list is drawn once: per site, a share of the seniors who ate that month (the
`callback_share` setting), drawn within each stratum (their main category) in proportion,
plus everyone who rated a meal at or below `callback_low_rating` or had a failed delivery.
The draw is seeded by month and site, so drawing the same month again elsewhere gives the
same list. Staff record each call: reached or not, a score and remarks.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from meals.accounts.service import Actor
from meals.bookings.models import Booking
from meals.bookings.ratings import MealRating
from meals.callbacks.models import REMARKS_MAX, SCORE_MAX, SCORE_MIN, SatisfactionCallback
from meals.db import begin_write
from meals.deliveries.models import RoutePlanRecord, RouteStop, StopStatus
from meals.errors import Conflict, Forbidden, Invalid, NotFound
from meals.menus.models import Dish, MenuItemDish
from meals.seniors.models import Senior
from meals.settings import Settings
from meals.settlement.months import month_label, next_month
from meals.sites.models import Site
from meals.subsidies.service import age_on, effective_categories
from meals.words import BookingStatus, Category, Role, SiteKind

SAMPLE = "sample"
LOW_RATING = "low_rating"
FAILED_DELIVERY = "failed_delivery"
NO_CATEGORY = "none"
# A senior's stratum is their first category in this order (the most in need first).
STRATA = (
    Category.EXTREME_POVERTY.value,
    Category.MINIMUM_INCOME.value,
    Category.DISABLED.value,
    Category.SEMI_DISABLED.value,
    Category.LIVES_ALONE.value,
    Category.EMPTY_NEST.value,
    Category.ADVANCED_AGE.value,
    NO_CATEGORY,
)
READERS = (Role.ADMIN, Role.VIEWER, Role.SITE_STAFF)
SERVED = (BookingStatus.SERVED, BookingStatus.DELIVERED)


def stratum_of(categories: frozenset[str]) -> str:
    return next((s for s in STRATA if s in categories), NO_CATEGORY)


def proportional_sizes(counts: dict[str, int], total: int) -> dict[str, int]:
    """`total` places shared among strata in proportion to their sizes (largest remainder)."""
    population = sum(counts.values())
    if population == 0 or total == 0:
        return dict.fromkeys(counts, 0)
    exact = {name: total * n / population for name, n in counts.items()}
    sizes = {name: math.floor(share) for name, share in exact.items()}
    by_remainder = sorted(exact, key=lambda name: (sizes[name] - exact[name], name))
    for name in by_remainder[: total - sum(sizes.values())]:
        sizes[name] += 1
    return sizes


def sample_size(population: int, share: float) -> int:
    """The share of a site's seniors to call, at least one where anyone ate."""
    return min(population, max(1, round(population * share))) if population else 0


def _ensure_reader(actor: Actor) -> None:
    if actor.role not in READERS:
        raise Forbidden("Your account cannot see callbacks.")


def _scope(actor: Actor):
    """Staff see their own sites' callbacks; the operator and civil affairs every site's."""
    if actor.role is Role.SITE_STAFF:
        return SatisfactionCallback.site_id.in_(actor.site_ids)
    return None


async def _eaters(
    session: AsyncSession, month_start: date, settings: Settings
) -> dict[int, list[tuple[int, str]]]:
    """Per home site, every senior served a meal in the month, with their stratum."""
    end = next_month(month_start)
    result = await session.execute(
        select(Senior.id, Senior.home_site_id, Senior.birth_date, Senior.categories)
        .where(
            Senior.id.in_(
                select(Booking.senior_id).where(
                    Booking.service_date >= month_start,
                    Booking.service_date < end,
                    Booking.status.in_(SERVED),
                )
            )
        )
        .order_by(Senior.id)
    )
    last_day = date.fromordinal(end.toordinal() - 1)
    by_site: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for senior_id, site_id, born, categories in result:
        age = age_on(born, last_day)
        strata = effective_categories(categories or (), age, settings.advanced_age_years)
        by_site[site_id].append((senior_id, stratum_of(strata)))
    return by_site


async def _must_call(
    session: AsyncSession, month_start: date, settings: Settings
) -> dict[int, set[str]]:
    """Seniors to call whatever the draw: a low rating or a failed delivery this month."""
    end = next_month(month_start)
    reasons: dict[int, set[str]] = defaultdict(set)
    low = await session.scalars(
        select(MealRating.senior_id)
        .join(Booking, Booking.id == MealRating.booking_id)
        .where(
            Booking.service_date >= month_start,
            Booking.service_date < end,
            MealRating.stars <= settings.callback_low_rating,
        )
    )
    for senior_id in low:
        reasons[senior_id].add(LOW_RATING)
    failed = await session.scalars(
        select(RouteStop.senior_id)
        .join(RoutePlanRecord, RoutePlanRecord.id == RouteStop.plan_id)
        .where(
            RoutePlanRecord.service_date >= month_start,
            RoutePlanRecord.service_date < end,
            RouteStop.status == StopStatus.FAILED,
            RouteStop.senior_id.is_not(None),
        )
    )
    for senior_id in failed:
        reasons[senior_id].add(FAILED_DELIVERY)
    return reasons


async def draw_callbacks(
    session: AsyncSession, *, actor: Actor, month_start: date, now: datetime, settings: Settings
) -> list[SatisfactionCallback]:
    """Draw the month's callback list once; a second draw is refused."""
    if actor.role is not Role.ADMIN:
        raise Forbidden("Only the operator may draw the callback list.")
    await begin_write(session)
    drawn_at = await session.scalar(
        select(func.min(SatisfactionCallback.drawn_at)).where(
            SatisfactionCallback.month_start == month_start
        )
    )
    if drawn_at is not None:
        raise _already_drawn(month_start, drawn_at, settings)
    eaters = await _eaters(session, month_start, settings)
    must = await _must_call(session, month_start, settings)
    chosen: dict[int, tuple[int, str, set[str]]] = {}
    for site_id, seniors in sorted(eaters.items()):
        strata: dict[str, list[int]] = defaultdict(list)
        for senior_id, stratum in seniors:
            strata[stratum].append(senior_id)
        sizes = proportional_sizes(
            {name: len(ids) for name, ids in strata.items()},
            sample_size(len(seniors), settings.callback_share),
        )
        rng = random.Random(f"{month_label(month_start)}/{site_id}")
        for name in sorted(strata):
            for senior_id in rng.sample(strata[name], sizes[name]):
                chosen[senior_id] = (site_id, name, {SAMPLE})
        for senior_id, stratum in seniors:
            if senior_id in must:
                _site, _stratum, why = chosen.setdefault(senior_id, (site_id, stratum, set()))
                why.update(must[senior_id])
    for senior_id in set(must) - set(chosen):  # a failed delivery, and nothing eaten
        senior = await session.get(Senior, senior_id)
        if senior is not None:
            chosen[senior_id] = (senior.home_site_id, NO_CATEGORY, set(must[senior_id]))
    rows = [
        SatisfactionCallback(
            month_start=month_start,
            senior_id=senior_id,
            site_id=site_id,
            stratum=stratum,
            reasons=sorted(why),
            drawn_at=now,
        )
        for senior_id, (site_id, stratum, why) in sorted(chosen.items())
    ]
    session.add_all(rows)
    try:
        await session.commit()
    except IntegrityError:  # drawn at the same moment by someone else
        await session.rollback()
        raise _already_drawn(month_start, now, settings) from None
    return rows


def _already_drawn(month_start: date, drawn_at: datetime, settings: Settings) -> Conflict:
    return Conflict(
        "The callback list for {month} was drawn on {when}; it is not drawn again.",
        code="already_drawn",
        month=month_label(month_start),
        when=drawn_at.astimezone(settings.district_zone).strftime("%Y-%m-%d %H:%M"),
    )


@dataclass(frozen=True, slots=True)
class CallbackLine:
    callback: SatisfactionCallback
    senior_name: str
    phone: str | None
    site_name: str


@dataclass(frozen=True, slots=True)
class CallbackPage:
    """One page of a month's list, with the totals of the whole list it was cut from."""

    total: int
    called: int
    reached: int
    limit: int
    offset: int
    lines: list[CallbackLine]


def _list_filter(actor: Actor, month_start: date, site_id: int | None) -> list:
    conditions = [SatisfactionCallback.month_start == month_start]
    scope = _scope(actor)
    if scope is not None:
        conditions.append(scope)
    if site_id is not None:
        conditions.append(SatisfactionCallback.site_id == site_id)
    return conditions


async def callback_page(
    session: AsyncSession,
    *,
    actor: Actor,
    month_start: date,
    site_id: int | None = None,
    limit: int,
    offset: int = 0,
) -> CallbackPage:
    """A page of the month's list (by site, the calls still to make first) and its totals."""
    _ensure_reader(actor)
    conditions = _list_filter(actor, month_start, site_id)
    total, called, reached = (
        await session.execute(
            select(
                func.count(),
                func.count(SatisfactionCallback.called_at),
                func.count().filter(SatisfactionCallback.reached.is_(True)),
            ).where(*conditions)
        )
    ).one()
    rows = await session.execute(
        select(SatisfactionCallback, Senior.name, Senior.phone, Site.name)
        .join(Senior, Senior.id == SatisfactionCallback.senior_id)
        .join(Site, Site.id == SatisfactionCallback.site_id)
        .where(*conditions)
        .order_by(Site.code, SatisfactionCallback.called_at.is_not(None), Senior.id)
        .limit(limit)
        .offset(offset)
    )
    return CallbackPage(
        total=total,
        called=called,
        reached=reached,
        limit=limit,
        offset=offset,
        lines=[CallbackLine(*row) for row in rows],
    )


async def record_call(
    session: AsyncSession,
    *,
    actor: Actor,
    callback_id: int,
    reached: bool,
    score: int | None,
    remarks: str | None,
    now: datetime,
) -> SatisfactionCallback:
    """What came of one call: reached (with a score) or not reached."""
    if actor.role not in (Role.ADMIN, Role.SITE_STAFF):
        raise Forbidden("Only the operator or site staff record calls.")
    text = (remarks or "").strip()
    if len(text) > REMARKS_MAX:
        raise Invalid("Please keep the remarks under {limit} characters.", limit=REMARKS_MAX)
    if reached and (score is None or not SCORE_MIN <= score <= SCORE_MAX):
        raise Invalid(
            "A senior who was reached gives a score from {low} to {high}.",
            code="score_required",
            low=SCORE_MIN,
            high=SCORE_MAX,
        )
    await begin_write(session)
    callback = await session.get(SatisfactionCallback, callback_id)
    if callback is None or (
        actor.role is Role.SITE_STAFF and callback.site_id not in actor.site_ids
    ):
        raise NotFound(
            "There is no callback {callback_id} for you to record.", callback_id=callback_id
        )
    callback.reached = reached
    callback.score = score if reached else None
    callback.remarks = text or None
    callback.called_at = now
    callback.called_by_account_id = actor.account_id
    await session.commit()
    return callback


def _average(total: int, count: int) -> float | None:
    return round(total / count, 2) if count else None


async def month_summary(
    session: AsyncSession, *, actor: Actor, month_start: date, low_rating: int
) -> dict[str, Any]:
    """Ratings and callback scores per site, ratings per dish, for the month."""
    _ensure_reader(actor)
    end = next_month(month_start)
    in_month = (Booking.service_date >= month_start, Booking.service_date < end)
    site_scope = Booking.site_id.in_(actor.site_ids) if actor.role is Role.SITE_STAFF else None
    ratings = (
        select(Booking.site_id, func.count(), func.sum(MealRating.stars))
        .select_from(MealRating)
        .join(Booking, Booking.id == MealRating.booking_id)
        .where(*in_month)
        .group_by(Booking.site_id)
    )
    low = (
        select(Booking.site_id, func.count())
        .select_from(MealRating)
        .join(Booking, Booking.id == MealRating.booking_id)
        .where(*in_month, MealRating.stars <= low_rating)
        .group_by(Booking.site_id)
    )
    calls = (
        select(
            SatisfactionCallback.site_id,
            func.count(),
            func.count(SatisfactionCallback.called_at),
            func.count(SatisfactionCallback.score),
            func.sum(SatisfactionCallback.score),
        )
        .where(SatisfactionCallback.month_start == month_start)
        .group_by(SatisfactionCallback.site_id)
    )
    dishes = (
        select(Dish.name, Dish.name_en, func.count(), func.sum(MealRating.stars))
        .join(MenuItemDish, MenuItemDish.dish_id == Dish.id)
        .join(MealRating, MealRating.menu_item_id == MenuItemDish.menu_item_id)
        .join(Booking, Booking.id == MealRating.booking_id)
        .where(*in_month)
        .group_by(Dish.name, Dish.name_en)
        .order_by(Dish.name)
    )
    if site_scope is not None:
        ratings, low, dishes = (q.where(site_scope) for q in (ratings, low, dishes))
        calls = calls.where(SatisfactionCallback.site_id.in_(actor.site_ids))
    rated = {site: (n, stars) for site, n, stars in await session.execute(ratings)}
    lows = dict((await session.execute(low)).all())
    called = {row[0]: row[1:] for row in await session.execute(calls)}
    sites = await session.scalars(
        select(Site).where(Site.kind != SiteKind.KITCHEN).order_by(Site.code)
    )
    per_site = []
    for site in sites:
        if site_scope is not None and site.id not in actor.site_ids:
            continue
        n, stars = rated.get(site.id, (0, 0))
        drawn, done, scored, score_sum = called.get(site.id, (0, 0, 0, 0))
        per_site.append(
            {
                "site_id": site.id,
                "site": site.code,
                "name": site.name,
                "ratings": n,
                "average_stars": _average(stars or 0, n),
                "low_ratings": lows.get(site.id, 0),
                "callbacks": drawn,
                "called": done,
                "reached": scored,
                "average_score": _average(score_sum or 0, scored),
            }
        )
    per_dish = [
        {"dish": name, "dish_en": name_en, "ratings": n, "average_stars": _average(stars, n)}
        for name, name_en, n, stars in await session.execute(dishes)
    ]
    return {"month": month_label(month_start), "sites": per_site, "dishes": per_dish}
