"""Standing-order rules: expand into bookings as menus are published, respect pauses, and
withdraw only bookings that are still open when the order changes or ends."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from meals.accounts.service import Actor, load_actor
from meals.audit.service import record_change
from meals.bookings.checkin import local_today
from meals.bookings.models import Booking
from meals.bookings.service import (
    BookingRequest,
    cancel_booking,
    check_fulfilment_allowed,
    create_booking,
    ensure_serving,
    get_senior,
)
from meals.db import begin_write
from meals.errors import DomainError, Forbidden, Invalid, NotFound
from meals.menus.models import Menu, MenuItem
from meals.seniors.models import Senior
from meals.settings import Settings
from meals.sites.models import Site, SiteSlot
from meals.sites.service import booking_deadline
from meals.standing_orders.models import StandingOrder, StandingOrderDate
from meals.words import BookingStatus, Fulfilment, Role, Slot

WEEKDAYS = range(7)  # Monday = 0, as date.weekday()
BOOKED = "booked"


@dataclass(frozen=True)
class StandingOrderTerms:
    slot: Slot
    item_code: str
    fulfilment: Fulfilment
    weekdays: frozenset[int]
    paused_from: date | None = None
    paused_to: date | None = None

    def wants(self, day: date) -> bool:
        """True when this order asks for a meal on `day` (its weekday, and not paused)."""
        return day.weekday() in self.weekdays and not self.paused_on(day)

    def paused_on(self, day: date) -> bool:
        if self.paused_from is None or day < self.paused_from:
            return False
        return self.paused_to is None or day <= self.paused_to


@dataclass
class ExpansionReport:
    created: list[int] = field(default_factory=list)
    refused: list[tuple[date, DomainError]] = field(default_factory=list)
    withdrawn: list[int] = field(default_factory=list)


def terms_of(order: StandingOrder) -> StandingOrderTerms:
    return StandingOrderTerms(
        slot=order.slot,
        item_code=order.item_code,
        fulfilment=order.fulfilment,
        weekdays=frozenset(order.weekdays),
        paused_from=order.paused_from,
        paused_to=order.paused_to,
    )


def _validate(terms: StandingOrderTerms) -> None:
    if not terms.weekdays:
        raise Invalid("Choose at least one day of the week.")
    if not terms.weekdays <= set(WEEKDAYS):
        raise Invalid("Days of the week run from Monday to Sunday.")
    if terms.paused_to is not None and terms.paused_from is None:
        raise Invalid("A pause needs a first day.")
    if terms.paused_from and terms.paused_to and terms.paused_to < terms.paused_from:
        raise Invalid("The pause ends before it starts; check the two dates.")


STAFF_ROLES = (Role.SITE_STAFF, Role.ADMIN)


def _audit_view(order: StandingOrder) -> dict[str, object]:
    return {
        "item_code": order.item_code,
        "fulfilment": str(order.fulfilment),
        "weekdays": list(order.weekdays),
        "paused_from": order.paused_from.isoformat() if order.paused_from else None,
        "paused_to": order.paused_to.isoformat() if order.paused_to else None,
    }


def _ensure_may_order(actor: Actor, senior_id: int, home_site_id: int) -> None:
    if not actor.may_book(senior_id, home_site_id, home_site_id):
        raise Forbidden("You may not book meals for this senior here.", code="out_of_scope")


async def orders_of(session: AsyncSession, *, actor: Actor, senior_id: int) -> list[StandingOrder]:
    senior = await get_senior(session, senior_id)
    if not actor.may_see_senior(senior.id, senior.home_site_id):
        raise NotFound("There is no senior {senior_id} that you can see.", senior_id=senior_id)
    return list(
        await session.scalars(
            select(StandingOrder)
            .where(StandingOrder.senior_id == senior_id)
            .order_by(StandingOrder.slot)
        )
    )


async def save_standing_order(
    session: AsyncSession,
    *,
    actor: Actor,
    senior_id: int,
    terms: StandingOrderTerms,
    now: datetime,
    settings: Settings,
) -> tuple[StandingOrder, ExpansionReport]:
    """Create or change the senior's order for a slot, then bring open bookings in line."""
    _validate(terms)
    await begin_write(session)
    senior = await get_senior(session, senior_id)
    _ensure_may_order(actor, senior.id, senior.home_site_id)
    site = await session.get(Site, senior.home_site_id)
    served = await session.scalar(
        select(SiteSlot.id).where(SiteSlot.site_id == site.id, SiteSlot.slot == terms.slot)
    )
    if served is None:
        raise Invalid("{site} does not serve {slot}.", site=site.name, slot=terms.slot.value)
    ensure_serving(senior, site)
    check_fulfilment_allowed(senior, site, terms.fulfilment)
    order = await session.scalar(
        select(StandingOrder).where(
            StandingOrder.senior_id == senior.id, StandingOrder.slot == terms.slot
        )
    )
    before = _audit_view(order) if order is not None else None
    if order is None:
        order = StandingOrder(senior_id=senior.id, slot=terms.slot, created_at=now)
        session.add(order)
    order.site_id = site.id
    order.item_code = terms.item_code
    order.fulfilment = terms.fulfilment
    order.weekdays = sorted(terms.weekdays)
    order.paused_from = terms.paused_from
    order.paused_to = terms.paused_to
    order.account_id = actor.account_id
    order.updated_at = now
    if actor.role in STAFF_ROLES:  # a change staff make for a senior is kept in the audit log
        record_change(
            session,
            actor,
            action="standing_order.save",
            entity="standing_order",
            entity_id=f"{senior.id}:{terms.slot.value}",
            at=now,
            before=before,
            after=_audit_view(order),
            site_id=site.id,
            summary=f"standing order for {senior.name} ({terms.slot.value})",
        )
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Invalid("This order was changed at the same moment; please try again.") from None
    report = ExpansionReport()
    report.withdrawn = await _withdraw_open(session, actor=actor, order=order, keep=terms, now=now)
    expanded = await _expand_order(session, order=order, actor=actor, now=now, settings=settings)
    report.created, report.refused = expanded.created, expanded.refused
    return order, report


