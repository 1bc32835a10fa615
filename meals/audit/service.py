"""Recording changes in the audit log, in the same transaction as the change itself.

Every write service an operator or staff member calls ends with one `record_change(...)`
before its commit, so a change and its audit entry are stored together or not at all.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

from advanced_alchemy.filters import (
    BeforeAfter,
    CollectionFilter,
    OnBeforeAfter,
    OrderBy,
    SearchFilter,
    StatementFilter,
)
from advanced_alchemy.service import OffsetPagination
from sqlalchemy.ext.asyncio import AsyncSession

from meals.accounts.service import Actor, ensure_role
from meals.audit.models import AuditEntry
from meals.errors import Invalid
from meals.listing import page_of
from meals.words import Role


def _plain(value: Any) -> Any:
    """A value as JSON can hold it: dates and times in ISO 8601, enums by value."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def snapshot(row: Any, fields: Iterable[str]) -> dict[str, Any]:
    """The named attributes of a row (or any object), ready to store as before/after."""
    return {name: _plain(getattr(row, name)) for name in fields}


def changed(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict, dict]:
    """Only the fields that differ, so an entry reads as what was changed."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def record_change(
    session: AsyncSession,
    actor: Actor,
    *,
    action: str,
    entity: str,
    entity_id: int | str,
    at: datetime,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    site_id: int | None = None,
    summary: str = "",
) -> AuditEntry:
    """Add one audit entry to the session (the caller commits it with the change)."""
    entry = AuditEntry(
        at=at,
        account_id=actor.account_id,
        account_name=actor.display_name or str(actor.account_id),
        role=actor.role.value,
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        site_id=site_id,
        summary=summary[:300],
        before=_plain(before) if before is not None else None,
        after=_plain(after) if after is not None else None,
    )
    session.add(entry)
    return entry


@dataclass(frozen=True)
class AuditQuery:
    """What the reader narrows the log to: who, which kind of record, which days."""

    who: str | None = None
    entity: str | None = None
    first_day: date | None = None
    last_day: date | None = None


AUDIT_READERS = (Role.ADMIN, Role.VIEWER)


def _filters(query: AuditQuery, zone: ZoneInfo) -> list[StatementFilter]:
    filters: list[StatementFilter] = [OrderBy(field_name="id", sort_order="desc")]
    if query.who:
        filters.append(SearchFilter(field_name="account_name", value=query.who.strip()))
    if query.entity:
        filters.append(CollectionFilter(field_name="entity", values=[query.entity]))
    if query.first_day or query.last_day:
        start = (
            datetime.combine(query.first_day, time.min, tzinfo=zone) if query.first_day else None
        )
        end = (
            datetime.combine(query.last_day + timedelta(days=1), time.min, tzinfo=zone)
            if query.last_day
            else None
        )
        filters.append(OnBeforeAfter(field_name="at", on_or_before=None, on_or_after=start))
        if end is not None:
            filters.append(BeforeAfter(field_name="at", before=end, after=None))
    if query.first_day and query.last_day and query.first_day > query.last_day:
        raise Invalid(
            "The first day ({first}) is after the last day ({last}); please swap them.",
            code="bad_range",
            first=str(query.first_day),
            last=str(query.last_day),
        )
    return filters


async def list_entries(
    session: AsyncSession,
    *,
    actor: Actor,
    query: AuditQuery,
    zone: ZoneInfo,
    limit: int = 50,
    offset: int = 0,
) -> OffsetPagination[AuditEntry]:
    """The operator's or civil affairs' view of the log: newest first, one page at a time."""
    ensure_role(actor, *AUDIT_READERS)
    return await page_of(session, AuditEntry, *_filters(query, zone), limit=limit, offset=offset)


CSV_COLUMNS = (
    "at",
    "account_name",
    "role",
    "action",
    "entity",
    "entity_id",
    "site_id",
    "summary",
    "before",
    "after",
)
CSV_BATCH = 1000


async def entries_csv(
    session: AsyncSession, *, actor: Actor, query: AuditQuery, zone: ZoneInfo
) -> str:
    """Every entry matching `query` as CSV (UTF-8 with a BOM, so spreadsheets read Chinese)."""
    ensure_role(actor, *AUDIT_READERS)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    offset = 0
    while True:
        page = await page_of(
            session, AuditEntry, *_filters(query, zone), limit=CSV_BATCH, offset=offset
        )
        for entry in page.items:
            writer.writerow(
                [
                    entry.at.astimezone(zone).isoformat(timespec="seconds"),
                    entry.account_name,
                    entry.role,
                    entry.action,
                    entry.entity,
                    entry.entity_id,
                    entry.site_id if entry.site_id is not None else "",
                    entry.summary,
                    json.dumps(entry.before, ensure_ascii=False) if entry.before else "",
                    json.dumps(entry.after, ensure_ascii=False) if entry.after else "",
                ]
            )
        offset += CSV_BATCH
        if offset >= page.total:
            return out.getvalue()


def record_deactivation(
    session: AsyncSession,
    actor: Actor,
    row: Any,
    *,
    entity: str,
    at: datetime,
    summary: str,
    site_id: int | None = None,
) -> AuditEntry:
    """Take a row out of service (its `active` flag) and record it: the one shape every
    deactivation in the console shares."""
    row.active = False
    return record_change(
        session,
        actor,
        action="deactivate",
        entity=entity,
        entity_id=row.id,
        at=at,
        before={"active": True},
        after={"active": False},
        site_id=site_id,
        summary=summary,
    )
