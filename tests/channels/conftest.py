"""Fixtures for the channel tests. Loopback only: every server here binds 127.0.0.1."""

from __future__ import annotations

import pytest

from channels import Message, make_message_id, registry
from channels.testing import smtp_peer, twilio_peer  # noqa: F401  (fixtures)
from channels.testing_peers import free_port
from channels.twilio_client import API_BASE_ENV

CONTACT_EMAIL = "dana.jones@example.com"
CANDIDATE_EMAIL = "alex.doe@example.org"
CONTACT_PHONE = "+14155550100"
CANDIDATE_PHONE = "+14155550123"


@pytest.fixture(autouse=True)
def _isolated_registry(monkeypatch):
    """No test sees another's TOUCHBASE_PLUGINS or cached plugin manager, and no
    test can reach the real Twilio API: unless ``twilio_peer`` points the
    channels at itself, they talk to a closed loopback port."""
    monkeypatch.delenv(registry.PLUGINS_ENV, raising=False)
    monkeypatch.setenv(API_BASE_ENV, f"http://127.0.0.1:{free_port()}")
    registry.reset()
    yield
    registry.reset()


@pytest.fixture
def email_message() -> Message:
    """A thank-you note from the candidate to one interviewer."""
    return Message(
        touch_id=101,
        step="thank_you",
        to_address=CONTACT_EMAIL,
        to_name="Dana Jones",
        from_address=CANDIDATE_EMAIL,
        from_name="Alex Doe",
        reply_to=CANDIDATE_EMAIL,
        subject="Thank you for the Data Analyst interview",
        body="Dear Ms. Jones,\n\nThank you for your time today.\n\nBest regards,\nAlex Doe\n",
        message_id=make_message_id("touchbase.test"),
    )


@pytest.fixture
def sms_message() -> Message:
    return Message(
        touch_id=202,
        step="follow_up",
        to_address=CONTACT_PHONE,
        to_name="Dana Jones",
        body="Hi Ms. Jones, this is Alex Doe. Thank you again for the interview on Monday.",
        status_callback_url="https://touchbase.test/v1/callbacks/twilio/sms/202",
    )


@pytest.fixture
def call_message() -> Message:
    return Message(
        touch_id=303,
        step="call",
        to_address=CONTACT_PHONE,
        to_name="Dana Jones",
        body="Touchbase here. Connecting you now to Dana Jones at Acme.",
        candidate_phone=CANDIDATE_PHONE,
        status_callback_url="https://touchbase.test/v1/callbacks/twilio/call/303",
        metadata={"twiml_url": "https://touchbase.test/v1/twiml/call/303"},
    )
