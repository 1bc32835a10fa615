"""Month-end settlement (据实结算): what each funding source owes for the meals served.

Every figure is counted from bookings: a meal counts when it was served at the counter or
confirmed delivered, and what each source owes is the sum of the per-booking breakdown frozen
when the meal was booked, in integer fen. An operator closes a month once it has ended: its
figures are frozen, with the outcome of every booking behind them, and a later correction of
one of its meals counts in the next open month as an adjustment.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import Any, NamedTuple

from sqlalchemy import String, case, cast, extract, func, insert, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from meals.accounts.service import Actor
from meals.bookings.corrections import SERVED_STATUSES, BookingCorrection
from meals.bookings.models import Booking
from meals.db import begin_write
from meals.errors import Conflict, Forbidden, Invalid
from meals.seniors.models import Senior
from meals.settings import Settings
from meals.settlement.models import SettlementItem, SettlementMonth
from meals.settlement.months import closed_month, month_label, next_month
from meals.sites.models import Site
from meals.subsidies.models import FundingSource
from meals.subsidies.service import age_on, effective_categories
from meals.words import BookingStatus, Fulfilment, Role, SiteKind

SERVED = "served"
NO_SHOW = "no_show"
NOT_SERVED = "not_served"
ADJUSTMENT = "adjustment"
OUTCOMES = (SERVED, NO_SHOW, NOT_SERVED, ADJUSTMENT)
NO_CATEGORY = "none"
SETTLEMENT_READERS = (Role.ADMIN, Role.VIEWER)


def outcome_of(status: BookingStatus) -> str:
    if status in SERVED_STATUSES:
        return SERVED
    return NO_SHOW if status is BookingStatus.NO_SHOW else NOT_SERVED


def age_band_labels(bands: Sequence[int]) -> list[str]:
    """Band names for the settings' band starts: under the first, each span, the last open."""
    labels = [f"<{bands[0]}"]
    labels += [f"{low}-{high - 1}" for low, high in pairwise(bands)]
    return [*labels, f"{bands[-1]}+"]


def age_band(age: int, bands: Sequence[int]) -> str:
    if age < bands[0]:
        return f"<{bands[0]}"
    for low, high in pairwise(bands):
        if low <= age < high:
            return f"{low}-{high - 1}"
    return f"{bands[-1]}+"


@dataclass(slots=True)
class MealRow:
    """What settlement needs of one booking (or, for an adjustment, of one correction)."""

    booking_id: int
    site_id: int
    service_date: date
    fulfilment: Fulfilment
    outcome: str
    price_fen: int
    breakdown: list[dict]
    birth_date: date
    categories: list[str]
    delta: int = 1
    """+1 for a meal counted, −1 for an adjustment taking one back."""
    correction_id: int | None = None


def _ensure_reader(actor: Actor) -> None:
    if actor.role not in SETTLEMENT_READERS:
        raise Forbidden("Only the operator and civil affairs may see settlement.")


def _month_range(month_start: date) -> tuple[date, date]:
    return month_start, next_month(month_start)


_ROW_COLUMNS = (
    Booking.id,
    Booking.site_id,
    Booking.service_date,
    Booking.fulfilment,
    Booking.status,
    Booking.price_fen,
    Booking.subsidy_breakdown,
    Senior.birth_date,
    Senior.categories,
)


async def _live_rows(session: AsyncSession, month_start: date) -> list[MealRow]:
    start, end = _month_range(month_start)
    result = await session.execute(
        select(*_ROW_COLUMNS)
        .join(Senior, Senior.id == Booking.senior_id)
        .where(
            Booking.service_date >= start,
            Booking.service_date < end,
            Booking.status != BookingStatus.CANCELLED,
        )
    )
    return [
        MealRow(b_id, site, day, mode, outcome_of(status), price, lines, born, cats)
        for b_id, site, day, mode, status, price, lines, born, cats in result
    ]


async def _frozen_rows(session: AsyncSession, month: SettlementMonth) -> list[MealRow]:
    result = await session.execute(
        select(*_ROW_COLUMNS[:4], SettlementItem.outcome, *_ROW_COLUMNS[5:])
        .join(SettlementItem, SettlementItem.booking_id == Booking.id)
        .join(Senior, Senior.id == Booking.senior_id)
        .where(SettlementItem.month_id == month.id)
    )
    return [
        MealRow(b_id, site, day, mode, outcome, price, lines, born, cats)
        for b_id, site, day, mode, outcome, price, lines, born, cats in result
    ]


