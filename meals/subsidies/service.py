"""Price after subsidy: list price minus what each funding source pays, never below zero."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from meals.db import cached_reference
from meals.subsidies.models import FundingSource, SubsidyPolicy, SubsidyTier
from meals.words import Category


@dataclass(frozen=True)
class TierRule:
    source_code: str
    source_name: str
    min_age: int
    max_age: int | None
    category: str | None
    amount_fen: int

    def matches(self, age: int, categories: frozenset[str]) -> bool:
        if age < self.min_age or (self.max_age is not None and age > self.max_age):
            return False
        return self.category is None or self.category in categories


@dataclass(frozen=True)
class SubsidyLine:
    source_code: str
    source_name: str
    amount_fen: int


@dataclass(frozen=True)
class PriceQuote:
    list_price_fen: int
    subsidy_fen: int
    price_fen: int
    breakdown: tuple[SubsidyLine, ...]

    def breakdown_json(self) -> list[dict[str, object]]:
        return [
            {"source": line.source_code, "name": line.source_name, "amount_fen": line.amount_fen}
            for line in self.breakdown
        ]


def age_on(birth_date: date, day: date) -> int:
    """Whole years of age on `day`."""
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - int(before_birthday)


def effective_categories(
    stored: Iterable[str], age: int, advanced_age_years: int
) -> frozenset[str]:
    """Stored categories plus 高龄, which follows from age and is never stored."""
    categories = set(stored)
    if age >= advanced_age_years:
        categories.add(Category.ADVANCED_AGE.value)
    return frozenset(categories)


def quote_price(
    list_price_fen: int, age: int, categories: frozenset[str], tiers: Sequence[TierRule]
) -> PriceQuote:
    """For each source the largest matching tier applies; the sum never exceeds the list price."""
    best: dict[str, TierRule] = {}
    for tier in tiers:
        if tier.matches(age, categories):
            current = best.get(tier.source_code)
            if current is None or tier.amount_fen > current.amount_fen:
                best[tier.source_code] = tier
    remaining = list_price_fen
    lines: list[SubsidyLine] = []
    for tier in sorted(best.values(), key=lambda t: t.source_code):
        amount = min(tier.amount_fen, remaining)
        if amount <= 0:
            continue
        remaining -= amount
        lines.append(SubsidyLine(tier.source_code, tier.source_name, amount))
    subsidy = list_price_fen - remaining
    return PriceQuote(list_price_fen, subsidy, remaining, tuple(lines))


async def policy_in_force(session: AsyncSession, day: date) -> SubsidyPolicy | None:
    """The policy version in force on `day`: the latest one that started on or before it."""
    return await session.scalar(
        select(SubsidyPolicy)
        .where(SubsidyPolicy.effective_from <= day)
        .order_by(SubsidyPolicy.effective_from.desc())
        .limit(1)
    )


async def load_tiers(session: AsyncSession, made_on: date) -> list[TierRule]:
    """The tiers of the policy version in force on `made_on`, the day a booking is made (so a
    booking keeps the price of the policy it was made under). Cached briefly: read on every
    booking, changed rarely. With no version recorded yet (a database from before versions),
    the tiers whose own dates cover the day apply."""

    async def load() -> list[TierRule]:
        query = select(SubsidyTier, FundingSource.code, FundingSource.name).join(FundingSource)
        policy = await policy_in_force(session, made_on)
        if policy is not None:
            query = query.where(SubsidyTier.policy_id == policy.id)
        else:
            query = query.where(
                SubsidyTier.valid_from <= made_on,
                or_(SubsidyTier.valid_to.is_(None), SubsidyTier.valid_to >= made_on),
            )
        rows = await session.execute(query)
        return [
            TierRule(code, name, tier.min_age, tier.max_age, tier.category, tier.amount_fen)
            for tier, code, name in rows
        ]

    return await cached_reference(session, ("tiers", made_on), load)
