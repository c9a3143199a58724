"""The SMS channel through the real twilio library against the loopback Twilio API."""

from __future__ import annotations

import dataclasses

import pytest
from marshmallow import ValidationError

from channels import Failed, RetryLater, Sent, Unknown
from channels.sms import SmsChannel, touch_status_for_sms
from channels.testing_peers import free_port
from channels.twilio_client import API_BASE_ENV

channel = SmsChannel()


def send(message, raw_settings):
    return channel.send(message, channel.load_settings(raw_settings))


# --------------------------------------------------------------------------- success


def test_a_message_is_created_with_to_from_body_and_status_callback(twilio_peer, sms_message):
    result = send(sms_message, twilio_peer.settings())

    assert isinstance(result, Sent)
    [request] = twilio_peer.messages
    assert request.path == f"/2010-04-01/Accounts/{twilio_peer.account_sid}/Messages.json"
    assert request.form == {
        "To": "+14155550100",
        "From": "+15005550006",
        "Body": sms_message.body,
        "StatusCallback": "https://touchbase.test/v1/callbacks/twilio/sms/202",
    }


def test_the_provider_id_is_twilios_message_sid(twilio_peer, sms_message):
    result = send(sms_message, twilio_peer.settings())

    assert result.provider_id.startswith("SM") and len(result.provider_id) == 34
    assert result.info["status"] == "queued"
    assert result.info["segments"] == 1


def test_the_request_is_authenticated_with_the_account(twilio_peer, sms_message):
    send(sms_message, twilio_peer.settings())

    assert twilio_peer.messages[0].auth == (twilio_peer.account_sid, twilio_peer.auth_token)


def test_a_messaging_service_can_send_instead_of_a_number(twilio_peer, sms_message):
    service = "MG" + "0" * 32

    result = send(sms_message, twilio_peer.settings(from_number="", messaging_service_sid=service))

    assert isinstance(result, Sent)
    form = twilio_peer.messages[0].form
    assert form["MessagingServiceSid"] == service
    assert "From" not in form


def test_without_a_status_callback_none_is_sent(twilio_peer, sms_message):
    send(dataclasses.replace(sms_message, status_callback_url=None), twilio_peer.settings())

    assert "StatusCallback" not in twilio_peer.messages[0].form


def test_curly_quotes_are_sent_as_plain_ones(twilio_peer, sms_message):
    message = dataclasses.replace(sms_message, body="It\u2019s been a pleasure \u2014 thank you")

    result = send(message, twilio_peer.settings())

    assert twilio_peer.messages[0].form["Body"] == "It's been a pleasure - thank you"
    assert result.info["encoding"] == "GSM-7"


def test_smart_encoding_can_be_turned_off(twilio_peer, sms_message):
    message = dataclasses.replace(sms_message, body="It\u2019s been a pleasure")

    send(message, twilio_peer.settings(smart_encoding=False))

    assert twilio_peer.messages[0].form["Body"] == "It\u2019s been a pleasure"


# --------------------------------------------------------------------------- length (R12)


def test_a_body_over_max_segments_is_refused_before_calling_twilio(twilio_peer, sms_message):
    message = dataclasses.replace(sms_message, body="x" * 307)  # 3 GSM-7 segments

    result = send(message, twilio_peer.settings())

    assert isinstance(result, Failed) and result.code == "too_long"
    assert "3 SMS segments" in result.reason
    assert twilio_peer.requests == []


def test_max_segments_is_a_setting(twilio_peer, sms_message):
    message = dataclasses.replace(sms_message, body="x" * 307)

    result = send(message, twilio_peer.settings(max_segments=3))

    assert isinstance(result, Sent)


def test_segments_are_counted_on_the_text_actually_sent():
    body = "It\u2019s " + "x" * 150  # UCS-2 as written (3 segments), GSM-7 once normalised

    assert channel.segments(body, {"smart_encoding": False}).segments == 3
    assert channel.segments(body, {"smart_encoding": True}).segments == 1


def test_an_empty_body_is_refused(twilio_peer, sms_message):
    result = send(dataclasses.replace(sms_message, body="  "), twilio_peer.settings())

    assert isinstance(result, Failed) and result.code == "empty_body"
    assert twilio_peer.requests == []


# --------------------------------------------------------------------------- Twilio errors


def test_an_unsubscribed_recipient_fails_as_opt_out(twilio_peer, sms_message):
    twilio_peer.fail_next(21610)

    result = send(sms_message, twilio_peer.settings())

    assert isinstance(result, Failed)
    assert result.code == "twilio:21610"
    assert result.opt_out is True
    assert "unsubscribed" in result.reason


