"""Calendar months as settlement sees them, and which month a late correction counts in."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from meals.errors import Invalid
from meals.settlement.models import SettlementMonth

MONTH_PATTERN = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(text: str) -> date:
    """The first day of a month written YYYY-MM; anything else is refused with the form."""
    match = MONTH_PATTERN.match(text.strip())
    if match is None or not 1 <= int(match.group(2)) <= 12:
        raise Invalid(
            "Write the month as YYYY-MM, for example 2026-10 (not {month}).",
            code="bad_month",
            month=text,
        )
    return date(int(match.group(1)), int(match.group(2)), 1)


def month_label(month_start: date) -> str:
    return f"{month_start.year:04d}-{month_start.month:02d}"


def next_month(month_start: date) -> date:
    if month_start.month == 12:
        return date(month_start.year + 1, 1, 1)
    return date(month_start.year, month_start.month + 1, 1)


def previous_month(month_start: date) -> date:
    if month_start.month == 1:
        return date(month_start.year - 1, 12, 1)
    return date(month_start.year, month_start.month - 1, 1)


def month_or_last(text: str | None, today: date) -> date:
    """The month asked for, or by default the last one that has ended (the one to settle)."""
    return parse_month(text) if text else previous_month(first_of_month(today))


def first_of_month(day: date) -> date:
    return day.replace(day=1)


async def closed_month(session: AsyncSession, month_start: date) -> SettlementMonth | None:
    return await session.scalar(
        select(SettlementMonth).where(SettlementMonth.month_start == month_start)
    )


async def settle_month_for(session: AsyncSession, service_date: date) -> date:
    """The month a change to a meal of `service_date` counts in: its own month while that is
    open, otherwise the first open month after it (a closed month is never edited)."""
    closed = set(
        await session.scalars(
            select(SettlementMonth.month_start).where(
                SettlementMonth.month_start >= first_of_month(service_date)
            )
        )
    )
    month = first_of_month(service_date)
    while month in closed:
        month = next_month(month)
    return month
