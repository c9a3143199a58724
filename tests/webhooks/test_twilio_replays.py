"""Replays and stray callbacks, signed with twilio's real RequestValidator.

A status callback moves only a touch handed to Twilio, and only as the message (or call)
it was handed over as; a touch still sending or unknown, with no provider id yet, learns
it from the first callback. Each inbound SMS acts once, keyed by its MessageSid, and
STOP/START never undo a later one. Any of these answers 200 and changes nothing.
"""

from __future__ import annotations

from datetime import timedelta
from xml.etree import ElementTree

import pytest

from api.models import Contact, Response, Touch, utcnow
from tests.api.helpers import assert_problem
from tests.webhooks.twilio import (
    CALL_SID,
    CONTACT_PHONE,
    INBOUND,
    MESSAGE_SID,
    call_params,
    call_path,
    events,
    inbound,
    message,
    signed_post,
    status_path,
    twilio_settings,
)

OTHER_SID = "SM" + "7" * 32
STOP_SID = "SM" + "a" * 32
START_SID = "SM" + "b" * 32


@pytest.fixture
def next_week(world, factory):
    """An SMS follow-up scheduled for next week, never handed to Twilio."""
    twilio_settings(factory, world.org.id)
    contact = factory.contact(world.candidate, phone=CONTACT_PHONE)
    return factory.touch(
        contact,
        factory.application(world.candidate),
        step="follow_up",
        channel="sms",
        subject=None,
        scheduled_for=utcnow() + timedelta(days=7),
    )


@pytest.fixture
def dana(sms, db):
    """The contact of the `sms` fixture's touch."""
    contact = db.get(Contact, sms.contact_id)
    db.commit()  # end the read: on SQLite an open transaction holds the write lock
    return contact


def _with_status(db, touch, **values):
    row = db.get(Touch, touch.id)
    for name, value in values.items():
        setattr(row, name, value)
    db.commit()


# -- SMS status callbacks ------------------------------------------------------------------


def test_a_callback_for_a_touch_never_sent_changes_nothing(client, next_week, snapshot):
    before = snapshot()

    for status in ("sent", "delivered"):
        response = signed_post(client, status_path(next_week.id), message(status))
        assert response.status_code == 200
        assert ElementTree.fromstring(response.data).tag == "Response"

    assert snapshot() == before


def test_a_callback_about_another_message_changes_nothing(client, sms, snapshot):
    before = snapshot()

    response = signed_post(client, status_path(sms.id), message("delivered", MessageSid=OTHER_SID))

    assert response.status_code == 200
    assert snapshot() == before


def test_a_callback_for_a_manual_touch_changes_nothing(client, sms, db, snapshot):
    _with_status(db, sms, automated=False, provider_id=None, provider_status=None)
    before = snapshot()

    response = signed_post(client, status_path(sms.id), message("failed", ErrorCode="21610"))

    assert response.status_code == 200
    assert snapshot() == before


@pytest.mark.parametrize("status", ["sending", "unknown"])
def test_a_touch_with_no_provider_id_yet_learns_it_from_the_first_callback(
    client, sms, db, row, count, status
):
    _with_status(db, sms, status=status, provider_id=None, provider_status=None, sent_at=None)

    signed_post(client, status_path(sms.id), message("queued"))
    signed_post(client, status_path(sms.id), message("delivered", MessageSid=OTHER_SID))

    touch = row(Touch, sms.id)
    assert (touch["status"], touch["provider_id"]) == (status, MESSAGE_SID)
    assert touch["provider_status"] == "queued"
    assert events(count, sms.id, "provider_status") == 1


def test_the_sid_learned_is_in_the_touchs_history(client, sms, db, sql):
    _with_status(db, sms, status="unknown", provider_id=None, provider_status="queued")

    signed_post(client, status_path(sms.id), message("queued"))

    kinds = sql("SELECT kind, data FROM touch_events WHERE touch_id = :t", t=sms.id)
    assert len(kinds) == 1 and kinds[0][0] == "provider_status"
    assert MESSAGE_SID in str(kinds[0][1])


def test_a_status_callback_without_a_message_sid_is_422_naming_it(client, sms, snapshot):
    before = snapshot()
    params = message("delivered")
    del params["MessageSid"]

    response = signed_post(client, status_path(sms.id), params)

    assert_problem(response, 422, "MessageSid")
    assert snapshot() == before


# -- opt-outs from status callbacks (21610) ----------------------------------------------


def test_a_replayed_21610_does_not_undo_a_later_start(client, sms, row):
    failed = message("failed", ErrorCode="21610")
    signed_post(client, status_path(sms.id), failed)
    signed_post(client, INBOUND, inbound("START", MessageSid=START_SID))

    response = signed_post(client, status_path(sms.id), failed)

    assert response.status_code == 200
    assert row(Contact, sms.contact_id)["sms_opted_out"] is False


def test_a_late_21610_for_an_sms_sent_before_a_start_keeps_the_opt_in(client, sms, row, count):
    signed_post(client, INBOUND, inbound("STOP", MessageSid=STOP_SID))
    signed_post(client, INBOUND, inbound("START", MessageSid=START_SID))

    signed_post(client, status_path(sms.id), message("failed", ErrorCode="21610"))

    assert row(Touch, sms.id)["status"] == "failed"
    assert row(Contact, sms.contact_id)["sms_opted_out"] is False
    assert row(Contact, sms.contact_id)["sms_opt_source"] == START_SID
    assert events(count, sms.id, "opted_out") == 0


