"""Twilio webhooks, signed with twilio's real RequestValidator against the public URL.

A forged, missing or misdirected signature is 403 and changes nothing; repeated and
out-of-order callbacks are harmless; statuses map onto touches; STOP/START set the SMS
opt-out; a reply by SMS is recorded as a response and stops the sequence (R8).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

import pytest
from sqlalchemy import select

from api.models import ChannelSetting, Contact, Response, Touch, TouchEvent, utcnow
from channels.twilio_client import sign_twilio_request
from tests.api.helpers import assert_problem

PUBLIC_URL = "http://127.0.0.1:8000"  # the app fixture's PUBLIC_URL
ORG_TOKEN = "org-auth-token-0123456789abcdef"
CANDIDATE_TOKEN = "candidate-auth-token-fedcba9876543210"
ACCOUNT_SID = "AC" + "ab" * 16
TWILIO_NUMBER = "+15005550006"
CONTACT_PHONE = "+14155550100"


def signed_post(client, path, params, token=ORG_TOKEN, *, url=None, signature=None):
    """POST `params` as Twilio does, signed for `url` (default: the public URL of `path`)."""
    if signature is None:
        signature = sign_twilio_request(token, url or PUBLIC_URL + path, params)
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature})


def _settings(factory, org_id, candidate_id=None, token=ORG_TOKEN, **extra):
    for channel in ("sms", "call"):
        values = {"account_sid": ACCOUNT_SID, "auth_token": token, "from_number": TWILIO_NUMBER}
        values.update(extra)
        factory.s.add(
            ChannelSetting(org_id=org_id, candidate_id=candidate_id, channel=channel, values=values)
        )
    factory.s.commit()


@pytest.fixture
def sms(world, factory):
    """The org's Twilio account, and an SMS thank-you handed to Twilio (status queued)."""
    _settings(factory, world.org.id)
    contact = factory.contact(world.candidate, name="Dana Jones", phone=CONTACT_PHONE)
    application = factory.application(world.candidate)
    touch = factory.touch(
        contact,
        application,
        channel="sms",
        status="sent",
        subject=None,
        sent_at=datetime(2026, 11, 18, 15, 0, tzinfo=UTC),
        provider_id="SM" + "1" * 32,
        provider_status="queued",
    )
    return touch


def _status_path(touch_id: int) -> str:
    return f"/v1/webhooks/twilio/messages/{touch_id}/status"


def _message(status: str, **extra) -> dict[str, str]:
    params = {
        "AccountSid": ACCOUNT_SID,
        "MessageSid": "SM" + "1" * 32,
        "MessageStatus": status,
        "To": CONTACT_PHONE,
        "From": TWILIO_NUMBER,
    }
    params.update(extra)
    return params


def _events(count, touch_id, kind=None):
    return count(TouchEvent, touch_id=touch_id, **({"kind": kind} if kind else {}))


# -- signatures ----------------------------------------------------------------------------


def test_a_callback_signed_for_the_public_url_is_accepted(client, sms, row):
    response = signed_post(client, _status_path(sms.id), _message("delivered"))

    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    assert ElementTree.fromstring(response.data).tag == "Response"
    assert row(Touch, sms.id)["status"] == "delivered"


def test_a_forged_signature_is_403_and_changes_nothing(client, sms, snapshot):
    before = snapshot()

    response = signed_post(client, _status_path(sms.id), _message("delivered"), "not-the-token")

    assert_problem(response, 403)
    assert snapshot() == before


def test_a_missing_signature_is_403_and_changes_nothing(client, sms, snapshot):
    before = snapshot()

    response = client.post(_status_path(sms.id), data=_message("delivered"))

    assert_problem(response, 403)
    assert snapshot() == before


def test_a_signature_for_another_url_is_refused(client, sms, snapshot):
    before = snapshot()
    path = _status_path(sms.id)

    response = signed_post(client, path, _message("delivered"), url="http://localhost" + path)

    assert_problem(response, 403)
    assert snapshot() == before


def test_tampered_parameters_break_the_signature(client, sms, row):
    path = _status_path(sms.id)
    signature = sign_twilio_request(ORG_TOKEN, PUBLIC_URL + path, _message("failed"))

    response = signed_post(client, path, _message("delivered"), signature=signature)

    assert_problem(response, 403)
    assert row(Touch, sms.id)["status"] == "sent"


