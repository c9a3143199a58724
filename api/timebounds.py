"""The range of dates and times Touchbase works in: 2000-01-01 to 2100-01-01 (UTC).

Input outside it is refused with a 422 naming the field (the shared fields in
:mod:`api.schemas.fields`). Values stored outside it anyway (written before the range was
checked, or straight into the database) must not make a later request or the worker
fail, so the policy engine takes every time and date in through :func:`bounded` and
:func:`clamp_day`:

- a date (a decision date, an out-of-office end) is read as the nearest day of the
  range: only whole days (grace days, the day after) are ever added to one;
- a time is read as the nearest of wider bounds, 1900 to 2200: wide enough that nothing
  computed from an accepted time (a plan, a rule's next opening, a year of business-day
  search) is ever moved, narrow enough that nothing computed from a clamped one leaves
  Python's datetime range (years 1 to 9999). So no time the server computes itself
  (``next_allowed_at``) overflows either.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from api.timewindow import to_utc

#: The first instant accepted as input.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
#: The first instant past the input range (not accepted).
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
FIRST_DAY = EARLIEST.date()
LAST_DAY = date(2099, 12, 31)
RANGE_TEXT = f"{EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d} (UTC)"

#: What the engine reads a stored time outside the range as (see the module docstring).
ENGINE_EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
ENGINE_LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def in_range(value: datetime) -> bool:
    """An aware datetime within the input range [EARLIEST, LATEST)."""
    return EARLIEST <= value < LATEST


def clamp_instant(value: datetime) -> datetime:
    """An aware datetime moved into [ENGINE_EARLIEST, ENGINE_LATEST] if outside."""
    return min(max(value, ENGINE_EARLIEST), ENGINE_LATEST)


def bounded(value: datetime, name: str = "datetime") -> datetime:
    """:func:`api.timewindow.to_utc`, then clamped: how the engine takes a time in."""
    return clamp_instant(to_utc(value, name))


def clamp_day(value: date | None) -> date | None:
    """A date moved into [FIRST_DAY, LAST_DAY] if outside; None stays None."""
    if value is None:
        return None
    return min(max(value, FIRST_DAY), LAST_DAY)
