"""An event is written in the transaction of the change it reports: none is lost, none is
invented by a change that was rolled back (issue 14)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from api import inbound_sms, ledger
from api.inbound import pipeline
from api.models import InboundMessage, WebhookDelivery, WebhookEndpoint, WebhookEvent
from api.scheduling.responses import record_response
from tests.inbound.conftest import build

NOW = datetime(2026, 11, 18, 16, 0, tzinfo=UTC)


def _types(db) -> list[str]:
    found = db.scalars(select(WebhookEvent.type).order_by(WebhookEvent.id)).all()
    db.commit()
    return found


def _count(db, model) -> int:
    found = db.scalar(select(func.count()).select_from(model))
    db.commit()
    return found


def test_a_touch_event_writes_an_event_and_a_delivery_in_its_transaction(
    endpoint, scene, happen, db
):
    happen(scene.touch, "scheduled")

    assert _types(db) == ["touch.scheduled"]
    assert _count(db, WebhookDelivery) == 1


def test_a_rolled_back_change_writes_no_event(endpoint, scene, db):
    ledger.record_event(db, scene.touch, "sent", "user:1")
    db.flush()
    db.rollback()

    assert _count(db, WebhookEvent) == 0


def test_a_rolled_back_savepoint_drops_only_its_own_event(endpoint, scene, factory, db):
    other = factory.touch(scene.contact, scene.application)
    ledger.record_event(db, scene.touch, "scheduled", "user:1")
    try:
        with db.begin_nested():
            ledger.record_event(db, other, "skipped", "user:1")
            raise RuntimeError("the change is refused")
    except RuntimeError:
        pass
    db.commit()

    assert _types(db) == ["touch.scheduled"]


def test_an_event_no_endpoint_hears_writes_nothing(endpoint, scene, happen, db):
    endpoint.event_types = ["touch.sent"]
    db.commit()

    happen(scene.touch, "scheduled")

    assert _count(db, WebhookEvent) == 0


def test_a_disabled_endpoint_gets_no_deliveries(endpoint, scene, happen, db):
    endpoint.enabled = False
    db.commit()

    happen(scene.touch, "scheduled")

    assert _count(db, WebhookDelivery) == 0


def test_another_orgs_endpoint_hears_nothing_of_this_org(endpoint, scene, happen, db, world):
    endpoint.org_id = world.other_org.id
    db.commit()

    happen(scene.touch, "sent", status="sent")

    assert _count(db, WebhookEvent) == 0


def test_each_endpoint_that_hears_the_type_gets_a_delivery(endpoint, scene, happen, db):
    db.add(
        WebhookEndpoint(
            org_id=endpoint.org_id, url=endpoint.url, event_types=["touch.sent"], secret="x"
        )
    )
    db.commit()

    happen(scene.touch, "sent", status="sent")

    assert _count(db, WebhookEvent) == 1
    assert _count(db, WebhookDelivery) == 2


@pytest.mark.parametrize(
    ("kind", "status", "expected"),
    [
        ("draft", "draft", "touch.awaiting_approval"),
        ("approved", "scheduled", "touch.scheduled"),
        ("rescheduled", None, "touch.rescheduled"),
        ("delivered", "delivered", "touch.delivered"),
        ("failed", "failed", "touch.failed"),
        ("skipped", "skipped", "touch.skipped"),
        ("unknown", "unknown", "touch.unknown"),
        ("cancelled", "cancelled", "touch.cancelled"),
    ],
)
def test_touch_event_kinds_are_their_webhook_types(
    endpoint, scene, happen, db, kind, status, expected
):
    happen(scene.touch, kind, status=status)

    assert _types(db) == [expected]


@pytest.mark.parametrize("kind", ["created", "edited", "retry", "sending", "provider_status"])
def test_bookkeeping_events_are_not_webhooks(endpoint, scene, happen, db, kind):
    happen(scene.touch, kind)

    assert _count(db, WebhookEvent) == 0


def test_the_payload_holds_the_touch_as_it_is_when_the_change_commits(endpoint, scene, db):
    ledger.record_event(db, scene.touch, "approved", "user:1")
    scene.touch.status = "scheduled"  # as draft_approval does: the event first
    db.commit()

    payload = db.scalars(select(WebhookEvent.payload)).one()
    assert payload["data"]["status"] == "scheduled"
    assert payload["data"]["event"] == {"kind": "approved", "actor": "user:1"}


def test_a_manual_touch_logged_through_the_api_is_a_touch_sent(endpoint, factory, world, call, db):
    contact = factory.contact(world.candidate)
    application = factory.application(world.candidate)
    body = {
        "contact_id": contact.id,
        "application_id": application.id,
        "step": "thank_you",
        "channel": "manual",
        "occurred_at": "2026-11-18T15:00:00Z",
    }

    answer = call("post", "/v1/touches", world.tokens["candidate"], json=body)

    assert answer.status_code == 201, answer.get_json()
    assert _types(db) == ["touch.sent"]


def test_a_recorded_response_is_a_response_recorded(endpoint, scene, db, app):
    response, _, _ = record_response(
        db,
        contact=scene.contact,
        application=scene.application,
        round_=1,
        kind="replied",
        occurred_at=NOW,
        now=NOW,
        config=app.config,
    )
    db.commit()

    payload = db.scalars(
        select(WebhookEvent.payload).where(WebhookEvent.type == "response.recorded")
    ).one()
    assert payload["data"]["response_id"] == response.id
    assert payload["data"]["kind"] == "replied"


def test_an_sms_stop_is_a_contact_opted_out(endpoint, scene, db):
    message = InboundMessage(sid="SM" + "1" * 32, kind="opt_out", received_at=NOW)
    db.add(message)
    db.flush()

    inbound_sms.set_sms_opt(db, [scene.contact], message, True)
    db.commit()

    payload = db.scalars(select(WebhookEvent.payload)).one()
    assert payload["type"] == "contact.opted_out"
    assert payload["data"]["contact_id"] == scene.contact.id


def test_a_start_is_no_opt_out(endpoint, scene, db):
    message = InboundMessage(sid="SM" + "2" * 32, kind="opt_in", received_at=NOW)
    db.add(message)
    db.flush()

    inbound_sms.set_sms_opt(db, [scene.contact], message, False)
    db.commit()

    assert _count(db, WebhookEvent) == 0


def test_an_sms_refused_for_an_opt_out_is_a_contact_opted_out(endpoint, scene, db):
    inbound_sms.mark_refused(scene.contact, scene.touch, NOW)
    db.commit()

    assert _types(db) == ["contact.opted_out"]


def test_an_email_that_matches_no_one_is_an_inbound_unmatched(endpoint, world, db, app):
    raw = build("Who is this?", From="stranger@nowhere.example", In_Reply_To=None)

    outcome = pipeline.receive(db, world.org.id, raw, source="upload", now=NOW, config=app.config)
    db.commit()

    payload = db.scalars(select(WebhookEvent.payload)).one()
    assert outcome.outcome == "unmatched"
    assert payload["type"] == "inbound.unmatched"
    assert payload["data"]["inbound_id"] == outcome.inbound_id


def test_events_the_worker_inserts_in_bulk_are_webhooks_too(endpoint, scene, db):
    ledger.update_touch(db, scene.touch, status="sent", sent_at=NOW)
    ledger.insert_events(db, [ledger.event_row(scene.touch.id, "sent", "worker:a", at=NOW)])
    db.commit()

    payload = db.scalars(select(WebhookEvent.payload)).one()
    assert payload["type"] == "touch.sent"
    assert payload["data"]["status"] == "sent"
    assert payload["timestamp"] == NOW.isoformat()
