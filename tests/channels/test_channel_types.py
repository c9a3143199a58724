"""The plugin-facing types: Message, results, events, settings helpers."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from email.headerregistry import HeaderRegistry

import pytest

from channels import (
    Channel,
    Failed,
    Message,
    RetryLater,
    Sent,
    TouchEvent,
    Unknown,
    make_message_id,
    send_safely,
)
from channels.base import load_settings, public_settings, secret_fields
from channels.sms import SmsChannel


def test_a_message_cannot_change_once_built():
    message = Message(touch_id=1, to_address="dana@example.com", body="Hi")

    with pytest.raises(dataclasses.FrozenInstanceError):
        message.body = "changed"  # type: ignore[misc]


def test_references_are_kept_as_a_tuple():
    message = Message(touch_id=1, to_address="d@example.com", body="Hi", references=["<a@b>"])

    assert message.references == ("<a@b>",)


def test_make_message_id_gives_a_valid_unique_message_id_for_the_domain():
    first, second = (
        make_message_id("touchbase.example.org"),
        make_message_id("touchbase.example.org"),
    )

    assert first != second
    assert first.startswith("<") and first.endswith("@touchbase.example.org>")
    header = HeaderRegistry()("Message-ID", first)
    assert not header.defects


@pytest.mark.parametrize("domain", ["", "a b", "x@y", "<x>"])
def test_make_message_id_refuses_what_is_not_a_domain(domain):
    with pytest.raises(ValueError):
        make_message_id(domain)


@pytest.mark.parametrize(
    ("result", "outcome"),
    [
        (Sent("SM1"), "sent"),
        (RetryLater("busy", 30), "retry"),
        (Failed("smtp:550", "no such user"), "failed"),
        (Unknown("timeout after DATA"), "unknown"),
    ],
)
def test_each_result_names_its_outcome(result, outcome):
    assert result.outcome == outcome


def test_a_failure_is_not_an_opt_out_unless_said():
    assert Failed("twilio:21211", "invalid number").opt_out is False


def test_touch_event_from_mapping_puts_unknown_keys_in_detail():
    at = datetime(2026, 3, 3, tzinfo=UTC)

    event = TouchEvent.from_mapping(
        {"touch_id": 3, "kind": "skipped", "at": at, "reason": "R7", "earliest": "2026-03-05"}
    )

    assert event.reason == "R7"
    assert event.detail == {"earliest": "2026-03-05"}


def test_load_settings_applies_defaults_and_public_settings_hide_secrets():
    channel = SmsChannel()
    raw = {"account_sid": "AC" + "1" * 32, "auth_token": "tok", "from_number": "+15005550006"}

    settings = load_settings(channel, raw)

    assert settings["max_segments"] == 2
    assert "auth_token" not in public_settings(channel, settings)
    assert secret_fields(channel.settings_schema) == {"auth_token"}


class _Buggy(Channel):
    name = "buggy"

    def __init__(self, behaviour):
        self.behaviour = behaviour

    def send(self, message, settings):
        return self.behaviour()


def _raise():
    raise KeyError("api_key")


def test_send_safely_passes_a_result_through():
    message = Message(touch_id=1, to_address="d@example.com", body="Hi")

    assert send_safely(_Buggy(lambda: Sent("x")), message, {}) == Sent("x")


def test_a_channel_that_raises_is_an_unknown_outcome_not_a_crash():
    message = Message(touch_id=1, to_address="d@example.com", body="Hi")

    result = send_safely(_Buggy(_raise), message, {})

    assert isinstance(result, Unknown)
    assert "KeyError" in result.reason


def test_a_channel_returning_something_else_is_an_unknown_outcome():
    message = Message(touch_id=1, to_address="d@example.com", body="Hi")

    assert isinstance(send_safely(_Buggy(lambda: "ok"), message, {}), Unknown)