async def end_standing_order(
    session: AsyncSession, *, actor: Actor, senior_id: int, slot: Slot, now: datetime
) -> list[int]:
    """End the order: cancel its bookings still before cutoff; meals past cutoff stay booked."""
    await begin_write(session)
    senior = await get_senior(session, senior_id)
    _ensure_may_order(actor, senior.id, senior.home_site_id)
    order = await session.scalar(
        select(StandingOrder).where(
            StandingOrder.senior_id == senior.id, StandingOrder.slot == slot
        )
    )
    if order is None:
        raise NotFound("There is no standing order for {slot}.", slot=slot.value)
    withdrawn = await _withdraw_open(session, actor=actor, order=order, keep=None, now=now)
    await begin_write(session)
    if actor.role in STAFF_ROLES:
        record_change(
            session,
            actor,
            action="standing_order.end",
            entity="standing_order",
            entity_id=f"{senior.id}:{slot.value}",
            at=now,
            before=_audit_view(order),
            site_id=senior.home_site_id,
            summary=f"standing order for {senior.name} ended ({slot.value})",
        )
    await session.delete(order)
    await session.commit()
    return withdrawn


async def _withdraw_open(
    session: AsyncSession,
    *,
    actor: Actor,
    order: StandingOrder,
    keep: StandingOrderTerms | None,
    now: datetime,
) -> list[int]:
    """Cancel the order's bookings that `keep` no longer wants, but only before their cutoff.

    Their dates are forgotten so a changed order can book them again; dates past cutoff and
    bookings the senior cancelled by hand are left alone.
    """
    site = await session.get(Site, order.site_id)
    site_slot = await _site_slot(session, order.site_id, order.slot)
    rows = (
        await session.execute(
            select(StandingOrderDate, Booking, MenuItem.code)
            .outerjoin(Booking, Booking.id == StandingOrderDate.booking_id)
            .outerjoin(MenuItem, MenuItem.id == Booking.menu_item_id)
            .where(StandingOrderDate.standing_order_id == order.id)
        )
    ).all()
    withdrawn: list[int] = []
    forget: list[int] = []
    for expansion, booking, item_code in rows:
        if now >= booking_deadline(site_slot, site.timezone, expansion.service_date):
            continue
        if booking is not None and booking.status is not BookingStatus.BOOKED:
            continue
        still_wanted = (
            keep is not None
            and booking is not None
            and keep.wants(expansion.service_date)
            and item_code == keep.item_code
            and booking.fulfilment is keep.fulfilment
        )
        if still_wanted:
            continue
        if booking is not None:
            await cancel_booking(session, actor=actor, booking_id=booking.id, now=now)
            withdrawn.append(booking.id)
        forget.append(expansion.id)
    if forget:
        await begin_write(session)
        await session.execute(delete(StandingOrderDate).where(StandingOrderDate.id.in_(forget)))
        await session.commit()
    return withdrawn