def test_the_query_string_is_part_of_the_signed_url(client, sms, row):
    path = _status_path(sms.id) + "?attempt=2"

    response = signed_post(client, path, _message("delivered"))

    assert response.status_code == 200
    assert row(Touch, sms.id)["status"] == "delivered"


def test_an_unknown_touch_is_403_because_no_token_can_vouch_for_it(client, sms):
    response = signed_post(client, _status_path(987654), _message("delivered"))

    assert_problem(response, 403)


def test_without_a_configured_auth_token_every_callback_is_403(client, world, factory, row):
    contact = factory.contact(world.candidate)
    touch = factory.touch(contact, factory.application(world.candidate), channel="sms")

    response = signed_post(client, _status_path(touch.id), _message("delivered"))

    assert_problem(response, 403)
    assert row(Touch, touch.id)["status"] == "scheduled"


def test_the_candidates_own_twilio_account_signs_their_touches(client, world, factory, sms, row):
    _settings(factory, world.org.id, world.candidate.id, token=CANDIDATE_TOKEN)

    by_org = signed_post(client, _status_path(sms.id), _message("delivered"), ORG_TOKEN)
    by_candidate = signed_post(client, _status_path(sms.id), _message("delivered"), CANDIDATE_TOKEN)

    assert_problem(by_org, 403)
    assert by_candidate.status_code == 200
    assert row(Touch, sms.id)["status"] == "delivered"


def test_a_signed_callback_for_a_touch_of_another_channel_is_404(client, sms, factory, world):
    contact = factory.contact(world.candidate)
    email = factory.touch(contact, factory.application(world.candidate), status="sent")

    response = signed_post(client, _status_path(email.id), _message("delivered"))

    assert_problem(response, 404)


# -- SMS status ----------------------------------------------------------------------------


def test_delivered_marks_the_touch_delivered_with_an_event_by_twilio(client, sms, row, sql):
    signed_post(client, _status_path(sms.id), _message("delivered"))

    touch = row(Touch, sms.id)
    assert (touch["status"], touch["provider_status"]) == ("delivered", "delivered")
    events = sql("SELECT kind, actor FROM touch_events WHERE touch_id = :t", t=sms.id)
    assert events == [("delivered", "twilio")]


def test_a_repeated_callback_is_harmless(client, sms, row, count):
    for _ in range(3):
        assert signed_post(client, _status_path(sms.id), _message("delivered")).status_code == 200

    assert row(Touch, sms.id)["status"] == "delivered"
    assert _events(count, sms.id) == 1


def test_a_late_sent_never_moves_a_delivered_touch_back(client, sms, row, count):
    signed_post(client, _status_path(sms.id), _message("delivered"))

    signed_post(client, _status_path(sms.id), _message("sent"))
    signed_post(client, _status_path(sms.id), _message("failed", ErrorCode="30008"))

    touch = row(Touch, sms.id)
    assert (touch["status"], touch["provider_status"]) == ("delivered", "delivered")
    assert _events(count, sms.id) == 1


def test_undelivered_fails_the_touch_with_the_error_code_as_reason(client, sms, row):
    signed_post(client, _status_path(sms.id), _message("undelivered", ErrorCode="30003"))

    touch = row(Touch, sms.id)
    assert touch["status"] == "failed"
    assert "twilio:30003" in touch["reason"]


def test_error_21610_marks_the_contact_opted_out_of_sms(client, sms, row):
    signed_post(client, _status_path(sms.id), _message("failed", ErrorCode="21610"))

    assert row(Touch, sms.id)["status"] == "failed"
    assert row(Contact, sms.contact_id)["sms_opted_out"] is True


def test_intermediate_statuses_only_note_the_provider_status(client, sms, row, count):
    signed_post(client, _status_path(sms.id), _message("sending"))

    touch = row(Touch, sms.id)
    assert (touch["status"], touch["provider_status"]) == ("sent", "sending")
    assert _events(count, sms.id, "provider_status") == 1


def test_an_unknown_touch_settles_with_the_providers_word(client, sms, db, row):
    db.get(Touch, sms.id).status = "unknown"
    db.get(Touch, sms.id).provider_id = None
    db.commit()

    signed_post(client, _status_path(sms.id), _message("sent"))
    assert row(Touch, sms.id)["status"] == "sent"
    assert row(Touch, sms.id)["provider_id"] == "SM" + "1" * 32

    signed_post(client, _status_path(sms.id), _message("delivered"))
    assert row(Touch, sms.id)["status"] == "delivered"


