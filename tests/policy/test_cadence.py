"""The cadence planner: thank-you -> follow-up -> call, per interviewer, in their zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from api.cadence import plan_interview
from api.policy import ProposedTouch, TouchRecord, evaluate

# Wednesday 10 June 2026, 15:00 UTC: 11:00 in New York, 16:00 in London, 20:30 in Kolkata.
ENDS = datetime(2026, 6, 10, 15, tzinfo=UTC)
NOW = ENDS + timedelta(minutes=30)


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def panel(make_contact):
    return [
        make_contact(1, tz="America/New_York", country="US"),
        make_contact(2, tz="Europe/London", country="GB"),
        make_contact(3, tz="Asia/Kolkata", country="IN", phone=None),
    ]


@pytest.fixture
def plan(settings, make_interview):
    def run(panel, existing=(), responses=(), *, now=NOW, policy=None, **interview):
        return plan_interview(
            policy or settings(),
            make_interview(interview.pop("ends_at", ENDS), **interview),
            panel,
            list(existing),
            list(responses),
            now,
            interview.get("decision_expected_on"),
        )

    return run


def calendar(steps):
    return {(s.contact_id, s.step): (s.status, s.channel, s.scheduled_for) for s in steps}


def as_records(steps, status="scheduled"):
    return [
        TouchRecord(None, s.contact_id, 10, 1, s.step, s.channel, status, s.scheduled_for)
        for s in steps
        if s.planned
    ]


def test_three_zone_panel_gets_one_plan_per_interviewer_in_local_hours(plan, panel):
    assert calendar(plan(panel)) == {
        # New York: due 13:00 EDT, inside the window.
        (1, "thank_you"): ("planned", "email", utc(6, 10, 17)),
        (1, "follow_up"): ("planned", "email", utc(6, 17, 17)),
        # Follow-up + 48 h is Friday 19 June, Juneteenth: Monday 08:00 EDT.
        (1, "call"): ("planned", "call", utc(6, 22, 12)),
        # London: due 18:00 BST, the window has closed: Thursday 08:00 BST.
        (2, "thank_you"): ("planned", "email", utc(6, 11, 7)),
        (2, "follow_up"): ("planned", "email", utc(6, 18, 7)),
        (2, "call"): ("planned", "call", utc(6, 22, 7)),  # Saturday -> Monday 08:00 BST
        # Kolkata: due 22:30 IST: Thursday 08:00 IST; no phone, so no call.
        (3, "thank_you"): ("planned", "email", utc(6, 11, 2, 30)),
        (3, "follow_up"): ("planned", "email", utc(6, 18, 2, 30)),
        (3, "call"): ("skipped", None, None),
    }


def test_every_planned_step_passes_the_policy_against_the_whole_plan(plan, panel, settings):
    steps = plan(panel)
    history = as_records(steps)
    for step in (s for s in steps if s.planned):
        contact = next(c for c in panel if c.id == step.contact_id)
        record = next(r for r in history if r.contact_id == step.contact_id and r.step == step.step)
        proposal = ProposedTouch(
            step.contact_id, 10, 1, step.step, step.channel, step.scheduled_for
        )
        others = [r for r in history if r is not record]
        decision = evaluate(settings(), contact, others, [], proposal, NOW, interview_end=ENDS)
        assert decision.allowed, (step, decision)


def test_reasons_cite_the_rules(plan, panel):
    steps = {(s.contact_id, s.step): s for s in plan(panel)}
    assert steps[2, "thank_you"].rule == "R2"
    assert "moved to Thu 2026-06-11 08:00 BST (R15)" in steps[2, "thank_you"].reason
    assert steps[1, "follow_up"].rule == "R5"
    assert steps[1, "call"].rule == "R11"
    assert steps[3, "call"].reason.startswith("R11: no phone number")


def test_late_planning_never_schedules_in_the_past_and_says_it_is_late(plan, make_contact):
    now = ENDS + timedelta(hours=30)  # Thursday 21:00 UTC
    steps = plan([make_contact(1)], now=now)
    thank_you = steps[0]
    assert thank_you.scheduled_for == utc(6, 12, 8)
    assert "past the 24 h target" in thank_you.reason


def test_r4_decision_date_sets_the_follow_up(plan, make_contact):
    steps = plan([make_contact(1, tz="Europe/London")], decision_expected_on=date(2026, 6, 12))
    follow_up = steps[1]
    assert follow_up.rule == "R4"
    assert follow_up.scheduled_for == utc(6, 15, 7)  # 12 June + 2 = Sunday -> Monday 08:00 BST


def test_r4_decision_date_response_wins_over_the_interviews(plan, make_contact, make_response):
    said = make_response("decision_date", NOW, decision_date=date(2026, 6, 22))
    steps = plan([make_contact(1)], responses=[said], decision_expected_on=date(2026, 6, 12))
    assert steps[1].scheduled_for == utc(6, 24, 8)


def test_r14_follow_up_uses_the_preferred_sms_and_then_no_call(plan, make_contact):
    steps = calendar(plan([make_contact(1, preferred_channel="sms")]))
    assert steps[1, "thank_you"][1] == "email"  # thank-you notes prefer email
    assert steps[1, "follow_up"][1] == "sms"
    assert steps[1, "call"][0] == "skipped"  # R11 wants an email follow-up


def test_r14_preferred_sms_is_ignored_when_opted_out(plan, make_contact):
    steps = calendar(plan([make_contact(1, preferred_channel="sms", sms_opted_out=True)]))
    assert steps[1, "follow_up"][1] == "email"


def test_replanning_never_duplicates(plan, panel):
    first = plan(panel)
    again = plan(panel, existing=as_records(first))
    assert not [s for s in again if s.planned]
    assert {s.status for s in again} == {"exists", "skipped"}


def test_a_cancelled_step_is_planned_again_but_a_failed_one_is_not(plan, make_contact, make_touch):
    existing = [
        make_touch("thank_you", utc(6, 10, 17), status="failed"),
        make_touch("follow_up", utc(6, 17, 17), status="cancelled"),
    ]
    steps = calendar(plan([make_contact(1)], existing=existing))
    assert steps[1, "thank_you"][0] == "exists"
    # The failed thank-you does not count, so the follow-up has nothing to follow (R5).
    assert steps[1, "follow_up"][0] == "skipped"


def test_existing_thank_you_anchors_the_follow_up(plan, make_contact, make_touch):
    sent = make_touch("thank_you", utc(6, 10, 16))
    steps = calendar(plan([make_contact(1)], existing=[sent]))
    assert steps[1, "follow_up"] == ("planned", "email", utc(6, 17, 16))


def test_do_not_contact_interviewer_is_skipped_with_a_reason(plan, make_contact):
    steps = plan([make_contact(1, do_not_contact=True), make_contact(2)])
    assert [(s.contact_id, s.status, s.rule) for s in steps if s.contact_id == 1] == [
        (1, "skipped", "DNC")
    ] * 3
    assert all(s.planned for s in steps if s.contact_id == 2)


def test_r8_a_contact_who_replied_is_skipped_but_the_panel_is_not(plan, panel, make_response):
    reply = make_response("replied", NOW, contact_id=2)
    steps = calendar(plan(panel, responses=[reply]))
    assert steps[2, "follow_up"][0] == "skipped"
    assert steps[1, "follow_up"][0] == "planned"


def test_r9_a_rejection_skips_everyone(plan, panel, make_response):
    rejected = make_response("rejected", NOW, contact_id=2)
    steps = plan(panel, responses=[rejected])
    assert {(s.status, s.rule) for s in steps} == {("skipped", "R9")}


def test_r6_small_budget_drops_the_call(plan, make_contact, settings):
    steps = calendar(plan([make_contact(1)], policy=settings(touch_budget=2)))
    assert steps[1, "call"][0] == "skipped"


def test_per_contact_policy_overrides(plan, panel, settings):
    policies = {1: settings(), 2: settings(follow_up_wait_days=10), 3: settings()}
    steps = calendar(plan(panel, policy=policies))
    assert steps[2, "follow_up"][2] == utc(6, 22, 7)  # Sunday 21st -> Monday 08:00 BST
