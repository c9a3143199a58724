"""A response corrected acts as if it had been recorded that way (issue 13): what only the
wrong reading stopped comes back, what the right one calls for is done, the application
follows, and the correction is on record.

Interview Tue 2030-06-04 09:00-10:00 New York; Dana (New York) and Raj (London) on the
panel where two people matter.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from api.models import Application, Response
from tests.api.helpers import assert_problem

NEW_YORK = ZoneInfo("America/New_York")


def statuses(scene, contact) -> dict[str, str]:
    """step -> status of the contact's touches of the application."""
    return {t["step"]: t["status"] for t in scene.touches() if t["contact_id"] == contact.id}


def test_a_rejection_corrected_to_a_reply_brings_the_others_follow_ups_back(duo):
    duo.plan()
    wrong = duo.respond("rejected", contact=duo.raj)
    assert set(statuses(duo, duo.dana).values()) == {"cancelled"}

    duo.correct(wrong["id"], kind="replied")

    assert statuses(duo, duo.dana) == {
        "thank_you": "scheduled",
        "follow_up": "scheduled",
        "call": "scheduled",
    }


def test_a_rejection_corrected_to_a_reply_still_stops_the_person_who_replied(duo):
    duo.plan()
    wrong = duo.respond("rejected", contact=duo.raj)

    duo.correct(wrong["id"], kind="replied")

    raj = [
        t for t in duo.touches() if t["contact_id"] == duo.raj.id and t["step"] != "post_rejection"
    ]
    assert {(t["status"], t["rule"]) for t in raj} == {("cancelled", "R8")}


def test_a_rejection_corrected_to_a_reply_withdraws_the_r9_note(duo):
    duo.plan()
    wrong = duo.respond("rejected", contact=duo.raj)
    note = wrong["proposed_touch"]

    answer = duo.correct(wrong["id"], kind="replied")

    assert answer["proposed_touch"] is None
    withdrawn = next(t for t in answer["affected_touches"] if t["id"] == note["id"])
    assert withdrawn["status"] == "cancelled"
    assert "corrected from rejected to replied" in withdrawn["reason"]


def test_a_rejection_corrected_to_a_reply_reopens_the_application(duo, row):
    duo.plan()
    wrong = duo.respond("rejected", contact=duo.raj)
    assert row(Application, duo.application.id)["status"] == "rejected"

    duo.correct(wrong["id"], kind="replied")

    assert row(Application, duo.application.id)["status"] == "active"


def test_a_status_set_by_hand_since_stands_after_the_correction(duo, row):
    duo.plan()
    wrong = duo.respond("rejected", contact=duo.raj)
    duo.ok("patch", f"/v1/applications/{duo.application.id}", json={"status": "offer"})

    duo.correct(wrong["id"], kind="replied")

    assert row(Application, duo.application.id)["status"] == "offer"


def test_a_reply_corrected_to_a_rejection_stops_the_panel_and_proposes_the_note(duo, row):
    duo.plan()
    wrong = duo.respond("replied", contact=duo.raj)
    assert set(statuses(duo, duo.dana).values()) == {"scheduled"}

    answer = duo.correct(wrong["id"], kind="rejected")

    assert row(Application, duo.application.id)["status"] == "rejected"
    stopped = {(t["contact_id"], t["step"], t["rule"]) for t in answer["affected_touches"]}
    # Dana's plan stops now; Raj's, stopped by his "reply", is told the rule that stops it.
    assert stopped == {
        (contact.id, step, "R9")
        for contact in (duo.dana, duo.raj)
        for step in ("thank_you", "follow_up", "call")
    }
    note = answer["proposed_touch"]
    assert (note["step"], note["contact_id"]) == ("post_rejection", duo.raj.id)


def test_a_reply_corrected_to_out_of_office_moves_the_touches_past_the_return(calendar):
    calendar.plan()
    wrong = calendar.respond("replied")
    assert set(statuses(calendar, calendar.dana).values()) == {"cancelled"}

    calendar.correct(wrong["id"], kind="out_of_office", until="2030-06-10")

    assert set(statuses(calendar, calendar.dana).values()) == {"scheduled"}
    back = datetime(2030, 6, 11, tzinfo=NEW_YORK)
    assert all(at >= back for at in calendar.pending().values()), calendar.pending()


def test_a_decision_date_corrected_moves_the_r4_follow_up(calendar):
    calendar.plan()
    given = calendar.respond("decision_date", decision_date="2030-06-18")
    before = calendar.pending()["follow_up"]

    calendar.correct(given["id"], decision_date="2030-06-25")

    after = calendar.pending()["follow_up"]
    assert after > before
    # R4: two days after the corrected date, at the opening of Dana's send window.
    assert after.astimezone(NEW_YORK).date() == datetime(2030, 6, 27).date()