async def _adjustment_rows(session: AsyncSession, month_start: date) -> list[MealRow]:
    """Corrections counted in this month of meals from earlier (closed) months."""
    result = await session.execute(
        select(BookingCorrection.id, BookingCorrection.from_status, BookingCorrection.to_status)
        .add_columns(*_ROW_COLUMNS[:4], *_ROW_COLUMNS[5:])
        .join(Booking, Booking.id == BookingCorrection.booking_id)
        .join(Senior, Senior.id == Booking.senior_id)
        .where(
            BookingCorrection.settle_month == month_start,
            Booking.service_date < month_start,
        )
        .order_by(BookingCorrection.id)
    )
    rows = []
    for correction_id, before, after, b_id, site, day, mode, price, lines, born, cats in result:
        delta = int(after in SERVED_STATUSES) - int(before in SERVED_STATUSES)
        if delta:
            rows.append(
                MealRow(
                    b_id,
                    site,
                    day,
                    mode,
                    ADJUSTMENT,
                    price,
                    lines,
                    born,
                    cats,
                    delta,
                    correction_id,
                )
            )
    return rows


class GroupKey(NamedTuple):
    """Meals alike in everything settlement counts; a month's bookings fall into few groups."""

    site_id: int
    outcome: str
    fulfilment: str
    price_fen: int
    lines: tuple[tuple[str, int], ...]
    """(source, amount_fen) of the frozen breakdown, amounts above zero only."""


class StrataKey(NamedTuple):
    """Meals served at one site to seniors of one age band and set of categories."""

    site_id: int
    age_band: str
    categories: tuple[str, ...]


@dataclass(slots=True)
class _Tally:
    """Running totals for the district or one site."""

    sources: dict[str, list[int]] = field(default_factory=dict)  # code -> [meals, fen]
    meals: int = 0
    served: int = 0
    no_shows: int = 0
    not_served: int = 0
    senior_paid_fen: int = 0
    adjustment_meals: int = 0
    adjustment_senior_paid_fen: int = 0
    adjustment_sources: dict[str, list[int]] = field(default_factory=dict)
    fulfilment: Counter = field(default_factory=Counter)
    age_bands: Counter = field(default_factory=Counter)
    categories: Counter = field(default_factory=Counter)

    def add(self, key: GroupKey, n: int) -> None:
        """Count `n` meals of one group (for adjustments, `n` is the signed sum of changes)."""
        if key.outcome == NO_SHOW:
            self.no_shows += n
            return
        if key.outcome == NOT_SERVED:
            self.not_served += n
            return
        adjusting = key.outcome == ADJUSTMENT
        self.meals += n
        self.senior_paid_fen += n * key.price_fen
        self.fulfilment[key.fulfilment] += n
        if adjusting:
            self.adjustment_meals += n
            self.adjustment_senior_paid_fen += n * key.price_fen
        else:
            self.served += n
        for source, amount in key.lines:
            for totals in (self.sources, self.adjustment_sources) if adjusting else (self.sources,):
                counted = totals.setdefault(source, [0, 0])
                counted[0] += n
                counted[1] += n * amount

    def add_strata(self, key: StrataKey, n: int) -> None:
        self.age_bands[key.age_band] += n
        for category in key.categories:
            self.categories[category] += n

    def figures(
        self,
        sources: Sequence[tuple[str, str, str]],
        bands: Sequence[str],
        categories: Sequence[str],
    ) -> dict[str, Any]:
        def per_source(totals: dict[str, list[int]]) -> list[dict[str, Any]]:
            return [
                {
                    "source": code,
                    "name": name,
                    "name_en": name_en,
                    "meals": totals.get(code, [0, 0])[0],
                    "owed_fen": totals.get(code, [0, 0])[1],
                }
                for code, name, name_en in sources
            ]

        return {
            "meals": self.meals,
            "served": self.served,
            "booked_not_served": self.not_served,
            "no_shows": self.no_shows,
            "senior_paid_fen": self.senior_paid_fen,
            "subsidy_fen": sum(fen for _meals, fen in self.sources.values()),
            "sources": per_source(self.sources),
            "fulfilment": {mode.value: self.fulfilment.get(mode.value, 0) for mode in Fulfilment},
            "age_bands": {band: self.age_bands.get(band, 0) for band in bands},
            "categories": {c: self.categories.get(c, 0) for c in categories},
            "adjustments": {
                "meals": self.adjustment_meals,
                "senior_paid_fen": self.adjustment_senior_paid_fen,
                "sources": per_source(self.adjustment_sources),
            },
        }


