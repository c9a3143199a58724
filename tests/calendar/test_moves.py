"""A touch that moves: its sequence is bumped on every path that changes its time, and
the calendar gives the reason of the latest move."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from api import ledger
from api.dispatch import Options, Worker
from api.models import Touch
from tests.calendar.conftest import query_range
from tests.dispatch.conftest import Clock, reload
from tests.ledger.conftest import THANK_YOU_AT, created, iso

#: The ledger scene's weeks (2030), for the calendar of touches made through the API.
SCENE_WEEKS = query_range(THANK_YOU_AT - timedelta(days=7), THANK_YOU_AT + timedelta(days=60))


def _row(scene, touch_id: int) -> dict:
    response = scene.call("get", "/v1/calendar", query_string=SCENE_WEEKS)
    assert response.status_code == 200, response.get_json()
    [row] = [r for r in response.get_json() if r["touch_id"] == touch_id]
    return row


def test_a_new_touch_starts_at_sequence_0(scene):
    touch = created(scene.schedule("thank_you", THANK_YOU_AT))

    assert _row(scene, touch["id"])["sequence"] == 0


def test_moving_a_touch_through_the_api_bumps_its_sequence(scene, row):
    touch = created(scene.schedule("thank_you", THANK_YOU_AT))

    moved = scene.call(
        "patch",
        f"/v1/touches/{touch['id']}",
        json={"scheduled_for": iso(THANK_YOU_AT + timedelta(hours=1))},
    )

    assert moved.status_code == 200, moved.get_json()
    assert row(Touch, touch["id"])["sequence"] == 1
    assert _row(scene, touch["id"])["sequence"] == 1


def test_each_move_bumps_it_again(scene, row):
    touch = created(scene.schedule("thank_you", THANK_YOU_AT))
    for hours in (1, 2):
        later = {"scheduled_for": iso(THANK_YOU_AT + timedelta(hours=hours))}
        assert scene.call("patch", f"/v1/touches/{touch['id']}", json=later).status_code == 200

    assert row(Touch, touch["id"])["sequence"] == 2


def test_an_edit_that_keeps_the_time_keeps_the_sequence(scene, row):
    touch = created(scene.schedule("thank_you", THANK_YOU_AT))

    edited = scene.call(
        "patch", f"/v1/touches/{touch['id']}", json={"subject": "Thank you for Tuesday"}
    )

    assert edited.status_code == 200, edited.get_json()
    assert row(Touch, touch["id"])["sequence"] == 0


def test_a_touch_moved_by_hand_says_so(scene):
    touch = created(scene.schedule("thank_you", THANK_YOU_AT))
    later = {"scheduled_for": iso(THANK_YOU_AT + timedelta(hours=1))}
    scene.call("patch", f"/v1/touches/{touch['id']}", json=later)

    assert _row(scene, touch["id"])["reason"] == "Moved to this time on request."


def test_a_re_examination_after_a_response_bumps_the_sequence(scene, row):
    touch = created(scene.schedule("thank_you", THANK_YOU_AT))

    answer = scene.respond("out_of_office", until="2030-06-07")

    assert answer.status_code == 201, answer.get_json()
    assert row(Touch, touch["id"])["sequence"] == 1


def test_the_latest_re_plans_reason_wins_over_the_original_one(scene):
    touch = created(scene.schedule("thank_you", THANK_YOU_AT))
    scene.respond("out_of_office", until="2030-06-07")
    moved = scene.events(touch["id"])[-1]

    calendar_row = _row(scene, touch["id"])

    assert (calendar_row["reason"], calendar_row["rule"]) == (moved["reason"], "OOO")


def test_the_worker_moving_a_touch_into_the_window_bumps_its_sequence(app, db, world, factory, row):
    contact = factory.contact(world.candidate, timezone="America/New_York")
    # Wednesday 18 Nov 2026, 23:00 in New York: outside the send window.
    clock = Clock(datetime(2026, 11, 19, 4, 0, tzinfo=UTC))
    touch = factory.touch(contact, factory.application(world.candidate), scheduled_for=clock.now)

    Worker.from_app(app, options=Options(lease=30.0, poll=0.05), clock=clock).run_once()

    moved = reload(db, touch)
    assert moved.scheduled_for == datetime(2026, 11, 19, 13, 0, tzinfo=UTC)
    assert row(Touch, touch.id)["sequence"] == 1


def test_the_ledgers_direct_update_bumps_the_sequence_when_the_time_moves(db, desk, row):
    touch = db.get(Touch, desk.touches["follow_up"].id)

    ledger.update_touch(db, touch, scheduled_for=touch.scheduled_for + timedelta(hours=2))
    db.commit()

    assert row(Touch, touch.id)["sequence"] == touch.sequence == 1


def test_the_ledgers_direct_update_keeps_the_sequence_without_a_move(db, desk, row):
    touch = db.get(Touch, desk.touches["follow_up"].id)

    ledger.update_touch(db, touch, status="sending", scheduled_for=touch.scheduled_for)
    db.commit()

    assert row(Touch, touch.id)["sequence"] == 0


def test_setting_the_same_time_again_is_not_a_move(db, desk, row):
    touch = db.get(Touch, desk.touches["follow_up"].id)
    db.expire(touch)  # the old value must be loaded to compare, not assumed

    touch.scheduled_for = desk.touches["follow_up"].scheduled_for
    db.commit()

    assert row(Touch, touch.id)["sequence"] == 0


def test_an_expired_touch_moved_through_the_orm_is_bumped(db, desk, row):
    touch = db.get(Touch, desk.touches["follow_up"].id)
    db.expire(touch)

    touch.scheduled_for = desk.now + timedelta(days=9)
    db.commit()

    assert row(Touch, touch.id)["sequence"] == 1
