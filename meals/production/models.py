"""Recipe and production-run tables.

Quantities are stored as integer thousandths of their unit: exact on SQLite, which has no
decimal type, and on PostgreSQL alike.
"""

from __future__ import annotations

from datetime import date, datetime

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from meals.db import Base
from meals.words import Slot, Variant, enum_column

MILLI = 1000
"""Stored quantities are thousandths of the unit (120 g is stored as 120000)."""


class Ingredient(Base):
    """A stock item; allergens live here so a dish's allergens follow from its recipe."""

    __tablename__ = "ingredients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    allergens: Mapped[list[str]] = mapped_column(JSON, default=list)
    halal: Mapped[bool] = mapped_column(Boolean, default=False)


class Recipe(Base):
    """How one dish is cooked: yield, cook time and the equipment one batch occupies."""

    __tablename__ = "recipes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dish_id: Mapped[int] = mapped_column(ForeignKey("dishes.id", ondelete="CASCADE"), unique=True)
    yield_portions: Mapped[int] = mapped_column(Integer, default=1)
    cook_minutes: Mapped[int] = mapped_column(Integer)
    equipment_kind: Mapped[str] = mapped_column(String(40))
    served_hot: Mapped[bool] = mapped_column(Boolean, default=True)

    lines: Mapped[list[RecipeLine]] = relationship(
        lazy="raise", order_by="RecipeLine.id", cascade="all, delete-orphan"
    )
    variants: Mapped[list[RecipeVariant]] = relationship(
        lazy="raise", order_by="RecipeVariant.id", cascade="all, delete-orphan"
    )


class RecipeLine(Base):
    """Quantity of one ingredient for the recipe's yield."""

    __tablename__ = "recipe_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipe_id: Mapped[int] = mapped_column(ForeignKey("recipes.id", ondelete="CASCADE"), index=True)
    ingredient_id: Mapped[int] = mapped_column(ForeignKey("ingredients.id"))
    quantity_milli: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(12), default="g")


class RecipeVariant(Base):
    """How a diet variant changes the recipe; a variant without a row cannot be cooked.

    ``removed_ingredient_ids`` are dropped; ``lines`` replace the line of the same
    ingredient and unit or add one; ``steps`` follow cooking (mincing, puréeing).
    """

    __tablename__ = "recipe_variants"
    __table_args__ = (UniqueConstraint("recipe_id", "variant"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipe_id: Mapped[int] = mapped_column(ForeignKey("recipes.id", ondelete="CASCADE"))
    variant: Mapped[Variant] = mapped_column(enum_column(Variant))
    removed_ingredient_ids: Mapped[list[int]] = mapped_column(JSON, default=list)

    lines: Mapped[list[RecipeVariantLine]] = relationship(
        lazy="raise", order_by="RecipeVariantLine.id", cascade="all, delete-orphan"
    )
    steps: Mapped[list[RecipeVariantStep]] = relationship(
        lazy="raise", order_by="RecipeVariantStep.position", cascade="all, delete-orphan"
    )


class RecipeVariantLine(Base):
    __tablename__ = "recipe_variant_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipe_variant_id: Mapped[int] = mapped_column(
        ForeignKey("recipe_variants.id", ondelete="CASCADE"), index=True
    )
    ingredient_id: Mapped[int] = mapped_column(ForeignKey("ingredients.id"))
    quantity_milli: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(12), default="g")


class RecipeVariantStep(Base):
    """A processing step after cooking, e.g. puréeing to IDDSI level 4."""

    __tablename__ = "recipe_variant_steps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipe_variant_id: Mapped[int] = mapped_column(
        ForeignKey("recipe_variants.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(80))
    minutes: Mapped[int] = mapped_column(Integer)


class ProductionRun(Base):
    """A plan frozen for one date and slot: what the kitchen cooks from, whatever changes later.

    ``plan`` is the whole ``kitchen.ProductionPlan`` as JSON (the sheets are rendered from
    it); ``booking_counts`` is the snapshot the plan was made from, one
    ``[site_id, menu_item_id, variant, fulfilment, count]`` per group, so later changes
    show as a diff.
    """

    __tablename__ = "production_runs"
    __table_args__ = (Index("ix_production_runs_date_slot", "service_date", "slot"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_date: Mapped[date] = mapped_column(Date)
    slot: Mapped[Slot] = mapped_column(enum_column(Slot))
    frozen_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    frozen_by_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True
    )
    total_portions: Mapped[int] = mapped_column(Integer)
    bookings_counted: Mapped[int] = mapped_column(Integer)
    booking_counts: Mapped[list[list]] = mapped_column(JSON, default=list)
    plan: Mapped[str] = mapped_column(Text)
    route_plan_id: Mapped[int | None] = mapped_column(
        ForeignKey("route_plans.id", ondelete="SET NULL"), nullable=True
    )
    """The route plan this run packs for: its vans, trips and stops are the packing list's."""
    home_booking_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    """The home deliveries frozen with the run; a re-plan re-flows exactly these."""
    printed_at: Mapped[datetime | None] = mapped_column(DateTimeUTC, nullable=True)
    """When one of the run's sheets was first printed or downloaded: the kitchen's paper."""


class SampleRecord(Base):
    """One 留样 sample as kitchen staff recorded it (GB 31654-2021): weighed and chilled."""

    __tablename__ = "sample_records"
    __table_args__ = (UniqueConstraint("service_date", "slot", "batch_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_date: Mapped[date] = mapped_column(Date)
    slot: Mapped[str] = mapped_column(String(10))
    batch_id: Mapped[str] = mapped_column(String(20))
    dish_name: Mapped[str] = mapped_column(String(80))
    sampled_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    grams: Mapped[int] = mapped_column(Integer)
    fridge_celsius: Mapped[float]
    staff_name: Mapped[str] = mapped_column(String(80))
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True
    )
    recorded_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    disposed_at: Mapped[datetime | None] = mapped_column(DateTimeUTC, nullable=True)
    """When the sample was thrown away after its retention (None: still in the fridge)."""
    disposed_by_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True
    )
