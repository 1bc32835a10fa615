"""Domain errors: each carries the HTTP status, a stable code and a sentence a person can act on."""

from __future__ import annotations

from datetime import date
from typing import Any


class DomainError(Exception):
    """A refusal the user should read; `message` is an English template (the gettext msgid)."""

    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, **params: Any) -> None:
        self.message = message
        self.params = params
        if code is not None:
            self.code = code
        super().__init__(self.text)

    @property
    def text(self) -> str:
        return self.message.format(**self.params) if self.params else self.message


class Invalid(DomainError):
    status_code = 422
    code = "invalid"


class NotAuthenticated(DomainError):
    status_code = 401
    code = "not_authenticated"


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class TooManyAttempts(DomainError):
    status_code = 429
    code = "too_many_attempts"


def check_planning_day(first_last: tuple[date, date], day: date) -> None:
    """Refuse a plan for a day outside the planning window (``Settings.planning_days``)."""
    first, last = first_last
    if not first <= day <= last:
        raise Invalid(
            "Plans can only be made for days from {first} to {last}.",
            code="day_out_of_range",
            first=str(first),
            last=str(last),
        )
