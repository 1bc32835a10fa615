"""The operator's management of accounts: create, list, change role and sites, deactivate and
reset the password, each effective at once (sessions end) and written to the audit log."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from advanced_alchemy.filters import (
    CollectionFilter,
    OrderBy,
    SearchFilter,
    StatementFilter,
)
from advanced_alchemy.service import OffsetPagination
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from meals.accounts.models import Account, StaffSite
from meals.accounts.service import Actor, changing_account, ensure_role, hash_password
from meals.audit.service import changed, record_change, snapshot
from meals.db import begin_write
from meals.errors import Conflict, Invalid
from meals.listing import page_of
from meals.sites.models import Site
from meals.words import Role

# Roles the console makes accounts for; seniors and family members come with their records.
STAFF_ROLES = (Role.SITE_STAFF, Role.KITCHEN, Role.DRIVER, Role.ADMIN, Role.VIEWER)
FIELDS = ("login", "display_name", "role", "active")


@dataclass(frozen=True)
class AccountRow:
    """An account with the sites it works at, as the console lists it."""

    account: Account
    site_ids: tuple[int, ...]


async def _site_ids(session: AsyncSession, account_ids: Collection[int]) -> dict[int, list[int]]:
    rows = await session.execute(
        select(StaffSite.account_id, StaffSite.site_id)
        .where(StaffSite.account_id.in_(list(account_ids)))
        .order_by(StaffSite.site_id)
    )
    found: dict[int, list[int]] = {}
    for account_id, site_id in rows:
        found.setdefault(account_id, []).append(site_id)
    return found


async def list_accounts(
    session: AsyncSession,
    *,
    actor: Actor,
    role: Role | None = None,
    search: str | None = None,
    active: bool | None = None,
    limit: int = 50,
    offset: int = 0,
) -> OffsetPagination[AccountRow]:
    """Staff, kitchen, driver, operator and viewer accounts, filtered, one page at a time."""
    ensure_role(actor, Role.ADMIN)
    filters: list[StatementFilter] = [
        CollectionFilter(field_name="role", values=[role] if role else list(STAFF_ROLES)),
        OrderBy(field_name="id", sort_order="asc"),
    ]
    if search:
        filters.append(
            SearchFilter(field_name={"login", "display_name"}, value=search, ignore_case=True)
        )
    if active is not None:
        filters.append(CollectionFilter(field_name="active", values=[active]))
    page = await page_of(session, Account, *filters, limit=limit, offset=offset)
    sites = await _site_ids(session, [a.id for a in page.items])
    return OffsetPagination(
        items=[AccountRow(a, tuple(sites.get(a.id, []))) for a in page.items],
        limit=page.limit,
        offset=page.offset,
        total=page.total,
    )


async def _check_sites(session: AsyncSession, role: Role, site_ids: Collection[int]) -> None:
    if role is Role.SITE_STAFF and not site_ids:
        raise Invalid(
            "Meal-point staff need at least one site to work at; please pick one.",
            code="no_site",
        )
    if site_ids:
        known = set(await session.scalars(select(Site.id).where(Site.id.in_(list(site_ids)))))
        missing = sorted(set(site_ids) - known)
        if missing:
            raise Invalid("There is no site {site_id}.", code="no_site", site_id=missing[0])


async def create_account(
    session: AsyncSession,
    *,
    actor: Actor,
    login: str,
    display_name: str,
    role: Role,
    password: str,
    site_ids: Collection[int] = (),
    now: datetime,
) -> AccountRow:
    """A new staff, kitchen, driver, operator or viewer account, able to log in at once."""
    ensure_role(actor, Role.ADMIN)
    if role not in STAFF_ROLES:
        raise Invalid(
            "Accounts for seniors and family members are made with their records, not here.",
            code="bad_role",
        )
    password_hash = await asyncio.to_thread(hash_password, password)
    await begin_write(session)
    await _check_sites(session, role, site_ids)
    if await session.scalar(select(Account.id).where(Account.login == login)) is not None:
        raise Conflict(
            "The login {login} is taken; please choose another.", code="login_taken", login=login
        )
    account = Account(
        login=login, display_name=display_name, role=role, password_hash=password_hash
    )
    session.add(account)
    await session.flush()
    kept = sorted(set(site_ids)) if role is Role.SITE_STAFF else []
    session.add_all(StaffSite(account_id=account.id, site_id=site_id) for site_id in kept)
    record_change(
        session,
        actor,
        action="create",
        entity="account",
        entity_id=account.id,
        at=now,
        after={**snapshot(account, FIELDS), "site_ids": kept},
        summary=f"{display_name} ({login}, {role.value})",
    )
    await session.commit()
    return AccountRow(account, tuple(kept))


async def deactivate(
    session: AsyncSession, *, actor: Actor, account_id: int, now: datetime
) -> Account:
    """The account can no longer log in; its sessions end now."""
    async with changing_account(session, actor, account_id) as account:
        if account.id == actor.account_id:
            raise Invalid("You cannot deactivate your own account.", code="own_account")
        before = snapshot(account, FIELDS)
        account.active = False
        _audit(session, actor, account, before, now, "deactivate")
    return account


async def change_role(
    session: AsyncSession, *, actor: Actor, account_id: int, role: Role, now: datetime
) -> Account:
    """A new role ends the account's sessions: it logs in again under the new role."""
    async with changing_account(session, actor, account_id) as account:
        if account.senior_id is not None and role is not Role.SENIOR:
            raise Invalid("A senior's own account keeps the senior role.", code="senior_account")
        if account.id == actor.account_id and role is not Role.ADMIN:
            raise Invalid("You cannot take the operator role from yourself.", code="own_account")
        before = snapshot(account, FIELDS)
        account.role = role
        _audit(session, actor, account, before, now, "change_role")
    return account


