"""Twilio webhooks, signed with twilio's real RequestValidator against the public URL.

A forged, missing or misdirected signature is 403 and changes nothing; repeated and
out-of-order callbacks are harmless; statuses map onto touches; STOP/START set the SMS
opt-out; a reply by SMS is recorded as a response and stops the sequence (R8).
"""

from __future__ import annotations

from xml.etree import ElementTree

import pytest
from sqlalchemy import select

from api.models import Contact, Response, Touch
from channels.twilio_client import sign_twilio_request
from tests.api.helpers import assert_problem
from tests.webhooks.twilio import (
    CANDIDATE_TOKEN,
    CONTACT_PHONE,
    INBOUND,
    ORG_TOKEN,
    PUBLIC_URL,
    call_params,
    events,
    inbound,
    message,
    signed_post,
    status_path,
    twilio_settings,
)

# -- signatures ----------------------------------------------------------------------------


def test_a_callback_signed_for_the_public_url_is_accepted(client, sms, row):
    response = signed_post(client, status_path(sms.id), message("delivered"))

    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    assert ElementTree.fromstring(response.data).tag == "Response"
    assert row(Touch, sms.id)["status"] == "delivered"


def test_a_forged_signature_is_403_and_changes_nothing(client, sms, snapshot):
    before = snapshot()

    response = signed_post(client, status_path(sms.id), message("delivered"), "not-the-token")

    assert_problem(response, 403)
    assert snapshot() == before


def test_a_missing_signature_is_403_and_changes_nothing(client, sms, snapshot):
    before = snapshot()

    response = client.post(status_path(sms.id), data=message("delivered"))

    assert_problem(response, 403)
    assert snapshot() == before


def test_a_signature_for_another_url_is_refused(client, sms, snapshot):
    before = snapshot()
    path = status_path(sms.id)

    response = signed_post(client, path, message("delivered"), url="http://localhost" + path)

    assert_problem(response, 403)
    assert snapshot() == before


def test_tampered_parameters_break_the_signature(client, sms, row):
    path = status_path(sms.id)
    signature = sign_twilio_request(ORG_TOKEN, PUBLIC_URL + path, message("failed"))

    response = signed_post(client, path, message("delivered"), signature=signature)

    assert_problem(response, 403)
    assert row(Touch, sms.id)["status"] == "sent"


def test_the_query_string_is_part_of_the_signed_url(client, sms, row):
    path = status_path(sms.id) + "?attempt=2"

    response = signed_post(client, path, message("delivered"))

    assert response.status_code == 200
    assert row(Touch, sms.id)["status"] == "delivered"


def test_an_unknown_touch_is_403_because_no_token_can_vouch_for_it(client, sms):
    response = signed_post(client, status_path(987654), message("delivered"))

    assert_problem(response, 403)


def test_without_a_configured_auth_token_every_callback_is_403(client, world, factory, row):
    contact = factory.contact(world.candidate)
    touch = factory.touch(contact, factory.application(world.candidate), channel="sms")

    response = signed_post(client, status_path(touch.id), message("delivered"))

    assert_problem(response, 403)
    assert row(Touch, touch.id)["status"] == "scheduled"


def test_the_candidates_own_twilio_account_signs_their_touches(client, world, factory, sms, row):
    twilio_settings(factory, world.org.id, world.candidate.id, token=CANDIDATE_TOKEN)

    by_org = signed_post(client, status_path(sms.id), message("delivered"), ORG_TOKEN)
    by_candidate = signed_post(client, status_path(sms.id), message("delivered"), CANDIDATE_TOKEN)

    assert_problem(by_org, 403)
    assert by_candidate.status_code == 200
    assert row(Touch, sms.id)["status"] == "delivered"


def test_a_signed_callback_for_a_touch_of_another_channel_is_404(client, sms, factory, world):
    contact = factory.contact(world.candidate)
    email = factory.touch(contact, factory.application(world.candidate), status="sent")

    response = signed_post(client, status_path(email.id), message("delivered"))

    assert_problem(response, 404)


# -- SMS status ----------------------------------------------------------------------------


def test_delivered_marks_the_touch_delivered_with_an_event_by_twilio(client, sms, row, sql):
    signed_post(client, status_path(sms.id), message("delivered"))

    touch = row(Touch, sms.id)
    assert (touch["status"], touch["provider_status"]) == ("delivered", "delivered")
    events = sql("SELECT kind, actor FROM touch_events WHERE touch_id = :t", t=sms.id)
    assert events == [("delivered", "twilio")]