# -- the call bridge -----------------------------------------------------------------------


@pytest.fixture
def call_touch(world, factory):
    _settings(factory, world.org.id, ring_timeout=25)
    contact = factory.contact(world.candidate, name="Dana Jones", phone=CONTACT_PHONE)
    application = factory.application(world.candidate, company="Acme Corp", position="Analyst")
    return factory.touch(
        contact,
        application,
        step="call",
        channel="call",
        status="sent",
        subject=None,
        provider_id="CA" + "2" * 32,
    )


def _call_params(**extra) -> dict[str, str]:
    params = {"AccountSid": ACCOUNT_SID, "CallSid": "CA" + "2" * 32, "CallStatus": "in-progress"}
    params.update(extra)
    return params


def test_the_bridge_briefs_the_candidate_then_dials_the_contact_as_the_candidate(
    client, world, call_touch
):
    path = f"/v1/webhooks/twilio/calls/{call_touch.id}/twiml"

    response = signed_post(client, path, _call_params(AnsweredBy="human"))

    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    root = ElementTree.fromstring(response.data)
    assert "Dana Jones" in root.find("Say").text and "Analyst" in root.find("Say").text
    dial = root.find("Dial")
    assert dial.get("callerId") == world.candidate.phone
    assert dial.get("timeout") == "25"
    assert dial.get("action") == f"{PUBLIC_URL}/v1/webhooks/twilio/calls/{call_touch.id}/status"
    assert dial.find("Number").text == CONTACT_PHONE


def test_the_bridge_hangs_up_when_a_machine_answers(client, call_touch):
    path = f"/v1/webhooks/twilio/calls/{call_touch.id}/twiml"

    response = signed_post(client, path, _call_params(AnsweredBy="machine_start"))

    root = ElementTree.fromstring(response.data)
    assert root.find("Hangup") is not None and root.find("Dial") is None


def test_the_bridge_refuses_a_forged_request(client, call_touch):
    path = f"/v1/webhooks/twilio/calls/{call_touch.id}/twiml"

    assert_problem(signed_post(client, path, _call_params(), "forged"), 403)


@pytest.mark.parametrize(
    ("call_status", "touch_status"),
    [
        ("completed", "delivered"),
        ("no-answer", "failed"),
        ("busy", "failed"),
        ("failed", "failed"),
        ("canceled", "failed"),
    ],
)
def test_call_statuses_map_onto_the_touch(client, call_touch, row, call_status, touch_status):
    path = f"/v1/webhooks/twilio/calls/{call_touch.id}/status"

    response = signed_post(client, path, _call_params(CallStatus=call_status))

    assert response.status_code == 200
    touch = row(Touch, call_touch.id)
    assert (touch["status"], touch["provider_status"]) == (touch_status, call_status)
    if touch_status == "failed":
        assert call_status in touch["reason"]


def test_the_contacts_leg_decides_and_the_later_completed_cannot_undo_it(
    client, call_touch, row, count
):
    path = f"/v1/webhooks/twilio/calls/{call_touch.id}/status"

    signed_post(client, path, _call_params(DialCallStatus="no-answer"))
    signed_post(client, path, _call_params(CallStatus="completed"))
    signed_post(client, path, _call_params(CallStatus="completed"))

    touch = row(Touch, call_touch.id)
    assert touch["status"] == "failed"
    assert "no-answer" in touch["reason"]
    assert _events(count, call_touch.id, "failed") == 1


def test_a_voicemail_on_the_candidates_phone_fails_the_call(client, call_touch, row):
    path = f"/v1/webhooks/twilio/calls/{call_touch.id}/status"

    signed_post(client, path, _call_params(CallStatus="completed", AnsweredBy="machine_end_beep"))

    assert row(Touch, call_touch.id)["status"] == "failed"
    assert "voicemail" in row(Touch, call_touch.id)["reason"]


# -- inbound SMS ---------------------------------------------------------------------------

INBOUND = "/v1/webhooks/twilio/sms/inbound"


