"""The calendar stays true: each drift a new user saw, replayed through the HTTP API and
the real worker (issue 12). The plan for Dana (New York), interview Tue 2030-06-04
09:00-10:00 EDT: thank-you Tue 12:00, follow-up Tue 06-11 12:00 (R5), call Thu 06-13 12:00.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from api.models import utcnow
from tests.scheduling.conftest import INTERVIEW_END

THANK_YOU = datetime(2030, 6, 4, 16, 0, tzinfo=UTC)
FOLLOW_UP = datetime(2030, 6, 11, 16, 0, tzinfo=UTC)
CALL = datetime(2030, 6, 13, 16, 0, tzinfo=UTC)
GAP = timedelta(hours=48)


def test_the_plan_is_thank_you_follow_up_call(calendar):
    calendar.plan()

    assert calendar.pending() == {"thank_you": THANK_YOU, "follow_up": FOLLOW_UP, "call": CALL}


def test_a_thank_you_sent_a_second_late_moves_the_later_steps_by_that_second(calendar):
    calendar.plan()
    late = timedelta(seconds=0.9)

    calendar.send_due(THANK_YOU + late)
    calendar.send_due(FOLLOW_UP + late)

    sent = {
        t["step"]: datetime.fromisoformat(t["sent_at"])
        for t in calendar.touches()
        if t["status"] == "sent"
    }
    assert sent == {"thank_you": THANK_YOU + late, "follow_up": FOLLOW_UP + late}
    assert calendar.pending() == {"call": CALL + late}


def test_an_out_of_office_moves_follow_up_and_call_past_the_return_in_order(calendar):
    calendar.plan()
    calendar.send_due(THANK_YOU)

    answer = calendar.respond("out_of_office", until="2030-06-20")

    back = datetime(2030, 6, 21, 12, 0, tzinfo=UTC)  # Fri 06-21 08:00 EDT, window opens
    call = datetime(2030, 6, 24, 12, 0, tzinfo=UTC)  # 48 h later is Sunday: Mon 08:00 EDT
    assert calendar.pending() == {"follow_up": back, "call": call}
    assert {t["step"] for t in answer["affected_touches"]} == {"follow_up", "call"}


def test_an_out_of_office_never_stacks_two_touches_on_one_instant(calendar):
    calendar.plan()
    calendar.send_due(THANK_YOU)
    calendar.respond("out_of_office", until="2030-06-20")

    times = sorted(calendar.pending().values())
    assert times[1] - times[0] >= GAP


def test_a_follow_up_sent_a_day_late_pushes_the_call_not_itself(calendar):
    calendar.plan()
    calendar.send_due(THANK_YOU)
    late = FOLLOW_UP + timedelta(days=1)  # Wed 06-12 12:00 EDT: the worker was down

    calendar.send_due(late)

    follow_up = next(t for t in calendar.touches() if t["step"] == "follow_up")
    assert (follow_up["status"], datetime.fromisoformat(follow_up["sent_at"])) == ("sent", late)
    assert calendar.pending() == {"call": late + GAP}


def test_a_logged_manual_thank_you_cancels_the_automated_one_at_once(recent):
    recent.plan()
    said_it = recent.ends_at + timedelta(minutes=30)

    answer = recent.log_manual("thank_you", said_it)

    cancelled = [(t["step"], t["status"], t["rule"]) for t in answer["affected_touches"]]
    assert ("thank_you", "cancelled", "R1") in cancelled
    assert "thank_you" not in recent.pending()


def test_a_manual_thank_you_anchors_the_follow_up(recent):
    recent.plan()
    said_it = recent.ends_at + timedelta(minutes=30)

    recent.log_manual("thank_you", said_it)

    assert recent.pending()["follow_up"] == said_it + timedelta(days=7)


def test_a_new_decision_date_moves_the_follow_up_at_once(calendar):
    calendar.plan()

    answer = calendar.ok(
        "patch",
        f"/v1/applications/{calendar.application.id}",
        json={"decision_expected_on": "2030-06-18"},
    )

    # R4: decision Tue 06-18, two days' grace: Thu 06-20 00:00 local, window opens 08:00.
    moved = datetime(2030, 6, 20, 12, 0, tzinfo=UTC)
    assert calendar.pending()["follow_up"] == moved
    assert calendar.pending()["call"] == datetime(2030, 6, 24, 12, 0, tzinfo=UTC)  # Sat -> Mon
    assert {t["step"] for t in answer["affected_touches"]} == {"follow_up", "call"}


def test_each_move_is_an_event_with_the_rule_and_a_sentence(calendar):
    calendar.plan()
    calendar.ok(
        "patch",
        f"/v1/applications/{calendar.application.id}",
        json={"decision_expected_on": "2030-06-18"},
    )

    follow_up = next(t for t in calendar.touches() if t["step"] == "follow_up")
    moved = calendar.events(follow_up["id"])[-1]
    assert (moved["kind"], moved["rule"]) == ("rescheduled", "R4")
    assert "decision expected on 2030-06-18" in moved["reason"]
    assert "Thu 2030-06-20 08:00 EDT" in moved["reason"]


def test_re_planning_after_nothing_changed_moves_nothing(calendar):
    calendar.plan()
    before = calendar.event_count()

    calendar.ok(
        "patch",
        f"/v1/applications/{calendar.application.id}",
        json={"position": "Senior Data Engineer"},
    )

    assert calendar.event_count() == before


def test_decision_date_given_in_a_response_moves_the_follow_up(calendar):
    calendar.plan()

    calendar.respond("decision_date", decision_date=date(2030, 6, 18).isoformat())

    assert calendar.pending()["follow_up"] == datetime(2030, 6, 20, 12, 0, tzinfo=UTC)


def test_a_plan_due_now_sends_nothing_before_the_candidate_approves(recent, factory, world):
    factory.policy(world.org, candidate=world.candidate, approval="required")

    steps = recent.plan()
    recent.send_due(utcnow() + timedelta(hours=2))  # the thank-you is due by then

    thank_you = next(s for s in steps if s["step"] == "thank_you")
    assert (thank_you["state"], thank_you["body"]) == ("draft", recent.touches()[0]["body"])
    assert recent.smtp.messages == []
    assert {t["status"] for t in recent.touches()} == {"draft"}


def test_the_dry_run_shows_each_step_with_its_text_and_the_checks_findings(recent):
    steps = recent.ok("post", f"/v1/interviews/{recent.interview.id}/plan?dry_run=true")["steps"]

    thank_you = next(s for s in steps if s["step"] == "thank_you")
    assert thank_you["subject"] and "Dana" in thank_you["body"]
    assert {"warnings", "blocking", "local_time", "reason"} <= thank_you.keys()
    assert recent.touches() == []


def test_marking_a_contact_do_not_contact_cancels_their_touches_at_once(calendar):
    calendar.plan()

    answer = calendar.ok("patch", f"/v1/contacts/{calendar.dana.id}", json={"do_not_contact": True})

    assert calendar.pending() == {}
    assert {(t["status"], t["rule"]) for t in answer["affected_touches"]} == {("cancelled", "DNC")}


def test_a_later_interview_end_moves_the_thank_you_and_what_follows(calendar):
    calendar.plan()
    later = calendar.ends_at + timedelta(hours=3)

    answer = calendar.ok(
        "patch", f"/v1/interviews/{calendar.interview.id}", json={"ends_at": later.isoformat()}
    )

    assert calendar.pending()["thank_you"] == THANK_YOU + timedelta(hours=3)
    assert {t["step"] for t in answer["affected_touches"]} == {"thank_you", "follow_up", "call"}


def test_a_thank_you_draft_nobody_approved_takes_the_steps_after_it_along(calendar, factory, world):
    factory.policy(world.org, candidate=world.candidate, approval="required")
    calendar.plan()
    too_late = INTERVIEW_END + timedelta(hours=48, minutes=1)  # past R2's late mark

    calendar.send_due(too_late)  # the worker's sweep

    ended = {t["step"]: (t["status"], t["rule"]) for t in calendar.touches()}
    assert ended == {
        "thank_you": ("skipped", "R2"),
        "follow_up": ("cancelled", "R5"),
        "call": ("cancelled", "R11"),
    }


def test_the_calendar_shows_where_the_follow_up_moved_and_why(calendar):
    calendar.plan()
    calendar.ok(
        "patch",
        f"/v1/applications/{calendar.application.id}",
        json={"decision_expected_on": "2030-06-18"},
    )

    rows = calendar.ok(
        "get",
        f"/v1/calendar?application_id={calendar.application.id}"
        "&from=2030-06-01T00:00:00Z&to=2030-07-01T00:00:00Z",
    )

    follow_up = next(r for r in rows if r["step"] == "follow_up")
    assert datetime.fromisoformat(follow_up["at"]) == datetime(2030, 6, 20, 12, 0, tzinfo=UTC)
    assert follow_up["local_time"].startswith("Thu 2030-06-20 08:00")
    assert (follow_up["rule"], follow_up["sequence"]) == ("R4", 1)
    assert "decision expected on 2030-06-18" in follow_up["reason"]
