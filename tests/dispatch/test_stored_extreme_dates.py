"""No stored value can make a later request, or the worker, fail: rows written before
dates were bounded (or straight into the database) with year 9999 decision dates or
times near the ends of Python's datetime range are read as the nearest bound of the
working range, and everything computed from them stays in range."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from api.models import Touch
from api.timebounds import LATEST
from tests.dispatch.conftest import kinds, reload

FAR_DAY = date(9999, 12, 31)
FAR_TIME = datetime(9999, 12, 31, 23, 0, tzinfo=UTC)  # past year 9999 in any zone east of UTC
EARLY_TIME = datetime(1, 1, 1, 1, 0, tzinfo=UTC)  # before year 1 in any zone west of UTC


@pytest.fixture
def thanked(scene, factory, clock):
    """An interview yesterday, and the manual thank-you note logged after it."""
    interview = factory.interview(
        scene.application, [scene.contact], starts_at=clock.now - timedelta(days=1)
    )
    factory.touch(
        scene.contact,
        scene.application,
        channel="manual",
        automated=False,
        status="sent",
        sent_at=clock.now - timedelta(hours=20),
        scheduled_for=None,
    )
    return interview


def _decision_response(factory, scene, day: date, clock) -> None:
    factory.response(
        scene.contact,
        scene.application,
        "decision_date",
        occurred_at=clock.now - timedelta(hours=1),
        decision_date=day,
    )


@pytest.fixture(params=["application", "response"])
def far_decision(request, scene, factory, thanked, clock):
    """A decision date of 9999-12-31, stored as the application's or as a response."""
    if request.param == "application":
        scene.application.decision_expected_on = FAR_DAY
        factory.s.commit()
    else:
        _decision_response(factory, scene, FAR_DAY, clock)
    return thanked


def test_the_budget_answers_with_a_far_decision_date(call, world, scene, far_decision):
    response = call("GET", f"/v1/contacts/{scene.contact.id}/budget", world.tokens["candidate"])

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["blocked_by"]["email"] == "R4"
    assert datetime.fromisoformat(body["next_allowed_at"]["email"]) <= LATEST + timedelta(days=30)


def test_the_plan_answers_with_a_far_decision_date(call, world, far_decision):
    response = call(
        "POST", f"/v1/interviews/{far_decision.id}/plan?dry_run=true", world.tokens["candidate"]
    )

    assert response.status_code == 200, response.get_json()
    follow_up = next(s for s in response.get_json()["steps"] if s["step"] == "follow_up")
    assert follow_up["rule"] == "R4"


def test_a_manual_follow_up_is_logged_with_a_far_decision_date(call, world, scene, far_decision):
    body = {
        "contact_id": scene.contact.id,
        "application_id": scene.application.id,
        "step": "follow_up",
        "channel": "manual",
    }

    response = call("POST", "/v1/touches", world.tokens["candidate"], json=body)

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["rule"] == "R4"  # logged, flagged: it came before the date


def test_the_worker_moves_a_due_follow_up_once_and_does_not_retry_it(
    db, scene, touch_for, make_worker, far_decision, clock
):
    touch = touch_for(step="follow_up")

    make_worker().run_once()

    moved = reload(db, touch)
    assert moved.status == "scheduled"
    assert moved.attempts == 0
    assert clock.now < moved.scheduled_for <= LATEST + timedelta(days=30)
    assert kinds(db, touch) == ["rescheduled"]


def test_a_far_out_of_office_return_does_not_break_the_budget(
    call, world, scene, factory, thanked, clock
):
    factory.response(
        scene.contact,
        scene.application,
        "out_of_office",
        occurred_at=clock.now - timedelta(hours=1),
        until=FAR_DAY,
    )

    response = call("GET", f"/v1/contacts/{scene.contact.id}/budget", world.tokens["candidate"])

    assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "America/Los_Angeles"])
@pytest.mark.parametrize("at", [FAR_TIME, EARLY_TIME], ids=["9999", "0001"])
def test_touch_and_interview_times_at_the_ends_of_the_range_do_not_break_anything(
    call, world, scene, factory, db, make_worker, clock, zone, at
):
    scene.contact.timezone = zone
    factory.interview(scene.application, [scene.contact], starts_at=at - timedelta(hours=1))
    due = factory.touch(
        scene.contact, scene.application, step="follow_up", scheduled_for=at, status="scheduled"
    )
    factory.touch(scene.contact, scene.application, step="thank_you", status="sent", sent_at=at)
    token = world.tokens["candidate"]

    budget = call("GET", f"/v1/contacts/{scene.contact.id}/budget", token)
    listed = call("GET", f"/v1/touches?contact_id={scene.contact.id}", token)
    preview = call("POST", "/v1/templates/preview", token, json={"touch_id": due.id})
    make_worker().run_once()

    assert budget.status_code == 200, budget.get_json()
    assert listed.status_code == 200
    assert preview.status_code == 200, preview.get_json()
    assert db.get(Touch, due.id).attempts == 0


def test_a_touch_stored_at_year_9999_can_still_be_moved_and_cancelled(call, world, scene, factory):
    touch = factory.touch(scene.contact, scene.application, scheduled_for=FAR_TIME)
    factory.twilio_channels(world.org)
    token = world.tokens["candidate"]

    rechanneled = call("PATCH", f"/v1/touches/{touch.id}", token, json={"channel": "sms"})
    cancelled = call("POST", f"/v1/touches/{touch.id}/cancel", token, json={})

    assert rechanneled.status_code == 409, rechanneled.get_json()
    assert cancelled.status_code == 200
