"""Webhooks reach the portal signed, retried with the same webhook-id until they arrive, in
order per touch, and are marked failed when the schedule runs out (issue 14)."""

from __future__ import annotations

import json
import time
from collections import Counter

from sqlalchemy import select

from api.models import WebhookDelivery, WebhookEvent
from tests.portal_webhooks.conftest import SCHEDULE, Portal


def _deliveries(db) -> list[WebhookDelivery]:
    db.expire_all()
    found = db.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
    db.commit()  # SQLite: an open read transaction would hold the write lock
    return found


def _msg_ids(db) -> list[str]:
    found = db.scalars(select(WebhookEvent.msg_id).order_by(WebhookEvent.id)).all()
    db.commit()
    return found


def test_every_delivery_verifies_with_the_standardwebhooks_library(
    endpoint, scene, happen, portal, drain
):
    happen(scene.touch, "scheduled")
    happen(scene.touch, "sent", status="sent")

    drain()

    assert len(portal.heard) == 2
    assert all(h.verified_with == portal.secrets for h in portal.heard)


def test_the_body_is_type_timestamp_and_the_touchs_ids_and_fields(
    endpoint, scene, happen, portal, drain
):
    happen(scene.touch, "sent", status="sent")

    drain()

    body = json.loads(portal.heard[0].body)
    assert body["type"] == "touch.sent"
    assert body["timestamp"]
    assert body["data"]["touch_id"] == scene.touch.id
    assert body["data"]["contact_id"] == scene.contact.id
    assert body["data"]["application_id"] == scene.application.id
    assert body["data"]["status"] == "sent"
    assert body["data"]["step"] == "thank_you"


def test_the_webhook_id_is_the_events_msg_id(endpoint, scene, happen, portal, drain, db):
    happen(scene.touch, "scheduled")

    drain()

    assert portal.ids() == _msg_ids(db)


def test_a_portal_down_for_a_while_gets_every_event_once_up_with_the_same_ids(
    endpoint, factory, world, happen, portal, deliveries, drain, db, app
):
    app.config["WEBHOOK_RETRY_SCHEDULE"] = (0.3,) * 10
    contact, application = factory.contact(world.candidate), factory.application(world.candidate)
    for _ in range(5):
        happen(factory.touch(contact, application), "scheduled")
    portal.down = True
    for _ in range(3):  # three rounds of attempts while it is down
        deliveries.run_due()
        time.sleep(0.35)
    tried_while_down = Counter(portal.ids())
    portal.down = False

    drain()

    answered = [h.id for h in portal.heard][sum(tried_while_down.values()) :]
    events = set(_msg_ids(db))
    assert set(tried_while_down) == events and all(n >= 2 for n in tried_while_down.values())
    assert sorted(answered) == sorted(events)  # once up: each event once more, same id
    assert {d.status for d in _deliveries(db)} == {"delivered"}


def test_a_touchs_later_event_waits_for_its_earlier_one(
    endpoint, scene, happen, portal, deliveries, drain, db, app
):
    app.config["WEBHOOK_RETRY_SCHEDULE"] = (0.3,) * 10
    happen(scene.touch, "scheduled")
    happen(scene.touch, "sent", status="sent")
    happen(scene.touch, "delivered", status="delivered")
    portal.down = True
    for _ in range(3):
        deliveries.run_due()
        time.sleep(0.35)
    first = _msg_ids(db)[0]
    assert set(portal.ids()) == {first}  # only the first was tried while it failed
    portal.down = False

    drain()

    types = [json.loads(h.body)["type"] for h in portal.heard if h.id != first]
    assert types == ["touch.sent", "touch.delivered"]


def test_other_touches_are_not_held_up_by_one_that_fails(
    endpoint, scene, factory, happen, portal, deliveries, db
):
    happen(scene.touch, "scheduled")
    other = factory.touch(scene.contact, scene.application)
    happen(other, "scheduled")
    portal.status = 500

    deliveries.run_due()

    assert len(set(portal.ids())) == 2


def test_a_delivery_is_failed_with_the_reason_when_the_schedule_runs_out(
    endpoint, scene, happen, portal, drain, db
):
    portal.status = 500
    happen(scene.touch, "scheduled")

    drain()

    (delivery,) = _deliveries(db)
    assert delivery.status == "failed"
    assert delivery.attempts == len(SCHEDULE) + 1
    assert delivery.last_status_code == 500
    assert "500" in delivery.last_error
    assert len(set(portal.ids())) == 1 and len(portal.ids()) == len(SCHEDULE) + 1


def test_a_redirect_is_not_followed(endpoint, scene, happen, portal, drain, db):
    target = Portal()
    try:
        portal.redirect_to = target.url
        happen(scene.touch, "scheduled")

        drain()

        (delivery,) = _deliveries(db)
        assert delivery.status == "failed"
        assert "not followed" in delivery.last_error
        assert target.heard == []
    finally:
        target.close()


def test_a_slow_portal_times_out_as_a_failed_attempt(
    endpoint, scene, happen, portal, deliveries, db, app
):
    app.config["WEBHOOK_READ_TIMEOUT"] = 0.2
    portal.delay = 0.5
    happen(scene.touch, "scheduled")

    deliveries.run_due()

    (delivery,) = _deliveries(db)
    assert delivery.status == "pending" and delivery.attempts == 1
    assert "timed out" in delivery.last_error.lower()
