"""Fixtures for the Twilio webhook tests: the API suite's snapshots, and touches and
contacts of an org with a Twilio account (tests/webhooks/twilio.py signs the requests)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.models import utcnow
from tests.api.conftest import count, engine_of, row, snapshot, sql  # noqa: F401  (fixtures)
from tests.webhooks.twilio import CALL_SID, CONTACT_PHONE, MESSAGE_SID, twilio_settings


@pytest.fixture
def sms(world, factory):
    """The org's Twilio account, and an SMS thank-you handed to Twilio (status queued)."""
    twilio_settings(factory, world.org.id)
    contact = factory.contact(world.candidate, name="Dana Jones", phone=CONTACT_PHONE)
    application = factory.application(world.candidate)
    touch = factory.touch(
        contact,
        application,
        channel="sms",
        status="sent",
        subject=None,
        sent_at=datetime(2026, 11, 18, 15, 0, tzinfo=UTC),
        provider_id=MESSAGE_SID,
        provider_status="queued",
    )
    return touch


@pytest.fixture
def call_touch(world, factory):
    twilio_settings(factory, world.org.id, ring_timeout=25)
    contact = factory.contact(world.candidate, name="Dana Jones", phone=CONTACT_PHONE)
    application = factory.application(world.candidate, company="Acme Corp", position="Analyst")
    return factory.touch(
        contact,
        application,
        step="call",
        channel="call",
        status="sent",
        subject=None,
        provider_id=CALL_SID,
    )


@pytest.fixture
def same_phone(world, factory):
    """Two contacts with one phone in the org; one with it in another org (other number)."""
    twilio_settings(factory, world.org.id)
    twilio_settings(
        factory, world.other_org.id, token="other-org-token", from_number="+15005550009"
    )
    mine = factory.contact(world.candidate, phone=CONTACT_PHONE)
    theirs = factory.contact(world.other_candidate, phone=CONTACT_PHONE)
    elsewhere = factory.contact(world.stranger, phone=CONTACT_PHONE)
    return mine, theirs, elsewhere


@pytest.fixture
def conversation(world, factory, db):
    """The candidate texted Dana; a follow-up to Dana is scheduled for next week."""
    twilio_settings(factory, world.org.id)
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
