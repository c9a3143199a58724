"""A response proposes the note it calls for (issue 12): after a rejection the one
gracious note (R9), to the person who delivered the news; after a next-round invitation
the prompt answer (R10), on the channel the invitation came through."""

from __future__ import annotations


def test_a_rejection_proposes_the_one_note_to_the_person_who_delivered_it(duo):
    duo.plan()

    answer = duo.respond("rejected", contact=duo.raj)

    note = answer["proposed_touch"]
    assert (note["step"], note["contact_id"], note["channel"]) == (
        "post_rejection",
        duo.raj.id,
        "email",
    )
    assert note["body"].startswith("Dear Raj") or "Raj" in note["body"].split("\n")[0]
    assert "R9" in note["plan_reason"]


def test_a_rejection_cancels_the_rest_of_the_plan(duo):
    duo.plan()

    answer = duo.respond("rejected", contact=duo.raj)

    cancelled = {(t["contact_id"], t["step"]) for t in answer["affected_touches"]}
    assert cancelled == {
        (c.id, step) for c in (duo.dana, duo.raj) for step in ("thank_you", "follow_up", "call")
    }
    assert {t["status"] for t in answer["affected_touches"]} == {"cancelled"}


def test_a_second_rejection_proposes_nothing_more(duo):
    duo.plan()
    duo.respond("rejected", contact=duo.raj)

    again = duo.respond("rejected", contact=duo.dana)

    assert again["proposed_touch"] is None
    notes = [t for t in duo.touches() if t["step"] == "post_rejection"]
    assert len(notes) == 1


def test_a_next_round_invitation_by_sms_proposes_the_answer_by_sms(calendar):
    calendar.plan()

    answer = calendar.respond("next_round", channel="sms")

    reply = answer["proposed_touch"]
    assert (reply["step"], reply["channel"], reply["round"]) == ("next_round_reply", "sms", 2)
    assert "R10" in reply["plan_reason"]


def test_a_next_round_invitation_by_unconfigured_sms_is_answered_by_email(bare):
    bare.plan()

    answer = bare.respond("next_round", channel="sms")

    assert answer["proposed_touch"]["channel"] == "email"


def test_a_plain_reply_proposes_nothing(calendar):
    calendar.plan()

    assert calendar.respond("replied")["proposed_touch"] is None


def test_a_note_written_by_hand_after_a_rejection_greets_the_person_it_goes_to(duo):
    duo.plan()
    proposed = duo.respond("rejected", contact=duo.raj)["proposed_touch"]
    duo.ok("post", f"/v1/touches/{proposed['id']}/cancel", json={})

    mine = duo.ok(
        "post",
        "/v1/touches",
        json={
            "contact_id": duo.raj.id,
            "application_id": duo.application.id,
            "step": "post_rejection",
            "channel": "email",
        },
    )

    assert mine["contact_id"] == duo.raj.id
    assert "Raj" in mine["body"].split("\n")[0] and "Dana" not in mine["body"]
