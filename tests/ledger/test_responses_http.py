"""Responses from the hiring side and their effects on pending touches (R4, R8-R10, OOO).

Interview: Tue 2030-06-04 09:00-10:00 New York; Dana (New York) and Raj (London) on the panel.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from api.models import Application, Response, Touch
from tests.api.helpers import assert_problem
from tests.ledger.conftest import (
    CALL_AT,
    FOLLOW_UP_AT,
    THANK_YOU_AT,
    created,
    local,
    refused,
)


def test_a_decision_date_that_moves_the_follow_up_takes_the_call_along(scene):
    created(scene.schedule("thank_you", THANK_YOU_AT))
    created(scene.schedule("follow_up", FOLLOW_UP_AT))
    call = created(scene.schedule("call", CALL_AT, channel="call"))

    answer = scene.respond("decision_date", decision_date="2030-06-18")

    assert answer.status_code == 201, answer.get_json()
    moved = scene.touch(call["id"])
    # The follow-up now goes Thu 2030-06-20 08:00; the call keeps R7's two days after it.
    assert moved["status"] == "scheduled"
    assert local(moved["scheduled_for"], "America/New_York") == datetime(2030, 6, 24, 8, 0)
    assert scene.events(call["id"])[-1]["kind"] == "rescheduled"


def test_out_of_office_shifts_pending_touches_past_the_return_date(scene):
    thank_you = created(scene.schedule("thank_you", THANK_YOU_AT))

    answer = scene.respond("out_of_office", until="2030-06-07")  # back Monday

    assert answer.status_code == 201, answer.get_json()
    moved = scene.touch(thank_you["id"])
    assert moved["status"] == "scheduled"
    assert local(moved["scheduled_for"], "America/New_York") == datetime(2030, 6, 10, 8, 0)
    event = scene.events(thank_you["id"])[-1]
    assert (event["kind"], event["rule"]) == ("rescheduled", "OOO")
    assert event["data"]["from"].startswith("2030-06-04T16:00")


def test_out_of_office_follows_the_person_into_their_other_applications(scene, factory):
    other_app = factory.application(scene.candidate, company="Acme Corp", position="Analyst")
    touch = scene.factory.touch(
        scene.dana, other_app, step="custom", scheduled_for=THANK_YOU_AT, round=1
    )

    answer = scene.respond("out_of_office", until="2030-06-07")

    assert answer.status_code == 201, answer.get_json()
    assert local(scene.touch(touch.id)["scheduled_for"], "America/New_York") == datetime(
        2030, 6, 10, 8, 0
    )


def test_a_reply_in_one_application_does_not_stop_the_contact_in_another(scene, factory):
    other_app = factory.application(scene.candidate, company="Acme Corp", position="Analyst")
    touch = scene.factory.touch(
        scene.dana, other_app, step="custom", scheduled_for=THANK_YOU_AT, round=1
    )

    assert scene.respond("replied").status_code == 201

    assert scene.touch(touch.id)["status"] == "scheduled"


def test_a_rejection_from_one_interviewer_closes_the_application_for_the_whole_panel(scene):
    assert scene.respond("rejected", contact=scene.dana).status_code == 201

    refused(scene.schedule("thank_you", THANK_YOU_AT, contact=scene.raj), "R9")


def test_the_one_post_rejection_note_is_one_per_application(scene):
    answer = scene.respond("rejected", contact=scene.dana)
    assert answer.get_json()["proposed_touch"]["contact_id"] == scene.dana.id

    refused(scene.schedule("post_rejection", THANK_YOU_AT, contact=scene.raj), "R9")


def test_a_rejection_marks_the_application_rejected(scene, row):
    assert scene.respond("rejected").status_code == 201

    assert row(Application, scene.application.id)["status"] == "rejected"


def test_a_decision_date_response_is_kept_on_the_application(scene, row):
    assert scene.respond("decision_date", decision_date="2030-06-18").status_code == 201

    assert str(row(Application, scene.application.id)["decision_expected_on"]) == "2030-06-18"


def test_a_response_that_changes_nothing_affects_no_touch(scene):
    created(scene.schedule("thank_you", THANK_YOU_AT))

    answer = scene.respond("decision_date", decision_date="2030-06-05")

    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["affected_touches"] == []


def test_a_response_in_the_future_is_refused(scene, count):
    later = datetime.now(UTC) + timedelta(days=1)

    answer = scene.respond("replied", occurred_at=later.isoformat())

    assert_problem(answer, 422, "occurred_at")
    assert count(Response) == 0


def test_a_response_cannot_name_a_round_that_has_not_started(scene, count):
    assert_problem(scene.respond("replied", round=2), 422, "round")
    assert count(Response) == 0


def test_a_decision_date_response_needs_its_date(scene, count):
    assert_problem(scene.respond("decision_date"), 422, "decision_date")
    assert count(Response) == 0


def test_an_out_of_office_response_needs_its_return_date(scene):
    assert_problem(scene.respond("out_of_office"), 422, "until")


def test_responses_are_listed_per_contact(scene):
    assert scene.respond("replied", contact=scene.dana).status_code == 201
    assert scene.respond("replied", contact=scene.raj).status_code == 201

    listed = scene.call("get", f"/v1/responses?contact_id={scene.raj.id}")

    assert listed.status_code == 200
    assert [(r["contact_id"], r["kind"]) for r in listed.get_json()] == [(scene.raj.id, "replied")]


def test_another_candidate_cannot_record_a_response_for_my_contact(scene, count):
    answer = scene.call(
        "post",
        "/v1/responses",
        token=scene.world.tokens["other_candidate"],
        json={
            "contact_id": scene.dana.id,
            "application_id": scene.application.id,
            "kind": "rejected",
        },
    )

    assert_problem(answer, 422, "contact_id")
    assert count(Response) == 0
    assert count(Touch) == 0