def test_a_repeated_callback_is_harmless(client, sms, row, count):
    for _ in range(3):
        assert signed_post(client, status_path(sms.id), message("delivered")).status_code == 200

    assert row(Touch, sms.id)["status"] == "delivered"
    assert events(count, sms.id) == 1


def test_a_late_sent_never_moves_a_delivered_touch_back(client, sms, row, count):
    signed_post(client, status_path(sms.id), message("delivered"))

    signed_post(client, status_path(sms.id), message("sent"))
    signed_post(client, status_path(sms.id), message("failed", ErrorCode="30008"))

    touch = row(Touch, sms.id)
    assert (touch["status"], touch["provider_status"]) == ("delivered", "delivered")
    assert events(count, sms.id) == 1


def test_undelivered_fails_the_touch_with_the_error_code_as_reason(client, sms, row):
    signed_post(client, status_path(sms.id), message("undelivered", ErrorCode="30003"))

    touch = row(Touch, sms.id)
    assert touch["status"] == "failed"
    assert "twilio:30003" in touch["reason"]


def test_error_21610_marks_the_contact_opted_out_of_sms(client, sms, row):
    signed_post(client, status_path(sms.id), message("failed", ErrorCode="21610"))

    assert row(Touch, sms.id)["status"] == "failed"
    assert row(Contact, sms.contact_id)["sms_opted_out"] is True


def test_intermediate_statuses_only_note_the_provider_status(client, sms, row, count):
    signed_post(client, status_path(sms.id), message("sending"))

    touch = row(Touch, sms.id)
    assert (touch["status"], touch["provider_status"]) == ("sent", "sending")
    assert events(count, sms.id, "provider_status") == 1


def test_an_unknown_touch_settles_with_the_providers_word(client, sms, db, row):
    db.get(Touch, sms.id).status = "unknown"
    db.get(Touch, sms.id).provider_id = None
    db.commit()

    signed_post(client, status_path(sms.id), message("sent"))
    assert row(Touch, sms.id)["status"] == "sent"
    assert row(Touch, sms.id)["provider_id"] == "SM" + "1" * 32

    signed_post(client, status_path(sms.id), message("delivered"))
    assert row(Touch, sms.id)["status"] == "delivered"


# -- the call bridge -----------------------------------------------------------------------


def test_the_bridge_briefs_the_candidate_then_dials_the_contact_as_the_candidate(
    client, world, call_touch
):
    path = f"/v1/webhooks/twilio/calls/{call_touch.id}/twiml"

    response = signed_post(client, path, call_params(AnsweredBy="human"))

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

    response = signed_post(client, path, call_params(AnsweredBy="machine_start"))

    root = ElementTree.fromstring(response.data)
    assert root.find("Hangup") is not None and root.find("Dial") is None


def test_the_bridge_refuses_a_forged_request(client, call_touch):
    path = f"/v1/webhooks/twilio/calls/{call_touch.id}/twiml"

    assert_problem(signed_post(client, path, call_params(), "forged"), 403)


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

    response = signed_post(client, path, call_params(CallStatus=call_status))

    assert response.status_code == 200
    touch = row(Touch, call_touch.id)
    assert (touch["status"], touch["provider_status"]) == (touch_status, call_status)
    if touch_status == "failed":
        assert call_status in touch["reason"]


def test_the_contacts_leg_decides_and_the_later_completed_cannot_undo_it(
    client, call_touch, row, count
):
    path = f"/v1/webhooks/twilio/calls/{call_touch.id}/status"

    signed_post(client, path, call_params(DialCallStatus="no-answer"))
    signed_post(client, path, call_params(CallStatus="completed"))
    signed_post(client, path, call_params(CallStatus="completed"))

    touch = row(Touch, call_touch.id)
    assert touch["status"] == "failed"
    assert "no-answer" in touch["reason"]
    assert events(count, call_touch.id, "failed") == 1


def test_a_voicemail_on_the_candidates_phone_fails_the_call(client, call_touch, row):
    path = f"/v1/webhooks/twilio/calls/{call_touch.id}/status"

    signed_post(client, path, call_params(CallStatus="completed", AnsweredBy="machine_end_beep"))

    assert row(Touch, call_touch.id)["status"] == "failed"
    assert "voicemail" in row(Touch, call_touch.id)["reason"]


# -- inbound SMS ---------------------------------------------------------------------------


