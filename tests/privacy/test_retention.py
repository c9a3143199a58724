"""The organisation's retention of message texts: set by admins, applied by the worker."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from api.models import InboundMail, Organization, Response, Touch
from tests.privacy.conftest import now


def _set(call, token: str, **values):
    return call("patch", "/v1/organization", token, json=values)


def test_an_admin_sets_the_retention(call, world, row):
    answer = _set(call, world.tokens["admin"], sent_body_retention_days=30)
    assert answer.status_code == 200
    assert answer.get_json()["sent_body_retention_days"] == 30
    assert row(Organization, world.org.id)["sent_body_retention_days"] == 30


def test_null_keeps_the_texts_again(call, world, row):
    _set(call, world.tokens["admin"], inbound_body_retention_days=7)
    assert _set(call, world.tokens["admin"], inbound_body_retention_days=None).status_code == 200
    assert row(Organization, world.org.id)["inbound_body_retention_days"] is None


@pytest.mark.parametrize("days", [0, -1, 3651, "30", 1.5])
def test_a_retention_out_of_range_is_refused_naming_the_field(call, world, days):
    answer = _set(call, world.tokens["admin"], sent_body_retention_days=days)
    assert answer.status_code == 422
    assert "sent_body_retention_days" in answer.get_json()["errors"]


@pytest.mark.parametrize("role", ["advisor", "candidate"])
def test_only_admins_set_the_retention(call, world, role):
    assert _set(call, world.tokens[role], sent_body_retention_days=30).status_code == 403


def test_everyone_reads_their_organisations_retention(call, world):
    answer = call("get", "/v1/organization", world.tokens["candidate"])
    assert answer.status_code == 200
    assert answer.get_json()["inbound_body_retention_days"] is None


def test_a_retention_change_is_in_the_audit_trail(call, world):
    _set(call, world.tokens["admin"], sent_body_retention_days=30)
    events = call("get", "/v1/audit-events?action=retention.changed", world.tokens["admin"])
    (event,) = events.get_json()
    assert event["data"]["changes"]["sent_body_retention_days"] == {"from": None, "to": 30}


@pytest.fixture
def aged(world, factory, db, app):
    """A sent touch 40 days old with its outbox file, one sent yesterday, an email heard
    40 days ago and the response it recorded."""
    contact = factory.contact(world.candidate)
    application = factory.application(world.candidate)
    old = factory.touch(contact, application, status="sent", sent_at=now() - timedelta(days=40))
    new = factory.touch(contact, application, status="sent", sent_at=now() - timedelta(days=1))
    outbox = Path(app.config["OUTBOX_DIR"])
    outbox.mkdir(parents=True, exist_ok=True)
    for touch in (old, new):
        (outbox / f"{touch.id}_t@example.org.eml").write_bytes(b"Subject: x\r\n\r\nbody\r\n")
    response = factory.response(
        contact, application, "replied", source="email", text="Thanks!",
        created_at=now() - timedelta(days=40),
    )  # fmt: skip
    mail = InboundMail(
        org_id=world.org.id, candidate_id=world.candidate.id, dedupe_key="<m1@x>",
        source="upload", outcome="recorded", text="Thanks!",
        received_at=now() - timedelta(days=40),
    )  # fmt: skip
    db.add(mail)
    db.commit()
    return old, new, response, mail, outbox


def test_the_worker_removes_sent_bodies_past_the_retention(aged, call, world, make_worker, row):
    old, new, _, _, outbox = aged
    _set(call, world.tokens["admin"], sent_body_retention_days=30)
    make_worker().run_once()
    assert row(Touch, old.id)["body"] is None
    assert row(Touch, old.id)["status"] == "sent"  # the row and its count stay
    assert not list(outbox.glob(f"{old.id}_*.eml"))
    assert row(Touch, new.id)["body"] is not None
    assert list(outbox.glob(f"{new.id}_*.eml"))


def test_the_worker_removes_inbound_texts_past_the_retention(aged, call, world, make_worker, row):
    _, old, response, mail, _ = aged
    _set(call, world.tokens["admin"], inbound_body_retention_days=30)
    make_worker().run_once()
    assert row(InboundMail, mail.id)["text"] is None
    assert row(Response, response.id)["text"] is None
    assert row(Response, response.id)["kind"] == "replied"
    assert row(Touch, old.id)["body"] is not None  # sent bodies: no limit set


def test_without_a_retention_the_worker_keeps_every_text(aged, make_worker, row):
    old, _, _, mail, outbox = aged
    make_worker().run_once()
    assert row(Touch, old.id)["body"] is not None
    assert row(InboundMail, mail.id)["text"] == "Thanks!"
    assert list(outbox.glob(f"{old.id}_*.eml"))
