"""The service's notion of "now": real by default, settable in tests and demos."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class Clock:
    """Returns timezone-aware UTC times; `offset` shifts the real time (demo and tests)."""

    def __init__(self, fixed: datetime | None = None) -> None:
        self._fixed = fixed
        self.offset = timedelta()

    def now(self) -> datetime:
        base = self._fixed if self._fixed is not None else datetime.now(UTC)
        return base + self.offset

    def set(self, moment: datetime) -> None:
        """Freeze the clock at `moment` (must be timezone-aware)."""
        if moment.tzinfo is None:
            raise ValueError("the clock needs a timezone-aware time")
        self._fixed = moment
        self.offset = timedelta()


def within(moment: datetime, now: datetime, window: timedelta) -> bool:
    """Whether `moment` lies within `window` of `now`; a moment so far off that comparing it
    overflows (year 1 at +14:00) is not."""
    try:
        return abs(moment - now) <= window
    except OverflowError:
        return False
