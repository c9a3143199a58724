"""Planning under the `approval` policy: drafts to read first (the default), or scheduled
touches (`auto`); and the dry run, which shows what the real plan would create.

The scene's interview ends Tue 2030-06-04 10:00 in New York (14:00 UTC); Dana's thank-you
is due at 12:00 there, her follow-up a week later, her call two days after that.
"""

from __future__ import annotations

from datetime import timedelta

from api.models import Template, Touch, TouchEvent
from tests.ledger.conftest import (
    CALL_AT,
    FOLLOW_UP_AT,
    INTERVIEW_END,
    THANK_YOU_AT,
    created,
    parse,
    refused,
)


def by_step(steps: list[dict], contact) -> dict[str, dict]:
    return {s["step"]: s for s in steps if s["contact_id"] == contact.id}


def test_planning_creates_drafts_by_default(scene, row):
    steps = scene.plan()

    assert {(s["status"], s["state"]) for s in steps} == {("created", "draft")}
    assert {row(Touch, s["touch_id"])["status"] for s in steps} == {"draft"}


def test_the_drafts_are_listed_for_review(scene):
    steps = scene.plan()

    drafts = scene.call("get", "/v1/touches?status=draft").get_json()

    assert sorted(t["id"] for t in drafts) == sorted(s["touch_id"] for s in steps)
    assert all(t["body"] and t["approve_by"] for t in drafts)
    assert all(t["subject"] for t in drafts if t["channel"] == "email")


def test_a_draft_is_created_with_a_draft_event(scene, count):
    dana = by_step(scene.plan(), scene.dana)

    touch_id = dana["thank_you"]["touch_id"]
    assert count(TouchEvent, touch_id=touch_id, kind="draft") == 1
    assert count(TouchEvent, touch_id=touch_id, kind="scheduled") == 0


def test_a_thank_you_draft_must_be_approved_by_r2s_late_mark(scene):
    dana = by_step(scene.plan(), scene.dana)

    assert parse(dana["thank_you"]["approve_by"]) == INTERVIEW_END + timedelta(hours=48)
    assert dana["thank_you"]["approve_by_local"] == "Thu 2030-06-06 10:00 EDT"


def test_other_drafts_must_be_approved_within_the_draft_deadline_of_their_time(scene, factory):
    factory.policy(scene.world.org, draft_deadline_hours=6)

    dana = by_step(scene.plan(), scene.dana)

    assert parse(dana["follow_up"]["approve_by"]) == FOLLOW_UP_AT + timedelta(hours=6)
    assert parse(dana["call"]["approve_by"]) == CALL_AT + timedelta(hours=6)


def test_with_approval_auto_planned_touches_are_scheduled_directly(scene, factory, row):
    factory.policy(scene.world.org, approval="auto")

    steps = scene.plan()

    assert {(s["status"], s["state"], s["approve_by"]) for s in steps} == {
        ("created", "scheduled", None)
    }
    assert {row(Touch, s["touch_id"])["status"] for s in steps} == {"scheduled"}


def test_a_candidate_level_auto_overrides_the_orgs_required(scene, factory):
    factory.policy(scene.world.org, approval="required")
    factory.policy(scene.world.org, scene.candidate, approval="auto")

    assert {s["state"] for s in scene.plan()} == {"scheduled"}


def test_a_touch_created_through_the_api_is_approved_by_being_created(scene):
    touch = created(scene.schedule("thank_you", THANK_YOU_AT))

    assert (touch["status"], touch["approve_by"]) == ("scheduled", None)


def test_drafts_reserve_their_place_in_the_budget(scene):
    scene.plan()  # thank-you, follow-up and call for Dana: the three of R6

    refused(scene.schedule("custom", CALL_AT + timedelta(days=7)), "R6")


def test_a_reply_cancels_the_drafts_to_that_contact(scene, row):
    dana = by_step(scene.plan(), scene.dana)

    answer = scene.respond("replied")

    assert answer.status_code == 201, answer.get_json()
    assert {row(Touch, s["touch_id"])["status"] for s in dana.values()} == {"cancelled"}


def test_a_draft_can_be_cancelled(scene):
    touch_id = by_step(scene.plan(), scene.dana)["call"]["touch_id"]

    answer = scene.call("post", f"/v1/touches/{touch_id}/cancel", json={})

    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["status"] == "cancelled"


# -- the dry run ----------------------------------------------------------------------------


def test_the_dry_run_shows_the_text_time_and_state_the_real_plan_creates(scene):
    dry = scene.plan(dry_run=True)

    real = scene.plan()

    keys = ("step", "subject", "body", "scheduled_for", "local_time", "reason", "state")
    assert [[s[k] for k in keys] for s in dry] == [[s[k] for k in keys] for s in real]
    assert {s["state"] for s in dry} == {"draft"}
    assert {(s["status"], s["touch_id"]) for s in dry} == {("planned", None)}


def test_the_dry_run_writes_nothing(scene, snapshot):
    before = snapshot()

    scene.plan(dry_run=True)

    assert snapshot() == before


def test_the_dry_run_shows_the_message_checks_warnings(scene, factory):
    factory.s.add(
        Template(
            org_id=scene.candidate.org_id,
            candidate_id=scene.candidate.id,
            step="thank_you",
            channel="email",
            subject="Thank you",
            body="Dear {{ contact.name }},\n\nThx for your time on {{ interview.date }}. I "
            "enjoyed {{ notes.specific_point }} and I am excited about the role.\n\n"
            "{{ candidate.name }}",
        )
    )
    factory.s.commit()

    thank_you = by_step(scene.plan(dry_run=True), scene.dana)["thank_you"]

    assert thank_you["status"] == "planned"
    assert "slang" in {f["check"] for f in thank_you["warnings"]}
    assert thank_you["blocking"] == []


def test_the_dry_run_shows_a_blocking_finding_and_that_the_step_would_be_skipped(scene, factory):
    factory.s.add(
        Template(
            org_id=scene.candidate.org_id,
            candidate_id=scene.candidate.id,
            step="thank_you",
            channel="email",
            subject="Thank you",
            body="Dear {{ contact.name }},\n\nThank you for the interview at [Company Name].",
        )
    )
    factory.s.commit()

    thank_you = by_step(scene.plan(dry_run=True), scene.dana)["thank_you"]

    assert thank_you["status"] == "skipped"
    assert "[Company Name]" in thank_you["body"]
    assert "placeholders" in {f["check"] for f in thank_you["blocking"]}
    assert {f["severity"] for f in thank_you["blocking"]} == {"block"}
    assert thank_you["state"] is None


def test_the_dry_run_shows_the_state_auto_would_give(scene, factory):
    factory.policy(scene.world.org, approval="auto")

    assert {s["state"] for s in scene.plan(dry_run=True)} == {"scheduled"}


def test_the_dry_run_times_are_the_plans(scene):
    dana = by_step(scene.plan(dry_run=True), scene.dana)

    assert [parse(dana[s]["scheduled_for"]) for s in ("thank_you", "follow_up", "call")] == [
        THANK_YOU_AT,
        FOLLOW_UP_AT,
        CALL_AT,
    ]
