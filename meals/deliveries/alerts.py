"""Welfare alerts: who sees them, recording what happened, escalation, and the webhook.

An alert is shown in-app to the senior's site staff, to admins and to bound family; the
webhook tells an outside notifier (SMS, phone calls to the emergency contacts). Every
webhook attempt is recorded, whether it reached the receiver or not.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from meals.accounts.models import Account, FamilyBinding
from meals.accounts.service import Actor
from meals.db import begin_write
from meals.deliveries.models import AlertStatus, WebhookAttempt, WelfareAlert
from meals.errors import Conflict, Forbidden, Invalid, NotFound
from meals.seniors.models import EmergencyContact, Senior
from meals.settings import Settings
from meals.sites.models import Site
from meals.words import Role

RAISED = "raised"
ESCALATED = "escalated"
ERROR_TEXT_MAX = 255
URL_TEXT_MAX = 500
RECENT_RESOLVED = 20


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertView:
    alert: WelfareAlert
    senior: Senior
    site_name: str
    contacts: list[EmergencyContact]


def _visible_to(actor: Actor):
    match actor.role:
        case Role.ADMIN:
            return True
        case Role.SITE_STAFF:
            return WelfareAlert.site_id.in_(actor.site_ids)
        case Role.FAMILY:
            return WelfareAlert.senior_id.in_(actor.senior_ids)
        case _:
            raise Forbidden("Your account cannot see welfare alerts.")


async def list_alerts(session: AsyncSession, actor: Actor) -> list[AlertView]:
    """Open alerts first (oldest first), then the most recently resolved."""
    scope = _visible_to(actor)
    rows = []
    for status, order in (
        (AlertStatus.OPEN, WelfareAlert.raised_at.asc()),
        (AlertStatus.RESOLVED, WelfareAlert.resolved_at.desc()),
    ):
        query = (
            select(WelfareAlert, Senior, Site.name)
            .join(Senior, Senior.id == WelfareAlert.senior_id)
            .join(Site, Site.id == WelfareAlert.site_id)
            .where(WelfareAlert.status == status, scope)
            .order_by(order, WelfareAlert.id)
        )
        if status is AlertStatus.RESOLVED:
            query = query.limit(RECENT_RESOLVED)
        rows += (await session.execute(query)).all()
    senior_ids = {senior.id for _alert, senior, _site in rows}
    contacts: dict[int, list[EmergencyContact]] = {}
    if senior_ids:
        for contact in await session.scalars(
            select(EmergencyContact)
            .where(EmergencyContact.senior_id.in_(senior_ids))
            .order_by(EmergencyContact.id)
        ):
            contacts.setdefault(contact.senior_id, []).append(contact)
    return [
        AlertView(alert=alert, senior=senior, site_name=site, contacts=contacts.get(senior.id, []))
        for alert, senior, site in rows
    ]


async def resolve_alert(
    session: AsyncSession, *, actor: Actor, alert_id: int, resolution: str, now: datetime
) -> WelfareAlert:
    """Close an alert with what happened; it stays open until someone says."""
    text = resolution.strip()
    if not text:
        raise Invalid("Write down what happened before closing the alert.", code="no_resolution")
    await begin_write(session)
    alert = await session.scalar(
        select(WelfareAlert).where(WelfareAlert.id == alert_id, _visible_to(actor))
    )
    if alert is None:
        raise NotFound("Alert {alert_id} does not exist.", alert_id=alert_id)
    if alert.status is AlertStatus.RESOLVED:
        raise Conflict("This alert was already closed.", code="alert_closed")
    alert.status = AlertStatus.RESOLVED
    alert.resolution = text
    alert.resolved_at = now
    alert.resolved_by_account_id = actor.account_id
    await session.commit()
    return alert


async def escalate_overdue(
    session: AsyncSession, *, now: datetime, settings: Settings
) -> list[int]:
    """Mark open alerts nobody has answered within the escalation time; returns their ids."""
    await begin_write(session)
    overdue = list(
        await session.scalars(
            select(WelfareAlert).where(
                WelfareAlert.status == AlertStatus.OPEN,
                WelfareAlert.escalated_at.is_(None),
                WelfareAlert.raised_at <= now - settings.welfare_escalation_after,
            )
        )
    )
    for alert in overdue:
        alert.escalated_at = now
    await session.commit()
    return [alert.id for alert in overdue]


async def alert_payload(session: AsyncSession, alert_id: int, event: str) -> dict:
    """What the receiver needs to reach the people who can check on the senior."""
    alert = await session.get(WelfareAlert, alert_id)
    if alert is None:
        raise NotFound("Alert {alert_id} does not exist.", alert_id=alert_id)
    senior = await session.get(Senior, alert.senior_id)
    site = await session.get(Site, alert.site_id)
    contacts = await session.scalars(
        select(EmergencyContact).where(EmergencyContact.senior_id == alert.senior_id)
    )
    family = await session.execute(
        select(Account.id, Account.display_name, FamilyBinding.relation)
        .join(FamilyBinding, FamilyBinding.account_id == Account.id)
        .where(FamilyBinding.senior_id == alert.senior_id)
    )
    return {
        "event": event,
        "alert_id": alert.id,
        "raised_at": alert.raised_at.isoformat(),
        "escalated_at": alert.escalated_at.isoformat() if alert.escalated_at else None,
        "failure_reason": alert.failure_reason.value,
        "senior": {
            "id": senior.id,
            "name": senior.name,
            "address": senior.address,
            "phone": senior.phone,
            "categories": list(senior.categories or ()),
        },
        "site": {"id": site.id, "name": site.name},
        "emergency_contacts": [
            {"name": c.name, "phone": c.phone, "relation": c.relation} for c in contacts
        ],
        "family_accounts": [
            {"account_id": account_id, "name": name, "relation": relation}
            for account_id, name, relation in family
        ],
    }


async def send_webhook(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    alert_id: int,
    event: str,
    now: Callable[[], datetime],
) -> bool:
    """POST the alert to the configured receiver, retrying with backoff; every try recorded."""
    url = settings.welfare_webhook_url
    if not url:
        return False
    async with sessions() as session:
        payload = await alert_payload(session, alert_id, event)
    headers = {"Idempotency-Key": f"welfare-alert-{alert_id}-{event}"}
    async with httpx.AsyncClient(timeout=settings.welfare_webhook_timeout_seconds) as client:
        for attempt in range(1, settings.welfare_webhook_attempts + 1):
            status_code: int | None = None
            error: str | None = None
            try:
                response = await client.post(url, json=payload, headers=headers)
                status_code = response.status_code
                delivered = response.is_success
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"[:ERROR_TEXT_MAX]
                delivered = False
            async with sessions() as session:
                await begin_write(session)
                session.add(
                    WebhookAttempt(
                        alert_id=alert_id,
                        event=event,
                        attempt=attempt,
                        attempted_at=now(),
                        url=url[:URL_TEXT_MAX],
                        status_code=status_code,
                        error=error,
                        succeeded=delivered,
                    )
                )
                await session.commit()
            if delivered:
                return True
            if attempt < settings.welfare_webhook_attempts:
                await asyncio.sleep(settings.welfare_webhook_backoff_seconds * 2 ** (attempt - 1))
    return False


async def webhook_attempts(session: AsyncSession, alert_id: int) -> list[WebhookAttempt]:
    return list(
        await session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.alert_id == alert_id)
            .order_by(WebhookAttempt.id)
        )
    )
