"""Each follow-up rule of the domain, enforced through the HTTP API.

A refusal is a 409 problem naming the rule and, where waiting helps, `next_allowed_at`.
Interview: Tue 2030-06-04 09:00-10:00 New York (see conftest.py).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from api.models import Touch
from tests.api.helpers import assert_problem
from tests.ledger.conftest import (
    CALL_AT,
    FOLLOW_UP_AT,
    INTERVIEW_END,
    THANK_YOU_AT,
    created,
    local,
    parse,
    refused,
)

# -- R2: the thank-you goes out soon after the interview -----------------------------------


def test_r2_a_late_thank_you_is_flagged_late_but_allowed(scene):
    three_days_later = datetime(2030, 6, 7, 16, 0, tzinfo=UTC)  # Fri 12:00 EDT, 74 h after

    touch = created(scene.schedule("thank_you", three_days_later))

    assert touch["status"] == "scheduled"
    assert parse(touch["scheduled_for"]) == three_days_later
    assert "R2_LATE" in touch["flags"]


def test_r2_a_thank_you_on_time_carries_no_late_flag(scene):
    touch = created(scene.schedule("thank_you", THANK_YOU_AT))

    assert touch["flags"] == []


def test_r2_a_thank_you_before_the_interview_ends_is_refused_until_it_ends(scene):
    during = INTERVIEW_END - timedelta(minutes=30)

    problem = refused(scene.schedule("thank_you", during), "R2")

    assert parse(problem["next_allowed_at"]) == INTERVIEW_END


# -- R4 / R5: when the follow-up may go -----------------------------------------------------


def test_r4_a_decision_date_moves_the_pending_follow_up_to_two_days_after_it(scene):
    created(scene.schedule("thank_you", THANK_YOU_AT))
    follow_up = created(scene.schedule("follow_up", FOLLOW_UP_AT))

    answer = scene.respond("decision_date", decision_date="2030-06-18")  # a Tuesday

    assert answer.status_code == 201, answer.get_json()
    moved = scene.touch(follow_up["id"])
    assert moved["status"] == "scheduled"
    # Thursday 2030-06-20, at the opening of the send window in New York.
    assert local(moved["scheduled_for"], "America/New_York") == datetime(2030, 6, 20, 8, 0)
    event = scene.events(follow_up["id"])[-1]
    assert (event["kind"], event["rule"]) == ("rescheduled", "R4")
    assert event["actor"] == f"response:{answer.get_json()['id']}"
    assert [t["id"] for t in answer.get_json()["affected_touches"]] == [follow_up["id"]]


def test_r4_a_follow_up_before_the_decision_date_has_passed_by_two_days_is_refused(scene, factory):
    scene.application.decision_expected_on = date(2030, 6, 18)
    factory.s.commit()
    created(scene.schedule("thank_you", THANK_YOU_AT))

    problem = refused(scene.schedule("follow_up", FOLLOW_UP_AT), "R4")

    assert local(problem["next_allowed_at"], "America/New_York") == datetime(2030, 6, 20, 8, 0)


def test_r5_a_follow_up_waits_a_week_after_the_thank_you(scene):
    created(scene.schedule("thank_you", THANK_YOU_AT))

    problem = refused(scene.schedule("follow_up", THANK_YOU_AT + timedelta(days=3)), "R5")

    assert parse(problem["next_allowed_at"]) == THANK_YOU_AT + timedelta(days=7)


def test_r5_a_follow_up_without_any_thank_you_is_refused_for_good(scene):
    problem = refused(scene.schedule("follow_up", FOLLOW_UP_AT), "R5")

    assert "next_allowed_at" not in problem


# -- R6: three touches per contact per round --------------------------------------------------


def test_r6_a_fourth_touch_to_one_contact_in_a_round_is_refused(scene):
    scene.existing("thank_you", THANK_YOU_AT)
    scene.existing("follow_up", FOLLOW_UP_AT)
    scene.existing("call", CALL_AT, channel="call")

    a_week_after_the_call = CALL_AT + timedelta(days=7)
    problem = refused(scene.schedule("custom", a_week_after_the_call), "R6")

    assert "next_allowed_at" not in problem  # waiting does not help: let it go


def test_r6_the_budget_is_per_contact(scene):
    scene.existing("thank_you", THANK_YOU_AT)
    scene.existing("follow_up", FOLLOW_UP_AT)
    scene.existing("call", CALL_AT, channel="call")

    raj_thank_you = created(scene.schedule("thank_you", THANK_YOU_AT, contact=scene.raj))

    assert raj_thank_you["contact_id"] == scene.raj.id


def test_r6_a_made_up_later_round_cannot_buy_a_fresh_budget(scene, count):
    scene.existing("thank_you", THANK_YOU_AT)
    scene.existing("follow_up", FOLLOW_UP_AT)
    scene.existing("call", CALL_AT, channel="call")

    answer = scene.schedule("custom", CALL_AT + timedelta(days=7), round=2)

    assert_problem(answer, 422, "round")
    assert count(Touch) == 3


# -- R7: a minimum gap between two touches to the same person -------------------------------


def test_r7_a_touch_closer_than_two_days_to_another_is_refused_until_the_gap_has_passed(scene):
    created(scene.schedule("thank_you", THANK_YOU_AT))

    problem = refused(scene.schedule("custom", THANK_YOU_AT + timedelta(days=1)), "R7")

    assert parse(problem["next_allowed_at"]) == THANK_YOU_AT + timedelta(days=2)


# -- R8: a response stops the automated sequence ----------------------------------------------


def test_r8_a_reply_cancels_the_pending_automated_touches_to_that_contact(scene):
    thank_you = created(scene.schedule("thank_you", THANK_YOU_AT))
    follow_up = created(scene.schedule("follow_up", FOLLOW_UP_AT))

    answer = scene.respond("replied")

    assert answer.status_code == 201, answer.get_json()
    actor = f"response:{answer.get_json()['id']}"
    for touch_id in (thank_you["id"], follow_up["id"]):
        touch = scene.touch(touch_id)
        assert (touch["status"], touch["rule"]) == ("cancelled", "R8")
        event = scene.events(touch_id)[-1]
        assert (event["kind"], event["rule"], event["actor"]) == ("cancelled", "R8", actor)
        assert event["reason"]
    affected = {t["id"] for t in answer.get_json()["affected_touches"]}
    assert affected == {thank_you["id"], follow_up["id"]}


def test_r8_a_plain_reply_from_one_interviewer_leaves_the_rest_of_the_panel_alone(scene):
    created(scene.schedule("thank_you", THANK_YOU_AT))
    raj_thank_you = created(scene.schedule("thank_you", THANK_YOU_AT, contact=scene.raj))
    before = scene.events(raj_thank_you["id"])

    answer = scene.respond("replied", contact=scene.dana)

    assert answer.status_code == 201, answer.get_json()
    assert scene.touch(raj_thank_you["id"])["status"] == "scheduled"
    assert scene.events(raj_thank_you["id"]) == before
    assert raj_thank_you["id"] not in {t["id"] for t in answer.get_json()["affected_touches"]}


def test_r8_an_offer_re_examines_the_rest_of_the_panel_and_stops_it(scene):
    raj_thank_you = created(scene.schedule("thank_you", THANK_YOU_AT, contact=scene.raj))

    answer = scene.respond("offer", contact=scene.dana)

    assert answer.status_code == 201, answer.get_json()
    touch = scene.touch(raj_thank_you["id"])
    assert (touch["status"], touch["rule"]) == ("cancelled", "R8")


def test_r8_after_a_reply_scheduling_to_that_contact_is_refused_for_good(scene):
    assert scene.respond("replied").status_code == 201

    problem = refused(scene.schedule("thank_you", THANK_YOU_AT), "R8")

    assert "next_allowed_at" not in problem


# -- R9: after a rejection, one polite note and nothing more ----------------------------------


def test_r9_a_rejection_cancels_the_plan_for_the_whole_panel(scene):
    dana = created(scene.schedule("thank_you", THANK_YOU_AT))
    raj = created(scene.schedule("thank_you", THANK_YOU_AT, contact=scene.raj))

    assert scene.respond("rejected").status_code == 201

    for touch_id in (dana["id"], raj["id"]):
        touch = scene.touch(touch_id)
        assert (touch["status"], touch["rule"]) == ("cancelled", "R9")
        assert scene.events(touch_id)[-1]["kind"] == "cancelled"


def test_r9_after_a_rejection_exactly_one_post_rejection_note_is_allowed(scene):
    answer = scene.respond("rejected")
    proposed = answer.get_json()["proposed_touch"]  # the one note, proposed by the rejection

    second = scene.schedule("post_rejection", THANK_YOU_AT + timedelta(days=7))

    assert proposed["step"] == "post_rejection"
    problem = refused(second, "R9")
    assert "next_allowed_at" not in problem


def test_r9_the_candidate_may_write_the_note_instead_of_the_proposed_one(scene):
    proposed = scene.respond("rejected").get_json()["proposed_touch"]
    scene.call("post", f"/v1/touches/{proposed['id']}/cancel", json={})

    mine = scene.schedule("post_rejection", THANK_YOU_AT)

    assert created(mine)["step"] == "post_rejection"


def test_r9_no_other_touch_follows_a_rejection(scene):
    assert scene.respond("rejected").status_code == 201

    refused(scene.schedule("follow_up", FOLLOW_UP_AT), "R9")


def test_r9_a_post_rejection_note_without_a_rejection_is_refused(scene):
    refused(scene.schedule("post_rejection", THANK_YOU_AT), "R9")


# -- R10: a next-round invitation opens a new round with a fresh budget -----------------------


def test_r10_a_next_round_invitation_opens_the_next_round_with_a_fresh_budget(scene):
    # Round 1 is spent: thank-you, follow-up and call went out last year.
    for step, at, channel in (
        ("thank_you", datetime(2025, 6, 3, 16, 0, tzinfo=UTC), "email"),
        ("follow_up", datetime(2025, 6, 10, 16, 0, tzinfo=UTC), "email"),
        ("call", datetime(2025, 6, 12, 16, 0, tzinfo=UTC), "call"),
    ):
        scene.existing(step, at, channel=channel, status="sent", sent_at=at)
    refused(scene.schedule("custom", FOLLOW_UP_AT), "R6")

    invitation = scene.respond("next_round")

    assert invitation.status_code == 201, invitation.get_json()
    assert invitation.get_json()["round"] == 1
    touch = created(scene.schedule("custom", FOLLOW_UP_AT))
    assert touch["round"] == 2
    budget = scene.budget()
    assert (budget["round"], budget["used"], budget["left"]) == (2, 1, 2)


def test_r10_the_invitation_is_answered_once_in_the_new_round(scene):
    proposed = scene.respond("next_round").get_json()["proposed_touch"]

    second = scene.schedule("next_round_reply", THANK_YOU_AT + timedelta(days=3))

    assert (proposed["step"], proposed["round"]) == ("next_round_reply", 2)
    refused(second, "R10")


def test_r10_a_next_round_reply_without_an_invitation_is_refused(scene):
    refused(scene.schedule("next_round_reply", THANK_YOU_AT), "R10")


# -- R11: a call only after an unanswered email follow-up, in the call window -----------------


def test_r11_a_call_without_an_email_follow_up_is_refused(scene):
    created(scene.schedule("thank_you", THANK_YOU_AT))

    problem = refused(scene.schedule("call", CALL_AT, channel="call"), "R11")

    assert "next_allowed_at" not in problem


def test_r11_a_call_after_a_follow_up_by_sms_is_refused(scene):
    created(scene.schedule("thank_you", THANK_YOU_AT))
    created(scene.schedule("follow_up", FOLLOW_UP_AT, channel="sms"))

    refused(scene.schedule("call", CALL_AT, channel="call"), "R11")


def test_r11_a_call_before_its_email_follow_up_is_refused_until_after_it(scene):
    created(scene.schedule("thank_you", THANK_YOU_AT))
    created(scene.schedule("follow_up", FOLLOW_UP_AT))

    friday_before = datetime(2030, 6, 7, 16, 0, tzinfo=UTC)

    problem = refused(scene.schedule("call", friday_before, channel="call"), "R11")

    # After the follow-up, and the minimum gap after it (R7).
    assert parse(problem["next_allowed_at"]) == FOLLOW_UP_AT + timedelta(days=2)


def test_r11_a_call_after_the_email_follow_up_is_placed_in_the_contacts_call_window(scene):
    created(scene.schedule("thank_you", THANK_YOU_AT))
    created(scene.schedule("follow_up", FOLLOW_UP_AT))
    put = scene.call(
        "put",
        f"/v1/contacts/{scene.dana.id}/policy",
        json={"call_window_start": "10:00", "call_window_end": "12:00"},
    )
    assert put.status_code == 200, put.get_json()

    friday_nine = datetime(2030, 6, 14, 13, 0, tzinfo=UTC)  # 09:00 EDT, before 10:00
    call_touch = created(scene.schedule("call", friday_nine, channel="call"))

    assert local(call_touch["scheduled_for"], "America/New_York") == datetime(2030, 6, 14, 10, 0)
    event = scene.events(call_touch["id"])[-1]
    assert (event["kind"], event["rule"]) == ("scheduled", "R11")


# -- R15: the contact's business days and hours -----------------------------------------------


def test_r15_a_send_at_night_in_the_contacts_zone_moves_to_the_next_window_opening(scene):
    eleven_pm = datetime(2030, 6, 5, 3, 0, tzinfo=UTC)  # Tue 2030-06-04 23:00 EDT

    touch = created(scene.schedule("thank_you", eleven_pm))

    assert local(touch["scheduled_for"], "America/New_York") == datetime(2030, 6, 5, 8, 0)
    event = scene.events(touch["id"])[-1]
    assert (event["kind"], event["rule"]) == ("scheduled", "R15")
    assert "window" in event["reason"]
    assert parse(event["data"]["requested"]) == eleven_pm


def test_r15_a_send_on_a_weekend_moves_to_monday_morning(scene):
    created(scene.schedule("thank_you", THANK_YOU_AT))
    saturday_noon = datetime(2030, 6, 15, 16, 0, tzinfo=UTC)

    touch = created(scene.schedule("follow_up", saturday_noon))

    assert local(touch["scheduled_for"], "America/New_York") == datetime(2030, 6, 17, 8, 0)


def test_r15_a_public_holiday_of_the_contacts_country_is_not_a_business_day(scene):
    created(scene.schedule("thank_you", THANK_YOU_AT))
    independence_day = datetime(2030, 7, 4, 14, 0, tzinfo=UTC)  # Thu 10:00 EDT

    touch = created(scene.schedule("follow_up", independence_day))

    assert local(touch["scheduled_for"], "America/New_York") == datetime(2030, 7, 5, 8, 0)


def test_r15_the_next_opening_after_the_spring_forward_weekend_is_8_am_daylight_time(scene):
    friday_evening = datetime(2030, 3, 9, 0, 0, tzinfo=UTC)  # Fri 2030-03-08 19:00 EST

    touch = created(scene.schedule("custom", friday_evening))

    # Clocks went forward on Sunday 2030-03-10: Monday 08:00 is 12:00 UTC, not 13:00.
    assert parse(touch["scheduled_for"]) == datetime(2030, 3, 11, 12, 0, tzinfo=UTC)


def test_r15_a_send_inside_the_window_keeps_its_time(scene):
    touch = created(scene.schedule("thank_you", THANK_YOU_AT))

    assert parse(touch["scheduled_for"]) == THANK_YOU_AT
    assert scene.events(touch["id"])[-1]["rule"] is None