async def set_sites(
    session: AsyncSession,
    *,
    actor: Actor,
    account_id: int,
    site_ids: Collection[int],
    now: datetime,
) -> Account:
    """The sites a staff account works at; its sessions end so the new scope applies at once."""
    async with changing_account(session, actor, account_id) as account:
        await _check_sites(session, account.role, site_ids)
        old = sorted((await _site_ids(session, [account.id])).get(account.id, []))
        await session.execute(
            StaffSite.__table__.delete().where(StaffSite.account_id == account.id)
        )
        new = sorted(set(site_ids))
        session.add_all(StaffSite(account_id=account.id, site_id=site_id) for site_id in new)
        record_change(
            session,
            actor,
            action="set_sites",
            entity="account",
            entity_id=account.id,
            at=now,
            before={"site_ids": old},
            after={"site_ids": new},
            summary=account.login,
        )
    return account


async def reset_password(
    session: AsyncSession, *, actor: Actor, account_id: int, password: str, now: datetime
) -> Account:
    """A new password or PIN ends every session opened with the old one (never logged)."""
    password_hash = await asyncio.to_thread(hash_password, password)
    async with changing_account(session, actor, account_id) as account:
        if account.id == actor.account_id:
            # Resetting ends every session, this one too: another operator does it for you.
            raise Invalid(
                "You cannot reset your own password here; ask another operator to reset it.",
                code="own_account",
            )
        account.password_hash = password_hash
        record_change(
            session,
            actor,
            action="reset_password",
            entity="account",
            entity_id=account.id,
            at=now,
            summary=account.login,
        )
    return account


def _audit(
    session: AsyncSession,
    actor: Actor,
    account: Account,
    before: dict,
    now: datetime,
    action: str,
) -> None:
    old, new = changed(before, snapshot(account, FIELDS))
    record_change(
        session,
        actor,
        action=action,
        entity="account",
        entity_id=account.id,
        at=now,
        before=old,
        after=new,
        summary=account.login,
    )
