"""Helpers for the console tests: forms posted as a browser does, audit entries read back."""

from __future__ import annotations

from httpx import Response
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select

from meals.audit.models import AuditEntry
from tests.pages.helpers import csrf_token


async def post_form(
    client: AsyncTestClient, page: str, action: str, fields: dict[str, object]
) -> Response:
    """Open `page`, post `fields` (lists repeat, as checkboxes do) with its CSRF token."""
    opened = await client.get(page)
    assert opened.status_code == 200, opened.text
    data: dict[str, object] = {"_csrf_token": csrf_token(opened.text)}
    for name, value in fields.items():
        data[name] = [str(v) for v in value] if isinstance(value, list) else str(value)
    return await client.post(action, data=data, follow_redirects=False)


async def audit_entries(db, entity: str | None = None) -> list[AuditEntry]:
    async with db() as s:
        query = select(AuditEntry).order_by(AuditEntry.id)
        if entity:
            query = query.where(AuditEntry.entity == entity)
        return list(await s.scalars(query))


async def count(db, model, *where) -> int:
    async with db() as s:
        return await s.scalar(select(func.count()).select_from(model).where(*where))