@pytest.mark.parametrize("code", [21211, 21614, 21635])
def test_an_unusable_number_fails_permanently(twilio_peer, sms_message, code):
    twilio_peer.fail_next(code)

    result = send(sms_message, twilio_peer.settings())

    assert isinstance(result, Failed)
    assert result.code == f"twilio:{code}"
    assert result.opt_out is False


def test_too_many_requests_means_retry_later_after_retry_after(twilio_peer, sms_message):
    twilio_peer.fail_next(20429, headers={"Retry-After": "30"})

    result = send(sms_message, twilio_peer.settings())

    assert isinstance(result, RetryLater)
    assert result.retry_after == 30.0


def test_a_429_without_retry_after_leaves_the_delay_to_the_worker(twilio_peer, sms_message):
    twilio_peer.fail_next(20429)

    result = send(sms_message, twilio_peer.settings())

    assert isinstance(result, RetryLater) and result.retry_after is None


def test_a_twilio_server_error_means_retry_later(twilio_peer, sms_message):
    twilio_peer.fail_next(20500)

    result = send(sms_message, twilio_peer.settings())

    assert isinstance(result, RetryLater)
    assert "500" in result.reason


def test_another_client_error_fails(twilio_peer, sms_message):
    twilio_peer.fail_next(21606, message="The 'From' phone number provided is not valid")

    result = send(sms_message, twilio_peer.settings())

    assert result == Failed("twilio:21606", "The 'From' phone number provided is not valid")


def test_wrong_credentials_fail(twilio_peer, sms_message):
    result = send(sms_message, twilio_peer.settings(auth_token="not-the-token"))

    assert isinstance(result, Failed) and result.code == "twilio:20003"


# --------------------------------------------------------------------------- network


def test_twilio_unreachable_means_retry_later(monkeypatch, sms_message):
    monkeypatch.setenv(API_BASE_ENV, f"http://127.0.0.1:{free_port()}")
    settings = {"account_sid": "AC" + "1" * 32, "auth_token": "t", "from_number": "+15005550006"}

    result = send(sms_message, settings)

    assert isinstance(result, RetryLater)


def test_no_answer_after_the_request_was_sent_is_unknown(twilio_peer, sms_message):
    twilio_peer.hang_next(3.0)

    result = send(sms_message, twilio_peer.settings(timeout=0.5))

    assert isinstance(result, Unknown)
    assert len(twilio_peer.messages) == 1  # Twilio had the request


def test_a_connection_dropped_after_the_request_is_unknown(twilio_peer, sms_message):
    twilio_peer.drop_next()

    result = send(sms_message, twilio_peer.settings())

    assert isinstance(result, Unknown)


# --------------------------------------------------------------------------- addresses, settings


def test_an_invalid_contact_number_fails_before_calling_twilio(twilio_peer, sms_message):
    result = send(
        dataclasses.replace(sms_message, to_address="415 555 0100"), twilio_peer.settings()
    )

    assert isinstance(result, Failed) and result.code == "invalid_address"
    assert twilio_peer.requests == []


@pytest.mark.parametrize("number", ["4155550100", "+1415555", "+999123456789", "+1 415 555 0100"])
def test_check_address_refuses_numbers_not_in_valid_e164(number):
    assert channel.check_address(number)


def test_check_address_accepts_e164():
    assert channel.check_address("+14155550100") is None
    assert channel.check_address("+442079460958") is None


def test_settings_need_a_number_or_a_messaging_service():
    with pytest.raises(ValidationError) as caught:
        channel.load_settings({"account_sid": "AC" + "1" * 32, "auth_token": "t"})

    assert "from_number" in caught.value.messages


def test_the_auth_token_is_never_dumped(twilio_peer):
    settings = channel.load_settings(twilio_peer.settings())

    assert "auth_token" not in channel.settings_schema().dump(settings)


# --------------------------------------------------------------------------- status callbacks


@pytest.mark.parametrize(
    ("twilio_status", "touch_status"),
    [
        ("queued", None),
        ("sent", None),
        ("delivered", "delivered"),
        ("undelivered", "undelivered"),
        ("failed", "failed"),
        ("canceled", "cancelled"),
    ],
)
def test_status_callbacks_map_to_touch_statuses(twilio_status, touch_status):
    assert touch_status_for_sms(twilio_status) == (touch_status, False)


def test_a_status_callback_with_error_21610_reports_the_opt_out():
    assert touch_status_for_sms("undelivered", "21610") == ("undelivered", True)
