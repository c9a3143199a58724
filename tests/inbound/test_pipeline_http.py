"""POST /v1/inbound/email: a raw message is heard once, matched to the touch it answers,
classified and acted on exactly as the same response typed in (issue 13)."""

from __future__ import annotations

from datetime import datetime

import pytest

from api.models import InboundMail, Response, Touch
from tests.api.helpers import assert_problem
from tests.inbound.conftest import build
from tests.scheduling.conftest import Calendar


@pytest.fixture
def scene(app, db, world, factory, call, request) -> Calendar:
    """Dana's plan (thank-you, follow-up, call) and an admin token for the mail route."""
    scene = Calendar(app, db, world, factory, call, request.getfixturevalue("smtp_peer"))
    scene.plan()
    scene.admin = world.tokens["admin"]
    scene.thank_you = next(t for t in scene.touches() if t["step"] == "thank_you")
    return scene


def post_mail(scene, raw: bytes, token: str | None = None, mimetype="message/rfc822"):
    return scene._call(
        "post",
        "/v1/inbound/email",
        token or scene.admin,
        data=raw,
        headers={"Content-Type": mimetype},
    )


def reply(scene, body: str, **headers) -> bytes:
    headers.setdefault("From", f"Dana Jones <{scene.dana.email}>")
    headers.setdefault("In_Reply_To", scene.thank_you["message_id"])
    headers.setdefault("Date", "Wed, 5 Jun 2030 09:00:00 -0400")
    return build(body, **headers)


def heard(answer) -> dict:
    assert answer.status_code == 202, answer.get_json()
    return answer.get_json()


THANKS = "Thank you Ana, it was a pleasure to meet you too. We will be in touch.\n"
REJECTION = (
    "Dear Ana,\n\nThank you for your time. Unfortunately we have decided to move forward "
    "with other candidates.\n\nBest,\nDana\n"
)


def test_a_reply_to_the_thank_you_stops_that_contacts_sequence(scene):
    answer = heard(post_mail(scene, reply(scene, THANKS)))

    assert (answer["outcome"], answer["classification"]) == ("recorded", "replied")
    assert answer["touch_id"] == scene.thank_you["id"]
    assert scene.pending() == {}  # R8: nothing more goes to Dana this round


def test_the_same_message_twice_is_one_response(scene, count):
    raw = reply(scene, THANKS)
    heard(post_mail(scene, raw))

    again = heard(post_mail(scene, raw))

    assert again["outcome"] == "duplicate"
    assert count(Response) == 1
    assert count(InboundMail) == 1


def test_a_rejection_by_email_closes_the_application_and_proposes_the_note(scene, row):
    answer = heard(post_mail(scene, reply(scene, REJECTION)))

    assert (answer["outcome"], answer["classification"]) == ("recorded", "rejected")
    assert row(type(scene.application), scene.application.id)["status"] == "rejected"
    notes = [t for t in scene.touches() if t["step"] == "post_rejection"]
    assert [n["contact_id"] for n in notes] == [scene.dana.id]


def test_an_automatic_reply_without_a_date_changes_nothing(scene, count):
    before = scene.pending()
    raw = reply(
        scene,
        "Thank you for your message. This is an automatic reply.\n",
        Subject="Automatic reply: Thank you",
        Auto_Submitted="auto-replied",
    )

    answer = heard(post_mail(scene, raw))

    assert answer["outcome"] == "ignored"
    assert count(Response) == 0
    assert scene.pending() == before


def test_an_out_of_office_with_a_return_date_moves_the_pending_touches(scene):
    before = scene.pending()
    raw = reply(
        scene,
        "I am out of the office until June 20 with limited access to email.\n",
        Subject="Out of Office: Thank you",
        Auto_Submitted="auto-replied",
    )

    answer = heard(post_mail(scene, raw))

    assert (answer["outcome"], answer["classification"]) == ("recorded", "out_of_office")
    after = scene.pending()
    assert after["follow_up"] > before["follow_up"]


def test_a_copy_of_our_own_message_is_never_a_reply(scene, count):
    raw = build(
        "Dear Dana, thank you for today.\n",
        From="Ana <ana@example.org>",
        Message_ID=scene.thank_you["message_id"],
        In_Reply_To=None,
    )

    answer = heard(post_mail(scene, raw))

    assert answer["outcome"] == "ignored"
    assert count(Response) == 0


