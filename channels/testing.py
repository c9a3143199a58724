"""The channel conformance kit and reusable pytest fixtures.

Conformance: subclass :class:`ChannelConformance` in a test module (the
subclass name must start with ``Test``) and provide three fixtures, in the
class or in a conftest::

    from channels.testing import ChannelConformance

    class TestConsoleChannel(ChannelConformance):
        @pytest.fixture
        def channel(self):
            return ConsoleChannel()

        @pytest.fixture
        def good_settings(self, tmp_path):        # raw settings that work
            return {"path": str(tmp_path / "out.txt")}

        @pytest.fixture
        def message(self):                        # a message send() can deliver
            return Message(touch_id=1, to_address="jones@example.com", body="Thank you")

Optional fixtures: ``valid_address`` (default: ``message.to_address``),
``invalid_address`` (default: ``"not an address"``), ``failing_settings``
(raw settings with which ``send`` cannot deliver, e.g. a closed loopback port;
without it that test is skipped) and ``plugin`` (the object carrying the
``register_channels`` hookimpl; default: the module defining the channel class).
Set ``send_succeeds = False`` on the subclass if ``good_settings`` cannot
produce a ``Sent`` in a test.

Fixtures for loopback providers (see :mod:`channels.testing_peers`): import
them into a conftest (``from channels.testing import smtp_peer, twilio_peer``)
or list ``channels.testing`` in the root conftest's ``pytest_plugins``:

``smtp_peer``    a started :class:`~channels.testing_peers.SmtpPeer`
``twilio_peer``  a started :class:`~channels.testing_peers.TwilioPeer`, with
                 ``TOUCHBASE_TWILIO_API_BASE`` pointing at it for the test
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from marshmallow import Schema

from channels.base import (
    ADDRESS_KINDS,
    CAPABILITIES,
    CHANNEL_NAME_RE,
    RESULT_TYPES,
    Failed,
    Sent,
    secret_fields,
)
from channels.registry import channels as registered_channels
from channels.registry import describe_channel, make_plugin_manager

SECRET_LOOKING = re.compile(r"(password|passwd|secret|token|api_?key|private_?key)", re.I)


def _optional(request: pytest.FixtureRequest, name: str, default: Any) -> Any:
    try:
        return request.getfixturevalue(name)
    except pytest.FixtureLookupError:
        return default


class ChannelConformance:
    """What every channel must do. Subclass it (``class TestMine(ChannelConformance)``)."""

    send_succeeds: bool = True

    # ---- identity

    def test_name_is_a_valid_channel_name(self, channel):
        assert isinstance(channel.name, str)
        assert CHANNEL_NAME_RE.match(channel.name), (
            f"{channel.name!r} must match {CHANNEL_NAME_RE.pattern}"
        )

    def test_address_kind_is_email_or_phone(self, channel):
        assert channel.address_kind in ADDRESS_KINDS

    def test_capabilities_are_a_frozenset_of_known_words(self, channel):
        assert isinstance(channel.capabilities, frozenset)
        assert channel.capabilities <= CAPABILITIES, channel.capabilities - CAPABILITIES

    # ---- settings

    def test_settings_schema_is_a_marshmallow_schema_class(self, channel):
        assert isinstance(channel.settings_schema, type)
        assert issubclass(channel.settings_schema, Schema)

    def test_secret_settings_are_load_only(self, channel):
        schema = channel.settings_schema()
        for name in secret_fields(schema):
            assert schema.fields[name].load_only, f"secret setting {name!r} must be load_only"

    def test_settings_that_look_secret_are_marked_secret(self, channel):
        schema = channel.settings_schema()
        unmarked = [
            name
            for name in schema.fields
            if SECRET_LOOKING.search(name) and name not in secret_fields(schema)
        ]
        assert not unmarked, f"mark these metadata={{'secret': True}}, load_only: {unmarked}"

    def test_good_settings_load(self, channel, good_settings):
        loaded = channel.settings_schema().load(dict(good_settings))
        assert isinstance(loaded, dict)

    def test_dumped_settings_contain_no_secret(self, channel, good_settings):
        schema = channel.settings_schema()
        dumped = schema.dump(schema.load(dict(good_settings)))
        assert not set(dumped) & secret_fields(schema)

    def test_settings_schema_converts_to_json_schema(self, channel):
        described = describe_channel(channel)
        json.dumps(described)
        assert described["settings_schema"]["type"] == "object"

    def test_default_templates_would_be_accepted_if_saved(self, channel):
        """A shipped template is held to the rules of one saved through /v1/templates (a
        known step, known variables, a subject for email only); one refused is never used."""
        from api import templating

        kind = "email" if channel.address_kind == "email" else "sms"
        for step, (subject, body) in getattr(channel, "default_templates", {}).items():
            assert step in templating.STEPS, f"unknown step {step!r}: {templating.STEPS}"
            issues = templating.validate_template(subject, body, channel=kind)
            assert not issues, f"default template for {step}: {[str(i) for i in issues]}"

    # ---- addresses

    def test_check_address_accepts_a_valid_address(self, channel, message, request):
        address = _optional(request, "valid_address", message.to_address)
        assert channel.check_address(address) is None

    def test_check_address_refuses_an_invalid_address_with_a_reason(self, channel, request):
        address = _optional(request, "invalid_address", "not an address")
        error = channel.check_address(address)
        assert isinstance(error, str)
        assert error.strip()

    # ---- sending

    def test_send_returns_a_send_result(self, channel, good_settings, message):
        result = channel.send(message, channel.settings_schema().load(dict(good_settings)))
        assert isinstance(result, RESULT_TYPES), f"send() returned {result!r}"
        if self.send_succeeds:
            assert isinstance(result, Sent), result
            assert isinstance(result.provider_id, str)

    def test_send_to_an_invalid_address_fails_without_raising(
        self, channel, good_settings, message, request
    ):
        address = _optional(request, "invalid_address", "not an address")
        bad = dataclasses.replace(message, to_address=address)
        result = channel.send(bad, channel.settings_schema().load(dict(good_settings)))
        assert isinstance(result, Failed), result

    def test_send_with_failing_settings_returns_a_result_not_an_exception(
        self, channel, message, request
    ):
        failing = _optional(request, "failing_settings", None)
        if failing is None:
            pytest.skip("no failing_settings fixture")
        result = channel.send(message, channel.settings_schema().load(dict(failing)))
        assert isinstance(result, RESULT_TYPES) and not isinstance(result, Sent), result

    # ---- registration

    def test_registers_through_the_register_channels_hook(self, channel, request):
        plugin = _optional(request, "plugin", None) or sys.modules[type(channel).__module__]
        pm = make_plugin_manager([plugin], load_entrypoints=False)
        found = registered_channels(pm)
        assert channel.name in found, f"the plugin registered {sorted(found)}"
        assert type(found[channel.name]) is type(channel)


# =========================================================================== fixtures


@pytest.fixture
def smtp_peer() -> Iterator[Any]:
    """A loopback SMTP server recording messages (``channels.testing_peers.SmtpPeer``)."""
    from channels.testing_peers import SmtpPeer

    with SmtpPeer() as peer:
        yield peer


@pytest.fixture
def twilio_peer(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A loopback Twilio API (``channels.testing_peers.TwilioPeer``); the Twilio
    channels talk to it for the duration of the test."""
    from channels.testing_peers import TwilioPeer
    from channels.twilio_client import API_BASE_ENV

    with TwilioPeer() as peer:
        monkeypatch.setenv(API_BASE_ENV, peer.base_url)
        yield peer
