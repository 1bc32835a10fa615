"""The operator's subsidy policy: funding sources, and versions of the tiers with the day each
version starts. A version starts tomorrow at the earliest, so every booking made today keeps
today's price; versions already in force are history and never change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from advanced_alchemy.filters import OrderBy
from advanced_alchemy.service import OffsetPagination
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from meals.accounts.service import Actor, ensure_role
from meals.audit.service import record_change
from meals.db import begin_write
from meals.errors import Conflict, Invalid, NotFound
from meals.listing import page_of
from meals.subsidies.models import FundingSource, SubsidyPolicy, SubsidyTier
from meals.subsidies.service import policy_in_force
from meals.words import Category, Role

MAX_AGE = 150
MAX_AMOUNT_FEN = 100_000


@dataclass(frozen=True)
class Tier:
    """One line of a version: what a source pays seniors in an age band (and category)."""

    source_code: str
    min_age: int
    max_age: int | None
    category: str | None
    amount_fen: int


async def create_source(
    session: AsyncSession, *, actor: Actor, code: str, name: str, name_en: str, now: datetime
) -> FundingSource:
    """A new funding source (a district fund, a street office, the operator's own discount)."""
    ensure_role(actor, Role.ADMIN)
    await begin_write(session)
    if await session.scalar(select(FundingSource.id).where(FundingSource.code == code)):
        raise Conflict(
            "There is already a funding source {source}.", code="source_taken", source=code
        )
    source = FundingSource(code=code, name=name, name_en=name_en)
    session.add(source)
    await session.flush()
    record_change(
        session,
        actor,
        action="create",
        entity="funding_source",
        entity_id=source.id,
        at=now,
        after={"code": code, "name": name, "name_en": name_en},
        summary=name,
    )
    await session.commit()
    return source


async def list_sources(session: AsyncSession) -> list[FundingSource]:
    return list(await session.scalars(select(FundingSource).order_by(FundingSource.code)))


async def list_versions(
    session: AsyncSession, *, actor: Actor, limit: int = 50, offset: int = 0
) -> OffsetPagination[SubsidyPolicy]:
    """Every version, newest start first, with its tiers."""
    ensure_role(actor, Role.ADMIN, Role.VIEWER)
    return await page_of(
        session,
        SubsidyPolicy,
        OrderBy(field_name="effective_from", sort_order="desc"),
        limit=limit,
        offset=offset,
        statement=select(SubsidyPolicy).options(
            selectinload(SubsidyPolicy.tiers).selectinload(SubsidyTier.source)
        ),
    )


def _check_tier(tier: Tier, sources: dict[str, int]) -> None:
    if tier.source_code not in sources:
        raise Invalid(
            "There is no funding source {source}.", code="bad_source", source=tier.source_code
        )
    if not 0 <= tier.min_age <= MAX_AGE or (
        tier.max_age is not None and not tier.min_age <= tier.max_age <= MAX_AGE
    ):
        raise Invalid(
            "The age band {low}–{high} is not valid; the first age must not be above the last.",
            code="bad_age_band",
            low=tier.min_age,
            high=tier.max_age if tier.max_age is not None else "",
        )
    if tier.category is not None and tier.category not in {c.value for c in Category}:
        raise Invalid(
            "There is no category {category}.", code="bad_category", category=tier.category
        )
    if not 0 <= tier.amount_fen <= MAX_AMOUNT_FEN:
        raise Invalid(
            "A subsidy of {amount} fen per meal cannot be right; please check it.",
            code="bad_amount",
            amount=tier.amount_fen,
        )


async def create_version(
    session: AsyncSession,
    *,
    actor: Actor,
    name: str,
    effective_from: date,
    tiers: list[Tier],
    note: str = "",
    today: date,
    now: datetime,
) -> SubsidyPolicy:
    """A new version of the policy, in force from `effective_from` until the next one."""
    ensure_role(actor, Role.ADMIN)
    if effective_from <= today:
        raise Invalid(
            "A new policy version starts tomorrow ({day}) at the earliest, so bookings already "
            "made keep their price.",
            code="starts_too_early",
            day=str(today + timedelta(days=1)),
        )
    if not tiers:
        raise Invalid("A policy version needs at least one tier.", code="no_tiers")
    await begin_write(session)
    sources = {s.code: s.id for s in await list_sources(session)}
    for tier in tiers:
        _check_tier(tier, sources)
    if await session.scalar(
        select(SubsidyPolicy.id).where(SubsidyPolicy.effective_from == effective_from)
    ):
        raise Conflict(
            "A policy version already starts on {day}; withdraw it first or pick another day.",
            code="version_taken",
            day=str(effective_from),
        )
    policy = SubsidyPolicy(
        name=name,
        effective_from=effective_from,
        note=note,
        created_at=now,
        created_by=actor.display_name,
    )
    session.add(policy)
    await session.flush()
    session.add_all(
        SubsidyTier(
            funding_source_id=sources[t.source_code],
            min_age=t.min_age,
            max_age=t.max_age,
            category=t.category,
            amount_fen=t.amount_fen,
            valid_from=effective_from,
            valid_to=None,
            policy_id=policy.id,
        )
        for t in tiers
    )
    record_change(
        session,
        actor,
        action="create",
        entity="subsidy_policy",
        entity_id=policy.id,
        at=now,
        after={
            "name": name,
            "effective_from": effective_from,
            "tiers": [t.__dict__ for t in tiers],
        },
        summary=f"{name} ({effective_from})",
    )
    await session.commit()
    return policy


async def withdraw_version(
    session: AsyncSession, *, actor: Actor, policy_id: int, today: date, now: datetime
) -> None:
    """A version that has not started yet can be withdrawn; one in force or past cannot."""
    ensure_role(actor, Role.ADMIN)
    await begin_write(session)
    policy = await session.get(SubsidyPolicy, policy_id)
    if policy is None:
        raise NotFound("There is no policy version {policy_id}.", policy_id=policy_id)
    if policy.effective_from <= today:
        raise Conflict(
            "This version has been in force since {day}; bookings were priced by it, so it "
            "stays. Make a new version instead.",
            code="version_in_force",
            day=str(policy.effective_from),
        )
    await session.execute(delete(SubsidyTier).where(SubsidyTier.policy_id == policy.id))
    await session.delete(policy)
    record_change(
        session,
        actor,
        action="withdraw",
        entity="subsidy_policy",
        entity_id=policy_id,
        at=now,
        before={"name": policy.name, "effective_from": policy.effective_from},
        summary=f"{policy.name} ({policy.effective_from})",
    )
    await session.commit()


async def tiers_in_force(session: AsyncSession, day: date) -> list[Tier]:
    """The tiers in force on `day`, to start a new version from."""
    policy = await policy_in_force(session, day)
    if policy is None:
        return []
    rows = await session.execute(
        select(SubsidyTier, FundingSource.code)
        .join(FundingSource)
        .where(SubsidyTier.policy_id == policy.id)
        .order_by(FundingSource.code, SubsidyTier.min_age, SubsidyTier.id)
    )
    return [Tier(code, t.min_age, t.max_age, t.category, t.amount_fen) for t, code in rows]
