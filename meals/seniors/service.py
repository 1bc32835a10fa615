"""Reading seniors' records within an actor's scope, and re-issuing their meal cards."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from advanced_alchemy.filters import CollectionFilter, OrderBy, SearchFilter
from advanced_alchemy.service import OffsetPagination
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from meals.accounts.models import Account
from meals.accounts.service import Actor, end_account_sessions, ensure_role, hash_password
from meals.audit.service import changed, record_change, record_deactivation, snapshot
from meals.db import begin_write
from meals.errors import Conflict, Forbidden, Invalid, NotFound
from meals.listing import page_of
from meals.seniors.models import EmergencyContact, Senior
from meals.sites.models import Site
from meals.words import (
    ALLERGENS,
    IDDSI_LEVELS,
    IDDSI_REGULAR,
    STORED_CATEGORIES,
    Role,
    SiteKind,
)

CARD_PREFIX = "WM"


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
    active: bool | None = True,
) -> list[Senior]:
    """Seniors in scope; `search` matches name, phone or meal-card number (as at the counter)."""
    query = select(Senior).options(selectinload(Senior.emergency_contacts))
    scope = _scope(actor)
    if scope is not None:
        query = query.where(scope)
    if active is not None:
        query = query.where(Senior.active.is_(active))
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


async def reissue_card(
    session: AsyncSession, *, actor: Actor, senior_id: int, now: datetime
) -> Senior:
    """A new issue of the senior's meal card (lost or stolen): every QR printed before stops
    working at once; the card number stays, so the counter can still type it."""
    ensure_role(actor, Role.ADMIN, Role.SITE_STAFF)
    await begin_write(session)
    senior = await get_senior_in_scope(session, actor=actor, senior_id=senior_id)
    senior.card_issue += 1
    record_change(
        session,
        actor,
        action="reissue_card",
        entity="senior",
        entity_id=senior.id,
        at=now,
        before={"card_issue": senior.card_issue - 1},
        after={"card_issue": senior.card_issue},
        site_id=senior.home_site_id,
        summary=senior.name,
    )
    await session.commit()
    return senior


RECORD_FIELDS = (
    "name",
    "phone",
    "birth_date",
    "id_card_masked",
    "address",
    "latitude",
    "longitude",
    "home_site_id",
    "categories",
    "low_salt",
    "low_sugar",
    "iddsi_level",
    "halal",
    "allergens",
    "delivery_eligible",
    "delivery_notes",
    "active",
)
OLDEST_YEARS = 130


@dataclass(frozen=True)
class Contact:
    name: str
    phone: str
    relation: str


@dataclass(frozen=True)
class SeniorRecord:
    """What the operator or the meal-point staff record about a senior."""

    name: str
    birth_date: date
    address: str
    home_site_id: int
    phone: str | None = None
    id_card_masked: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    categories: tuple[str, ...] = ()
    low_salt: bool = False
    low_sugar: bool = False
    iddsi_level: int = IDDSI_REGULAR
    halal: bool = False
    allergens: tuple[str, ...] = ()
    delivery_eligible: bool = False
    delivery_notes: str | None = None
    emergency_contacts: tuple[Contact, ...] = ()


async def _check_record(
    session: AsyncSession, actor: Actor, record: SeniorRecord, today: date
) -> None:
    if actor.role is Role.SITE_STAFF and record.home_site_id not in actor.site_ids:
        raise Forbidden("You can register seniors only at your own site.", code="out_of_scope")
    site = await session.get(Site, record.home_site_id)
    if site is None or site.kind is SiteKind.KITCHEN:
        raise Invalid(
            "There is no canteen or meal point {site_id}.",
            code="bad_site",
            site_id=record.home_site_id,
        )
    if not today - timedelta(days=365 * OLDEST_YEARS) <= record.birth_date < today:
        raise Invalid(
            "The birth date {day} cannot be right; please check it.",
            code="bad_birth_date",
            day=str(record.birth_date),
        )
    unknown = sorted(set(record.categories) - {c.value for c in STORED_CATEGORIES})
    if unknown:
        raise Invalid("There is no category {category}.", code="bad_category", category=unknown[0])
    unknown = sorted(set(record.allergens) - set(ALLERGENS))
    if unknown:
        raise Invalid("There is no allergen {allergen}.", code="bad_allergen", allergen=unknown[0])
    if record.iddsi_level not in IDDSI_LEVELS:
        raise Invalid("The IDDSI level must be 4, 5, 6 or 7.", code="bad_iddsi")
    if (record.latitude is None) != (record.longitude is None):
        raise Invalid(
            "Give both latitude and longitude of the home, or neither.", code="bad_location"
        )
    if record.delivery_eligible and record.latitude is None:
        raise Invalid(
            "A senior who gets meals delivered needs the home's map location "
            "(latitude and longitude).",
            code="delivery_no_location",
        )
    if record.phone:
        taken = await session.scalar(
            select(Account.id).where(Account.login == record.phone, Account.senior_id.is_(None))
        )
        if taken is not None:
            raise Conflict(
                "The phone number {phone} is another account's login.",
                code="phone_taken",
                phone=record.phone,
            )


def _apply(senior: Senior, record: SeniorRecord) -> None:
    for name in RECORD_FIELDS:
        if name == "active":
            continue
        value = getattr(record, name)
        setattr(senior, name, list(value) if isinstance(value, tuple) else value)
    senior.emergency_contacts = [
        EmergencyContact(name=c.name, phone=c.phone, relation=c.relation)
        for c in record.emergency_contacts
    ]


def _contacts(senior: Senior) -> list[dict[str, str]]:
    return [
        {"name": c.name, "phone": c.phone, "relation": c.relation}
        for c in senior.emergency_contacts
    ]


async def register_senior(
    session: AsyncSession, *, actor: Actor, record: SeniorRecord, pin: str | None, now: datetime
) -> Senior:
    """A new senior with a meal card, and a login (phone + PIN) when a phone and PIN are given.

    Meal-point staff register seniors only at their own site."""
    ensure_role(actor, Role.ADMIN, Role.SITE_STAFF)
    pin_hash = await asyncio.to_thread(hash_password, pin) if pin else None
    await begin_write(session)
    await _check_record(session, actor, record, now.date())
    if pin_hash and not record.phone:
        raise Invalid("A PIN needs a phone number to log in with.", code="pin_without_phone")
    if record.phone and await session.scalar(
        select(Senior.id).where(Senior.phone == record.phone, Senior.active)
    ):
        raise Conflict(
            "A senior with the phone number {phone} is already registered.",
            code="phone_taken",
            phone=record.phone,
        )
    senior = Senior(card_number=f"NEW-{secrets.token_hex(6)}", emergency_contacts=[])
    _apply(senior, record)
    session.add(senior)
    await session.flush()
    senior.card_number = f"{CARD_PREFIX}{senior.id:08d}"
    if pin_hash and record.phone:
        session.add(
            Account(
                login=record.phone,
                display_name=record.name,
                role=Role.SENIOR,
                password_hash=pin_hash,
                senior_id=senior.id,
            )
        )
    record_change(
        session,
        actor,
        action="create",
        entity="senior",
        entity_id=senior.id,
        at=now,
        after={
            **snapshot(senior, RECORD_FIELDS),
            "card_number": senior.card_number,
            "emergency_contacts": _contacts(senior),
        },
        site_id=senior.home_site_id,
        summary=senior.name,
    )
    await session.commit()
    return senior


async def update_senior(
    session: AsyncSession, *, actor: Actor, senior_id: int, record: SeniorRecord, now: datetime
) -> Senior:
    """A changed record; staff change only seniors of their own sites, and keep them there."""
    ensure_role(actor, Role.ADMIN, Role.SITE_STAFF)
    await begin_write(session)
    senior = await get_senior_in_scope(session, actor=actor, senior_id=senior_id)
    await _check_record(session, actor, record, now.date())
    before = {**snapshot(senior, RECORD_FIELDS), "emergency_contacts": _contacts(senior)}
    _apply(senior, record)
    after = {**snapshot(senior, RECORD_FIELDS), "emergency_contacts": _contacts(senior)}
    old, new = changed(before, after)
    if record.phone and record.phone != before["phone"]:
        await session.execute(
            update(Account).where(Account.senior_id == senior.id).values(login=record.phone)
        )
    record_change(
        session,
        actor,
        action="update",
        entity="senior",
        entity_id=senior.id,
        at=now,
        before=old,
        after=new,
        site_id=senior.home_site_id,
        summary=senior.name,
    )
    await session.commit()
    return senior


async def deactivate_senior(
    session: AsyncSession, *, actor: Actor, senior_id: int, now: datetime
) -> Senior:
    """The senior is no longer served: not listed, and their own login ends at once."""
    ensure_role(actor, Role.ADMIN, Role.SITE_STAFF)
    await begin_write(session)
    senior = await get_senior_in_scope(session, actor=actor, senior_id=senior_id)
    for account_id in list(
        await session.scalars(select(Account.id).where(Account.senior_id == senior.id))
    ):
        await session.execute(update(Account).where(Account.id == account_id).values(active=False))
        await end_account_sessions(session, account_id=account_id)
    record_deactivation(
        session,
        actor,
        senior,
        entity="senior",
        at=now,
        summary=senior.name,
        site_id=senior.home_site_id,
    )
    await session.commit()
    return senior


async def reset_pin(
    session: AsyncSession, *, actor: Actor, senior_id: int, pin: str, now: datetime
) -> Account:
    """A new PIN for the senior's login (made now if they had none); old sessions end."""
    ensure_role(actor, Role.ADMIN, Role.SITE_STAFF)
    pin_hash = await asyncio.to_thread(hash_password, pin)
    await begin_write(session)
    senior = await get_senior_in_scope(session, actor=actor, senior_id=senior_id)
    account = await session.scalar(
        select(Account).where(Account.senior_id == senior.id, Account.role == Role.SENIOR)
    )
    if account is None:
        if not senior.phone:
            raise Invalid(
                "{name} has no phone number to log in with; add one first.",
                code="pin_without_phone",
                name=senior.name,
            )
        account = Account(
            login=senior.phone,
            display_name=senior.name,
            role=Role.SENIOR,
            password_hash=pin_hash,
            senior_id=senior.id,
        )
        session.add(account)
        await session.flush()
    else:
        account.password_hash = pin_hash
        account.active = senior.active
        await end_account_sessions(session, account_id=account.id)
    record_change(
        session,
        actor,
        action="reset_pin",
        entity="senior",
        entity_id=senior.id,
        at=now,
        site_id=senior.home_site_id,
        summary=senior.name,
    )
    await session.commit()
    return account


async def page_seniors(
    session: AsyncSession,
    *,
    actor: Actor,
    site_id: int | None = None,
    search: str | None = None,
    active: bool | None = True,
    limit: int = 50,
    offset: int = 0,
) -> OffsetPagination[Senior]:
    """The console's list of seniors in scope, filtered, with the total over all pages."""
    filters: list[Any] = [OrderBy(field_name="id", sort_order="asc")]
    scope = _scope(actor)
    if scope is not None:
        filters.append(scope)
    if site_id is not None:
        filters.append(CollectionFilter(field_name="home_site_id", values=[site_id]))
    if active is not None:
        filters.append(CollectionFilter(field_name="active", values=[active]))
    if search:
        filters.append(
            SearchFilter(field_name={"name", "phone", "card_number"}, value=search.strip())
        )
    page = await page_of(
        session,
        Senior,
        *filters,
        limit=limit,
        offset=offset,
        statement=select(Senior).options(selectinload(Senior.emergency_contacts)),
    )
    return page
