"""Corrections of what happened to a meal: explicit events with who, when and why.

A check-in made by mistake, a failed stop delivered later, a senior who ate but was not
scanned: each is put right by a correction, never by editing a booking in place. A correction
to a meal of a closed month counts in the next open month, as an adjustment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import Date, ForeignKey, Integer, String, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from meals.accounts.service import Actor
from meals.bookings.models import Booking
from meals.db import Base, begin_write
from meals.errors import Conflict, Forbidden, Invalid, NotFound
from meals.settlement.months import first_of_month, settle_month_for
from meals.sites.models import Site
from meals.words import BookingStatus, Fulfilment, Role, enum_column

REASON_MAX = 500
SERVED_STATUSES = frozenset({BookingStatus.SERVED, BookingStatus.DELIVERED})
# What each outcome may be corrected from; a cancelled booking has nothing to correct.
CORRECTABLE_FROM = {
    BookingStatus.SERVED: {BookingStatus.BOOKED, BookingStatus.NO_SHOW},
    BookingStatus.DELIVERED: {BookingStatus.BOOKED, BookingStatus.NO_SHOW},
    BookingStatus.NO_SHOW: {BookingStatus.BOOKED, BookingStatus.SERVED, BookingStatus.DELIVERED},
}


class BookingCorrection(Base):
    """One change of a booking's outcome after the fact, and the month it is settled in."""

    __tablename__ = "booking_corrections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    booking_id: Mapped[int] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[BookingStatus] = mapped_column(enum_column(BookingStatus, "from_status"))
    to_status: Mapped[BookingStatus] = mapped_column(enum_column(BookingStatus, "to_status"))
    reason: Mapped[str] = mapped_column(String(REASON_MAX))
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True
    )
    account_name: Mapped[str] = mapped_column(String(80))
    corrected_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    settle_month: Mapped[date] = mapped_column(Date, index=True)


@dataclass(frozen=True, slots=True)
class CorrectionOutcome:
    correction: BookingCorrection
    booking: Booking

    @property
    def is_adjustment(self) -> bool:
        """Counted in a later month than the meal's own, because that month was closed."""
        return self.correction.settle_month != self.booking.service_date.replace(day=1)


def _ensure_may_correct(actor: Actor, site_id: int) -> None:
    if actor.role is Role.ADMIN:
        return
    if actor.role is Role.SITE_STAFF and site_id in actor.site_ids:
        return
    raise Forbidden(
        "Only the operator or the staff of this meal's site may correct it.",
        code="not_your_site",
    )


async def correct_booking(
    session: AsyncSession,
    *,
    actor: Actor,
    booking_id: int,
    to_status: BookingStatus,
    reason: str,
    now: datetime,
) -> CorrectionOutcome:
    """Change what happened to a meal, recording who and why; refuse changes that make no sense."""
    text = reason.strip()
    if not text:
        raise Invalid("Say why this meal is being corrected.", code="reason_required")
    if len(text) > REASON_MAX:
        raise Invalid("Please keep the reason under {limit} characters.", limit=REASON_MAX)
    if to_status not in CORRECTABLE_FROM:
        raise Invalid(
            "A meal can be corrected to served, delivered or no-show, not to {status}.",
            code="bad_correction",
            status=to_status.value,
        )
    await begin_write(session)
    booking = await session.get(Booking, booking_id)
    if booking is None:
        raise NotFound("Booking {booking_id} does not exist.", booking_id=booking_id)
    _ensure_may_correct(actor, booking.site_id)
    site = await session.get(Site, booking.site_id)
    today = now.astimezone(ZoneInfo(site.timezone)).date() if site else now.date()
    if booking.service_date > today:
        raise Conflict(
            "The meal of {day} has not happened yet; only a past or today's meal can be corrected.",
            code="not_yet",
            day=booking.service_date.isoformat(),
        )
    delivered_mode = booking.fulfilment is Fulfilment.DELIVERY
    if (to_status is BookingStatus.SERVED and delivered_mode) or (
        to_status is BookingStatus.DELIVERED and not delivered_mode
    ):
        raise Conflict(
            "This meal is {fulfilment}: correct it to delivered for a home delivery, to "
            "served at the counter.",
            code="wrong_outcome_for_fulfilment",
            fulfilment=booking.fulfilment.value,
        )
    if booking.status not in CORRECTABLE_FROM[to_status]:
        raise Conflict(
            "This meal is {current}; it cannot be corrected to {status}.",
            code="bad_correction",
            current=booking.status.value,
            status=to_status.value,
        )
    settle_month = await settle_month_for(session, booking.service_date)
    served_at = now if to_status in SERVED_STATUSES else None
    changed = await session.execute(
        update(Booking)
        .where(Booking.id == booking.id, Booking.status == booking.status)
        .values(status=to_status, served_at=served_at, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount == 0:
        raise Conflict(
            "Someone changed this meal at the same moment; reload and try again.", code="retry"
        )
    correction = BookingCorrection(
        booking_id=booking.id,
        from_status=booking.status,
        to_status=to_status,
        reason=text,
        account_id=actor.account_id,
        account_name=actor.display_name[:80],
        corrected_at=now,
        settle_month=settle_month,
    )
    session.add(correction)
    await session.commit()
    await session.refresh(booking)
    return CorrectionOutcome(correction, booking)


async def record_late_outcomes(
    session: AsyncSession,
    *,
    actor: Actor,
    booking_ids: Sequence[int],
    service_date: date,
    from_status: BookingStatus,
    to_status: BookingStatus,
    reason: str,
    now: datetime,
) -> list[BookingCorrection]:
    """Keep an outcome recorded the ordinary way (a driver's confirmation) for meals of a month
    already closed as corrections counted in the next open month, like any other correction.

    Nothing is added while the meals' own month is open: their outcome counts there as it is.
    Call inside the transaction that changes the bookings' status.
    """
    if not booking_ids:
        return []
    settle_month = await settle_month_for(session, service_date)
    if settle_month == first_of_month(service_date):
        return []
    corrections = [
        BookingCorrection(
            booking_id=booking_id,
            from_status=from_status,
            to_status=to_status,
            reason=reason[:REASON_MAX],
            account_id=actor.account_id or None,
            account_name=actor.display_name[:80],
            corrected_at=now,
            settle_month=settle_month,
        )
        for booking_id in booking_ids
    ]
    session.add_all(corrections)
    return corrections


async def corrections_of(session: AsyncSession, booking_id: int) -> list[BookingCorrection]:
    return list(
        await session.scalars(
            select(BookingCorrection)
            .where(BookingCorrection.booking_id == booking_id)
            .order_by(BookingCorrection.id)
        )
    )
