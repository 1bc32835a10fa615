"""Ratings of meals a senior was served or had delivered: 1–5 stars and an optional comment."""

from __future__ import annotations

from datetime import datetime

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from meals.accounts.service import Actor
from meals.bookings.models import Booking
from meals.bookings.service import get_booking
from meals.db import Base, begin_write
from meals.errors import Conflict, Invalid
from meals.words import BookingStatus

MIN_STARS = 1
MAX_STARS = 5
COMMENT_MAX = 500
RATEABLE = (BookingStatus.SERVED, BookingStatus.DELIVERED)


class MealRating(Base):
    """One rating per booking; rating again replaces the earlier one."""

    __tablename__ = "meal_ratings"
    __table_args__ = (
        CheckConstraint(f"stars >= {MIN_STARS} AND stars <= {MAX_STARS}", name="stars"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    booking_id: Mapped[int] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE"), unique=True
    )
    senior_id: Mapped[int] = mapped_column(ForeignKey("seniors.id", ondelete="CASCADE"))
    menu_item_id: Mapped[int] = mapped_column(ForeignKey("menu_items.id"), index=True)
    stars: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(String(COMMENT_MAX), nullable=True)
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC)


async def rating_for(session: AsyncSession, booking_id: int) -> MealRating | None:
    return await session.scalar(select(MealRating).where(MealRating.booking_id == booking_id))


async def rate_meal(
    session: AsyncSession,
    *,
    actor: Actor,
    booking_id: int,
    stars: int,
    comment: str | None,
    now: datetime,
) -> MealRating:
    """Rate a meal that was actually eaten: a booked or cancelled meal has nothing to rate yet."""
    if not MIN_STARS <= stars <= MAX_STARS:
        raise Invalid("Choose from {low} to {high} stars.", low=MIN_STARS, high=MAX_STARS)
    text = (comment or "").strip()
    if len(text) > COMMENT_MAX:
        raise Invalid("Please keep the comment under {limit} characters.", limit=COMMENT_MAX)
    await begin_write(session)
    booking = await get_booking(session, actor=actor, booking_id=booking_id)
    if booking.status not in RATEABLE:
        raise Conflict(
            "Only a meal that was served or delivered can be rated.", code="not_rateable"
        )
    try:
        return await _save_rating(session, actor, booking, stars, text, now)
    except IntegrityError:
        await session.rollback()  # a double submit inserted first: update that one instead
        await begin_write(session)
        return await _save_rating(session, actor, booking, stars, text, now)


async def _save_rating(
    session: AsyncSession, actor: Actor, booking: Booking, stars: int, text: str, now: datetime
) -> MealRating:
    rating = await rating_for(session, booking.id)
    if rating is None:
        rating = MealRating(booking_id=booking.id, senior_id=booking.senior_id)
        session.add(rating)
    rating.menu_item_id = booking.menu_item_id
    rating.stars = stars
    rating.comment = text or None
    rating.account_id = actor.account_id
    rating.created_at = now
    await session.commit()
    return rating
