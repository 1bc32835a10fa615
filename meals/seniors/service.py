"""Reading seniors' records within an actor's scope, and re-issuing their meal cards."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from meals.accounts.service import Actor, ensure_role
from meals.db import begin_write
from meals.errors import Forbidden, NotFound
from meals.seniors.models import Senior
from meals.words import Role


def _scope(actor: Actor):
    match actor.role:
        case Role.ADMIN:
            return None
        case Role.SENIOR:
            return Senior.id == actor.senior_id
        case Role.FAMILY:
            return Senior.id.in_(actor.senior_ids)
        case Role.SITE_STAFF:
            return Senior.home_site_id.in_(actor.site_ids)
    raise Forbidden("Your account ({role}) may not see seniors' records.", role=actor.role.value)


async def list_seniors(
    session: AsyncSession,
    *,
    actor: Actor,
    site_id: int | None = None,
    search: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Senior]:
    """Seniors in scope; `search` matches name, phone or meal-card number (as at the counter)."""
    query = select(Senior).options(selectinload(Senior.emergency_contacts))
    scope = _scope(actor)
    if scope is not None:
        query = query.where(scope)
    if site_id is not None:
        query = query.where(Senior.home_site_id == site_id)
    if search:
        pattern = f"%{search.strip()}%"
        query = query.where(
            or_(
                Senior.name.like(pattern),
                Senior.phone.like(pattern),
                Senior.card_number == search.strip(),
            )
        )
    query = query.order_by(Senior.id).limit(limit).offset(offset)
    return list(await session.scalars(query))


async def get_senior_in_scope(session: AsyncSession, *, actor: Actor, senior_id: int) -> Senior:
    query = (
        select(Senior)
        .options(selectinload(Senior.emergency_contacts))
        .where(Senior.id == senior_id)
    )
    scope = _scope(actor)
    if scope is not None:
        query = query.where(scope)
    senior = await session.scalar(query)
    if senior is None:
        raise NotFound("There is no senior {senior_id} that you can see.", senior_id=senior_id)
    return senior


async def reissue_card(session: AsyncSession, *, actor: Actor, senior_id: int) -> Senior:
    """A new issue of the senior's meal card (lost or stolen): every QR printed before stops
    working at once; the card number stays, so the counter can still type it."""
    ensure_role(actor, Role.ADMIN, Role.SITE_STAFF)
    await begin_write(session)
    senior = await get_senior_in_scope(session, actor=actor, senior_id=senior_id)
    senior.card_issue += 1
    await session.commit()
    return senior
