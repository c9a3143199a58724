"""POST /v1/users/{id}/erasure and an admin's DELETE /v1/users/{id}: who may, the
confirmation, the order (pending cancelled, in-flight waited for), what goes and stays."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from api.models import AuditEvent, Contact, IdempotencyKey, Touch, TouchEvent, User
from api.privacy import erasure
from tests.privacy.conftest import MARKER, now


def _erase(call, user: User, token: str, confirm: str | None = None):
    return call(
        "post", f"/v1/users/{user.id}/erasure", token, json={"confirm": confirm or user.email}
    )


def test_a_wrong_confirmation_is_refused_naming_the_field(call, world, snapshot):
    before = snapshot()
    answer = _erase(call, world.candidate, world.tokens["candidate"], "someone@example.org")
    assert answer.status_code == 422
    assert "confirm" in answer.get_json()["errors"]
    assert snapshot() == before


def test_a_candidate_erases_themselves_and_their_token_stops(call, world, count):
    answer = _erase(call, world.candidate, world.tokens["candidate"])
    assert answer.status_code == 200
    assert answer.get_json()["user_id"] == world.candidate.id
    assert count(User, id=world.candidate.id) == 0
    assert call("get", "/v1/me", world.tokens["candidate"]).status_code == 401


def test_an_advisor_may_not_erase_their_candidate(call, world):
    assert _erase(call, world.candidate, world.tokens["advisor"]).status_code == 403


def test_another_organisations_admin_is_not_found(call, world):
    assert _erase(call, world.candidate, world.tokens["stranger_admin"]).status_code == 404


def test_an_admin_cannot_erase_their_own_account(call, world):
    assert _erase(call, world.admin, world.tokens["admin"]).status_code == 409


def test_pending_touches_are_cancelled_with_a_reason_first(db, world, factory):
    contact = factory.contact(world.candidate)
    application = factory.application(world.candidate)
    scheduled = factory.touch(contact, application)
    draft = factory.touch(contact, application, step="follow_up", status="draft")
    cancelled, live = erasure.settle_touches(db, world.candidate, now())
    assert (cancelled, live) == (2, [])
    for touch in (scheduled, draft):
        assert touch.status == "cancelled"
        last = db.scalars(
            select(TouchEvent).where(TouchEvent.touch_id == touch.id).order_by(TouchEvent.id)
        ).all()[-1]
        assert (last.kind, last.reason) == ("cancelled", erasure.CANCEL_REASON)
    db.rollback()


def test_a_touch_being_sent_is_waited_for_and_the_pending_ones_cancelled(
    call, world, factory, db, count
):
    contact = factory.contact(world.candidate)
    application = factory.application(world.candidate)
    factory.touch(
        contact, application, status="sending", lease_owner="w1",
        lease_expires_at=now() + timedelta(seconds=20),
    )  # fmt: skip
    pending = factory.touch(contact, application, step="follow_up")
    answer = _erase(call, world.candidate, world.tokens["admin"])
    assert answer.status_code == 409
    assert 1 <= int(answer.headers["Retry-After"]) <= 21
    assert count(User, id=world.candidate.id) == 1
    db.expire_all()
    assert db.get(Touch, pending.id).status == "cancelled"
    db.commit()


def test_a_touch_left_sending_by_a_gone_worker_does_not_hold_the_erasure(
    call, world, factory, count
):
    contact = factory.contact(world.candidate)
    application = factory.application(world.candidate)
    factory.touch(
        contact, application, status="sending", lease_owner="gone",
        lease_expires_at=now() - timedelta(seconds=1),
    )  # fmt: skip
    assert _erase(call, world.candidate, world.tokens["admin"]).status_code == 200
    assert count(Touch, candidate_id=world.candidate.id) == 0


def test_an_admins_delete_erases_rows_and_outbox_files(marked, call, app, count):
    outbox = Path(app.config["OUTBOX_DIR"])
    assert list(outbox.glob(f"{marked.thanks['id']}_*.eml"))
    answer = call("delete", f"/v1/users/{marked.id}", marked.admin)
    assert answer.status_code == 204
    assert list(outbox.glob("*.eml")) == []
    assert count(Contact, candidate_id=marked.id) == 0
    assert count(AuditEvent, action="user.deleted", subject_id=marked.id) == 1


def test_the_audit_trail_keeps_the_erasure_by_ids_only(call, world, db):
    _erase(call, world.candidate, world.tokens["admin"])
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "erasure")).one()
    db.commit()
    assert (event.actor_id, event.subject_id) == (world.admin.id, world.candidate.id)
    assert world.candidate.email not in repr(event.data)


def test_other_candidates_records_stay(call, world, factory, count):
    theirs = factory.contact(world.other_candidate)
    factory.contact(world.candidate)
    _erase(call, world.candidate, world.tokens["admin"])
    assert count(Contact, id=theirs.id) == 1


def test_a_staff_answer_about_the_candidate_goes_and_others_stay(marked, call, world, count):
    other = call(
        "post",
        "/v1/contacts",
        marked.admin,
        json={"candidate_id": world.other_candidate.id, "name": "Raj Patel"},
        headers={"Idempotency-Key": "other-1"},
    )
    assert other.status_code == 201
    assert count(IdempotencyKey, key="contact-1") == 1
    _erase(call, User(id=marked.id, email=f"ana.{MARKER}@example.org"), marked.admin)
    assert count(IdempotencyKey, key="contact-1") == 0
    assert count(IdempotencyKey, key="other-1") == 1


def test_webhook_events_about_the_candidate_go_and_others_stay(call, world, db, count):
    from api.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

    endpoint = WebhookEndpoint(
        org_id=world.org.id, url="http://127.0.0.1:9/hook", event_types=[], secret="whsec_x"
    )
    db.add(endpoint)
    db.flush()
    for n, candidate in enumerate((world.candidate, world.other_candidate)):
        db.add(
            WebhookEvent(
                org_id=world.org.id, msg_id=f"msg_{n}", type="response.recorded",
                payload={"type": "response.recorded", "data": {"candidate_id": candidate.id}},
                deliveries=[WebhookDelivery(endpoint_id=endpoint.id)],
            )
        )  # fmt: skip
    db.commit()
    _erase(call, world.candidate, world.tokens["admin"])
    assert (count(WebhookEvent, msg_id="msg_0"), count(WebhookEvent, msg_id="msg_1")) == (0, 1)
    assert count(WebhookDelivery) == 1