def test_a_correction_is_recorded_with_who_and_from_what_to_what(duo, world):
    duo.plan()
    wrong = duo.respond("rejected", contact=duo.raj)

    answer = duo.correct(wrong["id"], kind="replied")

    assert answer["kind"] == "replied"
    [record] = answer["corrections"]
    assert record["actor"] == f"user:{world.candidate.id}"
    assert record["before"]["kind"] == "rejected"
    assert record["after"]["kind"] == "replied"


def test_the_touches_a_correction_changes_name_the_response(duo):
    duo.plan()
    wrong = duo.respond("rejected", contact=duo.raj)
    duo.correct(wrong["id"], kind="replied")

    follow_up = next(
        t for t in duo.touches() if t["contact_id"] == duo.dana.id and t["step"] == "follow_up"
    )
    restored = [e for e in duo.events(follow_up["id"]) if e["kind"] == "restored"]
    assert [e["actor"] for e in restored] == [f"response:{wrong['id']}"]


def test_corrected_twice_back_to_the_first_reading_is_as_the_first_reading(duo):
    duo.plan()
    first = duo.respond("rejected", contact=duo.raj)
    plan_after_rejection = {(t["id"], t["status"]) for t in duo.touches()}

    duo.correct(first["id"], kind="replied")
    duo.correct(first["id"], kind="rejected")

    assert {(t["id"], t["status"]) for t in duo.touches()} == plan_after_rejection


def test_another_candidates_response_is_404(calendar, world, call):
    calendar.plan()
    theirs = calendar.respond("rejected")

    answer = call(
        "patch",
        f"/v1/responses/{theirs['id']}",
        world.tokens["other_candidate"],
        json={"kind": "replied"},
    )

    assert_problem(answer, 404)


def test_the_assigned_advisor_may_correct(calendar, world, call):
    calendar.plan()
    wrong = calendar.respond("rejected")

    answer = call(
        "patch", f"/v1/responses/{wrong['id']}", world.tokens["advisor"], json={"kind": "replied"}
    )

    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["corrections"][0]["actor"] == f"user:{world.advisor.id}"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "decision_date"}, "decision_date"),  # needs its date
        ({"kind": "out_of_office"}, "until"),  # needs its return
        ({"until": "2030-06-10"}, "until"),  # a reply has no return date
        ({"kind": "maybe"}, "kind"),
        ({"decision_date": "not a date"}, "decision_date"),
        ({"note": "hello"}, "note"),  # not correctable here
    ],
)
def test_a_bad_correction_is_422_naming_the_field_and_changes_nothing(
    calendar, snapshot, changes, field
):
    calendar.plan()
    reply = calendar.respond("replied")
    before = snapshot()

    answer = calendar.call("patch", f"/v1/responses/{reply['id']}", json=changes)

    assert_problem(answer, 422, field)
    assert snapshot() == before


def test_a_manual_response_says_so_and_has_no_classification(calendar, row):
    calendar.plan()

    answer = calendar.respond("replied")

    assert answer["source"] == "manual"
    assert (answer["classified_as"], answer["confidence"], answer["message_id"]) == (None,) * 3
    stored = row(Response, answer["id"])
    assert (stored["source"], stored["inbound_id"], stored["text"]) == ("manual", None, None)


def test_a_correction_keeps_what_the_classifier_said(calendar, db):
    calendar.plan()
    heard = calendar.respond("rejected")
    db.query(Response).filter_by(id=heard["id"]).update(
        {"source": "sms", "classified_as": "rejected", "confidence": 0.9}
    )
    db.commit()

    answer = calendar.correct(heard["id"], kind="replied")

    assert (answer["kind"], answer["classified_as"], answer["confidence"]) == (
        "replied",
        "rejected",
        0.9,
    )


def test_an_invitation_corrected_to_a_reply_withdraws_the_r10_answer(calendar):
    calendar.plan()
    wrong = calendar.respond("next_round", channel="email")
    answer_note = wrong["proposed_touch"]

    calendar.correct(wrong["id"], kind="replied")

    note = next(t for t in calendar.touches() if t["id"] == answer_note["id"])
    assert (note["step"], note["status"]) == ("next_round_reply", "cancelled")


def test_a_decision_date_corrected_to_a_reply_drops_the_date_everywhere(calendar, row):
    calendar.plan()
    given = calendar.respond("decision_date", decision_date="2030-06-18")
    assert str(row(Application, calendar.application.id)["decision_expected_on"]) == "2030-06-18"

    answer = calendar.correct(given["id"], kind="replied")

    assert answer["decision_date"] is None
    assert row(Application, calendar.application.id)["decision_expected_on"] is None