def test_a_message_that_matches_no_one_is_kept_for_the_candidate(scene, count):
    raw = build(THANKS, From="someone@elsewhere.example", In_Reply_To="<nobody@example.net>")

    answer = heard(post_mail(scene, raw))
    listed = scene._call("get", "/v1/inbound?outcome=unmatched", scene.admin)

    assert answer["outcome"] == "unmatched"
    assert count(Response) == 0
    assert [m["sender"] for m in listed.get_json()] == ["someone@elsewhere.example"]


def test_a_reply_without_threading_headers_is_matched_by_its_sender(scene):
    raw = reply(scene, THANKS, In_Reply_To=None, Message_ID="<fresh-thread@example.com>")

    answer = heard(post_mail(scene, raw))

    assert (answer["outcome"], answer["contact_id"]) == ("recorded", scene.dana.id)


def test_a_permanent_bounce_fails_the_touch_it_refers_to(scene, row):
    scene.send_due(datetime.fromisoformat(scene.thank_you["scheduled_for"]))
    raw = build(
        "This is the mail system at host mx.example.com.\n\n"
        "I'm sorry to have to inform you that your message could not be delivered.\n\n"
        f"<{scene.dana.email}>: host mx.acme.example said: 550 5.1.1 User unknown\n",
        From="MAILER-DAEMON@mx.example.com (Mail Delivery System)",
        Subject="Undelivered Mail Returned to Sender",
        In_Reply_To=scene.thank_you["message_id"],
    )

    answer = heard(post_mail(scene, raw))

    assert (answer["outcome"], answer["classification"]) == ("recorded", "bounce")
    stored = row(Touch, scene.thank_you["id"])
    assert stored["status"] == "failed"
    assert "5.1.1" in stored["reason"]


def test_a_body_that_is_no_message_is_a_422_naming_the_body(scene, snapshot):
    before = snapshot()

    answer = post_mail(scene, b"\x00\x01 not a message")

    assert_problem(answer, 422, "body")
    assert snapshot() == before


def test_another_media_type_is_a_415(scene):
    assert post_mail(scene, reply(scene, THANKS), mimetype="text/plain").status_code == 415


def test_an_advisor_may_not_post_mail(scene, world):
    answer = post_mail(scene, reply(scene, THANKS), token=world.tokens["advisor"])

    assert answer.status_code == 403


def test_a_message_larger_than_other_bodies_is_heard(scene):
    attachment = "x" * (600 * 1024)  # past the 256 KB of JSON bodies, far below 10 MB

    answer = post_mail(scene, reply(scene, THANKS + attachment))

    assert heard(answer)["outcome"] == "recorded"


def test_a_message_over_10_mb_is_a_413(scene, snapshot):
    before = snapshot()

    answer = post_mail(scene, reply(scene, "x" * (10 * 1024 * 1024 + 1)))

    assert_problem(answer, 413)
    assert snapshot() == before


def test_a_reply_by_email_records_where_it_came_from_and_what_the_classifier_said(scene, row):
    raw = reply(scene, REJECTION, Message_ID="<rejection-1@mail.example.com>")

    answer = heard(post_mail(scene, raw))

    stored = row(Response, answer["response_id"])
    assert (stored["source"], stored["message_id"]) == ("email", "<rejection-1@mail.example.com>")
    assert (stored["classified_as"], stored["inbound_id"]) == ("rejected", answer["inbound_id"])
    assert 0 < stored["confidence"] <= 1
    assert "move forward with other candidates" in stored["text"]
    assert "Best,\nDana" not in stored["text"]  # the signature is cut
    assert stored["note"] is None  # the note is a person's


def test_plugins_hear_a_posted_message_after_it_is_committed(scene):
    from channels import hookimpl
    from channels.registry import get_plugin_manager

    heard_events = []

    class Listener:
        @hookimpl
        def inbound_message(self, event):
            heard_events.append(event)

    manager = get_plugin_manager()
    manager.register(Listener(), name="listener")
    try:
        answer = heard(post_mail(scene, reply(scene, THANKS)))
    finally:
        manager.unregister(name="listener")

    [event] = heard_events
    assert (event.outcome, event.source, event.inbound_id) == (
        "recorded",
        "upload",
        answer["inbound_id"],
    )