def _inbound(body: str, sender: str = CONTACT_PHONE, **extra) -> dict[str, str]:
    params = {
        "AccountSid": ACCOUNT_SID,
        "MessageSid": "SM" + "9" * 32,
        "From": sender,
        "To": TWILIO_NUMBER,
        "Body": body,
    }
    params.update(extra)
    return params


@pytest.fixture
def same_phone(world, factory):
    """Two contacts with one phone in the org; one with it in another org (other number)."""
    _settings(factory, world.org.id)
    _settings(factory, world.other_org.id, token="other-org-token", from_number="+15005550009")
    mine = factory.contact(world.candidate, phone=CONTACT_PHONE)
    theirs = factory.contact(world.other_candidate, phone=CONTACT_PHONE)
    elsewhere = factory.contact(world.stranger, phone=CONTACT_PHONE)
    return mine, theirs, elsewhere


@pytest.mark.parametrize("word", ["STOP", "stop", "Unsubscribe", "QUIT.", "stopall"])
def test_stop_opts_every_contact_with_that_phone_out_of_sms(client, same_phone, row, word):
    mine, theirs, elsewhere = same_phone

    response = signed_post(client, INBOUND, _inbound(word))

    assert response.status_code == 200
    assert ElementTree.fromstring(response.data).tag == "Response"
    assert row(Contact, mine.id)["sms_opted_out"] is True
    assert row(Contact, theirs.id)["sms_opted_out"] is True
    assert row(Contact, elsewhere.id)["sms_opted_out"] is False


def test_start_opts_them_back_in(client, same_phone, row):
    mine, _, _ = same_phone
    signed_post(client, INBOUND, _inbound("STOP"))

    signed_post(client, INBOUND, _inbound("START", MessageSid="SM" + "8" * 32))

    assert row(Contact, mine.id)["sms_opted_out"] is False


def test_an_inbound_sms_with_a_forged_signature_changes_nothing(client, same_phone, snapshot):
    before = snapshot()

    response = signed_post(client, INBOUND, _inbound("STOP"), "forged")

    assert_problem(response, 403)
    assert snapshot() == before


def test_the_signature_must_come_from_the_account_of_the_number_written_to(client, same_phone, row):
    mine, _, _ = same_phone

    response = signed_post(client, INBOUND, _inbound("STOP"), "other-org-token")

    assert_problem(response, 403)
    assert row(Contact, mine.id)["sms_opted_out"] is False


def test_a_message_from_an_unknown_number_is_accepted_and_ignored(client, same_phone, snapshot):
    before = snapshot()

    response = signed_post(client, INBOUND, _inbound("Hello?", sender="+14155550999"))

    assert response.status_code == 200
    assert snapshot() == before


@pytest.fixture
def conversation(world, factory, db):
    """The candidate texted Dana; a follow-up to Dana is scheduled for next week."""
    _settings(factory, world.org.id)
    dana = factory.contact(world.candidate, name="Dana Jones", phone=CONTACT_PHONE)
    application = factory.application(world.candidate)
    factory.interview(application, [dana], starts_at=utcnow() - timedelta(days=3))
    factory.touch(dana, application, channel="sms", status="delivered", sent_at=utcnow())
    follow_up = factory.touch(
        dana,
        application,
        step="follow_up",
        scheduled_for=utcnow() + timedelta(days=7),
        message_id="<f@example.org>",
    )
    return dana, application, follow_up


def test_a_reply_is_recorded_as_a_response_and_stops_the_sequence(
    client, conversation, engine_of, row
):
    dana, application, follow_up = conversation

    response = signed_post(client, INBOUND, _inbound("Thanks, we will decide on Friday."))

    assert response.status_code == 200
    with engine_of.connect() as conn:
        replies = conn.execute(select(Response.__table__)).mappings().all()
    assert len(replies) == 1
    reply = replies[0]
    assert (reply["contact_id"], reply["application_id"]) == (dana.id, application.id)
    assert (reply["kind"], reply["channel"]) == ("replied", "sms")
    assert "decide on Friday" in reply["note"]
    assert row(Touch, follow_up.id)["status"] == "cancelled"
    assert row(Touch, follow_up.id)["rule"] == "R8"


def test_the_same_inbound_message_twice_is_recorded_once(client, conversation, count):
    for _ in range(2):
        assert signed_post(client, INBOUND, _inbound("Thanks!")).status_code == 200

    assert count(Response) == 1
