"""The classifier's order and classes, for email and SMS, with its phrases in data."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from api.inbound import phrases
from api.inbound.classify import Classification, classify
from tests.inbound.conftest import Raw

RECEIVED = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)  # Tuesday 1 December 2026


def sms(text: str, tz: str = "America/New_York") -> Classification:
    return classify(text, received_at=RECEIVED, tz=tz, channel="sms")


def test_the_issues_sms_is_a_rejection_that_keeps_its_decision_date() -> None:
    result = sms("unfortunately we went with another candidate... we will decide by December 15")
    assert (result.kind, result.decision_date) == ("rejected", date(2026, 12, 15))


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Hi Ana, we are pleased to offer you the role!", "offer"),
        ("We'd like to invite you to a second round next Tuesday.", "next_round"),
        ("Thanks Ana, we will let you know by Friday the 11th.", "decision_date"),
        ("Thanks, got your note!", "replied"),
        ("Sorry, the position has been filled.", "rejected"),
    ],
)
def test_an_sms_is_classified_by_its_text(text: str, kind: str) -> None:
    assert sms(text).kind == kind


def test_an_sms_decision_date_is_read_in_the_contacts_zone() -> None:
    late = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)  # still 30 November in Los Angeles
    result = classify("We'll get back to you tomorrow.", received_at=late, tz="America/Los_Angeles")
    assert result.decision_date == date(2026, 12, 1)


def test_an_sms_auto_reply_is_never_a_reply() -> None:
    assert sms("Auto-reply: I'm driving and will text you back.").kind == "auto_reply"


def test_the_sms_text_is_kept() -> None:
    assert sms("  Thanks, got it!  ").text == "Thanks, got it!"


def test_a_rejection_wins_over_an_offer_word() -> None:
    result = sms("Unfortunately we are unable to offer you the role; the position has been filled.")
    assert result.kind == "rejected"


def test_a_rejection_wins_over_a_next_round_word() -> None:
    assert sms("We will not be moving forward to the next round with you.").kind == "rejected"


def test_a_single_unfortunately_is_not_a_rejection() -> None:
    assert sms("Unfortunately I'm stuck in traffic, can we start at 3:15?").kind == "replied"


def test_a_decision_cue_without_a_date_is_a_plain_reply() -> None:
    assert sms("We'll let you know soon.").kind == "replied"


def test_matching_ignores_case_and_curly_apostrophes() -> None:
    assert sms("WE WON\u2019T BE MOVING FORWARD.").kind == "rejected"


def test_a_quoted_rejection_in_an_email_does_not_count(message: Raw) -> None:
    body = (
        "Great to hear, talk soon!\n\n"
        "On Tue, Dec 1, 2026 at 9:00 AM Ana Diaz <ana.diaz@example.org> wrote:\n"
        "> Unfortunately I heard you went with another candidate.\n"
    )
    assert classify(message(body), received_at=RECEIVED, tz="UTC").kind == "replied"


def test_a_bounce_comes_before_anything_the_text_says(message: Raw) -> None:
    msg = message(
        "Your message wasn't delivered. 550 5.1.1 We are pleased to offer you nothing.",
        From="Mail Delivery Subsystem <mailer-daemon@example.com>",
        Subject="Delivery Status Notification (Failure)",
    )
    assert classify(msg, received_at=RECEIVED, tz="UTC").kind == "bounce"


def test_an_automatic_reply_comes_before_anything_the_text_says(message: Raw) -> None:
    msg = message("We are pleased to offer you our newsletter.", Auto_Submitted="auto-generated")
    assert classify(msg, received_at=RECEIVED, tz="UTC").kind == "auto_reply"


def test_an_out_of_office_date_is_relative_to_the_messages_date(message: Raw) -> None:
    msg = message(
        "I'm back on the 4th.",
        Date="Sun, 20 Dec 2026 10:00:00 +0000",
        Auto_Submitted="auto-replied",
    )
    result = classify(msg, received_at=RECEIVED, tz="UTC")
    assert (result.kind, result.until) == ("out_of_office", date(2027, 1, 3))


def test_without_a_date_header_the_time_received_is_the_reference(message: Raw) -> None:
    msg = message("We will decide by the 5th.", Date=None)
    assert classify(msg, received_at=RECEIVED, tz="UTC").decision_date == date(2026, 12, 5)


def test_a_classification_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        sms("Thanks!").kind = "offer"  # type: ignore[misc]


def test_a_second_language_is_a_data_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = phrases.PHRASES_DIR / "en.toml"
    text = source.read_text(encoding="utf-8").replace(
        '"position has been filled",', '"position has been filled",\n    "le poste est pourvu",'
    )
    (tmp_path / "fr.toml").write_text(text, encoding="utf-8")
    shutil.copy(source, tmp_path / "en.toml")
    monkeypatch.setattr(phrases, "PHRASES_DIR", tmp_path)
    result = classify("Désolé, le poste est pourvu.", received_at=RECEIVED, tz="UTC", language="fr")
    assert result.kind == "rejected"


@pytest.mark.parametrize(
    "text",
    [
        "We haven't gone with another candidate, don't worry.",
        "Nobody has been offered the role to another candidate yet.",
        "We're not ready to make an offer to anyone.",
        "Before we make you an offer we need two references.",
    ],
)
def test_a_negated_phrase_does_not_count(text: str) -> None:
    assert sms(text).kind == "replied"


def test_a_negation_in_an_earlier_clause_does_not_cancel_a_phrase() -> None:
    assert sms("No, unfortunately the position has been filled.").kind == "rejected"


def test_a_negation_far_before_a_phrase_does_not_cancel_it() -> None:
    text = "I did not expect to write to you this soon but we went with another candidate."
    assert sms(text).kind == "rejected"


@pytest.mark.parametrize(
    "text",
    [
        "We offer hybrid working, three days in the office.",
        "Happy to offer some tips on the take-home format if useful.",
        "I'd be glad to offer you some feedback on the portfolio.",
    ],
)
def test_offer_in_another_sense_is_no_offer(text: str) -> None:
    assert sms(text).kind != "offer"


def test_an_offer_of_an_interview_is_a_next_round_not_an_offer() -> None:
    assert sms("We'd like to offer you a final interview with our CEO.").kind == "next_round"


def test_a_question_promises_no_decision_date() -> None:
    result = sms("Could we get your decision on the start date by Friday?")
    assert (result.kind, result.decision_date) == ("replied", None)


def test_a_request_by_a_date_promises_no_decision() -> None:
    result = sms("Let me know by Friday whether the feedback call works.")
    assert result.decision_date is None


def test_a_cue_after_the_date_in_the_same_sentence_counts() -> None:
    result = sms("By Thursday the 3rd you will have our answer.")
    assert (result.kind, result.decision_date) == ("decision_date", date(2026, 12, 3))


def test_a_cue_in_the_next_sentence_does_not_count() -> None:
    assert sms("See you Thursday. The answer is yes, parking is free.").decision_date is None


def test_a_duration_is_a_decision_date() -> None:
    result = sms("We will make our decision within two weeks.")
    assert (result.kind, result.decision_date) == ("decision_date", date(2026, 12, 15))
