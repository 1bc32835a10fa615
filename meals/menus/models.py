"""Dish, menu and menu-item tables."""

from __future__ import annotations

from datetime import date, datetime

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.naming import conv

from meals.db import Base
from meals.words import Slot, enum_column

# Named in full: a booking that would overfill a slot or a set meal is refused by these checks,
# and the refusal is recognised by the name the database reports.
SEATS_CHECK = "ck_menus_seats"
PORTIONS_CHECK = "ck_menu_items_portions"


class Dish(Base):
    __tablename__ = "dishes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))
    diet_tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    allergens: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Nutrition per portion, from the recipe; None where not yet known.
    energy_kcal: Mapped[int | None] = mapped_column(Integer)
    protein_g: Mapped[float | None] = mapped_column(Float)
    fat_g: Mapped[float | None] = mapped_column(Float)
    carbohydrate_g: Mapped[float | None] = mapped_column(Float)
    sodium_mg: Mapped[int | None] = mapped_column(Integer)
    # A dish no longer offered for new menus; published menus keep it.
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class Menu(Base):
    """What one site serves on one date in one slot; holds the slot's seat counter."""

    __tablename__ = "menus"
    __table_args__ = (
        UniqueConstraint("site_id", "service_date", "slot"),
        CheckConstraint(
            "seats_booked >= 0 AND seats_booked <= seat_capacity", name=conv(SEATS_CHECK)
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    service_date: Mapped[date] = mapped_column(Date, index=True)
    slot: Mapped[Slot] = mapped_column(enum_column(Slot))
    published_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    seat_capacity: Mapped[int] = mapped_column(Integer)
    seats_booked: Mapped[int] = mapped_column(Integer, default=0)

    items: Mapped[list[MenuItem]] = relationship(
        back_populates="menu", lazy="raise", order_by="MenuItem.code"
    )


class MenuItem(Base):
    """A set meal (有荤有素) on a menu, with its price and portions."""

    __tablename__ = "menu_items"
    __table_args__ = (
        UniqueConstraint("menu_id", "code"),
        CheckConstraint(
            "booked_count >= 0 AND booked_count <= capacity", name=conv(PORTIONS_CHECK)
        ),
        CheckConstraint("list_price_fen >= 0", name="price"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    menu_id: Mapped[int] = mapped_column(ForeignKey("menus.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(120))
    list_price_fen: Mapped[int] = mapped_column(Integer)
    capacity: Mapped[int] = mapped_column(Integer)
    booked_count: Mapped[int] = mapped_column(Integer, default=0)
    diet_tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    variants: Mapped[list[str]] = mapped_column(JSON, default=list)
    allergens: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Taken off the menu by the operator; kept (not deleted) while bookings point at it.
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTimeUTC, nullable=True)

    menu: Mapped[Menu] = relationship(back_populates="items")
    dishes: Mapped[list[MenuItemDish]] = relationship(
        lazy="raise", order_by="MenuItemDish.position", cascade="all, delete-orphan"
    )


class MenuItemDish(Base):
    __tablename__ = "menu_item_dishes"

    menu_item_id: Mapped[int] = mapped_column(
        ForeignKey("menu_items.id", ondelete="CASCADE"), primary_key=True
    )
    dish_id: Mapped[int] = mapped_column(ForeignKey("dishes.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)

    dish: Mapped[Dish] = relationship(lazy="raise")


class MenuCycle(Base):
    """A rotation of set meals (e.g. four weeks) that a group of sites follows; menus are
    published from it some weeks ahead, so nobody has to type each week in."""

    __tablename__ = "menu_cycles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    weeks: Mapped[int] = mapped_column(Integer)
    # The Monday on which day 0 of the rotation falls; later days follow modulo the length.
    starts_on: Mapped[date] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    updated_at: Mapped[datetime] = mapped_column(DateTimeUTC)

    sites: Mapped[list[MenuCycleSite]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="MenuCycleSite.site_id"
    )
    items: Mapped[list[MenuCycleItem]] = relationship(
        lazy="selectin",
        cascade="all, delete-orphan",
        order_by="(MenuCycleItem.day_index, MenuCycleItem.slot, MenuCycleItem.code)",
    )

    @property
    def site_ids(self) -> list[int]:
        return [s.site_id for s in self.sites]


class MenuCycleSite(Base):
    """A site following a cycle; a site follows at most one."""

    __tablename__ = "menu_cycle_sites"

    cycle_id: Mapped[int] = mapped_column(
        ForeignKey("menu_cycles.id", ondelete="CASCADE"), primary_key=True
    )
    site_id: Mapped[int] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True, unique=True
    )


class MenuCycleItem(Base):
    """One set meal on one day of a cycle, with its price, portions and dishes in order."""

    __tablename__ = "menu_cycle_items"
    __table_args__ = (
        UniqueConstraint("cycle_id", "day_index", "slot", "code"),
        CheckConstraint("list_price_fen >= 0", name="cycle_price"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(
        ForeignKey("menu_cycles.id", ondelete="CASCADE"), index=True
    )
    day_index: Mapped[int] = mapped_column(Integer)
    slot: Mapped[Slot] = mapped_column(enum_column(Slot))
    code: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(120))
    list_price_fen: Mapped[int] = mapped_column(Integer)
    # Portions offered; None: as many as the site's slot seats.
    portions: Mapped[int | None] = mapped_column(Integer, nullable=True)
    dish_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
