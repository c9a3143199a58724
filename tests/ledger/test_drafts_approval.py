"""Approving drafts: one (as drafted, or edited and checked again), all of an interview or an
application; what is refused (not a draft, expired, the policy, the message check) changes
nothing but what it says; and another candidate's draft is not there."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.models import Touch, TouchEvent
from tests.api.helpers import assert_problem
from tests.ledger.conftest import FOLLOW_UP_AT, THANK_YOU_AT, parse, refused

PAST = datetime(2025, 1, 6, 15, 0, tzinfo=UTC)  # a Monday, long before the tests run


def by_step(steps: list[dict], contact) -> dict[str, dict]:
    return {s["step"]: s for s in steps if s["contact_id"] == contact.id}


def approved(response) -> dict:
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_approving_a_draft_schedules_it_as_drafted(scene):
    draft = scene.draft()

    touch = approved(scene.approve(draft.id))

    assert (touch["status"], parse(touch["scheduled_for"])) == ("scheduled", THANK_YOU_AT)
    assert (touch["subject"], touch["body"]) == (draft.subject, draft.body)


def test_an_approval_is_an_event_by_the_user(scene):
    draft = scene.draft()

    scene.approve(draft.id)

    [event] = [e for e in scene.events(draft.id) if e["kind"] == "approved"]
    assert event["actor"] == f"user:{scene.candidate.id}"


@pytest.mark.parametrize("role", ["advisor", "admin"])
def test_staff_approve_for_their_candidate(scene, role):
    draft = scene.draft()

    touch = approved(scene.approve(draft.id, token=scene.world.tokens[role]))

    assert touch["status"] == "scheduled"


def test_edit_then_approve_stores_the_edit_checked_again(scene):
    draft = scene.draft()
    body = (
        "Dear Dana,\n\nThank you for your time today. I enjoyed our talk about the migration "
        "of the billing pipeline and I am excited about the Data Engineer role.\n\nBest,\nAna"
    )

    touch = approved(scene.approve(draft.id, subject="Thank you, Dana", body=body))

    assert (touch["status"], touch["subject"], touch["body"]) == (
        "scheduled",
        "Thank you, Dana",
        body,
    )
    assert [e["kind"] for e in scene.events(draft.id)][-2:] == ["edited", "approved"]


def test_a_blocking_body_edit_is_422_naming_body_and_changes_nothing(scene, snapshot):
    draft = scene.draft()
    before = snapshot()

    answer = scene.approve(draft.id, body="Dear Dana,\n\nThanks for the chat at [Company Name].")

    problem = assert_problem(answer, 422, "body")
    assert "placeholders" in {c["check"] for c in problem["checks"]}
    assert snapshot() == before


def test_a_blocking_subject_edit_is_422_naming_subject(scene, snapshot):
    draft = scene.draft()
    before = snapshot()

    answer = scene.approve(draft.id, subject="Thanks :)")

    assert_problem(answer, 422, "subject")
    assert snapshot() == before


def test_approving_a_scheduled_touch_is_409(scene):
    touch = scene.existing("thank_you", THANK_YOU_AT)

    problem = assert_problem(scene.approve(touch.id), 409)

    assert "only a draft" in problem["detail"].lower()
    assert problem["type"] == "urn:touchbase:problem:not-a-draft"


def test_approving_an_approved_draft_again_is_409(scene):
    draft = scene.draft()
    approved(scene.approve(draft.id))

    assert_problem(scene.approve(draft.id), 409)


def test_approving_an_expired_draft_is_409_saying_it_expired(scene, row):
    draft = scene.draft(at=PAST, approve_by=PAST + timedelta(hours=48))

    problem = assert_problem(scene.approve(draft.id), 409)

    assert problem["type"] == "urn:touchbase:problem:draft-expired"
    assert "expired" in problem["detail"] and "too late (R2)" in problem["detail"]
    assert row(Touch, draft.id)["status"] == "skipped"


def test_an_expired_draft_reads_as_skipped_with_the_reason(scene, count):
    draft = scene.draft("follow_up", at=PAST, approve_by=PAST + timedelta(hours=24))

    touch = scene.touch(draft.id)

    assert (touch["status"], touch["rule"]) == ("skipped", "APPROVAL")
    assert touch["reason"].startswith("Not approved by Tue 2025-01-07 10:00 EST")
    assert count(TouchEvent, touch_id=draft.id, kind="skipped") == 1


def test_a_listed_expired_draft_is_skipped_before_the_answer(scene):
    draft = scene.draft(at=PAST, approve_by=PAST + timedelta(hours=48))

    listed = scene.call("get", "/v1/touches?status=draft").get_json()

    assert draft.id not in [t["id"] for t in listed]
    assert scene.touch(draft.id)["status"] == "skipped"


def test_a_draft_whose_time_passed_goes_at_the_next_allowed_time(scene):
    draft = scene.draft("custom", at=PAST, approve_by=datetime(2099, 1, 1, tzinfo=UTC))
    asked = datetime.now(UTC)

    touch = approved(scene.approve(draft.id))

    assert parse(touch["scheduled_for"]) >= asked - timedelta(seconds=1)
    assert "rescheduled" in [e["kind"] for e in scene.events(draft.id)]


def test_a_draft_the_policy_now_refuses_is_409_and_stays_a_draft(scene, row):
    scene.existing("thank_you", THANK_YOU_AT, status="sent", sent_at=THANK_YOU_AT)
    draft = scene.draft("thank_you", at=THANK_YOU_AT + timedelta(hours=1))

    refused(scene.approve(draft.id), "R1")

    assert row(Touch, draft.id)["status"] == "draft"


@pytest.mark.parametrize("role", ["other_candidate", "stranger", "stranger_admin"])
def test_another_users_draft_is_404(scene, role):
    draft = scene.draft()
    token = scene.world.tokens[role]

    assert_problem(scene.approve(draft.id, token=token), 404)
    assert_problem(scene.call("get", f"/v1/touches/{draft.id}", token), 404)


# -- approve all ----------------------------------------------------------------------------


def test_approve_all_of_an_interview_schedules_every_draft_of_its_plan(scene, row):
    steps = scene.plan()

    answer = approved(scene.call("post", f"/v1/interviews/{scene.interview.id}/approve"))

    assert sorted(t["id"] for t in answer["approved"]) == sorted(s["touch_id"] for s in steps)
    assert answer["refused"] == []
    assert {row(Touch, s["touch_id"])["status"] for s in steps} == {"scheduled"}


def test_approve_all_of_an_application_lists_what_it_refused_and_why(scene, factory):
    steps = by_step(scene.plan(), scene.raj)
    expired = scene.draft("custom", at=PAST, approve_by=PAST + timedelta(hours=24))
    scene.dana.do_not_contact = True
    factory.s.commit()

    url = f"/v1/applications/{scene.application.id}/approve"
    answer = approved(scene.call("post", url))

    assert sorted(t["id"] for t in answer["approved"]) == sorted(
        s["touch_id"] for s in steps.values()
    )
    why = {r["touch_id"]: (r["status"], r["rule"]) for r in answer["refused"]}
    assert why[expired.id] == ("skipped", "APPROVAL")
    assert {why[t] for t in why if t != expired.id} == {("draft", "DNC")}
    assert len(why) == 4  # the expired one and Dana's three


def test_approve_all_of_another_candidates_interview_is_404(scene):
    scene.plan()
    token = scene.world.tokens["other_candidate"]

    answer = scene.call("post", f"/v1/interviews/{scene.interview.id}/approve", token)

    assert_problem(answer, 404)


def test_approve_all_with_nothing_to_approve_answers_empty_lists(scene):
    answer = approved(scene.call("post", f"/v1/interviews/{scene.interview.id}/approve"))

    assert answer == {"approved": [], "refused": [], "affected_touches": []}


def test_a_moved_follow_up_draft_keeps_its_deadline_relative_to_its_time(scene):
    draft = scene.draft("follow_up", at=FOLLOW_UP_AT, approve_by=FOLLOW_UP_AT + timedelta(hours=24))
    scene.existing("thank_you", THANK_YOU_AT)
    later = FOLLOW_UP_AT + timedelta(days=1)

    moved = scene.call(
        "patch", f"/v1/touches/{draft.id}", json={"scheduled_for": later.isoformat()}
    )

    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["status"] == "draft"
    assert parse(moved.get_json()["approve_by"]) == later + timedelta(hours=24)


def test_changing_an_expired_draft_is_409_saying_it_expired(scene, row):
    draft = scene.draft("custom", at=PAST, approve_by=PAST + timedelta(hours=24))

    answer = scene.call("patch", f"/v1/touches/{draft.id}", json={"body": "Dear Dana, hello."})

    assert assert_problem(answer, 409)["type"] == "urn:touchbase:problem:draft-expired"
    assert row(Touch, draft.id)["status"] == "skipped"
