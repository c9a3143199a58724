"""A permanent bounce (5.x.x) marks the contact's address undeliverable, as an SMS STOP
opts them out of texts: nothing more goes to it by email, the budget says why, and a new
address clears it. A transient bounce (4.x.x) only notes the touch."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from api.models import Contact
from tests.inbound.conftest import build
from tests.inbound.http import heard, post_mail
from tests.ledger.conftest import refused


def bounce(scene, status: str, address: str | None = None) -> bytes:
    code = "550" if status.startswith("5") else "452"
    return build(
        "This is the mail system at host mx.example.com.\n\n"
        "I'm sorry to have to inform you that your message could not be delivered.\n\n"
        f"<{address or scene.dana.email}>: host mx.acme.example said: {code} {status} "
        "Recipient address rejected\n",
        From="MAILER-DAEMON@mx.example.com (Mail Delivery System)",
        Subject="Undelivered Mail Returned to Sender",
        Message_ID=f"<bounce-{status}-{address}@mx.example.com>",
        In_Reply_To=scene.thank_you["message_id"],
    )


@pytest.fixture
def sent(mail):
    """Dana's thank-you went out by email; the follow-up waits."""
    mail.send_due(datetime.fromisoformat(mail.thank_you["scheduled_for"]))
    return mail


def contact(scene) -> dict:
    return scene.ok("get", f"/v1/contacts/{scene.dana.id}")


def budget(scene) -> dict:
    return scene.ok("get", f"/v1/contacts/{scene.dana.id}/budget")


def follow_up(scene) -> dict:
    return next(t for t in scene.touches() if t["step"] == "follow_up")


def test_a_permanent_bounce_marks_the_address_undeliverable(sent):
    answer = heard(post_mail(sent, bounce(sent, "5.1.1")))

    shown = contact(sent)
    assert shown["email_undeliverable_at"] is not None
    assert "5.1.1" in shown["email_undeliverable_reason"]
    assert "marked undeliverable" in answer["reason"]


def test_a_permanent_bounce_ends_the_pending_email_touches_with_the_reason(sent):
    assert follow_up(sent)["channel"] == "email"

    heard(post_mail(sent, bounce(sent, "5.1.1")))

    ended = follow_up(sent)
    assert (ended["status"], ended["rule"]) == ("cancelled", "UNDELIVERABLE")
    assert "5.1.1" in ended["reason"]


def test_the_budget_says_why_email_cannot_go(sent):
    heard(post_mail(sent, bounce(sent, "5.1.1")))

    answer = budget(sent)

    assert answer["blocked_by"]["email"] == "UNDELIVERABLE"
    assert "5.1.1" in answer["blocked_reason"]["email"]
    assert answer["blocked_by"]["sms"] != "UNDELIVERABLE"


def test_a_new_email_touch_to_an_undeliverable_address_is_refused(sent):
    heard(post_mail(sent, bounce(sent, "5.1.1")))

    answer = sent.call(
        "post",
        "/v1/touches",
        json={
            "contact_id": sent.dana.id,
            "application_id": sent.application.id,
            "step": "custom",
            "channel": "email",
            "scheduled_for": (sent.ends_at + timedelta(days=20)).isoformat(),
        },
    )

    assert "5.1.1" in refused(answer, "UNDELIVERABLE")["detail"]


def test_a_new_interview_plans_the_thank_you_by_sms_when_email_bounced(sent, factory, world):
    heard(post_mail(sent, bounce(sent, "5.1.1")))
    application = factory.application(world.candidate, company="Bravo Ltd")
    interview = factory.interview(
        application, [sent.dana], starts_at=sent.ends_at + timedelta(days=30)
    )

    steps = sent.ok("post", f"/v1/interviews/{interview.id}/plan")["steps"]

    assert next(s for s in steps if s["step"] == "thank_you")["channel"] == "sms"


def test_a_new_address_clears_the_mark(sent):
    heard(post_mail(sent, bounce(sent, "5.1.1")))

    changed = sent.ok(
        "patch", f"/v1/contacts/{sent.dana.id}", json={"email": "dana@acme-new.example"}
    )

    assert (changed["email_undeliverable_at"], changed["email_undeliverable_reason"]) == (
        None,
        None,
    )
    assert budget(sent)["blocked_by"]["email"] != "UNDELIVERABLE"


def test_the_mark_is_read_only(sent, snapshot):
    before = snapshot()

    answer = sent.call(
        "patch", f"/v1/contacts/{sent.dana.id}", json={"email_undeliverable_at": None}
    )

    assert answer.status_code == 422
    assert snapshot() == before


def test_a_transient_bounce_marks_nothing_and_the_follow_up_waits(sent, row):
    answer = heard(post_mail(sent, bounce(sent, "4.2.2")))

    assert "transient" in answer["reason"]
    assert row(Contact, sent.dana.id)["email_undeliverable_at"] is None
    assert follow_up(sent)["status"] == "scheduled"


def test_a_bounce_for_an_address_the_contact_no_longer_has_marks_nothing(sent, row):
    old = sent.dana.email
    sent.ok("patch", f"/v1/contacts/{sent.dana.id}", json={"email": "dana@acme-new.example"})

    heard(post_mail(sent, bounce(sent, "5.1.1", address=old)))

    assert row(Contact, sent.dana.id)["email_undeliverable_at"] is None
