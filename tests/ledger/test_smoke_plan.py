"""A three-person panel in three time zones becomes the right calendar, and a reply stops it."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.conftest import bearer


def test_plan_then_reply_stops_that_contact(client, world, factory):
    cand = world.candidate
    factory.policy(world.org, approval="auto")  # planned touches are scheduled directly
    ny = factory.contact(cand, name="Dana Jones", timezone="America/New_York", country="US")
    ldn = factory.contact(cand, name="Raj Patel", timezone="Europe/London", country="GB")
    kol = factory.contact(cand, name="Asha Rao", timezone="Asia/Kolkata", country="IN", phone=None)
    app = factory.application(cand)
    itv = factory.interview(app, [ny, ldn, kol], starts_at=datetime(2030, 3, 5, 14, 0, tzinfo=UTC))
    token = world.tokens["candidate"]
    dry = client.post(f"/v1/interviews/{itv.id}/plan?dry_run=true", headers=bearer(token))
    assert dry.status_code == 200, dry.get_json()
    steps = dry.get_json()["steps"]
    assert [s["status"] for s in steps].count("skipped") == 1  # no phone, no call (R11)
    real = client.post(f"/v1/interviews/{itv.id}/plan", headers=bearer(token))
    assert real.status_code == 200, real.get_json()
    created = [s for s in real.get_json()["steps"] if s["status"] == "created"]
    assert len(created) == len([s for s in steps if s["status"] == "planned"])
    again = client.post(f"/v1/interviews/{itv.id}/plan", headers=bearer(token))
    assert not [s for s in again.get_json()["steps"] if s["status"] == "created"]
    r = client.post(
        "/v1/responses",
        json={"contact_id": ny.id, "application_id": app.id, "kind": "replied"},
        headers=bearer(token),
    )
    assert r.status_code == 201, r.get_json()
    assert {t["rule"] for t in r.get_json()["affected_touches"]} == {"R8"}
    budget = client.get(f"/v1/contacts/{ny.id}/budget", headers=bearer(token))
    assert budget.get_json()["stopped"] is True
    t = client.get("/v1/touches?status=scheduled", headers=bearer(token)).get_json()
    assert all(x["contact_id"] != ny.id for x in t)
    ev = client.get(f"/v1/touches/{created[0]['touch_id']}/events", headers=bearer(token))
    assert [e["kind"] for e in ev.get_json()] == ["created", "scheduled", "cancelled"]
