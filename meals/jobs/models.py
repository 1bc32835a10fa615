"""One row per run of a scheduled job: the claim that makes a tick run once across workers."""

from __future__ import annotations

from datetime import datetime

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from meals.db import Base


class JobRun(Base):
    """A job's run for one tick (`run_key`); the unique pair is the lock, on any database."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("task", "run_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task: Mapped[str] = mapped_column(String(60))
    run_key: Mapped[str] = mapped_column(String(80))
    started_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    finished_at: Mapped[datetime | None] = mapped_column(DateTimeUTC, nullable=True)
    summary: Mapped[str] = mapped_column(String(300), default="")
