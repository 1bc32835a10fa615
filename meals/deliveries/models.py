"""Route plans, van runs, stops, driver actions and welfare alerts.

A plan is never edited: re-planning stores a new plan for the same date and slot, and the
latest one is the plan drivers follow; the previous one stays for the difference.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from meals.db import Base
from meals.words import Slot, enum_column


class PlanSource(StrEnum):
    PRODUCTION_RUN = "production_run"
    LIVE_BOOKINGS = "live_bookings"


class StopKind(StrEnum):
    SITE_DROP = "site_drop"
    HOME = "home"
    LAST_MILE_HOME = "last_mile_home"
    """A home served on foot or e-bike from a meal point; its meal rides in that drop."""


class StopStatus(StrEnum):
    PLANNED = "planned"
    ARRIVED = "arrived"
    DELIVERED = "delivered"
    FAILED = "failed"


class DriverAction(StrEnum):
    ARRIVED = "arrived"
    DELIVERED = "delivered"
    FAILED = "failed"


class FailureReason(StrEnum):
    NO_ANSWER = "no_answer"
    REFUSED = "refused"
    NOT_AT_ADDRESS = "not_at_address"
    OTHER = "other"


class AlertStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class RoutePlanRecord(Base):
    """One solve of a date and slot, with the totals the dispatcher reads first."""

    __tablename__ = "route_plans"
    __table_args__ = (Index("ix_route_plans_date_slot", "service_date", "slot"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_date: Mapped[date] = mapped_column(Date)
    slot: Mapped[Slot] = mapped_column(enum_column(Slot))
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    created_by_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True
    )
    source: Mapped[PlanSource] = mapped_column(enum_column(PlanSource))
    production_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("production_runs.id", ondelete="SET NULL"), nullable=True
    )
    previous_plan_id: Mapped[int | None] = mapped_column(
        ForeignKey("route_plans.id", ondelete="SET NULL"), nullable=True
    )
    excluded_vans: Mapped[list[str]] = mapped_column(JSON, default=list)
    travel_provider: Mapped[str] = mapped_column(String(20))
    vans_used: Mapped[int] = mapped_column(Integer)
    distance_m: Mapped[int] = mapped_column(Integer)
    longest_in_van_s: Mapped[int] = mapped_column(Integer)
    """Packing lead plus the longest time from departure to a handover, in seconds."""
    food_safety_limit_s: Mapped[int] = mapped_column(Integer)
    stops_served: Mapped[int] = mapped_column(Integer)
    stops_unserved: Mapped[int] = mapped_column(Integer)


class RouteRun(Base):
    """One trip of one van: leaves the kitchen at a wave, serves stops, comes back."""

    __tablename__ = "route_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("route_plans.id", ondelete="CASCADE"), index=True
    )
    van_id: Mapped[int] = mapped_column(ForeignKey("vans.id"))
    van_code: Mapped[str] = mapped_column(String(32))
    driver_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True, index=True
    )
    trip_number: Mapped[int] = mapped_column(Integer)
    departs_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    returns_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    distance_m: Mapped[int] = mapped_column(Integer)
    load_boxes: Mapped[int] = mapped_column(Integer)
    capacity_boxes: Mapped[int] = mapped_column(Integer)
    load_cold_boxes: Mapped[int] = mapped_column(Integer, default=0)
    cold_capacity_boxes: Mapped[int] = mapped_column(Integer, default=0)


class RouteStop(Base):
    """A stop of a plan: on a run in order, on a meal point's walking list, or unserved."""

    __tablename__ = "route_stops"
    __table_args__ = (UniqueConstraint("plan_id", "stop_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("route_plans.id", ondelete="CASCADE"))
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("route_runs.id", ondelete="CASCADE"), nullable=True, index=True
    )
    stop_key: Mapped[str] = mapped_column(String(40))
    kind: Mapped[StopKind] = mapped_column(enum_column(StopKind))
    sequence: Mapped[int | None] = mapped_column(Integer, nullable=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), nullable=True)
    senior_id: Mapped[int | None] = mapped_column(ForeignKey("seniors.id"), nullable=True)
    carried_by_site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), nullable=True)
    """For a last-mile home: the meal point whose drop carries its meal."""
    booking_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    portions: Mapped[int] = mapped_column(Integer)
    boxes: Mapped[int] = mapped_column(Integer)
    """Hot boxes unloaded here (with a drop's walked homes' boxes)."""
    cold_boxes: Mapped[int] = mapped_column(Integer, default=0)
    last_mile_boxes: Mapped[int] = mapped_column(Integer, default=0)
    eta: Mapped[datetime | None] = mapped_column(DateTimeUTC, nullable=True)
    since_departure_s: Mapped[int | None] = mapped_column(Integer, nullable=True)
    load_before_boxes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    unserved_reason: Mapped[str | None] = mapped_column(String(40), nullable=True)
    unserved_detail: Mapped[str | None] = mapped_column(String(255), nullable=True)
    unserved_remedy: Mapped[str | None] = mapped_column(String(40), nullable=True)
    """What would serve it (``routing.Remedy``), shown to the dispatcher in their language."""
    unserved_remedy_at: Mapped[datetime | None] = mapped_column(DateTimeUTC, nullable=True)
    """The time the remedy names (a wave, a window end, a shift end), where it names one."""
    status: Mapped[StopStatus] = mapped_column(enum_column(StopStatus), default=StopStatus.PLANNED)
    failure_reason: Mapped[FailureReason | None] = mapped_column(
        enum_column(FailureReason), nullable=True
    )
    failure_note: Mapped[str | None] = mapped_column(String(255), nullable=True)
    arrived_at: Mapped[datetime | None] = mapped_column(DateTimeUTC, nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(DateTimeUTC, nullable=True)


class PlanningStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


OPEN_JOB_STATUSES = "status IN ('queued', 'running')"
"""SQL for a planning job still queued or running (the unique index's condition)."""


class PlanningJob(Base):
    """A request to plan (or re-plan) a date and slot, solved in the background.

    The page queues it on the job queue and shows its progress while a worker solves it; the
    plan it makes is stored as usual and the job points at it. A job whose worker stopped
    (its heartbeat older than the lease) is failed with a sentence (``planning.stale_reason``).
    """

    __tablename__ = "planning_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_date: Mapped[date] = mapped_column(Date)
    slot: Mapped[Slot] = mapped_column(enum_column(Slot))
    excluded_vans: Mapped[list[str]] = mapped_column(JSON, default=list)
    requested_by_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True
    )
    requested_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    started_at: Mapped[datetime | None] = mapped_column(DateTimeUTC, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTimeUTC, nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTimeUTC, nullable=True)
    """Real time of the last sign of life: queued, claimed, then every third of the lease
    while the worker solves (see ``planning.stale_reason``)."""
    time_limit_s: Mapped[float]
    status: Mapped[PlanningStatus] = mapped_column(
        enum_column(PlanningStatus), default=PlanningStatus.QUEUED
    )
    plan_id: Mapped[int | None] = mapped_column(
        ForeignKey("route_plans.id", ondelete="SET NULL"), nullable=True
    )
    error_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    error: Mapped[str | None] = mapped_column(String(500), nullable=True)

    __table_args__ = (
        Index("ix_planning_jobs_day", "service_date", "slot"),
        # One plan of a meal in the making at a time, even when two requests race past
        # the service's check (PostgreSQL reads without locking).
        Index(
            "uq_planning_jobs_open_day",
            "service_date",
            "slot",
            unique=True,
            sqlite_where=text(OPEN_JOB_STATUSES),
            postgresql_where=text(OPEN_JOB_STATUSES),
        ),
    )


