"""Local-time windows, business days and public holidays (R11, R15).

Everything that enters or leaves this module is a timezone-aware UTC datetime; local wall
clocks exist only inside, computed with zoneinfo in the contact's IANA zone. Wall-clock
arithmetic is never done on aware datetimes, because adding hours across a DST change would
silently shift the result by the DST offset.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

__all__ = [
    "MAX_SEARCH_DAYS",
    "Window",
    "format_hhmm",
    "in_window",
    "is_business_day",
    "is_known_country",
    "is_valid_zone",
    "local_date",
    "local_day_bounds",
    "local_midnight",
    "next_opening",
    "parse_hhmm",
    "to_utc",
    "zone",
]

#: A year plus slack: any non-empty set of weekdays has a non-holiday day in this span.
MAX_SEARCH_DAYS = 370

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def parse_hhmm(value: str) -> time:
    """Parse a strict "HH:MM" string; strictness keeps stored settings unambiguous."""
    match = _HHMM.match(value) if isinstance(value, str) else None
    if not match:
        raise ValueError(f"expected a time as 'HH:MM' (00:00-23:59), got {value!r}")
    return time(int(match.group(1)), int(match.group(2)))


def format_hhmm(value: time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"


@dataclass(frozen=True, slots=True)
class Window:
    """A daily local-time window, half-open: ``start <= t < end``.

    Half-open so that "08:00-18:00" means nothing goes out at 18:00 itself, and two
    adjacent windows never both contain the same instant. Windows crossing midnight are
    not supported (night delivery is what R15 forbids).
    """

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("window times are local wall-clock times and must be naive")
        if not self.start < self.end:
            raise ValueError(
                f"window start {format_hhmm(self.start)} must be before end {format_hhmm(self.end)}"
            )

    @classmethod
    def parse(cls, start: str, end: str) -> Window:
        return cls(parse_hhmm(start), parse_hhmm(end))

    def contains(self, local_time: time) -> bool:
        return self.start <= local_time.replace(tzinfo=None) < self.end

    def __str__(self) -> str:
        return f"{format_hhmm(self.start)}-{format_hhmm(self.end)}"


# --- zones and conversions -------------------------------------------------------------


def zone(tz: str | tzinfo) -> tzinfo:
    """Resolve an IANA name; ZoneInfo caches instances, so this is cheap to call often."""
    return tz if isinstance(tz, tzinfo) else ZoneInfo(tz)


def is_valid_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return False
    return True


def to_utc(value: datetime, name: str = "datetime") -> datetime:
    """Normalise to UTC, refusing naive datetimes: a naive time has no meaning across zones."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    return value.astimezone(UTC)


def local_label(at_utc: datetime | None, tz: str | tzinfo) -> str | None:
    """An instant as a person in ``tz`` reads it ("Tue 2030-06-04 12:00 EDT"); None stays None.
    The one format of every local time the API answers and every reason it writes."""
    if at_utc is None:
        return None
    local = at_utc.astimezone(zone(tz))
    return f"{local:%a %Y-%m-%d %H:%M} {local.tzname()}"


def local_date(at_utc: datetime, tz: str | tzinfo) -> date:
    return to_utc(at_utc).astimezone(zone(tz)).date()


def _local_naive(at_utc: datetime, z: tzinfo) -> datetime:
    return at_utc.astimezone(z).replace(tzinfo=None)


def _first_instant_at_or_after(day: date, wall: time, z: tzinfo) -> datetime:
    """Earliest UTC instant whose local wall clock reads ``day wall`` or later.

    For an ambiguous wall time (autumn fall-back) that is the first occurrence; for a
    nonexistent one (spring-forward gap) it is the end of the gap, the first real instant
    past the requested wall time.
    """
    naive = datetime.combine(day, wall)
    candidates = []
    for fold in (0, 1):
        instant = naive.replace(tzinfo=z, fold=fold).astimezone(UTC)
        if _local_naive(instant, z) == naive:
            return instant  # fold 0 is tried first, so this is the earliest occurrence
        candidates.append(instant)
    # In a gap: one fold lands before the jump, the other after it. Bisect on whole seconds
    # (zone transitions are whole seconds) for the first instant at or past the wall time.
    lo, hi = int(min(candidates).timestamp()), int(max(candidates).timestamp())
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _local_naive(datetime.fromtimestamp(mid, UTC), z) >= naive:
            hi = mid
        else:
            lo = mid
    return datetime.fromtimestamp(hi, UTC)


def local_midnight(day: date, tz: str | tzinfo) -> datetime:
    """Start of a local calendar day in UTC (some zones skip midnight on DST days)."""
    return _first_instant_at_or_after(day, time(0), zone(tz))


