"""Reading written dates relative to the day a message was sent, in the contact's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from api.inbound.dates import find_dates, reference_day
from api.inbound.phrases import load

TUESDAY_1_DEC = date(2026, 12, 1)


def day(text: str, today: date = TUESDAY_1_DEC) -> date | None:
    found = find_dates(text, today, load().dates)
    return found[0].day if found else None


def test_the_reference_day_is_the_date_in_the_contacts_zone() -> None:
    sent = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)  # 22:00 the day before in Los Angeles
    assert reference_day(sent, sent, "America/Los_Angeles") == date(2026, 11, 30)
    assert reference_day(sent, sent, "Europe/Berlin") == date(2026, 12, 1)


def test_the_reference_day_falls_back_on_the_time_received() -> None:
    received = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    assert reference_day(None, received, "Europe/London") == date(2026, 12, 2)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Monday 14 December", date(2026, 12, 14)),
        ("December 18", date(2026, 12, 18)),
        ("Dec. 3rd, 2026", date(2026, 12, 3)),
        ("the 14th of December", date(2026, 12, 14)),
        ("2026-12-18", date(2026, 12, 18)),
        ("12/14", date(2026, 12, 14)),
        ("12/14/2026", date(2026, 12, 14)),
        ("the 14th", date(2026, 12, 14)),
        ("Friday the 11th", date(2026, 12, 11)),
        ("Friday", date(2026, 12, 4)),
        ("next Monday", date(2026, 12, 7)),
        ("tomorrow", date(2026, 12, 2)),
        ("next week", date(2026, 12, 11)),
        ("end of the week", date(2026, 12, 4)),
        ("end of the month", date(2026, 12, 31)),
    ],
)
def test_a_written_date_means(text: str, expected: date) -> None:
    assert day(f"we will know by {text}.") == expected


def test_a_day_that_passed_this_month_means_next_month() -> None:
    assert day("by the 5th", date(2026, 12, 20)) == date(2027, 1, 5)


def test_a_day_this_month_lacks_moves_to_the_next_month_that_has_it() -> None:
    assert day("until the 31st", date(2026, 11, 5)) == date(2026, 12, 31)


def test_a_day_and_month_that_passed_this_year_mean_next_year() -> None:
    assert day("on 3 January", date(2026, 12, 20)) == date(2027, 1, 3)


def test_a_weekday_and_day_pick_the_month_where_they_agree() -> None:
    # Friday the 8th: not December 2026 (a Tuesday), but January 2027.
    assert day("by Friday the 8th") == date(2027, 1, 8)


def test_a_bare_weekday_is_never_today() -> None:
    assert day("on Tuesday") == date(2026, 12, 8)


def test_today_is_allowed_for_a_day_of_the_month() -> None:
    assert day("until the 1st") == TUESDAY_1_DEC


def test_a_date_with_a_year_already_past_is_ignored() -> None:
    assert day("since 2025-06-01") is None


def test_numbers_that_are_not_dates_are_ignored() -> None:
    assert day("3 of the 14 candidates scored 13/40, 1,200 applied") is None


def test_every_date_is_found_in_reading_order() -> None:
    found = find_dates("out until 13 December, back on 14 December", TUESDAY_1_DEC, load().dates)
    assert [f.day.day for f in found] == [13, 14]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("within two weeks", date(2026, 12, 15)),
        ("within a week", date(2026, 12, 8)),
        ("in a couple of weeks", date(2026, 12, 15)),
        ("in the next 10 days", date(2026, 12, 11)),
        ("within 48 hours", date(2026, 12, 3)),
        ("within 36 hours", date(2026, 12, 3)),
        ("in a month", date(2027, 1, 1)),
    ],
)
def test_a_duration_counts_from_the_messages_day(text: str, expected: date) -> None:
    assert day(f"we will decide {text}.") == expected


def test_a_range_of_durations_means_its_upper_bound() -> None:
    assert day("we will decide in the next 2-3 weeks.") == date(2026, 12, 22)


def test_business_days_skip_the_weekend() -> None:
    thursday = date(2026, 12, 3)
    assert day("within 3 business days", thursday) == date(2026, 12, 8)  # Fri, Mon, Tue
    assert day("in 1 working day", date(2026, 12, 4)) == date(2026, 12, 7)  # Fri -> Mon


def test_a_month_duration_keeps_to_the_months_last_day() -> None:
    assert day("within a month", date(2027, 1, 31)) == date(2027, 2, 28)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mid-January", date(2027, 1, 15)),
        ("mid January", date(2027, 1, 15)),
        ("early January", date(2027, 1, 10)),
        ("the beginning of January", date(2027, 1, 10)),
        ("late December", date(2026, 12, 31)),
        ("the end of February", date(2027, 2, 28)),
        ("early next month", date(2027, 1, 10)),
        ("the middle of next month", date(2027, 1, 15)),
        ("end of next month", date(2027, 1, 31)),
        ("next month", date(2027, 1, 31)),
        ("later this week", date(2026, 12, 4)),
    ],
)
def test_a_part_of_a_month_means_a_day_given_in_the_data(text: str, expected: date) -> None:
    assert day(f"we will decide by {text}.") == expected


def test_a_part_of_a_month_already_past_means_next_year() -> None:
    assert day("by mid-March", date(2026, 12, 1)) == date(2027, 3, 15)
    assert day("by early December", date(2026, 12, 20)) == date(2027, 12, 10)


def test_a_number_without_a_unit_is_no_duration() -> None:
    assert day("we interviewed within 2 of the teams") is None


def test_a_date_ending_a_sentence_leaves_the_full_stop_out() -> None:
    text = "See you Thursday. Then more."
    (found,) = find_dates(text, TUESDAY_1_DEC, load().dates)
    assert text[found.start : found.end] == "Thursday"