class DeliveryActionRecord(Base):
    """Every action a driver sent, keyed by the page's idempotency key (sent once, kept once)."""

    __tablename__ = "delivery_actions"
    __table_args__ = (UniqueConstraint("account_id", "idempotency_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stop_id: Mapped[int] = mapped_column(
        ForeignKey("route_stops.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    idempotency_key: Mapped[str] = mapped_column(String(64))
    action: Mapped[DriverAction] = mapped_column(enum_column(DriverAction))
    failure_reason: Mapped[FailureReason | None] = mapped_column(
        enum_column(FailureReason), nullable=True
    )
    note: Mapped[str | None] = mapped_column(String(255), nullable=True)
    acted_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    received_at: Mapped[datetime] = mapped_column(DateTimeUTC)


class WelfareAlert(Base):
    """A failed delivery to a senior at risk; open until someone records what happened."""

    __tablename__ = "welfare_alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stop_id: Mapped[int] = mapped_column(ForeignKey("route_stops.id", ondelete="CASCADE"))
    senior_id: Mapped[int] = mapped_column(ForeignKey("seniors.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    failure_reason: Mapped[FailureReason] = mapped_column(enum_column(FailureReason))
    raised_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    status: Mapped[AlertStatus] = mapped_column(enum_column(AlertStatus), default=AlertStatus.OPEN)
    escalated_at: Mapped[datetime | None] = mapped_column(DateTimeUTC, nullable=True)
    resolution: Mapped[str | None] = mapped_column(String(500), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTimeUTC, nullable=True)
    resolved_by_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True
    )


class WebhookAttempt(Base):
    """One try at telling the webhook receiver about an alert, whatever came of it."""

    __tablename__ = "welfare_webhook_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(
        ForeignKey("welfare_alerts.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[str] = mapped_column(String(20))
    attempt: Mapped[int] = mapped_column(Integer)
    attempted_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    url: Mapped[str] = mapped_column(String(500))
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(String(255), nullable=True)
    succeeded: Mapped[bool]
