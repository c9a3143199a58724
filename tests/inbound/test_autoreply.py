"""Automatic replies by header and subject, and an out-of-office's last day away."""

from __future__ import annotations

from datetime import date

import pytest

from api.inbound.autoreply import automatic_reason, detect, return_until
from tests.inbound.conftest import Raw

TUESDAY_1_DEC = date(2026, 12, 1)


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto_Submitted": "auto-replied"},
        {"Auto_Submitted": "auto-generated"},
        {"Auto_Submitted": "auto-notified; owner-email=bob.chen@example.com"},
        {"X_Autoreply": "yes"},
        {"X_Autorespond": "Out of office"},
        {"Precedence": "auto_reply"},
        {"Precedence": "bulk"},
        {"Precedence": "junk"},
        {"X_MS_Exchange_Generated_Message_Source": "Mailbox Rules Agent"},
        {"X_MS_Exchange_Inbox_Rules_Loop": "bob.chen@example.com"},
    ],
)
def test_a_header_marks_an_automatic_reply(message: Raw, headers: dict[str, str]) -> None:
    assert automatic_reason(message("hi", **headers)) == (automatic_reason_text(headers), True)


def automatic_reason_text(headers: dict[str, str]) -> str:
    name, value = next(iter(headers.items()))
    name = name.replace("_", "-")
    if name == "Auto-Submitted":
        return f"Auto-Submitted: {value.split(';')[0]}"
    if name == "Precedence":
        return f"Precedence: {value}"
    return f"{name} header"


@pytest.mark.parametrize(
    "subject",
    [
        "Automatic reply: Thank you",
        "Auto-Reply: Thank you",
        "Out of Office: Thank you",
        "Autoreply: Thank you",
    ],
)
def test_a_subject_prefix_marks_an_automatic_reply(message: Raw, subject: str) -> None:
    assert automatic_reason(message("hi", Subject=subject)) is not None


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto_Submitted": "no"},
        {"Precedence": "list"},
        {"X_Auto_Response_Suppress": "All"},  # Outlook puts it on ordinary mail
        {"Subject": "Re: Out of office plans for the team"},
    ],
)
def test_a_human_reply_is_not_automatic(message: Raw, headers: dict[str, str]) -> None:
    assert automatic_reason(message("hi", **headers)) is None


@pytest.mark.parametrize(
    ("text", "until"),
    [
        ("I will be back on Monday 14 December.", date(2026, 12, 13)),
        ("Back in the office on 2026-12-18.", date(2026, 12, 17)),
        ("I am on vacation, returning 12/14.", date(2026, 12, 13)),
        ("I'm on leave until the 14th.", date(2026, 12, 14)),
        ("I will be out of the office until December 18.", date(2026, 12, 18)),
        ("Away through Friday the 11th.", date(2026, 12, 11)),
    ],
)
def test_the_last_day_away(text: str, until: date) -> None:
    assert return_until(text, TUESDAY_1_DEC) == until


def test_back_today_means_until_today_not_yesterday() -> None:
    assert return_until("I am back on the 1st.", TUESDAY_1_DEC) == TUESDAY_1_DEC


def test_a_return_day_that_passed_this_month_is_next_month() -> None:
    assert return_until("Back on the 4th.", date(2026, 12, 20)) == date(2027, 1, 3)


def test_a_date_without_a_return_cue_is_not_a_return_date() -> None:
    assert (
        return_until("I am out of the office. Your message of 30 November.", date(2026, 11, 1))
        is None
    )


def test_an_out_of_office_without_a_date_has_no_until(message: Raw) -> None:
    msg = message("I am out of the office.", Auto_Submitted="auto-replied")
    found = detect(msg, "i am out of the office.", TUESDAY_1_DEC)
    assert found is not None
    assert (found.out_of_office, found.until) == (True, None)


def test_a_plain_autoresponder_is_not_an_out_of_office(message: Raw) -> None:
    msg = message("We received your email.", Precedence="auto_reply")
    found = detect(msg, "we received your email.", TUESDAY_1_DEC)
    assert found is not None
    assert not found.out_of_office


def test_a_human_message_is_not_detected(message: Raw) -> None:
    assert detect(message("I'm back on Monday"), "i'm back on monday", TUESDAY_1_DEC) is None


@pytest.mark.parametrize(
    ("text", "until"),
    [
        ("The office reopens on Monday 4 January.", date(2027, 1, 3)),
        ("I will be back at my desk on the 7th.", date(2026, 12, 6)),
        ("I reopen my inbox on 3 January.", date(2027, 1, 2)),
        ("I'll return to work on Friday.", date(2026, 12, 3)),
        ("We are closed until Monday, 7 December.", date(2026, 12, 7)),
    ],
)
def test_more_ways_of_saying_when_one_is_back(text: str, until: date) -> None:
    assert return_until(text, TUESDAY_1_DEC) == until


def test_a_date_away_from_a_return_cue_is_not_a_return_date() -> None:
    assert return_until("I'm away from Dec 9 with limited access.", TUESDAY_1_DEC) is None


@pytest.mark.parametrize(
    "text",
    [
        "I am off sick today.",
        "I'm on parental leave.",
        "Our office is closed for the holidays.",
        "I am travelling with limited connectivity.",
    ],
)
def test_more_ways_of_being_out_of_office(message: Raw, text: str) -> None:
    found = detect(message(text, Auto_Submitted="auto-replied"), text.lower(), TUESDAY_1_DEC)
    assert found is not None and found.out_of_office
