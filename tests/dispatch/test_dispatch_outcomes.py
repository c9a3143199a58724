"""One due touch through the worker: what reaches the provider, and what the ledger says.

Real loopback peers (an aiosmtpd server, a Twilio-speaking HTTP server), a fixed clock,
the suite's database (SQLite, or PostgreSQL when TOUCHBASE_TEST_DATABASE_URL is set).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from api.dispatch import Options, backoff_delay
from api.models import Contact, Response, Touch
from tests.dispatch.conftest import events, kinds, reload, use_channel


def test_a_due_email_goes_out_once_and_ends_sent_with_its_trail(
    db, scene, touch_for, make_worker, smtp_peer, clock
):
    use_channel(db, scene.org.id, "email", smtp_peer.settings())
    touch = touch_for()

    worker = make_worker()
    assert worker.claim() == [touch.id]
    worker.work([touch.id])

    [mail] = smtp_peer.messages
    message = mail.message
    assert message["Message-ID"] == touch.message_id
    assert message["To"] == "Dana Jones <dana.jones@acme.example>"
    assert scene.candidate.email in message["From"]
    assert message["Reply-To"] == scene.candidate.email
    assert message["Subject"] == "Thank you for today"
    assert "Thank you for your time today" in message.get_content()

    done = reload(db, touch)
    assert done.status == "sent"
    assert done.sent_at == clock.now
    assert done.attempts == 1
    assert done.provider_id == touch.message_id
    assert done.lease_owner is None and done.lease_expires_at is None
    assert kinds(db, touch) == ["sending", "sent"]
    sent = events(db, touch)[-1]
    assert sent.actor == "worker"
    assert sent.data["attempt"] == 1
    assert sent.data["worker"] == worker.id

    # Nothing is due any more: a second pass sends nothing.
    assert worker.claim() == []
    assert len(smtp_peer.messages) == 1


def test_without_an_smtp_server_the_email_lands_in_the_outbox(
    db, scene, touch_for, make_worker, app
):
    touch = touch_for()
    make_worker().run_once()

    files = list(Path(app.config["OUTBOX_DIR"]).glob("*.eml"))
    assert len(files) == 1
    assert files[0].name.startswith(f"{touch.id}_")
    assert reload(db, touch).status == "sent"


def test_smtp_451_then_250_is_retried_with_the_same_message_id_and_sent(
    db, scene, touch_for, make_worker, smtp_peer, clock
):
    use_channel(db, scene.org.id, "email", smtp_peer.settings())
    smtp_peer.reply_next("451 4.3.0 Mailbox busy, try again later")
    touch = touch_for()
    worker = make_worker()

    worker.run_once()
    waiting = reload(db, touch)
    assert waiting.status == "scheduled"
    assert waiting.attempts == 1
    assert "451" in waiting.reason
    assert clock.now < waiting.scheduled_for <= clock.now + timedelta(seconds=60)
    retry = events(db, touch)[-1]
    assert retry.kind == "retry"
    assert "451" in retry.reason
    assert smtp_peer.messages == [] and len(smtp_peer.refused) == 1

    # Not due yet: nothing happens until the backoff is over.
    worker.run_once()
    assert reload(db, touch).status == "scheduled"

    clock.now = waiting.scheduled_for
    worker.run_once()
    done = reload(db, touch)
    assert done.status == "sent"
    assert done.attempts == 2
    assert done.reason is None
    assert kinds(db, touch) == ["sending", "retry", "sending", "sent"]
    [mail] = smtp_peer.messages
    assert mail.message["Message-ID"] == smtp_peer.refused[0].message["Message-ID"]
    assert mail.message["Message-ID"] == touch.message_id


def test_smtp_550_fails_with_the_servers_reply(db, scene, touch_for, make_worker, smtp_peer):
    use_channel(db, scene.org.id, "email", smtp_peer.settings())
    smtp_peer.reply_next("550 5.1.1 No such user here", stage="rcpt")
    touch = touch_for()

    make_worker().run_once()

    done = reload(db, touch)
    assert done.status == "failed"
    assert "550" in done.reason and "No such user here" in done.reason
    assert kinds(db, touch) == ["sending", "failed"]
    assert events(db, touch)[-1].data["code"] == "smtp:550"
    assert smtp_peer.messages == []


def test_retries_are_bounded_then_failed(db, scene, touch_for, make_worker, smtp_peer, clock):
    use_channel(db, scene.org.id, "email", smtp_peer.settings())
    smtp_peer.reply_next("421 4.7.0 Too busy", count=3)
    touch = touch_for()
    worker = make_worker(max_attempts=3)

    for _ in range(3):
        worker.run_once()
        clock.now = max(clock.now, reload(db, touch).scheduled_for)

    done = reload(db, touch)
    assert done.status == "failed"
    assert done.attempts == 3
    assert done.reason.startswith("Gave up after 3 attempts")
    assert kinds(db, touch) == ["sending", "retry", "sending", "retry", "sending", "failed"]


def test_a_channel_result_of_unknown_is_never_resent(
    db, scene, touch_for, make_worker, smtp_peer, clock
):
    """The SMTP server got the whole message, then the connection dropped: maybe sent."""
    use_channel(db, scene.org.id, "email", smtp_peer.settings())
    smtp_peer.drop_next()
    touch = touch_for()
    worker = make_worker()

    worker.run_once()
    clock.advance(days=3)
    worker.run_once()

    done = reload(db, touch)
    assert done.status == "unknown"
    assert "Not re-sent automatically" in done.reason
    assert f"/v1/touches/{touch.id}/resolve" in done.reason
    assert kinds(db, touch) == ["sending", "unknown"]
    assert len(smtp_peer.messages) == 1


def test_twilio_429_then_success_is_retried_and_sent(
    db, scene, touch_for, make_worker, twilio_peer, clock, app
):
    use_channel(db, scene.org.id, "sms", twilio_peer.settings())
    twilio_peer.fail_next(20429, headers={"Retry-After": "120"})
    touch = touch_for(channel="sms", subject=None, body="Hi Dana, thanks again for Monday.")
    worker = make_worker()

    worker.run_once()
    waiting = reload(db, touch)
    assert waiting.status == "scheduled"
    assert "429" in waiting.reason
    # The provider asked for 120 s; full jitter never goes below that.
    assert waiting.scheduled_for >= clock.now + timedelta(seconds=120)
    assert events(db, touch)[-1].data["retry_after"] == 120.0

    clock.now = waiting.scheduled_for
    worker.run_once()
    done = reload(db, touch)
    assert done.status == "sent"
    assert done.provider_id.startswith("SM")
    assert done.provider_status == "queued"
    assert kinds(db, touch) == ["sending", "retry", "sending", "sent"]
    first, second = twilio_peer.messages
    assert first.form == second.form
    assert second.form["To"] == scene.contact.phone
    assert second.form["StatusCallback"] == (
        f"{app.config['PUBLIC_URL']}/v1/webhooks/twilio/messages/{touch.id}/status"
    )


def test_an_sms_opt_out_fails_the_touch_and_marks_the_contact(
    db, scene, touch_for, make_worker, twilio_peer
):
    use_channel(db, scene.org.id, "sms", twilio_peer.settings())
    twilio_peer.fail_next(21610)
    touch = touch_for(channel="sms", subject=None, body="Hi Dana, thank you for Monday.")

    make_worker().run_once()

    done = reload(db, touch)
    assert done.status == "failed"
    assert "twilio:21610" in done.reason
    assert "opted out of SMS" in done.reason
    db.expire_all()
    assert db.get(Contact, scene.contact.id).sms_opted_out is True
    assert db.get(Contact, scene.contact.id).sms_opt_source == f"touch:{touch.id}"
    db.commit()
    assert events(db, touch)[-1].data["opt_out"] is True


def test_a_call_asks_twilio_to_ring_the_candidate_with_the_bridge_urls(
    db, scene, factory, touch_for, make_worker, twilio_peer, app, clock
):
    use_channel(db, scene.org.id, "call", twilio_peer.settings())
    email_follow_up = touch_for(
        step="follow_up",
        status="sent",
        sent_at=clock.now - timedelta(days=3),
        scheduled_for=clock.now - timedelta(days=3),
    )
    thank_you = touch_for(
        status="sent",
        sent_at=clock.now - timedelta(days=10),
        scheduled_for=clock.now - timedelta(days=10),
    )
    assert email_follow_up.id and thank_you.id
    call = touch_for(
        step="call",
        channel="call",
        subject=None,
        body="Call script: Dana Jones, Acme Corp",
    )

    make_worker().run_once()

    done = reload(db, call)
    assert done.status == "sent", (done.reason, kinds(db, call))
    assert done.provider_id.startswith("CA")
    [request] = twilio_peer.calls
    base = app.config["PUBLIC_URL"]
    assert request.form["To"] == scene.candidate.phone
    assert request.form["Url"] == f"{base}/v1/webhooks/twilio/calls/{call.id}/twiml"
    assert request.form["StatusCallback"] == f"{base}/v1/webhooks/twilio/calls/{call.id}/status"


def test_a_reply_recorded_while_the_touch_is_due_skips_it_with_rule_r8(
    db, scene, touch_for, make_worker, smtp_peer, clock
):
    use_channel(db, scene.org.id, "email", smtp_peer.settings())
    touch = touch_for(step="follow_up")
    touch_for(  # the thank-you the follow-up comes after
        status="sent",
        sent_at=clock.now - timedelta(days=8),
        scheduled_for=clock.now - timedelta(days=8),
    )
    db.add(
        Response(
            org_id=scene.org.id,
            candidate_id=scene.candidate.id,
            contact_id=scene.contact.id,
            application_id=scene.application.id,
            round=1,
            kind="replied",
            occurred_at=clock.now - timedelta(hours=1),
        )
    )
    db.commit()

    make_worker().run_once()

    done = reload(db, touch)
    assert done.status == "skipped"
    assert done.rule == "R8"
    assert "replied" in done.reason
    [event] = events(db, touch)
    assert (event.kind, event.rule) == ("skipped", "R8")
    assert smtp_peer.messages == []


def test_a_touch_due_at_23h_in_the_contacts_zone_moves_to_the_next_opening(
    db, scene, touch_for, make_worker, smtp_peer, clock
):
    use_channel(db, scene.org.id, "email", smtp_peer.settings())
    # Wednesday 18 Nov 2026, 23:00 in New York (EST, UTC-5).
    clock.now = datetime(2026, 11, 19, 4, 0, tzinfo=UTC)
    touch = touch_for(scheduled_for=clock.now)

    make_worker().run_once()

    moved = reload(db, touch)
    assert moved.status == "scheduled"
    # Thursday 08:00 in New York.
    assert moved.scheduled_for == datetime(2026, 11, 19, 13, 0, tzinfo=UTC)
    assert moved.lease_owner is None
    [event] = events(db, touch)
    assert (event.kind, event.rule) == ("rescheduled", "R15")
    assert smtp_peer.messages == []

    clock.now = moved.scheduled_for
    make_worker().run_once()
    assert reload(db, touch).status == "sent"
    assert len(smtp_peer.messages) == 1


def test_a_message_that_fails_the_check_at_send_time_is_skipped_naming_the_check(
    db, scene, touch_for, make_worker, smtp_peer, factory
):
    use_channel(db, scene.org.id, "email", smtp_peer.settings())
    factory.contact(scene.candidate, name="Raj Patel", email="raj@acme.example")
    touch = touch_for(body="Dear Raj,\n\nThank you for your time today.\n\nBest,\nAlex\n")

    make_worker().run_once()

    done = reload(db, touch)
    assert done.status == "skipped"
    assert "wrong_person" in done.reason
    assert events(db, touch)[-1].data["checks"][0]["check"] == "wrong_person"
    assert smtp_peer.messages == []


def test_invalid_channel_settings_fail_the_touch_with_the_validation_error(
    db, scene, touch_for, make_worker
):
    use_channel(db, scene.org.id, "email", {"host": "127.0.0.1", "port": 99999})
    touch = touch_for()

    make_worker().run_once()

    done = reload(db, touch)
    assert done.status == "failed"
    assert "email channel settings are invalid" in done.reason
    assert "port" in done.reason
    assert done.attempts == 0


def test_a_follow_up_threads_onto_the_thank_you(
    db, scene, touch_for, make_worker, smtp_peer, clock
):
    use_channel(db, scene.org.id, "email", smtp_peer.settings())
    thank_you = touch_for(
        status="sent",
        sent_at=clock.now - timedelta(days=8),
        scheduled_for=clock.now - timedelta(days=8),
    )
    follow_up = touch_for(
        step="follow_up",
        thread_of_id=thank_you.id,
        subject="Thank you for today",
        body="Dear Dana,\n\nThank you again for the conversation last week. I remain very "
        "interested in the role.\n\nBest regards,\nAlex\n",
    )

    make_worker().run_once()

    assert reload(db, follow_up).status == "sent"
    [mail] = smtp_peer.messages
    assert mail.message["In-Reply-To"] == thank_you.message_id
    assert mail.message["References"] == thank_you.message_id
    assert mail.message["Subject"] == "Re: Thank you for today"


def test_when_the_next_touch_cannot_be_prepared_the_sent_one_is_still_recorded(
    db, scene, factory, touch_for, make_worker, smtp_peer, monkeypatch
):
    # The answer for one touch is written in the transaction that fences the next; if
    # that transaction fails, the answer must still be written, on its own.
    use_channel(db, scene.org.id, "email", smtp_peer.settings())
    first = touch_for()
    second = touch_for(contact=factory.contact(scene.candidate, name="Sam Lee"))
    worker = make_worker()
    ids = worker.claim()
    assert set(ids) == {first.id, second.id}
    prepare_in = worker._prepare_in

    def broken_for_the_second(session, touch_id, *args):
        if touch_id == ids[1]:
            raise RuntimeError("a bug while preparing")
        return prepare_in(session, touch_id, *args)

    monkeypatch.setattr(worker, "_prepare_in", broken_for_the_second)
    worker.work(ids)

    sent, broken = reload(db, db.get(Touch, ids[0])), reload(db, db.get(Touch, ids[1]))
    assert sent.status == "sent" and kinds(db, sent) == ["sending", "sent"]
    assert broken.status == "scheduled" and broken.attempts == 1  # retried later, not lost
    assert "a bug while preparing" in broken.reason
    assert len(smtp_peer.messages) == 1
    assert worker.stats.outcomes == {"sent": 1, "retry": 1}


def test_a_cancelled_touch_is_not_sent_even_if_it_was_claimed(
    db, scene, touch_for, make_worker, smtp_peer
):
    use_channel(db, scene.org.id, "email", smtp_peer.settings())
    touch = touch_for()
    worker = make_worker()
    assert worker.claim() == [touch.id]
    touch.status = "cancelled"
    db.commit()

    worker.work([touch.id])

    assert reload(db, touch).status == "cancelled"
    assert smtp_peer.messages == []


@pytest.mark.parametrize("attempt", [1, 2, 3, 7, 12])
def test_backoff_is_exponential_with_full_jitter_capped_at_an_hour(attempt):
    rng = random.Random(attempt)
    delays = [backoff_delay(attempt, rng=rng) for _ in range(500)]
    ceiling = min(3600.0, 60.0 * 2 ** (attempt - 1))
    assert all(1.0 <= d <= ceiling for d in delays)
    assert max(delays) > ceiling * 0.8  # the jitter spreads over the whole range
    assert backoff_delay(attempt, retry_after=5000.0, rng=rng) >= 5000.0


@pytest.mark.parametrize(
    "bad",
    [{"batch": 0}, {"lease": 0.0}, {"poll": -1.0}, {"lease": float("nan")}, {"max_attempts": 0}],
)
def test_worker_options_refuse_settings_that_would_never_work(bad):
    with pytest.raises(ValueError):
        Options(**bad)
