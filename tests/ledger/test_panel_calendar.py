"""The cadence planner over HTTP: a three-person panel in three time zones becomes one
thank-you -> follow-up -> call plan per interviewer, in each interviewer's own zone.

The interview: Tue 2030-06-04 13:00-14:00 UTC, i.e. 09:00-10:00 in New York, 14:00-15:00 in
London and 18:30-19:30 in Kolkata (a half-hour zone). No zone changes its clocks in the
weeks planned, and none of the days is a public holiday in the contacts' countries.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from api.models import Touch, TouchEvent
from tests.api.helpers import assert_problem
from tests.ledger.conftest import local, parse

STARTS = datetime(2030, 6, 4, 13, 0, tzinfo=UTC)
ZONES = {
    "Dana Jones": "America/New_York",
    "Raj Patel": "Europe/London",
    "Asha Rao": "Asia/Kolkata",
}


class Panel:
    def __init__(self, world, factory, call):
        self.call = call
        self.token = world.tokens["candidate"]
        candidate = world.candidate
        factory.policy(world.org, approval="auto")  # planned touches are scheduled directly
        self.dana = factory.contact(
            candidate, name="Dana Jones", timezone="America/New_York", country="US"
        )
        self.raj = factory.contact(
            candidate, name="Raj Patel", timezone="Europe/London", country="GB"
        )
        self.asha = factory.contact(
            candidate, name="Asha Rao", timezone="Asia/Kolkata", country="IN", phone=None
        )
        self.application = factory.application(candidate)
        self.interview = factory.interview(
            self.application, [self.dana, self.raj, self.asha], starts_at=STARTS
        )

    def plan(self, dry_run: bool = False, token: str | None = None):
        url = f"/v1/interviews/{self.interview.id}/plan" + ("?dry_run=true" if dry_run else "")
        return self.call("post", url, token or self.token)

    def steps(self, dry_run: bool = False) -> list[dict]:
        answer = self.plan(dry_run)
        assert answer.status_code == 200, answer.get_json()
        assert answer.get_json()["dry_run"] is dry_run
        return answer.get_json()["steps"]


@pytest.fixture
def panel(world, factory, call) -> Panel:
    return Panel(world, factory, call)


def calendar(steps: list[dict]) -> dict[tuple[str, str], tuple]:
    """(interviewer, step) -> (channel, local wall-clock time in their zone or None, rule)."""
    out = {}
    for s in steps:
        tz = ZONES[s["contact_name"]]
        when = local(s["scheduled_for"], tz) if s["scheduled_for"] else None
        out[(s["contact_name"], s["step"])] = (s["channel"], when, s["rule"])
    return out


EXPECTED = {
    # New York: the interview ends 10:00; the thank-you is due two hours later.
    ("Dana Jones", "thank_you"): ("email", datetime(2030, 6, 4, 12, 0), "R2"),
    ("Dana Jones", "follow_up"): ("email", datetime(2030, 6, 11, 12, 0), "R5"),
    ("Dana Jones", "call"): ("call", datetime(2030, 6, 13, 12, 0), "R11"),
    # London: the interview ends 15:00; 17:00 is still inside the send window.
    ("Raj Patel", "thank_you"): ("email", datetime(2030, 6, 4, 17, 0), "R2"),
    ("Raj Patel", "follow_up"): ("email", datetime(2030, 6, 11, 17, 0), "R5"),
    ("Raj Patel", "call"): ("call", datetime(2030, 6, 13, 17, 0), "R11"),
    # Kolkata: due at 21:30, night there, so the next morning's window opening (R15);
    # no phone number, so no call (R11).
    ("Asha Rao", "thank_you"): ("email", datetime(2030, 6, 5, 8, 0), "R2"),
    ("Asha Rao", "follow_up"): ("email", datetime(2030, 6, 12, 8, 0), "R5"),
    ("Asha Rao", "call"): (None, None, "R11"),
}


def test_the_dry_run_calendar_is_right_in_each_interviewers_own_zone(panel):
    steps = panel.steps(dry_run=True)

    assert calendar(steps) == EXPECTED
    assert [s["status"] for s in steps] == ["planned"] * 8 + ["skipped"]


def test_each_planned_date_comes_with_its_reason(panel):
    steps = {(s["contact_name"], s["step"]): s for s in panel.steps(dry_run=True)}

    assert steps[("Asha Rao", "thank_you")]["reason"].startswith("R2:")
    assert "R15" in steps[("Asha Rao", "thank_you")]["reason"]
    assert steps[("Dana Jones", "follow_up")]["reason"].startswith("R5:")
    assert "phone" in steps[("Asha Rao", "call")]["reason"]
    assert steps[("Raj Patel", "thank_you")]["local_time"] == "Tue 2030-06-04 17:00 BST"
    assert steps[("Asha Rao", "thank_you")]["local_time"] == "Wed 2030-06-05 08:00 IST"


def test_a_dry_run_writes_nothing(panel, snapshot):
    before = snapshot()

    panel.steps(dry_run=True)

    assert snapshot() == before


def test_planning_creates_the_calendar_as_ordinary_scheduled_touches(panel, row):
    steps = panel.steps()

    assert [s["status"] for s in steps] == ["created"] * 8 + ["skipped"]
    assert calendar(steps) == EXPECTED
    for s in steps[:8]:
        touch = row(Touch, s["touch_id"])
        assert (touch["status"], touch["step"], touch["channel"]) == (
            "scheduled",
            s["step"],
            s["channel"],
        )
        assert touch["planned"] is True
        assert touch["interview_id"] == panel.interview.id
        assert touch["plan_reason"] == s["reason"]
        assert parse(s["scheduled_for"]) == touch["scheduled_for"]


def test_each_planned_touch_has_its_created_and_scheduled_events(panel, count):
    steps = panel.steps()

    for s in steps[:8]:
        assert count(TouchEvent, touch_id=s["touch_id"], kind="created") == 1
        assert count(TouchEvent, touch_id=s["touch_id"], kind="scheduled") == 1


def test_re_planning_never_duplicates_steps(panel, count):
    first = panel.steps()

    again = panel.steps()

    assert count(Touch) == 8
    assert [s["status"] for s in again] == ["exists"] * 8 + ["skipped"]
    assert [s["touch_id"] for s in again] == [s["touch_id"] for s in first]
    assert calendar(again) == EXPECTED


def test_a_planned_step_can_be_moved_and_re_planning_keeps_the_move(panel, call):
    steps = {(s["contact_name"], s["step"]): s for s in panel.steps()}
    dana_call = steps[("Dana Jones", "call")]
    later = parse(dana_call["scheduled_for"]) + timedelta(days=1)
    moved = call(
        "patch",
        f"/v1/touches/{dana_call['touch_id']}",
        panel.token,
        json={"scheduled_for": later.isoformat()},
    )
    assert moved.status_code == 200, moved.get_json()

    again = calendar(panel.steps())

    assert again[("Dana Jones", "call")][1] == datetime(2030, 6, 14, 12, 0)


def test_a_decision_date_sets_the_follow_up_two_days_after_it(panel, factory):
    panel.application.decision_expected_on = date(2030, 6, 18)
    factory.s.commit()

    plan = calendar(panel.steps(dry_run=True))

    assert plan[("Dana Jones", "follow_up")] == ("email", datetime(2030, 6, 20, 8, 0), "R4")
    assert plan[("Asha Rao", "follow_up")] == ("email", datetime(2030, 6, 20, 8, 0), "R4")


def test_an_interviewer_who_replied_gets_no_plan_and_the_others_do(panel, call):
    replied = call(
        "post",
        "/v1/responses",
        panel.token,
        json={
            "contact_id": panel.raj.id,
            "application_id": panel.application.id,
            "kind": "replied",
        },
    )
    assert replied.status_code == 201, replied.get_json()

    steps = panel.steps(dry_run=True)

    raj = [s for s in steps if s["contact_name"] == "Raj Patel"]
    assert {(s["status"], s["rule"]) for s in raj} == {("skipped", "R8")}
    assert [s["status"] for s in steps if s["contact_name"] == "Dana Jones"] == ["planned"] * 3


def test_a_rejection_from_anyone_leaves_nothing_to_plan(panel, call):
    rejected = call(
        "post",
        "/v1/responses",
        panel.token,
        json={
            "contact_id": panel.raj.id,
            "application_id": panel.application.id,
            "kind": "rejected",
        },
    )
    assert rejected.status_code == 201, rejected.get_json()

    steps = panel.steps(dry_run=True)

    assert {(s["status"], s["rule"]) for s in steps} == {("skipped", "R9")}


def test_another_candidates_interview_cannot_be_planned(panel, world, count):
    answer = panel.plan(token=world.tokens["other_candidate"])

    assert_problem(answer, 404)
    assert count(Touch) == 0
