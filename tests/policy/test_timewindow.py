"""Local send/call windows, business days and DST (R11, R15)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.timewindow import (
    Window,
    in_window,
    is_business_day,
    is_known_country,
    local_day_bounds,
    next_opening,
    parse_hhmm,
)

OFFICE = Window(time(8), time(18))
WEEKDAYS = frozenset(range(5))
EVERY_DAY = frozenset(range(7))


def opening(at, tz, window=OFFICE, days=WEEKDAYS, country=None, holidays=False):
    return next_opening(at, tz, window, days, country, holidays)


# --- Window ------------------------------------------------------------------------------


def test_window_parses_strict_hh_mm():
    assert Window.parse("08:00", "18:30") == Window(time(8), time(18, 30))


@pytest.mark.parametrize("text", ["8:00", "24:00", "08:60", "0800", "", "08:00:00"])
def test_window_rejects_malformed_times(text):
    with pytest.raises(ValueError):
        parse_hhmm(text)


def test_window_start_must_precede_end():
    with pytest.raises(ValueError, match="before end"):
        Window(time(18), time(8))


def test_window_is_half_open_so_the_end_minute_is_outside():
    assert OFFICE.contains(time(8))
    assert OFFICE.contains(time(17, 59, 59))
    assert not OFFICE.contains(time(18))


# --- business days -----------------------------------------------------------------------


def test_weekend_is_not_a_business_day():
    assert not is_business_day(date(2026, 6, 13), WEEKDAYS, None, True)  # Saturday


def test_public_holiday_is_not_a_business_day_when_observed():
    juneteenth = date(2026, 6, 19)  # a Friday
    assert not is_business_day(juneteenth, WEEKDAYS, "US", True)
    assert is_business_day(juneteenth, WEEKDAYS, "US", False)
    assert is_business_day(juneteenth, WEEKDAYS, "GB", True)


def test_country_code_is_case_insensitive():
    assert not is_business_day(date(2026, 12, 25), WEEKDAYS, "gb", True)


def test_unknown_country_means_no_holidays_rather_than_a_crash():
    assert is_business_day(date(2026, 12, 25), WEEKDAYS, "XX", True)
    assert not is_known_country("XX")
    assert is_known_country("US") and is_known_country("in")
    assert not is_known_country(None)


def test_business_days_setting_can_include_weekends():
    assert is_business_day(date(2026, 6, 13), EVERY_DAY, None, True)


# --- in_window / next_opening ------------------------------------------------------------


def test_in_window_uses_the_contacts_local_clock():
    at = datetime(2026, 6, 10, 13, 0, tzinfo=UTC)  # Wednesday
    assert in_window(at, "Europe/London", OFFICE, WEEKDAYS, None, False)  # 14:00 BST
    assert not in_window(at, "Asia/Kolkata", OFFICE, WEEKDAYS, None, False)  # 18:30 IST


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        opening(datetime(2026, 6, 10, 12), "UTC")


def test_an_instant_inside_the_window_is_its_own_opening():
    at = datetime(2026, 6, 10, 12, 34, 56, tzinfo=UTC)
    assert opening(at, "UTC") == at


def test_after_hours_moves_to_next_morning():
    at = datetime(2026, 6, 10, 19, tzinfo=UTC)
    assert opening(at, "UTC") == datetime(2026, 6, 11, 8, tzinfo=UTC)


def test_friday_evening_moves_to_monday_morning():
    at = datetime(2026, 6, 12, 18, tzinfo=UTC)
    assert opening(at, "UTC") == datetime(2026, 6, 15, 8, tzinfo=UTC)


def test_observed_holiday_is_skipped():
    # Thursday 18 June 2026 evening in New York; Friday is Juneteenth.
    at = datetime(2026, 6, 18, 23, tzinfo=UTC)
    got = opening(at, "America/New_York", country="US", holidays=True)
    assert got == datetime(2026, 6, 22, 12, tzinfo=UTC)  # Monday 08:00 EDT


def test_kolkata_half_hour_offset():
    at = datetime(2026, 6, 10, 13, tzinfo=UTC)  # 18:30 IST, just closed
    assert opening(at, "Asia/Kolkata") == datetime(2026, 6, 11, 2, 30, tzinfo=UTC)


def test_new_york_spring_forward_weekend_opens_monday_in_daylight_time():
    at = datetime(2026, 3, 7, 1, tzinfo=UTC)  # Friday 20:00 EST
    assert opening(at, "America/New_York") == datetime(2026, 3, 9, 12, tzinfo=UTC)  # 08:00 EDT


def test_new_york_fall_back_weekend_opens_monday_in_standard_time():
    at = datetime(2026, 10, 31, 12, tzinfo=UTC)  # Saturday
    assert opening(at, "America/New_York") == datetime(2026, 11, 2, 13, tzinfo=UTC)  # 08:00 EST


def test_window_start_inside_the_spring_gap_opens_when_the_gap_ends():
    # 02:30 does not exist on 8 March 2026 in New York: clocks jump 02:00 -> 03:00.
    window = Window(time(2, 30), time(5))
    at = datetime(2026, 3, 8, 5, tzinfo=UTC)  # 00:00 EST
    got = opening(at, "America/New_York", window, EVERY_DAY)
    assert got == datetime(2026, 3, 8, 7, tzinfo=UTC)  # 03:00 EDT, inside the window


def test_window_swallowed_by_the_spring_gap_moves_to_the_next_day():
    window = Window(time(2, 10), time(2, 50))
    at = datetime(2026, 3, 8, 5, tzinfo=UTC)
    got = opening(at, "America/New_York", window, EVERY_DAY)
    assert got == datetime(2026, 3, 9, 6, 10, tzinfo=UTC)  # 02:10 EDT next day


def test_ambiguous_window_start_uses_its_first_occurrence():
    # 01:15 happens twice on 1 November 2026 in New York (EDT, then EST).
    window = Window(time(1, 15), time(1, 30))
    at = datetime(2026, 11, 1, 4, tzinfo=UTC)  # 00:00 EDT
    assert opening(at, "America/New_York", window, EVERY_DAY) == datetime(
        2026, 11, 1, 5, 15, tzinfo=UTC
    )


def test_fall_back_reopens_the_window_on_the_repeated_hour():
    window = Window(time(1, 15), time(1, 30))
    at = datetime(2026, 11, 1, 5, 31, tzinfo=UTC)  # 01:31 EDT, window just closed
    assert opening(at, "America/New_York", window, EVERY_DAY) == datetime(
        2026, 11, 1, 6, 15, tzinfo=UTC
    )  # 01:15 EST


def test_sydney_autumn_dst_end_and_easter_holidays():
    # DST ends Sun 5 April 2026; Good Friday (3rd) and Easter Monday (6th) are holidays.
    at = datetime(2026, 4, 2, 8, tzinfo=UTC)  # Thursday 19:00 AEDT
    got = opening(at, "Australia/Sydney", country="AU", holidays=True)
    assert got == datetime(2026, 4, 6, 22, tzinfo=UTC)  # Tuesday 08:00 AEST (+10)
    without_holidays = opening(at, "Australia/Sydney")
    assert without_holidays == datetime(2026, 4, 2, 21, tzinfo=UTC)  # Friday 08:00 AEDT


def test_sydney_spring_dst_start():
    # DST starts Sun 4 October 2026: Monday opens at 08:00 AEDT (+11).
    at = datetime(2026, 10, 2, 9, tzinfo=UTC)  # Friday 19:00 AEST
    assert opening(at, "Australia/Sydney") == datetime(2026, 10, 4, 21, tzinfo=UTC)


def test_no_business_day_at_all_is_an_error_not_a_hang():
    with pytest.raises(ValueError):
        opening(datetime(2026, 6, 10, tzinfo=UTC), "UTC", days=frozenset())


def test_local_day_is_23_hours_on_spring_forward_day():
    start, end = local_day_bounds(datetime(2026, 3, 8, 17, tzinfo=UTC), "America/New_York")
    assert (start, end - start) == (datetime(2026, 3, 8, 5, tzinfo=UTC), timedelta(hours=23))


ZONES = [
    "UTC",
    "America/New_York",
    "Europe/London",
    "Asia/Kolkata",
    "Australia/Sydney",
    "America/Santiago",
    "Pacific/Chatham",
]


@settings(max_examples=200, deadline=None)
@given(
    at=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
    ),
    tz=st.sampled_from(ZONES),
    start=st.integers(0, 22 * 4),
    length=st.integers(1, 16 * 4),
    days=st.frozensets(st.integers(0, 6), min_size=1),
    country=st.sampled_from([None, "US", "GB", "AU", "IN"]),
)
def test_next_opening_is_never_earlier_nor_outside_the_window(at, tz, start, length, days, country):
    begin = time(start // 4, (start % 4) * 15)
    end_minutes = min(start * 15 + length * 15, 23 * 60 + 59)
    window = Window(begin, time(end_minutes // 60, end_minutes % 60))
    got = next_opening(at, tz, window, days, country, True)
    assert got >= at
    assert in_window(got, tz, window, days, country, True)
    # Nothing earlier within the last hour before it was inside the window either.
    probe = max(at, got - timedelta(minutes=59))
    while probe < got:
        assert not in_window(probe, tz, window, days, country, True)
        probe += timedelta(minutes=7)