def test_a_21610_records_the_refused_touch_as_the_source(client, sms, row):
    signed_post(client, status_path(sms.id), message("failed", ErrorCode="21610"))

    contact = row(Contact, sms.contact_id)
    assert contact["sms_opted_out"] is True
    assert contact["sms_opt_source"] == f"touch:{sms.id}"
    assert contact["sms_opt_changed_at"] is not None


# -- calls -----------------------------------------------------------------------------------


@pytest.fixture
def scheduled_call(call_touch, db):
    _with_status(db, call_touch, status="scheduled", provider_id=None, sent_at=None)
    return call_touch


def test_a_call_callback_for_a_call_never_placed_changes_nothing(client, scheduled_call, snapshot):
    before = snapshot()

    for status in ("in-progress", "completed"):
        response = signed_post(client, call_path(scheduled_call.id), call_params(CallStatus=status))
        assert response.status_code == 200

    assert snapshot() == before


def test_a_call_callback_about_another_call_changes_nothing(client, call_touch, snapshot):
    before = snapshot()

    params = call_params(CallSid="CA" + "3" * 32, CallStatus="completed")
    response = signed_post(client, call_path(call_touch.id), params)

    assert response.status_code == 200
    assert snapshot() == before


def test_the_bridge_hangs_up_on_a_call_it_did_not_place(client, call_touch):
    params = call_params(CallSid="CA" + "3" * 32, AnsweredBy="human")

    response = signed_post(client, call_path(call_touch.id, "twiml"), params)

    assert response.status_code == 200
    root = ElementTree.fromstring(response.data)
    assert root.find("Dial") is None and root.find("Hangup") is not None


def test_the_bridge_dials_for_a_call_whose_sid_is_not_written_down_yet(client, call_touch, db):
    _with_status(db, call_touch, status="sending", provider_id=None)

    response = signed_post(client, call_path(call_touch.id, "twiml"), call_params())

    assert ElementTree.fromstring(response.data).find("Dial") is not None


def test_an_unknown_call_learns_its_sid_and_settles(client, call_touch, db, row):
    _with_status(db, call_touch, status="unknown", provider_id=None)

    signed_post(client, call_path(call_touch.id), call_params(CallStatus="completed"))

    touch = row(Touch, call_touch.id)
    assert (touch["status"], touch["provider_id"]) == ("delivered", CALL_SID)


@pytest.mark.parametrize("what", ["status", "twiml"])
def test_a_call_request_without_a_call_sid_is_422_naming_it(client, call_touch, snapshot, what):
    before = snapshot()
    params = call_params()
    del params["CallSid"]

    response = signed_post(client, call_path(call_touch.id, what), params)

    assert_problem(response, 422, "CallSid")
    assert snapshot() == before


# -- inbound SMS ---------------------------------------------------------------------------


def test_an_inbound_sms_without_a_message_sid_is_422_naming_it(client, conversation, snapshot):
    before = snapshot()
    params = inbound("Thanks, we will decide on Friday.")
    del params["MessageSid"]

    for _ in range(2):
        assert_problem(signed_post(client, INBOUND, params), 422, "MessageSid")

    assert snapshot() == before


def test_a_replayed_stop_does_not_undo_a_later_start(client, dana, row):
    stop = inbound("STOP", MessageSid=STOP_SID)
    signed_post(client, INBOUND, stop)
    signed_post(client, INBOUND, inbound("START", MessageSid=START_SID))

    response = signed_post(client, INBOUND, stop)

    assert response.status_code == 200
    assert row(Contact, dana.id)["sms_opted_out"] is False


def test_a_replayed_start_does_not_undo_a_later_stop(client, dana, row):
    start = inbound("START", MessageSid=START_SID)
    signed_post(client, INBOUND, start)
    signed_post(client, INBOUND, inbound("STOP", MessageSid=STOP_SID))

    response = signed_post(client, INBOUND, start)

    assert response.status_code == 200
    assert row(Contact, dana.id)["sms_opted_out"] is True


def test_a_replayed_reply_makes_no_second_response_and_changes_nothing(
    client, conversation, snapshot, count
):
    reply = inbound("Thanks, we will decide on Friday.")
    signed_post(client, INBOUND, reply)
    before = snapshot()

    response = signed_post(client, INBOUND, reply)

    assert response.status_code == 200
    assert snapshot() == before
    assert count(Response) == 1


def test_the_contact_records_which_sid_set_its_opt_out_and_when(client, dana, world, call):
    signed_post(client, INBOUND, inbound("STOP", MessageSid=STOP_SID))

    shown = call("GET", f"/v1/contacts/{dana.id}", world.tokens["candidate"]).get_json()

    assert shown["sms_opted_out"] is True
    assert shown["sms_opt_source"] == STOP_SID
    assert shown["sms_opt_changed_at"] is not None


def test_each_inbound_message_is_logged_once_with_what_it_was(client, dana, sql):
    signed_post(client, INBOUND, inbound("STOP", MessageSid=STOP_SID))
    signed_post(client, INBOUND, inbound("STOP", MessageSid=STOP_SID))
    signed_post(client, INBOUND, inbound("Thanks!", MessageSid=OTHER_SID))

    assert sql("SELECT sid, kind FROM inbound_messages ORDER BY id") == [
        (STOP_SID, "opt_out"),
        (OTHER_SID, "reply"),
    ]
