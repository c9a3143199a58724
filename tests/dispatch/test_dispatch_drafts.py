"""Drafts and the worker: it never sends one, its sweep skips the ones nobody approved in
time, and an approved one goes out like any scheduled touch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from api.models import Touch
from tests.conftest import bearer
from tests.dispatch.conftest import events, kinds, open_policy, reload, start_worker


def test_the_worker_never_claims_or_sends_a_draft(db, touch_for, make_worker, clock, app):
    draft = touch_for(status="draft", approve_by=clock.now + timedelta(days=1))
    worker = make_worker()

    assert worker.claim() == []
    worker.run_once()

    assert reload(db, draft).status == "draft"
    assert kinds(db, draft) == []
    assert not list(Path(app.config["OUTBOX_DIR"]).glob("*.eml"))


def test_the_workers_sweep_skips_a_draft_past_its_deadline(db, touch_for, make_worker, clock):
    draft = touch_for(step="follow_up", status="draft", approve_by=clock.now - timedelta(minutes=1))

    make_worker().run_once()

    skipped = reload(db, draft)
    assert (skipped.status, skipped.rule) == ("skipped", "APPROVAL")
    assert skipped.reason.startswith("Not approved by Wed 2026-11-18 10:04 EST")
    [event] = events(db, draft)
    assert (event.kind, event.actor, event.rule) == ("skipped", "worker", "APPROVAL")


def test_a_thank_you_draft_past_its_deadline_says_it_would_be_too_late(
    db, touch_for, make_worker, clock
):
    draft = touch_for(status="draft", approve_by=clock.now - timedelta(minutes=1))

    make_worker().run_once()

    assert "the thank-you would be too late (R2)" in reload(db, draft).reason


def test_the_sweep_leaves_drafts_before_their_deadline(db, touch_for, make_worker, clock):
    draft = touch_for(status="draft", approve_by=clock.now + timedelta(minutes=1))

    make_worker().run_once()

    assert reload(db, draft).status == "draft"


def test_a_touchbase_worker_process_skips_expired_drafts(db, touch_for, tmp_path, database_url):
    draft = touch_for(status="draft", approve_by=datetime.now(UTC) - timedelta(minutes=1))

    proc, log = start_worker(database_url, tmp_path, "--once")

    assert proc.wait(timeout=60) == 0, log.read_text()
    assert reload(db, draft).status == "skipped"
    assert kinds(db, draft) == ["skipped"]


def test_plan_then_review_then_approve_then_sent(
    db, world, factory, client, make_worker, clock, app
):
    """The README's tour: the plan proposes drafts, the candidate reads and approves the
    thank-you, the worker sends it; the unapproved follow-up stays a draft."""
    open_policy(db, world.org.id)
    contact = factory.contact(world.candidate, name="Dana Jones")
    application = factory.application(world.candidate)
    ended = datetime.now(UTC) - timedelta(hours=3)
    interview = factory.interview(
        application, [contact], starts_at=ended - timedelta(hours=1), ends_at=ended
    )
    auth = bearer(world.tokens["candidate"])

    plan = client.post(f"/v1/interviews/{interview.id}/plan", headers=auth).get_json()
    drafts = client.get("/v1/touches?status=draft", headers=auth).get_json()
    thank_you = next(t for t in drafts if t["step"] == "thank_you")
    answer = client.post(f"/v1/touches/{thank_you['id']}/approve", headers=auth, json={})
    assert answer.status_code == 200, answer.get_json()
    clock.now = datetime.fromisoformat(answer.get_json()["scheduled_for"]) + timedelta(minutes=1)
    make_worker().run_once()

    assert {s["state"] for s in plan["steps"] if s["status"] == "created"} == {"draft"}
    sent = db.get(Touch, thank_you["id"])
    db.refresh(sent)
    db.commit()
    assert sent.status == "sent"
    # Due on planning, so approved a moment after its time: it goes at the approval.
    trail = ["created", "draft", "rescheduled", "approved", "sending", "sent"]
    assert [e.kind for e in events(db, sent)] == trail
    assert len(list(Path(app.config["OUTBOX_DIR"]).glob("*.eml"))) == 1
    follow_up = next(t for t in drafts if t["step"] == "follow_up")
    assert db.get(Touch, follow_up["id"]).status == "draft"
