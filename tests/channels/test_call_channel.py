"""The call channel: the Twilio click-to-call bridge, its TwiML, and the call script."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from datetime import date

import pytest

from channels import Failed, RetryLater, Sent
from channels.call import (
    CallChannel,
    bridge_twiml,
    hangup_twiml,
    render_call_brief,
    render_call_script,
    touch_status_for_call,
    twiml_for_answer,
)

channel = CallChannel()
CONTACT, CANDIDATE = "+14155550100", "+14155550123"


def send(message, raw_settings):
    return channel.send(message, channel.load_settings(raw_settings))


# --------------------------------------------------------------------------- placing the call


def test_twilio_first_calls_the_candidate_with_our_twiml_url(twilio_peer, call_message):
    result = send(call_message, twilio_peer.settings())

    assert isinstance(result, Sent)
    [request] = twilio_peer.calls
    assert request.path == f"/2010-04-01/Accounts/{twilio_peer.account_sid}/Calls.json"
    assert request.form["To"] == CANDIDATE
    assert request.form["From"] == "+15005550006"
    assert request.form["Url"] == "https://touchbase.test/v1/twiml/call/303"
    assert request.form["Method"] == "POST"


def test_call_progress_is_reported_to_the_status_callback(twilio_peer, call_message):
    send(call_message, twilio_peer.settings())

    request = twilio_peer.calls[0]
    assert request.form["StatusCallback"] == "https://touchbase.test/v1/callbacks/twilio/call/303"
    assert request.form_lists["StatusCallbackEvent"] == [
        "initiated",
        "ringing",
        "answered",
        "completed",
    ]


def test_voicemail_detection_is_on_by_default_and_can_be_turned_off(twilio_peer, call_message):
    send(call_message, twilio_peer.settings())
    send(call_message, twilio_peer.settings(detect_voicemail=False))

    first, second = twilio_peer.calls
    assert first.form["MachineDetection"] == "Enable"
    assert "MachineDetection" not in second.form


def test_the_provider_id_is_the_call_sid(twilio_peer, call_message):
    result = send(call_message, twilio_peer.settings())

    assert result.provider_id.startswith("CA") and len(result.provider_id) == 34
    assert result.info == {"status": "queued", "called": CANDIDATE}


def test_a_message_without_twiml_url_is_refused_before_calling(twilio_peer, call_message):
    result = send(dataclasses.replace(call_message, metadata={}), twilio_peer.settings())

    assert isinstance(result, Failed) and result.code == "invalid_message"
    assert twilio_peer.requests == []


def test_a_message_without_candidate_phone_is_refused(twilio_peer, call_message):
    result = send(dataclasses.replace(call_message, candidate_phone=None), twilio_peer.settings())

    assert isinstance(result, Failed) and "candidate_phone" in result.reason
    assert twilio_peer.requests == []


def test_an_invalid_candidate_number_at_twilio_fails_without_opting_the_contact_out(
    twilio_peer, call_message
):
    twilio_peer.fail_next(21211)

    result = send(call_message, twilio_peer.settings())

    assert isinstance(result, Failed)
    assert result.code == "twilio:21211"
    assert result.opt_out is False
    assert result.reason.startswith("calling the candidate")


def test_a_twilio_server_error_means_retry_later(twilio_peer, call_message):
    twilio_peer.fail_next(20500, resource="Calls")

    assert isinstance(send(call_message, twilio_peer.settings()), RetryLater)


# --------------------------------------------------------------------------- TwiML


def parse(twiml: str) -> ET.Element:
    root = ET.fromstring(twiml)
    assert root.tag == "Response"
    return root


def test_the_bridge_says_the_brief_then_dials_the_contact_as_the_candidate():
    root = parse(bridge_twiml("Connecting you to Dana Jones.", CONTACT, CANDIDATE))

    say, dial = list(root)
    assert say.tag == "Say" and say.text == "Connecting you to Dana Jones."
    assert dial.tag == "Dial"
    assert dial.get("callerId") == CANDIDATE
    assert dial.get("answerOnBridge") == "true"
    [number] = list(dial)
    assert number.tag == "Number" and number.text == CONTACT


def test_the_bridge_can_report_the_contact_leg_to_an_action_url():
    root = parse(bridge_twiml("Hi", CONTACT, CANDIDATE, action_url="https://t.test/dial/303"))

    dial = root.find("Dial")
    assert dial.get("action") == "https://t.test/dial/303"
    assert dial.get("method") == "POST"


def test_the_caller_id_can_be_the_twilio_number_instead():
    root = parse(bridge_twiml("Hi", CONTACT, CANDIDATE, caller_id="+15005550006"))

    assert root.find("Dial").get("callerId") == "+15005550006"


def test_the_brief_text_is_escaped_in_the_twiml():
    root = parse(bridge_twiml("Acme <R&D>", CONTACT, CANDIDATE))

    assert root.find("Say").text == "Acme <R&D>"


def test_a_machine_answering_the_candidate_phone_hangs_up_instead_of_bridging():
    twiml = twiml_for_answer({"AnsweredBy": "machine_end_beep"}, "Hi", CONTACT, CANDIDATE)

    assert [el.tag for el in parse(twiml)] == ["Hangup"]
    assert twiml == hangup_twiml()


def test_a_person_answering_the_candidate_phone_is_bridged():
    twiml = twiml_for_answer({"AnsweredBy": "human"}, "Hi", CONTACT, CANDIDATE)

    assert [el.tag for el in parse(twiml)] == ["Say", "Dial"]


def test_the_brief_names_the_contact_company_and_position():
    brief = render_call_brief("Ms. Jones", "Acme", "Data Analyst")

    assert "Ms. Jones at Acme about the Data Analyst position" in brief


# --------------------------------------------------------------------------- call status


@pytest.mark.parametrize(
    ("status", "touch_status"),
    [
        ("queued", None),
        ("initiated", None),
        ("ringing", None),
        ("in-progress", None),
        ("completed", "answered"),
        ("answered", "answered"),
        ("busy", "undelivered"),
        ("no-answer", "undelivered"),
        ("failed", "failed"),
        ("canceled", "cancelled"),
    ],
)
def test_call_statuses_map_to_touch_statuses(status, touch_status):
    assert touch_status_for_call(status) == touch_status


def test_a_call_completed_by_voicemail_was_not_answered():
    assert touch_status_for_call("completed", answered_by="machine_start") == "undelivered"


# --------------------------------------------------------------------------- script (R11)


@pytest.fixture
def script() -> str:
    return render_call_script(
        candidate_name="Alex Doe",
        contact_name="Ms. Jones",
        company="Acme",
        position="Data Analyst",
        interview_date=date(2026, 3, 3),
        fit=["I built Acme-sized reporting pipelines", "I know your SQL stack"],
        interview_point="the churn dashboard",
    )


def test_the_script_says_who_you_are(script):
    assert "this is Alex Doe" in script
    assert "Hello Ms. Jones" in script


def test_the_script_names_the_position_and_the_interview_date(script):
    assert "Data Analyst position" in script
    assert "Tuesday, 3 March 2026" in script


def test_the_script_says_why_you_fit(script):
    assert "I built Acme-sized reporting pipelines and I know your SQL stack" in script


def test_the_script_asks_when_to_expect_news(script):
    assert "when I can expect to hear about the next steps" in script


def test_the_script_mentions_the_specific_interview_point(script):
    assert "the churn dashboard" in script


def test_the_script_says_what_to_do_on_voicemail(script):
    assert "voicemail" in script


def test_a_script_without_fit_reasons_still_asks_about_news():
    script = render_call_script(
        candidate_name="Alex Doe",
        contact_name="Ms. Jones",
        company="Acme",
        position="Data Analyst",
        interview_date="last Tuesday",
    )

    assert "Why you fit" not in script
    assert "3. Ask" in script
    assert "last Tuesday" in script
