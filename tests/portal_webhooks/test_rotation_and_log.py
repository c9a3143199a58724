"""Secret rotation keeps the old secret signing for the overlap; the delivery log shows each
delivery; a redelivery goes again with the same webhook-id."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from api.models import WebhookDelivery, utcnow

URL = "/v1/webhook-endpoints"


def _rotate(call, world, endpoint, portal) -> str:
    answer = call("post", f"{URL}/{endpoint.id}/rotate-secret", world.tokens["admin"])
    assert answer.status_code == 200
    new = answer.get_json()["secret"]
    portal.secrets.append(new)
    return new


def test_during_the_overlap_each_request_verifies_with_the_old_and_the_new_secret(
    endpoint, scene, happen, portal, drain, call, world
):
    old = portal.secrets[0]
    new = _rotate(call, world, endpoint, portal)

    happen(scene.touch, "scheduled")
    drain()

    assert portal.heard[0].verified_with == [old, new]


def test_after_the_overlap_only_the_new_secret_verifies(
    endpoint, scene, happen, portal, drain, call, world, db
):
    new = _rotate(call, world, endpoint, portal)
    db.refresh(endpoint)
    endpoint.previous_expires_at = utcnow() - timedelta(seconds=1)
    db.commit()

    happen(scene.touch, "scheduled")
    drain()

    assert portal.heard[0].verified_with == [new]


def test_the_overlap_is_the_setting(endpoint, call, world, app):
    app.config["WEBHOOK_SECRET_OVERLAP_SECONDS"] = 3600
    before = utcnow()

    body = call("post", f"{URL}/{endpoint.id}/rotate-secret", world.tokens["admin"]).get_json()

    ends = body["previous_secret_expires_at"]
    assert ends >= (before + timedelta(seconds=3600)).isoformat()
    assert ends < (before + timedelta(seconds=3660)).isoformat()


def test_the_delivery_log_shows_each_delivery_newest_first(
    endpoint, scene, happen, portal, drain, call, world
):
    happen(scene.touch, "scheduled")
    happen(scene.touch, "sent", status="sent")
    drain()

    log = call("get", f"{URL}/{endpoint.id}/deliveries", world.tokens["admin"]).get_json()

    assert [d["event_type"] for d in log] == ["touch.sent", "touch.scheduled"]
    assert {d["status"] for d in log} == {"delivered"}
    assert [d["webhook_id"] for d in log] == portal.ids()[::-1]
    assert log[0]["payload"]["type"] == "touch.sent"


def test_the_log_filters_by_status(endpoint, scene, happen, portal, drain, call, world):
    portal.status = 500
    happen(scene.touch, "scheduled")
    drain()

    url = f"{URL}/{endpoint.id}/deliveries"
    failed = call("get", url, world.tokens["admin"], query_string={"status": "failed"})
    delivered = call("get", url, world.tokens["admin"], query_string={"status": "delivered"})

    assert [d["last_status_code"] for d in failed.get_json()] == [500]
    assert delivered.get_json() == []


def test_a_failed_delivery_redelivered_arrives_with_the_same_webhook_id(
    endpoint, scene, happen, portal, drain, call, world, db
):
    portal.status = 500
    happen(scene.touch, "scheduled")
    drain()
    portal.status = 200
    delivery_id = db.scalars(select(WebhookDelivery.id)).one()
    db.commit()

    answer = call(
        "post", f"{URL}/{endpoint.id}/deliveries/{delivery_id}/redeliver", world.tokens["admin"]
    )
    drain()

    assert answer.status_code == 202
    assert answer.get_json()["status"] == "pending"
    assert len(set(portal.ids())) == 1
    db.expire_all()
    assert db.get(WebhookDelivery, delivery_id).status == "delivered"


def test_a_delivery_of_another_endpoint_is_not_redelivered_through_this_one(
    endpoint, scene, happen, portal, drain, call, world, db
):
    happen(scene.touch, "scheduled")
    drain()
    delivery_id = db.scalars(select(WebhookDelivery.id)).one()
    db.commit()
    other = call(
        "post",
        URL,
        world.tokens["admin"],
        json={"url": "https://portal.example.edu/b", "event_types": ["touch.sent"]},
    ).get_json()

    answer = call(
        "post", f"{URL}/{other['id']}/deliveries/{delivery_id}/redeliver", world.tokens["admin"]
    )

    assert answer.status_code == 404
