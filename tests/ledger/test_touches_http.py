"""The touch ledger over HTTP: manual logs, moves, re-channels, cancels, resolves, events,
and the message check on scheduling.

Scheduled touches use the far-future interview of conftest.py (Tue 2030-06-04, New York).
Manual touches happened, so they are logged around a past interview (Tue 2025-06-03).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.models import Touch, TouchEvent
from tests.api.helpers import assert_problem
from tests.ledger.conftest import (
    FOLLOW_UP_AT,
    THANK_YOU_AT,
    created,
    local,
    parse,
    refused,
)

PAST_INTERVIEW = datetime(2025, 6, 3, 13, 0, tzinfo=UTC)  # Tue 09:00-10:00 EDT
PAST_THANK_YOU = datetime(2025, 6, 3, 16, 0, tzinfo=UTC)  # Tue 12:00 EDT

GOOD_THANK_YOU = (
    "Dear Dana,\n\nThank you for your time on Tuesday. I enjoyed our conversation about "
    "the migration of the billing pipeline, and I am excited about the Data Engineer role "
    "at Acme Corp.\n\nBest regards,\nCandidate"
)


@pytest.fixture
def past(scene, factory):
    """An application whose interview with Dana is over: manual touches can be logged."""
    application = factory.application(scene.candidate, company="Acme Corp")
    factory.interview(application, [scene.dana], starts_at=PAST_INTERVIEW)
    return application


def sent_before(scene, application, step: str, at: datetime, channel: str = "email"):
    return scene.factory.touch(
        scene.dana,
        application,
        step=step,
        channel=channel,
        status="sent",
        scheduled_for=at,
        sent_at=at,
    )


# -- manual touches: what happened is always recorded --------------------------------------


def test_a_manual_touch_is_recorded_as_sent_when_it_happened(scene, past):
    logged = scene.log("thank_you", PAST_THANK_YOU, application_id=past.id)

    touch = created(logged)
    assert (touch["status"], touch["channel"], touch["automated"]) == ("sent", "manual", False)
    assert parse(touch["sent_at"]) == PAST_THANK_YOU
    assert touch["flags"] == []
    kinds = [e["kind"] for e in scene.events(touch["id"])]
    assert kinds == ["created", "sent"]


def test_a_fourth_manual_touch_is_kept_and_flagged_with_r6(scene, past):
    sent_before(scene, past, "thank_you", PAST_THANK_YOU)
    sent_before(scene, past, "follow_up", PAST_THANK_YOU + timedelta(days=7))
    sent_before(scene, past, "call", PAST_THANK_YOU + timedelta(days=9), channel="call")

    logged = scene.log("custom", PAST_THANK_YOU + timedelta(days=16), application_id=past.id)

    touch = created(logged)
    assert touch["status"] == "sent"
    assert "R6" in touch["flags"]
    assert touch["rule"] == "R6"
    assert "R6" in touch["reason"]
    assert scene.events(touch["id"])[0]["rule"] == "R6"


def test_a_manual_touch_too_soon_after_another_is_kept_and_flagged_with_r7(scene, past):
    sent_before(scene, past, "thank_you", PAST_THANK_YOU)

    touch = created(scene.log("custom", PAST_THANK_YOU + timedelta(days=1), application_id=past.id))

    assert touch["status"] == "sent"
    assert "R7" in touch["flags"]


def test_a_manual_thank_you_three_days_late_is_flagged_late(scene, past):
    touch = created(
        scene.log("thank_you", PAST_THANK_YOU + timedelta(days=3), application_id=past.id)
    )

    assert "R2_LATE" in touch["flags"]


def test_a_manual_touch_after_a_reply_is_kept_and_flagged(scene, past):
    replied = scene.respond(
        "replied",
        application_id=past.id,
        occurred_at=(PAST_THANK_YOU + timedelta(days=1)).isoformat(),
    )
    assert replied.status_code == 201, replied.get_json()

    touch = created(scene.log("custom", PAST_THANK_YOU + timedelta(days=3), application_id=past.id))

    assert touch["status"] == "sent"
    assert "R8_RESPONDED" in touch["flags"]


def test_a_manual_touch_counts_against_the_budget_like_an_automated_one(scene, past):
    created(scene.log("thank_you", PAST_THANK_YOU, application_id=past.id))

    budget = scene.call("get", f"/v1/contacts/{scene.dana.id}/budget?application_id={past.id}")

    assert budget.status_code == 200, budget.get_json()
    assert (budget.get_json()["used"], budget.get_json()["left"]) == (1, 2)


def test_a_manual_touch_cannot_be_logged_in_the_future(scene, count):
    tomorrow = datetime.now(UTC) + timedelta(days=1)

    assert_problem(scene.log("custom", tomorrow), 422, "occurred_at")
    assert count(Touch) == 0


def test_a_manual_touch_is_logged_with_occurred_at_not_scheduled_for(scene):
    answer = scene.schedule("custom", THANK_YOU_AT, channel="manual")

    assert_problem(answer, 422, "scheduled_for")


# -- moving a touch ------------------------------------------------------------------------


def test_moving_a_touch_passes_the_policy_and_is_an_event(scene):
    created(scene.schedule("thank_you", THANK_YOU_AT))
    follow_up = created(scene.schedule("follow_up", FOLLOW_UP_AT))
    later = FOLLOW_UP_AT + timedelta(days=1)

    moved = scene.call(
        "patch", f"/v1/touches/{follow_up['id']}", json={"scheduled_for": later.isoformat()}
    )

    assert moved.status_code == 200, moved.get_json()
    assert parse(moved.get_json()["scheduled_for"]) == later
    event = scene.events(follow_up["id"])[-1]
    assert event["kind"] == "rescheduled"
    assert (parse(event["data"]["from"]), parse(event["data"]["to"])) == (FOLLOW_UP_AT, later)


def test_a_refused_move_is_409_an_event_and_leaves_the_touch_unchanged(scene):
    created(scene.schedule("thank_you", THANK_YOU_AT))
    follow_up = created(scene.schedule("follow_up", FOLLOW_UP_AT))
    too_soon = THANK_YOU_AT + timedelta(days=2)

    answer = scene.call(
        "patch", f"/v1/touches/{follow_up['id']}", json={"scheduled_for": too_soon.isoformat()}
    )

    problem = refused(answer, "R5")
    assert parse(problem["next_allowed_at"]) == FOLLOW_UP_AT
    assert scene.touch(follow_up["id"]) == follow_up
    event = scene.events(follow_up["id"])[-1]
    assert (event["kind"], event["rule"]) == ("refused", "R5")
    assert event["reason"] == problem["detail"]


def test_a_move_into_the_night_lands_at_the_next_window_opening(scene):
    touch = created(scene.schedule("thank_you", THANK_YOU_AT))
    ten_pm = datetime(2030, 6, 5, 2, 0, tzinfo=UTC)  # Tue 22:00 EDT

    moved = scene.call(
        "patch", f"/v1/touches/{touch['id']}", json={"scheduled_for": ten_pm.isoformat()}
    )

    assert moved.status_code == 200, moved.get_json()
    assert local(moved.get_json()["scheduled_for"], "America/New_York") == datetime(
        2030, 6, 5, 8, 0
    )
    event = scene.events(touch["id"])[-1]
    assert (event["kind"], event["rule"]) == ("rescheduled", "R15")


# -- changing its channel ------------------------------------------------------------------


def test_re_channeling_a_touch_renders_it_for_the_new_channel_and_is_an_event(scene):
    created(scene.schedule("thank_you", THANK_YOU_AT))
    follow_up = created(scene.schedule("follow_up", FOLLOW_UP_AT))

    answer = scene.call("patch", f"/v1/touches/{follow_up['id']}", json={"channel": "sms"})

    assert answer.status_code == 200, answer.get_json()
    touch = answer.get_json()
    assert (touch["channel"], touch["subject"]) == ("sms", None)
    assert touch["body"] != follow_up["body"]
    event = [e for e in scene.events(follow_up["id"]) if e["kind"] == "rechanneled"]
    assert [e["data"] for e in event] == [{"from": "email", "to": "sms"}]


def test_re_channeling_passes_the_policy(scene):
    created(scene.schedule("thank_you", THANK_YOU_AT))
    follow_up = created(scene.schedule("follow_up", FOLLOW_UP_AT))

    answer = scene.call("patch", f"/v1/touches/{follow_up['id']}", json={"channel": "call"})

    refused(answer, "R11")  # a call comes only after an email follow-up
    assert scene.touch(follow_up["id"])["channel"] == "email"


def test_a_scheduled_touch_cannot_become_manual(scene):
    touch = created(scene.schedule("thank_you", THANK_YOU_AT))

    answer = scene.call("patch", f"/v1/touches/{touch['id']}", json={"channel": "manual"})

    assert_problem(answer, 422, "channel")


def test_a_touch_cannot_be_scheduled_on_an_unknown_channel(scene, count):
    assert_problem(scene.schedule("thank_you", THANK_YOU_AT, channel="pigeon"), 422, "channel")
    assert count(Touch) == 0


def test_a_touch_cannot_be_scheduled_in_the_past(scene, count):
    last_year = datetime.now(UTC) - timedelta(days=365)

    assert_problem(scene.schedule("thank_you", last_year), 422, "scheduled_for")
    assert count(Touch) == 0


# -- cancelling ----------------------------------------------------------------------------


def test_cancelling_a_scheduled_touch_is_always_allowed_and_is_an_event(scene):
    touch = created(scene.schedule("thank_you", THANK_YOU_AT))

    answer = scene.call(
        "post", f"/v1/touches/{touch['id']}/cancel", json={"reason": "Said it in person."}
    )

    assert answer.status_code == 200, answer.get_json()
    assert (answer.get_json()["status"], answer.get_json()["reason"]) == (
        "cancelled",
        "Said it in person.",
    )
    event = scene.events(touch["id"])[-1]
    assert (event["kind"], event["reason"]) == ("cancelled", "Said it in person.")
    assert event["actor"] == f"user:{scene.candidate.id}"


def test_a_lower_budget_cancels_the_pending_touches_beyond_it_at_once(scene):
    created(scene.schedule("thank_you", THANK_YOU_AT))
    follow_up = created(scene.schedule("follow_up", FOLLOW_UP_AT))

    answer = scene.call("put", f"/v1/contacts/{scene.dana.id}/policy", json={"touch_budget": 1})

    assert answer.status_code == 200, answer.get_json()
    affected = answer.get_json()["affected_touches"]
    assert [(t["id"], t["status"], t["rule"]) for t in affected] == [
        (follow_up["id"], "cancelled", "R6")
    ]
    assert scene.touch(follow_up["id"])["status"] == "cancelled"


def test_a_cancelled_touch_cannot_be_cancelled_again(scene):
    touch = created(scene.schedule("thank_you", THANK_YOU_AT))
    assert scene.call("post", f"/v1/touches/{touch['id']}/cancel", json={}).status_code == 200

    again = scene.call("post", f"/v1/touches/{touch['id']}/cancel", json={})

    assert_problem(again, 409)
    assert [e["kind"] for e in scene.events(touch["id"])].count("cancelled") == 1


def test_a_sent_touch_cannot_be_cancelled(scene, past):
    touch = created(scene.log("thank_you", PAST_THANK_YOU, application_id=past.id))

    assert_problem(scene.call("post", f"/v1/touches/{touch['id']}/cancel", json={}), 409)


def test_a_cancelled_touch_cannot_be_moved(scene):
    touch = created(scene.schedule("thank_you", THANK_YOU_AT))
    scene.call("post", f"/v1/touches/{touch['id']}/cancel", json={})

    answer = scene.call(
        "patch",
        f"/v1/touches/{touch['id']}",
        json={"scheduled_for": (THANK_YOU_AT + timedelta(hours=1)).isoformat()},
    )

    assert_problem(answer, 409)


def test_a_claimed_touch_that_is_moved_is_released_from_its_worker(scene, db):
    touch = created(scene.schedule("thank_you", THANK_YOU_AT))
    stored = db.get(Touch, touch["id"])
    stored.lease_owner, stored.lease_expires_at = "worker-1", THANK_YOU_AT
    db.commit()
    db.close()

    later = THANK_YOU_AT + timedelta(hours=2)
    answer = scene.call(
        "patch", f"/v1/touches/{touch['id']}", json={"scheduled_for": later.isoformat()}
    )

    assert answer.status_code == 200, answer.get_json()
    assert db.get(Touch, touch["id"]).lease_owner is None


# -- events --------------------------------------------------------------------------------


def test_the_events_of_a_touch_say_what_happened_when_by_whom_and_why(scene):
    eleven_pm = datetime(2030, 6, 5, 3, 0, tzinfo=UTC)
    touch = created(scene.schedule("thank_you", eleven_pm))

    events = scene.events(touch["id"])

    assert [e["kind"] for e in events] == ["created", "scheduled"]
    assert {e["actor"] for e in events} == {f"user:{scene.candidate.id}"}
    assert all(e["at"] for e in events)
    assert "window" in events[1]["reason"]


def test_another_candidate_cannot_see_my_touch_or_its_events(scene):
    touch = created(scene.schedule("thank_you", THANK_YOU_AT))
    other = scene.world.tokens["other_candidate"]

    assert_problem(scene.call("get", f"/v1/touches/{touch['id']}", token=other), 404)
    assert_problem(scene.call("get", f"/v1/touches/{touch['id']}/events", token=other), 404)
    assert_problem(
        scene.call("post", f"/v1/touches/{touch['id']}/cancel", token=other, json={}), 404
    )


def test_touches_are_listed_per_contact(scene):
    created(scene.schedule("thank_you", THANK_YOU_AT))
    raj = created(scene.schedule("thank_you", THANK_YOU_AT, contact=scene.raj))

    listed = scene.call("get", f"/v1/touches?contact_id={scene.raj.id}")

    assert listed.status_code == 200, listed.get_json()
    assert [t["id"] for t in listed.get_json()] == [raj["id"]]


# -- resolving an unknown outcome ----------------------------------------------------------


def _unknown(scene, db) -> int:
    touch = created(scene.schedule("thank_you", THANK_YOU_AT))
    db.get(Touch, touch["id"]).status = "unknown"
    db.commit()
    db.close()
    return touch["id"]


def test_a_touch_whose_outcome_is_unknown_can_be_resolved_as_sent(scene, db):
    touch_id = _unknown(scene, db)

    answer = scene.call("post", f"/v1/touches/{touch_id}/resolve", json={"outcome": "sent"})

    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["status"] == "sent"
    assert parse(answer.get_json()["sent_at"]) == THANK_YOU_AT
    event = scene.events(touch_id)[-1]
    assert (event["kind"], event["actor"]) == ("sent", f"user:{scene.candidate.id}")
    assert event["reason"]


def test_a_touch_whose_outcome_is_unknown_can_be_resolved_as_failed(scene, db):
    touch_id = _unknown(scene, db)

    answer = scene.call(
        "post", f"/v1/touches/{touch_id}/resolve", json={"outcome": "failed", "reason": "Bounced"}
    )

    assert answer.status_code == 200, answer.get_json()
    assert (answer.get_json()["status"], answer.get_json()["reason"]) == ("failed", "Bounced")


def test_only_a_touch_in_state_unknown_can_be_resolved(scene, count):
    touch = created(scene.schedule("thank_you", THANK_YOU_AT))

    answer = scene.call("post", f"/v1/touches/{touch['id']}/resolve", json={"outcome": "sent"})

    assert_problem(answer, 409)
    assert scene.touch(touch["id"])["status"] == "scheduled"
    assert count(TouchEvent, touch_id=touch["id"]) == 2


# -- the message check on scheduling -------------------------------------------------------


def test_an_unfilled_placeholder_blocks_scheduling_and_nothing_is_created(scene, snapshot):
    before = snapshot()
    body = GOOD_THANK_YOU.replace("Acme Corp", "[Company Name]")

    answer = scene.schedule("thank_you", THANK_YOU_AT, body=body, subject="Thank you")

    problem = assert_problem(answer, 422, "body")
    assert "placeholders" in " ".join(problem["errors"]["body"])
    assert snapshot() == before


def test_a_greeting_naming_another_of_my_contacts_blocks_scheduling(scene, count):
    body = GOOD_THANK_YOU.replace("Dear Dana", "Dear Raj")

    answer = scene.schedule("thank_you", THANK_YOU_AT, body=body, subject="Thank you")

    problem = assert_problem(answer, 422, "body")
    assert "wrong_person" in " ".join(problem["errors"]["body"])
    assert count(Touch) == 0


def test_warnings_of_the_message_check_are_returned_with_the_touch(scene):
    lukewarm = GOOD_THANK_YOU.replace(", and I am excited about", " about").replace(
        "the Data Engineer role at Acme Corp", "the pipeline"
    )

    touch = created(scene.schedule("thank_you", THANK_YOU_AT, body=lukewarm, subject="Thank you"))

    assert touch["body"] == lukewarm
    warnings = {(w["check"], w["severity"]) for w in touch["warnings"]}
    assert ("missing_enthusiasm", "warn") in warnings


def test_a_clean_message_is_scheduled_as_written(scene):
    touch = created(
        scene.schedule("thank_you", THANK_YOU_AT, body=GOOD_THANK_YOU, subject="Thank you")
    )

    assert (touch["subject"], touch["body"], touch["warnings"]) == (
        "Thank you",
        GOOD_THANK_YOU,
        [],
    )


def test_editing_a_body_into_a_placeholder_is_refused_and_the_touch_is_unchanged(scene):
    touch = created(scene.schedule("thank_you", THANK_YOU_AT))

    answer = scene.call(
        "patch",
        f"/v1/touches/{touch['id']}",
        json={"body": GOOD_THANK_YOU.replace("Acme Corp", "[Company Name]")},
    )

    assert_problem(answer, 422, "body")
    assert scene.touch(touch["id"]) == touch