class _Strata:
    """A senior's age band and categories on the day of a meal, worked out once per pair."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._memo: dict[tuple[date, date, tuple[str, ...]], tuple[str, tuple[str, ...]]] = {}

    def of(self, born: date, day: date, stored: Iterable[str]) -> tuple[str, tuple[str, ...]]:
        key = (born, day, tuple(stored or ()))
        found = self._memo.get(key)
        if found is None:
            age = age_on(born, day)
            categories = effective_categories(key[2], age, self._settings.advanced_age_years)
            found = (
                age_band(age, self._settings.settlement_age_bands),
                tuple(sorted(categories)) or (NO_CATEGORY,),
            )
            self._memo[key] = found
        return found


def _lines(breakdown: Iterable[dict]) -> tuple[tuple[str, int], ...]:
    return tuple(
        (line["source"], int(line["amount_fen"]))
        for line in breakdown
        if int(line["amount_fen"]) > 0
    )


def group_of(row: MealRow) -> GroupKey:
    return GroupKey(
        row.site_id, row.outcome, row.fulfilment.value, row.price_fen, _lines(row.breakdown)
    )


async def _reference(session: AsyncSession) -> tuple[list[Site], list[tuple[str, str, str]]]:
    sites = list(
        await session.scalars(select(Site).where(Site.kind != SiteKind.KITCHEN).order_by(Site.code))
    )
    sources = [
        (code, name, name_en)
        for code, name, name_en in await session.execute(
            select(FundingSource.code, FundingSource.name, FundingSource.name_en).order_by(
                FundingSource.code
            )
        )
    ]
    return sites, sources


def tally_month(
    groups: Counter[GroupKey],
    strata: Counter[StrataKey],
    *,
    month_start: date,
    sites: Sequence[Site],
    sources: Sequence[tuple[str, str, str]],
    settings: Settings,
) -> dict[str, Any]:
    """The month's figures for the district and per site, as JSON-ready values."""
    district = _Tally()
    per_site: dict[int, _Tally] = defaultdict(_Tally)
    for key, n in groups.items():
        district.add(key, n)
        per_site[key.site_id].add(key, n)
    for key, n in strata.items():
        district.add_strata(key, n)
        per_site[key.site_id].add_strata(key, n)
    bands = age_band_labels(settings.settlement_age_bands)
    category_names = sorted({c for t in per_site.values() for c in t.categories})
    figures = district.figures(sources, bands, category_names)
    figures["month"] = month_label(month_start)
    figures["sites"] = [
        {
            "site": site.code,
            "site_id": site.id,
            "name": site.name,
            "kind": site.kind.value,
            **per_site[site.id].figures(sources, bands, category_names),
        }
        for site in sites
    ]
    return figures


@dataclass(frozen=True, slots=True)
class MonthReport:
    month_start: date
    figures: dict[str, Any]
    closed: SettlementMonth | None

    @property
    def label(self) -> str:
        return month_label(self.month_start)


def _with_state(figures: dict[str, Any], closed: SettlementMonth | None) -> dict[str, Any]:
    return {
        "month": figures["month"],
        "closed": closed is not None,
        "closed_at": closed.closed_at.isoformat() if closed else None,
        "closed_by": closed.closed_by_name if closed else None,
        **figures,
    }


async def month_report(
    session: AsyncSession, *, actor: Actor, month_start: date, settings: Settings
) -> MonthReport:
    """A closed month's frozen figures, or an open month's figures as they stand now."""
    _ensure_reader(actor)
    closed = await closed_month(session, month_start)
    if closed is not None:
        return MonthReport(month_start, _with_state(closed.figures, closed), closed)
    figures = await _compute(session, month_start, settings)
    return MonthReport(month_start, _with_state(figures, None), None)


async def _compute(session: AsyncSession, month_start: date, settings: Settings) -> dict[str, Any]:
    sites, sources = await _reference(session)
    groups, strata = await _live_groups(session, month_start, _Strata(settings))
    for row in await _adjustment_rows(session, month_start):
        groups[group_of(row)] += row.delta
    return tally_month(
        groups, strata, month_start=month_start, sites=sites, sources=sources, settings=settings
    )


