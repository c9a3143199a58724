"""Every built-in channel passes the conformance kit plugin authors run."""

from __future__ import annotations

import pytest

from channels.call import CallChannel
from channels.email import EmailChannel
from channels.sms import SmsChannel
from channels.testing import ChannelConformance
from channels.testing_peers import free_port


class TestEmailOverSmtp(ChannelConformance):
    @pytest.fixture
    def channel(self):
        return EmailChannel()

    @pytest.fixture
    def good_settings(self, smtp_peer):
        return smtp_peer.settings()

    @pytest.fixture
    def message(self, email_message):
        return email_message

    @pytest.fixture
    def failing_settings(self):
        return {"host": "127.0.0.1", "port": free_port(), "security": "none", "timeout": 2}


class TestEmailToOutbox(ChannelConformance):
    @pytest.fixture
    def channel(self):
        return EmailChannel()

    @pytest.fixture
    def good_settings(self, tmp_path):
        return {"outbox_dir": str(tmp_path / "outbox")}

    @pytest.fixture
    def message(self, email_message):
        return email_message

    @pytest.fixture
    def failing_settings(self, tmp_path):
        (tmp_path / "a-file").write_text("not a directory")
        return {"outbox_dir": str(tmp_path / "a-file")}


class TestSms(ChannelConformance):
    @pytest.fixture
    def channel(self):
        return SmsChannel()

    @pytest.fixture
    def good_settings(self, twilio_peer):
        return twilio_peer.settings()

    @pytest.fixture
    def message(self, sms_message):
        return sms_message

    @pytest.fixture
    def failing_settings(self, twilio_peer):
        return twilio_peer.settings(auth_token="wrong")


class TestCall(ChannelConformance):
    @pytest.fixture
    def channel(self):
        return CallChannel()

    @pytest.fixture
    def good_settings(self, twilio_peer):
        return twilio_peer.settings()

    @pytest.fixture
    def message(self, call_message):
        return call_message

    @pytest.fixture
    def invalid_address(self):
        return "call me maybe"

    @pytest.fixture
    def failing_settings(self, twilio_peer):
        return twilio_peer.settings(auth_token="wrong")
