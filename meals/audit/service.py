"""Recording changes in the audit log, in the same transaction as the change itself.

Every write service an operator or staff member calls ends with one `record_change(...)`
before its commit, so a change and its audit entry are stored together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from meals.accounts.service import Actor
from meals.audit.models import AuditEntry


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
