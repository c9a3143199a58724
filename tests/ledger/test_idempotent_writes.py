"""Idempotency-Key on the ledger's writes: a retried plan drafts nothing more, and a
refusal that kept a change (an expired draft skipped) is kept once and replayed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from api.models import Touch, TouchEvent
from tests.api.helpers import assert_problem

PAST = datetime(2025, 1, 6, 15, 0, tzinfo=UTC)
HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"


def test_a_retried_plan_drafts_nothing_more(scene, count):
    url = f"/v1/interviews/{scene.interview.id}/plan"
    first = scene.call("post", url, headers={HEADER: "plan-1"})
    touches = count(Touch)
    again = scene.call("post", url, headers={HEADER: "plan-1"})
    assert first.status_code == 200
    assert touches > 0
    assert (again.status_code, again.get_json()) == (200, first.get_json())
    assert again.headers[REPLAYED] == "true"
    assert count(Touch) == touches


def test_an_expired_draft_is_skipped_once_and_its_409_replayed(scene, row, count):
    draft = scene.draft(at=PAST, approve_by=PAST + timedelta(hours=48))
    url = f"/v1/touches/{draft.id}/approve"
    first = scene.call("post", url, json={}, headers={HEADER: "approve-1"})
    events = count(TouchEvent, touch_id=draft.id)
    again = scene.call("post", url, json={}, headers={HEADER: "approve-1"})
    problem = assert_problem(first, 409)
    assert problem["type"] == "urn:touchbase:problem:draft-expired"
    assert row(Touch, draft.id)["status"] == "skipped"  # committed with the 409
    assert (again.status_code, again.get_json()) == (409, problem)
    assert again.headers[REPLAYED] == "true"
    assert count(TouchEvent, touch_id=draft.id) == events
