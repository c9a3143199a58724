"""The worker's log lines name touches by id: what a provider echoed of a person is redacted."""

from __future__ import annotations

from datetime import timedelta

from api.models import ChannelSetting, Touch
from api.privacy.redact import redact
from tests.dispatch.seeding import midday_zone
from tests.privacy.conftest import now
from tests.privacy.test_erasure_worker import BODY

REFUSAL = "550 5.1.1 <dana.jones@acme.example>: Recipient address rejected"


def test_a_provider_reply_naming_the_recipient_is_logged_without_the_address(
    make_worker, world, factory, db, smtp_peer, open_window, all_logs, row
):
    db.add(ChannelSetting(org_id=world.org.id, channel="email", values=smtp_peer.settings()))
    db.commit()
    # where it is about noon: the open window's one closed minute (23:59) never falls in
    contact = factory.contact(
        world.candidate, name="Dana Jones", email="dana.jones@acme.example", timezone=midday_zone()
    )
    touch = factory.touch(
        contact, factory.application(world.candidate), scheduled_for=now() - timedelta(minutes=5),
        subject="Thank you for today", body=BODY,
    )  # fmt: skip
    smtp_peer.reply_next(REFUSAL, stage="rcpt")
    make_worker().run_once()
    assert "dana.jones@acme.example" in row(Touch, touch.id)["reason"]  # the candidate reads it
    logs = all_logs()
    assert "<email>" in logs
    assert "dana.jones@acme.example" not in logs


def test_phone_numbers_are_redacted_and_times_are_not():
    assert redact("call +1 415 555 0100 at 2026-12-02 04:40") == "call <phone> at 2026-12-02 04:40"
