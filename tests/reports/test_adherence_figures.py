"""Each figure of the adherence report, counted from the ledger as the rules define it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from api.models import Contact, InboundMail
from tests.reports.conftest import END, INTERVIEW_ENDS, START, row_of

HOURS = timedelta(hours=1)


def test_interviews_that_ended_in_the_range_are_counted(report, cohort, world):
    cohort.interviewed(world.candidate)
    cohort.interviewed(world.candidate, ends_at=START - HOURS)
    assert row_of(report(), world.candidate)["interviews"] == 1


def test_each_interviewer_of_a_panel_is_a_seat(report, cohort, world):
    cohort.interviewed(world.candidate, panel=3)
    assert row_of(report(), world.candidate)["interviewers"] == 3


def test_an_interviewer_with_a_sent_thank_you_is_thanked(report, cohort, world):
    app, (dana, _lee) = cohort.interviewed(world.candidate, panel=2)
    cohort.sent(dana, app)
    assert row_of(report(), world.candidate)["interviewers_thanked"] == 1


def test_a_thank_you_not_yet_sent_does_not_thank(report, cohort, world, factory):
    app, (dana,) = cohort.interviewed(world.candidate)
    factory.touch(dana, app, step="thank_you", status="scheduled")
    assert row_of(report(), world.candidate)["interviewers_thanked"] == 0


def test_a_thank_you_within_24_hours_counts_for_24_and_48(report, cohort, world):
    app, (dana,) = cohort.interviewed(world.candidate)
    cohort.sent(dana, app, at=INTERVIEW_ENDS + 23 * HOURS)
    row = row_of(report(), world.candidate)
    assert (row["thanked_within_24h"], row["thanked_within_48h"]) == (1, 1)


def test_a_thank_you_after_30_hours_counts_for_48_only(report, cohort, world):
    app, (dana,) = cohort.interviewed(world.candidate)
    cohort.sent(dana, app, at=INTERVIEW_ENDS + 30 * HOURS)
    row = row_of(report(), world.candidate)
    assert (row["thanked_within_24h"], row["thanked_within_48h"]) == (0, 1)


def test_a_thank_you_after_three_days_is_thanked_but_late(report, cohort, world):
    app, (dana,) = cohort.interviewed(world.candidate)
    cohort.sent(dana, app, at=INTERVIEW_ENDS + 72 * HOURS)
    row = row_of(report(), world.candidate)
    assert (row["interviewers_thanked"], row["thanked_within_48h"]) == (1, 0)


def test_a_follow_up_a_week_after_the_thank_you_waited_r5(report, cohort, world):
    app, (dana,) = cohort.interviewed(world.candidate, ends_at=START - timedelta(days=2))
    thanks = START - timedelta(days=2) + 3 * HOURS
    cohort.sent(dana, app, at=thanks)
    cohort.sent(dana, app, "follow_up", at=thanks + timedelta(days=7))
    row = row_of(report(), world.candidate)
    assert (row["follow_ups_sent"], row["follow_ups_after_wait"]) == (1, 1)


def test_a_follow_up_three_days_after_the_thank_you_did_not_wait(report, cohort, world):
    app, (dana,) = cohort.interviewed(world.candidate)
    cohort.sent(dana, app, at=INTERVIEW_ENDS + 3 * HOURS)
    cohort.sent(dana, app, "follow_up", at=INTERVIEW_ENDS + timedelta(days=3))
    row = row_of(report(), world.candidate)
    assert (row["follow_ups_sent"], row["follow_ups_after_wait"]) == (1, 0)


def test_a_follow_up_two_days_past_the_decision_date_waited_r4(report, cohort, world, factory):
    app, (dana,) = cohort.interviewed(world.candidate, ends_at=START + HOURS)
    cohort.sent(dana, app, at=START + 3 * HOURS)
    factory.response(
        dana, app, "decision_date", occurred_at=START + 5 * HOURS, decision_date=date(2026, 11, 18)
    )
    cohort.sent(dana, app, "follow_up", at=datetime(2026, 11, 20, 15, tzinfo=UTC))
    assert row_of(report(), world.candidate)["follow_ups_after_wait"] == 1


def test_a_follow_up_a_week_on_but_before_the_decision_date_did_not_wait(
    report, cohort, world, factory
):
    ended = START - timedelta(days=3)
    app, (dana,) = cohort.interviewed(world.candidate, ends_at=ended)
    cohort.sent(dana, app, at=ended + 3 * HOURS)
    factory.response(
        dana, app, "decision_date", occurred_at=ended + 5 * HOURS, decision_date=date(2026, 12, 1)
    )
    cohort.sent(dana, app, "follow_up", at=ended + timedelta(days=8))
    row = row_of(report(), world.candidate)
    assert (row["follow_ups_sent"], row["follow_ups_after_wait"]) == (1, 0)


def test_calls_made_in_the_range_are_counted(report, cohort, world):
    app, (dana,) = cohort.interviewed(world.candidate)
    cohort.sent(dana, app, "call", at=INTERVIEW_ENDS + timedelta(days=2))
    cohort.sent(dana, app, "call", at=END + HOURS)
    assert row_of(report(), world.candidate)["calls_made"] == 1


def test_touches_a_rule_stopped_are_counted_per_rule(report, cohort, world, factory):
    app, (dana,) = cohort.interviewed(world.candidate)
    follow_up = factory.touch(dana, app, step="follow_up", status="cancelled")
    call = factory.touch(dana, app, step="call", status="skipped")
    cohort.stopped(follow_up, "cancelled", "R8")
    cohort.stopped(call, "skipped", "R6")
    cohort.stopped(call, "refused", "R6")
    row = row_of(report(), world.candidate)
    assert (row["refused_by_rule"], row["refused"]) == ({"R6": 2, "R8": 1}, 3)


def test_events_without_a_rule_are_not_refusals(report, cohort, world, factory):
    app, (dana,) = cohort.interviewed(world.candidate)
    touch = factory.touch(dana, app, status="cancelled")
    cohort.stopped(touch, "cancelled", None)
    assert row_of(report(), world.candidate)["refused"] == 0


def test_responses_are_counted_by_kind(report, cohort, world, factory):
    app, (dana,) = cohort.interviewed(world.candidate)
    at = INTERVIEW_ENDS + timedelta(days=1)
    for kind in ("replied", "decision_date", "rejected", "next_round", "offer", "out_of_office"):
        factory.response(dana, app, kind, occurred_at=at)
    row = row_of(report(), world.candidate)
    assert [row[k] for k in ("replies", "rejections", "next_rounds", "offers")] == [2, 1, 1, 1]


def test_an_out_of_office_is_no_answer(report, cohort, world, factory):
    app, (dana,) = cohort.interviewed(world.candidate)
    factory.response(dana, app, "out_of_office", occurred_at=INTERVIEW_ENDS + 5 * HOURS)
    assert row_of(report(), world.candidate)["interviewers_answered"] == 0


def test_the_median_time_to_a_first_reply_is_over_the_answered_seats(
    report, cohort, world, factory
):
    app, contacts = cohort.interviewed(world.candidate, panel=3)
    for contact, hours in zip(contacts, (2, 10, 30), strict=True):
        cohort.sent(contact, app, at=INTERVIEW_ENDS + 3 * HOURS)
        factory.response(contact, app, "replied", occurred_at=INTERVIEW_ENDS + (3 + hours) * HOURS)
    assert row_of(report(), world.candidate)["median_hours_to_first_reply"] == 10


def test_with_no_answer_the_median_is_null(report, cohort, world):
    app, (dana,) = cohort.interviewed(world.candidate)
    cohort.sent(dana, app)
    assert row_of(report(), world.candidate)["median_hours_to_first_reply"] is None


def test_drafts_waiting_for_approval_need_attention(report, cohort, world, factory):
    app, (dana,) = cohort.interviewed(world.candidate)
    far = datetime.now(UTC) + timedelta(days=2)
    factory.touch(dana, app, status="draft", approve_by=far, scheduled_for=far)
    assert row_of(report(), world.candidate)["attention"]["drafts_awaiting_approval"] == 1


def test_a_scheduled_touch_hours_late_is_past_its_deadline(report, cohort, world, factory):
    app, (dana,) = cohort.interviewed(world.candidate)
    factory.touch(dana, app, status="scheduled", scheduled_for=datetime.now(UTC) - 3 * HOURS)
    factory.touch(dana, app, status="scheduled", scheduled_for=datetime.now(UTC) + 3 * HOURS)
    assert row_of(report(), world.candidate)["attention"]["past_deadline"] == 1


def test_unknown_outcomes_need_attention(report, cohort, world, factory):
    app, (dana,) = cohort.interviewed(world.candidate)
    factory.touch(dana, app, status="unknown")
    assert row_of(report(), world.candidate)["attention"]["unknown_outcomes"] == 1


def test_bounced_addresses_need_attention(report, cohort, world, db):
    _app, (dana,) = cohort.interviewed(world.candidate)
    db.get(Contact, dana.id).email_undeliverable_at = datetime.now(UTC)
    db.commit()
    assert row_of(report(), world.candidate)["attention"]["bounced_addresses"] == 1


def _inbound(db, org_id, candidate_id, n):
    db.add(
        InboundMail(
            org_id=org_id,
            candidate_id=candidate_id,
            dedupe_key=f"<m{n}@x.example>",
            source="api",
            outcome="unmatched",
        )
    )
    db.commit()


def test_unmatched_inbound_mail_needs_the_candidates_attention(report, world, db):
    _inbound(db, world.org.id, world.candidate.id, 1)
    assert row_of(report(), world.candidate)["attention"]["unmatched_inbound"] == 1


def test_unmatched_mail_of_no_candidate_is_in_the_admins_total_only(report, world, db):
    _inbound(db, world.org.id, None, 2)
    assert report("admin")["total"]["attention"]["unmatched_inbound"] == 1
    assert report("advisor")["total"]["attention"]["unmatched_inbound"] == 0


def test_the_total_sums_the_candidates(report, cohort, world):
    cohort.interviewed(world.candidate, panel=2)
    cohort.interviewed(world.other_candidate, panel=1)
    total = report()["total"]
    assert (total["interviewers"], total["candidates"]) == (3, 2)