async def _live_groups(
    session: AsyncSession, month_start: date, strata: _Strata
) -> tuple[Counter[GroupKey], Counter[StrataKey]]:
    """The month's bookings counted by the database, then tallied here.

    A month holds ~100,000 bookings but few kinds of them: the database counts the bookings
    alike in everything the money depends on (site, outcome, fulfilment, price, breakdown),
    and the meals served per site, senior and side of the senior's birthday (which with the
    senior fixes their age band and categories that month). Each distinct breakdown is decoded
    once here.
    """
    start, end = _month_range(month_start)
    in_month = (
        Booking.service_date >= start,
        Booking.service_date < end,
        Booking.status != BookingStatus.CANCELLED,
    )
    alike = (
        Booking.site_id,
        type_coerce(Booking.fulfilment, String),
        type_coerce(Booking.status, String),
        Booking.price_fen,
        cast(Booking.subsidy_breakdown, String),
    )
    lines: dict[str, tuple[tuple[str, int], ...]] = {}
    outcomes = {status.value: outcome_of(status) for status in BookingStatus}
    groups: Counter[GroupKey] = Counter()
    counted = await session.execute(select(*alike, func.count()).where(*in_month).group_by(*alike))
    for site_id, mode, status, price, breakdown, n in counted:
        parsed = lines.get(breakdown)
        if parsed is None:
            parsed = lines[breakdown] = _lines(_as_json(breakdown))
        groups[GroupKey(site_id, outcomes[status], mode, price, parsed)] += n

    # Every day of the month shares its month, so a senior's birthday has passed on a day
    # when the birthday's (month, day) is at most (this month, that day).
    birthday_passed = extract("month", Senior.birth_date) * 100 + extract(
        "day", Senior.birth_date
    ) <= month_start.month * 100 + extract("day", Booking.service_date)
    # A day on each side of any birthday in the month: ages are the same on all days of a side.
    side_day = {False: start, True: end - timedelta(days=1)}
    served: Counter[StrataKey] = Counter()
    # Grouped by the senior's primary key, their other columns are read once per group.
    eaten = await session.execute(
        select(Booking.site_id, Senior.birth_date, Senior.categories, birthday_passed, func.count())
        .join(Senior, Senior.id == Booking.senior_id)
        .where(*in_month, Booking.status.in_(list(SERVED_STATUSES)))
        .group_by(Booking.site_id, Senior.id, birthday_passed)
    )
    for site_id, born, categories, passed, n in eaten:
        found = strata.of(born, side_day[bool(passed)], categories)
        served[StrataKey(site_id, *found)] += n
    return groups, served


def _as_json(value: Any) -> list[dict]:
    return json.loads(value) if isinstance(value, str | bytes) else list(value or ())


async def close_month(
    session: AsyncSession, *, actor: Actor, month_start: date, now: datetime, settings: Settings
) -> MonthReport:
    """Freeze a month that has ended: its figures and the outcome of every booking behind them."""
    if actor.role is not Role.ADMIN:
        raise Forbidden("Only the operator may close a month.", code="not_operator")
    label = month_label(month_start)
    first_open_day = next_month(month_start)
    if settings.district_today(now) < first_open_day:
        raise Conflict(
            "{month} has not ended yet; it can be closed from {day}.",
            code="month_not_ended",
            month=label,
            day=first_open_day.isoformat(),
        )
    await begin_write(session)
    already = await closed_month(session, month_start)
    if already is not None:
        raise month_is_closed(already, settings)
    figures = await _compute(session, month_start, settings)
    month = SettlementMonth(
        month_start=month_start,
        closed_at=now,
        closed_by_account_id=actor.account_id or None,
        closed_by_name=actor.display_name[:80],
        figures=figures,
    )
    session.add(month)
    await session.flush()
    start, end = _month_range(month_start)
    outcome = case(
        (Booking.status.in_(list(SERVED_STATUSES)), SERVED),
        (Booking.status == BookingStatus.NO_SHOW, NO_SHOW),
        else_=NOT_SERVED,
    )
    await session.execute(
        insert(SettlementItem).from_select(
            ["month_id", "booking_id", "outcome"],
            select(month.id, Booking.id, outcome).where(
                Booking.service_date >= start,
                Booking.service_date < end,
                Booking.status != BookingStatus.CANCELLED,
            ),
        )
    )
    await session.commit()
    return MonthReport(month_start, _with_state(figures, month), month)