async def _site_slot(session: AsyncSession, site_id: int, slot: Slot) -> SiteSlot:
    site_slot = await session.scalar(
        select(SiteSlot).where(SiteSlot.site_id == site_id, SiteSlot.slot == slot)
    )
    if site_slot is None:
        raise NotFound("This site no longer serves {slot}.", slot=slot.value)
    return site_slot


async def expand_standing_orders(
    session: AsyncSession,
    *,
    now: datetime,
    settings: Settings,
    senior_ids: Iterable[int] | None = None,
) -> ExpansionReport:
    """Book every published, still-open meal that an order asks for and has not yet handled.

    Safe to run at any time and from several workers: each date is handled once per order.
    """
    # Orders of a deactivated senior or for a closed site wait, their dates unhandled: the
    # booking rules would refuse each one, and a reactivated senior's orders carry on.
    query = (
        select(StandingOrder)
        .join(Senior, Senior.id == StandingOrder.senior_id)
        .join(Site, Site.id == StandingOrder.site_id)
        .where(Senior.active.is_(True), Site.active.is_(True))
        .order_by(StandingOrder.id)
    )
    if senior_ids is not None:
        query = query.where(StandingOrder.senior_id.in_(list(senior_ids)))
    report = ExpansionReport()
    for order_id in list(await session.scalars(query.with_only_columns(StandingOrder.id))):
        order = await session.get(StandingOrder, order_id)  # reloads what a rollback expired
        if order is None or order.account_id is None:
            continue
        actor = await load_actor(session, account_id=order.account_id)
        result = await _expand_order(session, order=order, actor=actor, now=now, settings=settings)
        report.created += result.created
        report.refused += result.refused
    return report


async def _expand_order(
    session: AsyncSession,
    *,
    order: StandingOrder,
    actor: Actor,
    now: datetime,
    settings: Settings,
) -> ExpansionReport:
    terms = terms_of(order)
    site = await session.get(Site, order.site_id)
    site_slot = await _site_slot(session, order.site_id, order.slot)
    handled = set(
        await session.scalars(
            select(StandingOrderDate.service_date).where(
                StandingOrderDate.standing_order_id == order.id
            )
        )
    )
    offers = (
        await session.execute(
            select(Menu.service_date, MenuItem.id)
            .join(MenuItem, MenuItem.menu_id == Menu.id)
            .where(
                Menu.site_id == order.site_id,
                Menu.slot == order.slot,
                Menu.published_at <= now,
                Menu.service_date >= local_today(site, now),
                MenuItem.code == order.item_code,
                MenuItem.withdrawn_at.is_(None),
            )
            .order_by(Menu.service_date)
        )
    ).all()
    # Read everything first: a refused booking rolls back, which expires loaded rows.
    order_id, senior_id, fulfilment = order.id, order.senior_id, order.fulfilment
    wanted = [
        (service_date, item_id)
        for service_date, item_id in offers
        if service_date not in handled
        and terms.wants(service_date)
        and now < booking_deadline(site_slot, site.timezone, service_date)
    ]
    report = ExpansionReport()
    for service_date, item_id in wanted:
        booking_id, outcome = None, BOOKED
        try:
            made = await create_booking(
                session,
                actor=actor,
                request=BookingRequest(senior_id, item_id, fulfilment),
                now=now,
                settings=settings,
                tell_family=False,
            )
            booking_id = made.booking.id
            report.created.append(booking_id)
        except DomainError as refusal:
            await session.rollback()
            outcome = refusal.code
            report.refused.append((service_date, refusal))
        session.add(
            StandingOrderDate(
                standing_order_id=order_id,
                service_date=service_date,
                booking_id=booking_id,
                outcome=outcome,
                created_at=now,
            )
        )
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()  # another worker handled this date at the same moment
    return report