@pytest.mark.parametrize("word", ["STOP", "stop", "Unsubscribe", "QUIT.", "stopall"])
def test_stop_opts_every_contact_with_that_phone_out_of_sms(client, same_phone, row, word):
    mine, theirs, elsewhere = same_phone

    response = signed_post(client, INBOUND, inbound(word))

    assert response.status_code == 200
    assert ElementTree.fromstring(response.data).tag == "Response"
    assert row(Contact, mine.id)["sms_opted_out"] is True
    assert row(Contact, theirs.id)["sms_opted_out"] is True
    assert row(Contact, elsewhere.id)["sms_opted_out"] is False


def test_start_opts_them_back_in(client, same_phone, row):
    mine, _, _ = same_phone
    signed_post(client, INBOUND, inbound("STOP"))

    signed_post(client, INBOUND, inbound("START", MessageSid="SM" + "8" * 32))

    assert row(Contact, mine.id)["sms_opted_out"] is False


def test_an_inbound_sms_with_a_forged_signature_changes_nothing(client, same_phone, snapshot):
    before = snapshot()

    response = signed_post(client, INBOUND, inbound("STOP"), "forged")

    assert_problem(response, 403)
    assert snapshot() == before


def test_the_signature_must_come_from_the_account_of_the_number_written_to(client, same_phone, row):
    mine, _, _ = same_phone

    response = signed_post(client, INBOUND, inbound("STOP"), "other-org-token")

    assert_problem(response, 403)
    assert row(Contact, mine.id)["sms_opted_out"] is False


def test_a_message_from_an_unknown_number_is_accepted_and_ignored(client, same_phone, snapshot):
    before = snapshot()

    response = signed_post(client, INBOUND, inbound("Hello?", sender="+14155550999"))

    assert response.status_code == 200
    after = snapshot()
    # Only its SID is logged, so that a replay once the number is a contact's does nothing.
    assert [r[1] for r in after.pop("inbound_messages")] == [inbound("")["MessageSid"]]
    before.pop("inbound_messages")
    assert after == before


def test_a_reply_is_recorded_as_a_response_and_stops_the_sequence(
    client, conversation, engine_of, row
):
    dana, application, follow_up = conversation

    response = signed_post(client, INBOUND, inbound("Thanks Ana, great to meet you too."))

    assert response.status_code == 200
    with engine_of.connect() as conn:
        replies = conn.execute(select(Response.__table__)).mappings().all()
    assert len(replies) == 1
    reply = replies[0]
    assert (reply["contact_id"], reply["application_id"]) == (dana.id, application.id)
    assert (reply["kind"], reply["channel"]) == ("replied", "sms")
    assert "great to meet you" in reply["text"]
    assert row(Touch, follow_up.id)["status"] == "cancelled"
    assert row(Touch, follow_up.id)["rule"] == "R8"


def test_a_reply_by_sms_records_where_it_came_from_and_what_the_classifier_said(
    client, conversation, engine_of
):
    params = inbound("Hi Ana, unfortunately we went with another candidate.")

    signed_post(client, INBOUND, params)

    with engine_of.connect() as conn:
        reply = conn.execute(select(Response.__table__)).mappings().one()
    assert (reply["source"], reply["message_id"]) == ("sms", params["MessageSid"])
    assert reply["text"] == "Hi Ana, unfortunately we went with another candidate."
    assert (reply["classified_as"], reply["kind"]) == ("rejected", "rejected")
    assert 0 < reply["confidence"] <= 1
    assert (reply["note"], reply["inbound_id"]) == (None, None)


def test_a_rejection_by_sms_is_recorded_as_one_with_its_date(client, conversation, engine_of, row):
    _, application, follow_up = conversation
    text = (
        "Hi Ana, unfortunately we went with another candidate. We will decide on the "
        "other openings by December 15."
    )

    assert signed_post(client, INBOUND, inbound(text)).status_code == 200

    with engine_of.connect() as conn:
        reply = conn.execute(select(Response.__table__)).mappings().one()
    assert (reply["kind"], reply["channel"]) == ("rejected", "sms")
    assert (reply["decision_date"].month, reply["decision_date"].day) == (12, 15)
    assert row(type(application), application.id)["status"] == "rejected"
    assert (row(Touch, follow_up.id)["status"], row(Touch, follow_up.id)["rule"]) == (
        "cancelled",
        "R9",
    )


def test_the_same_inbound_message_twice_is_recorded_once(client, conversation, count):
    for _ in range(2):
        assert signed_post(client, INBOUND, inbound("Thanks!")).status_code == 200

    assert count(Response) == 1