def month_is_closed(month: SettlementMonth, settings: Settings) -> Conflict:
    """The refusal of any change to a closed month, saying where corrections go instead."""
    closed_at = month.closed_at.astimezone(settings.district_zone)
    return Conflict(
        "{month} was closed on {when} by {who}; its figures are frozen. Corrections of its "
        "meals count in {next} as adjustments.",
        code="month_closed",
        month=month_label(month.month_start),
        when=closed_at.strftime("%Y-%m-%d %H:%M"),
        who=month.closed_by_name,
        next=month_label(next_month(month.month_start)),
    )


@dataclass(frozen=True, slots=True)
class DrillFilter:
    site_id: int | None = None
    source: str | None = None
    outcome: str | None = None
    fulfilment: Fulfilment | None = None
    limit: int = 100
    offset: int = 0


@dataclass(frozen=True, slots=True)
class DrillLine:
    booking_id: int
    correction_id: int | None
    service_date: date
    site_code: str
    site_name: str
    senior_name: str
    card_number: str
    fulfilment: Fulfilment
    outcome: str
    delta: int
    price_fen: int
    subsidy_fen: int
    """Of the chosen source when the drill-down is for one, else of all sources."""


@dataclass(frozen=True, slots=True)
class DrillPage:
    month: str
    closed: bool
    total: int
    meals: int
    subsidy_fen: int
    senior_paid_fen: int
    lines: list[DrillLine]


def _source_amount(row: MealRow, source: str | None) -> int:
    return sum(
        int(line["amount_fen"])
        for line in row.breakdown
        if int(line["amount_fen"]) > 0 and (source is None or line["source"] == source)
    )


async def month_bookings(
    session: AsyncSession, *, actor: Actor, month_start: date, filters: DrillFilter
) -> DrillPage:
    """The bookings behind a figure, with their sums, so each figure can be checked by hand."""
    _ensure_reader(actor)
    if filters.outcome is not None and filters.outcome not in OUTCOMES:
        raise Invalid(
            "Choose an outcome among {choices}.", code="bad_outcome", choices=", ".join(OUTCOMES)
        )
    closed = await closed_month(session, month_start)
    rows = await (_frozen_rows(session, closed) if closed else _live_rows(session, month_start))
    rows += await _adjustment_rows(session, month_start)
    chosen = [
        row
        for row in rows
        if (filters.site_id is None or row.site_id == filters.site_id)
        and (filters.outcome is None or row.outcome == filters.outcome)
        and (filters.fulfilment is None or row.fulfilment is filters.fulfilment)
        and (filters.source is None or _source_amount(row, filters.source) > 0)
    ]
    chosen.sort(key=lambda r: (r.service_date, r.site_id, r.booking_id, r.correction_id or 0))
    counted = [r for r in chosen if r.outcome in (SERVED, ADJUSTMENT)]
    page = chosen[filters.offset : filters.offset + filters.limit]
    names = await _names(session, [r.booking_id for r in page])
    sites = {s.id: s for s in (await _reference(session))[0]}
    return DrillPage(
        month=month_label(month_start),
        closed=closed is not None,
        total=len(chosen),
        meals=sum(r.delta for r in counted),
        subsidy_fen=sum(r.delta * _source_amount(r, filters.source) for r in counted),
        senior_paid_fen=sum(r.delta * r.price_fen for r in counted),
        lines=[
            DrillLine(
                booking_id=row.booking_id,
                correction_id=row.correction_id,
                service_date=row.service_date,
                site_code=sites[row.site_id].code if row.site_id in sites else "",
                site_name=sites[row.site_id].name if row.site_id in sites else "",
                senior_name=names[row.booking_id][0],
                card_number=names[row.booking_id][1],
                fulfilment=row.fulfilment,
                outcome=row.outcome,
                delta=row.delta,
                price_fen=row.price_fen,
                subsidy_fen=_source_amount(row, filters.source),
            )
            for row in page
        ],
    )


async def _names(session: AsyncSession, booking_ids: list[int]) -> dict[int, tuple[str, str]]:
    if not booking_ids:
        return {}
    result = await session.execute(
        select(Booking.id, Senior.name, Senior.card_number)
        .join(Senior, Senior.id == Booking.senior_id)
        .where(Booking.id.in_(booking_ids))
    )
    return {booking_id: (name, card) for booking_id, name, card in result}


async def closed_months(session: AsyncSession, *, actor: Actor) -> list[SettlementMonth]:
    _ensure_reader(actor)
    return list(
        await session.scalars(select(SettlementMonth).order_by(SettlementMonth.month_start.desc()))
    )