def local_day_bounds(at_utc: datetime, tz: str | tzinfo) -> tuple[datetime, datetime]:
    """[start, end) in UTC of the local day containing ``at_utc``; 23 or 25 h on DST days."""
    day = local_date(at_utc, tz)
    return local_midnight(day, tz), local_midnight(day + timedelta(days=1), tz)


def _transitions_during(day: date, z: tzinfo) -> list[datetime]:
    """UTC instants during the local day where the zone's offset changes (usually none)."""
    start = local_midnight(day, z)
    end = local_midnight(day + timedelta(days=1), z)
    if start.astimezone(z).utcoffset() == end.astimezone(z).utcoffset():
        return []
    lo, hi = int(start.timestamp()), int(end.timestamp())
    hi_offset = end.astimezone(z).utcoffset()
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, UTC).astimezone(z).utcoffset() == hi_offset:
            hi = mid
        else:
            lo = mid
    return [datetime.fromtimestamp(hi, UTC)]


# --- business days ----------------------------------------------------------------------


@lru_cache(maxsize=1)
def _supported_countries() -> frozenset[str]:
    return frozenset(holidays.list_supported_countries())


def is_known_country(code: str | None) -> bool:
    """True for ISO 3166-1 alpha-2 codes the holidays package knows (case-insensitive)."""
    return isinstance(code, str) and code.upper() in _supported_countries()


@lru_cache(maxsize=1024)
def _holiday_dates(country: str, year: int) -> frozenset[date]:
    """Public holidays (including observed days) of one country-year, computed once."""
    try:
        return frozenset(holidays.country_holidays(country, years=year).keys())
    except NotImplementedError:
        # Unknown code: the API rejects it on input; stored legacy data must not crash sends.
        return frozenset()


def _normalise_days(business_days: Iterable[int]) -> frozenset[int]:
    days = frozenset(business_days)
    if not days:
        raise ValueError("business_days is empty: no day could ever be a business day")
    if any(isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= 6 for d in days):
        raise ValueError(f"business_days must be weekday numbers 0 (Mon) to 6 (Sun): {days}")
    return days


def is_business_day(
    day: date,
    business_days: Iterable[int],
    country: str | None,
    observe_holidays: bool,
) -> bool:
    """A working weekday (0=Mon) that is not a public holiday in the contact's country."""
    if day.weekday() not in frozenset(business_days):
        return False
    if observe_holidays and country:
        return day not in _holiday_dates(country.upper(), day.year)
    return True


# --- windows -----------------------------------------------------------------------------


def in_window(
    at_utc: datetime,
    tz: str | tzinfo,
    window: Window,
    business_days: Iterable[int],
    country: str | None,
    observe_holidays: bool,
) -> bool:
    """Whether the instant falls inside the window on a business day, in the contact's zone."""
    local = to_utc(at_utc, "at_utc").astimezone(zone(tz))
    return window.contains(local.time()) and is_business_day(
        local.date(), business_days, country, observe_holidays
    )


def _openings(day: date, z: tzinfo, window: Window) -> list[datetime]:
    """Instants on a local day where the window can be entered, in UTC, unsorted.

    Normally just the window start; around DST changes also the second occurrence of an
    ambiguous start and the transition itself (a spring-forward gap swallowing the start,
    or a fall-back jumping the clock back into the window).
    """
    naive = datetime.combine(day, window.start)
    found = [_first_instant_at_or_after(day, window.start, z)]
    second = naive.replace(tzinfo=z, fold=1).astimezone(UTC)
    if _local_naive(second, z) == naive:
        found.append(second)
    found.extend(_transitions_during(day, z))
    return found


def next_opening(
    at_utc: datetime,
    tz: str | tzinfo,
    window: Window,
    business_days: Iterable[int],
    country: str | None,
    observe_holidays: bool,
) -> datetime:
    """``at_utc`` if inside the window, else the next instant the window opens (UTC).

    Candidates are re-checked with :func:`in_window`, so a start that falls in a DST gap
    moves to the end of the gap, and a window swallowed entirely by a gap is skipped;
    the result is never outside the window. The search is bounded to
    :data:`MAX_SEARCH_DAYS` local days and raises ValueError beyond it.
    """
    at_utc = to_utc(at_utc, "at_utc")
    days = _normalise_days(business_days)
    z = zone(tz)
    if in_window(at_utc, z, window, days, country, observe_holidays):
        return at_utc
    first_day = _local_naive(at_utc, z).date()
    for offset in range(MAX_SEARCH_DAYS):
        day = first_day + timedelta(days=offset)
        if not is_business_day(day, days, country, observe_holidays):
            continue
        for candidate in sorted(_openings(day, z, window)):
            if candidate >= at_utc and in_window(
                candidate, z, window, days, country, observe_holidays
            ):
                return candidate
    raise ValueError(
        f"no business day with an open {window} window within {MAX_SEARCH_DAYS} days "
        f"of {at_utc.isoformat()} in {tz}"
    )
