"""The database as the queue: claims, leases, the reaper, and stopping cleanly."""

from __future__ import annotations

import json
import signal
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from api.dispatch import LOST_REASON, claim
from api.models import Touch, utcnow
from tests.dispatch.conftest import (
    events,
    kinds,
    no_tls_env,
    reload,
    requires_postgres,
    start_worker,
    use_channel,
)
from tests.dispatch.seeding import fill_ledger, seed_due_touches


def _status(db, ids):
    db.expire_all()
    found = {t.id: t for t in db.scalars(select(Touch).where(Touch.id.in_(ids)))}
    db.commit()
    return found


def _wait_until(db, ids, condition, seconds: float, log_path, what: str):
    """Poll the touches ``ids`` until ``condition`` holds for their statuses, or fail."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        statuses = [t.status for t in _status(db, ids).values()]
        if condition(statuses):
            return
        time.sleep(0.05)
    pytest.fail(f"{what} (statuses {sorted(statuses)}):\n" + log_path.read_text())


def test_a_claim_takes_due_unleased_touches_only_oldest_first(
    db, touch_for, make_worker, clock, factory, scene
):
    now = clock.now
    other = factory.contact(scene.candidate, name="Raj Patel", email="raj@acme.example")
    due_late = touch_for(scheduled_for=now - timedelta(minutes=1))
    due_early = touch_for(scheduled_for=now - timedelta(hours=1), contact=other)
    touch_for(scheduled_for=now + timedelta(minutes=1))  # not yet due
    touch_for(lease_owner="someone", lease_expires_at=now + timedelta(seconds=30))  # leased
    lapsed = touch_for(lease_owner="gone", lease_expires_at=now - timedelta(seconds=1))
    for status in ("sending", "sent", "cancelled", "skipped", "failed", "unknown"):
        touch_for(status=status)

    worker = make_worker(batch=10)
    claimed = worker.claim()

    assert claimed == [due_early.id, lapsed.id, due_late.id]
    rows = _status(db, claimed)
    for touch_id in claimed:
        assert rows[touch_id].status == "scheduled"  # merely claimed: not sending
        assert rows[touch_id].lease_owner == worker.id
        assert rows[touch_id].lease_expires_at == now + timedelta(seconds=30)
    # Claimed rows are not claimable by anyone else while the lease holds.
    assert make_worker().claim() == []


def test_a_claim_respects_the_batch_size_and_two_workers_share_without_overlap(
    db, make_worker, world, factory, clock, touch_for
):
    contacts = [
        factory.contact(world.candidate, name=f"Contact {n} Person", email=f"c{n}@x.example")
        for n in range(7)
    ]
    touches = [
        touch_for(contact=c, scheduled_for=clock.now - timedelta(minutes=10 - n))
        for n, c in enumerate(contacts)
    ]
    first, second = make_worker(batch=3), make_worker(batch=3)

    a = first.claim()
    b = second.claim()
    c = first.claim()

    assert a == [t.id for t in touches[:3]]
    assert b == [t.id for t in touches[3:6]]
    assert c == [touches[6].id]
    assert first.claim() == []


def test_released_touches_are_claimable_again_and_the_heartbeat_keeps_a_lease(
    db, touch_for, make_worker, clock
):
    touch = touch_for()
    first = make_worker(lease=10)
    assert first.claim() == [touch.id]

    clock.advance(seconds=8)
    assert first.heartbeat() == 1
    clock.advance(seconds=8)  # 16 s after the claim, 8 s after the heartbeat
    assert make_worker().claim() == []

    assert first.release([touch.id]) == 1
    row = reload(db, touch)
    assert (row.status, row.lease_owner, row.lease_expires_at) == ("scheduled", None, None)
    assert make_worker().claim() == [touch.id]


def test_a_claim_that_lapses_before_sending_is_sent_once_by_another_worker(
    db, scene, touch_for, make_worker, smtp_peer, clock
):
    use_channel(db, scene.org.id, "email", smtp_peer.settings())
    touch = touch_for()
    dead = make_worker(lease=5)
    assert dead.claim() == [touch.id]  # ...and the worker dies here, before sending

    clock.advance(seconds=6)
    survivor = make_worker()
    survivor.run_once()

    assert reload(db, touch).status == "sent"
    assert len(smtp_peer.messages) == 1
    # The dead worker, were it to wake up, no longer owns the touch: nothing is sent twice.
    assert dead.process(touch.id).kind == "lost"
    assert len(smtp_peer.messages) == 1


def test_an_expired_sending_lease_becomes_unknown_and_is_never_resent(
    db, scene, touch_for, make_worker, smtp_peer, clock
):
    use_channel(db, scene.org.id, "email", smtp_peer.settings())
    lost = touch_for(
        status="sending",
        attempts=1,
        lease_owner="host:123:dead",
        lease_expires_at=clock.now - timedelta(seconds=1),
    )
    alive = touch_for(
        status="sending",
        attempts=1,
        lease_owner="host:456:busy",
        lease_expires_at=clock.now + timedelta(seconds=20),
    )
    worker = make_worker()

    reaped = worker.reap()

    assert [o.touch_id for o in reaped] == [lost.id]
    row = reload(db, lost)
    assert row.status == "unknown"
    assert row.reason.startswith(LOST_REASON)
    assert f"/v1/touches/{lost.id}/resolve" in row.reason
    [event] = events(db, lost)
    assert (event.kind, event.reason) == ("unknown", LOST_REASON)
    assert event.data["worker"] == "host:123:dead"
    assert reload(db, alive).status == "sending"  # its worker is alive and sending

    clock.advance(days=2)
    worker.run_once()
    worker.run_once()
    assert reload(db, lost).status == "unknown"
    assert kinds(db, lost) == ["unknown"]
    assert smtp_peer.messages == []


def test_a_result_that_arrives_after_the_reaper_still_settles_the_touch(
    db, scene, touch_for, make_worker, smtp_peer, clock
):
    """A worker that stalled past its lease (not dead): the reaper marks its send unknown,
    then the server's answer arrives. The worker knows the outcome, so it records it."""
    use_channel(db, scene.org.id, "email", smtp_peer.settings())
    smtp_peer.hang_next(1.5)
    touch = touch_for()
    slow = make_worker()
    thread = threading.Thread(target=slow.run_once)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while reload(db, touch).status != "sending" and time.monotonic() < deadline:
            time.sleep(0.02)
        row = reload(db, touch)
        row.lease_expires_at = clock.now - timedelta(seconds=1)
        db.commit()
        assert [o.touch_id for o in make_worker().reap()] == [touch.id]
    finally:
        thread.join(timeout=30)

    done = reload(db, touch)
    assert done.status == "sent"
    assert kinds(db, touch) == ["sending", "unknown", "sent"]
    assert events(db, touch)[-1].data["late"] is True
    assert len(smtp_peer.messages) == 1


def test_each_loop_reaps_lost_sends(db, touch_for, make_worker, clock):
    lost = touch_for(
        status="sending", lease_owner="x", lease_expires_at=clock.now - timedelta(seconds=1)
    )
    stats = make_worker().run_once()
    assert stats.reaped == 1
    assert reload(db, lost).status == "unknown"


@pytest.mark.slow
def test_sigterm_finishes_the_send_in_flight_and_releases_the_rest(
    app, db, smtp_peer, tmp_path, database_url
):
    engine = app.extensions["touchbase.engine"]
    seeded = seed_due_touches(engine, 5, email_settings=smtp_peer.settings())
    smtp_peer.hang_next(3.0)  # the first send takes 3 s: time to signal mid-send
    proc, log_path = start_worker(database_url, tmp_path, "--batch", "5", "--lease", "30")
    try:
        _wait_until(
            db, seeded.touch_ids, lambda s: "sending" in s, 30, log_path, "never started sending"
        )
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, log_path.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()

    rows = _status(db, seeded.touch_ids)
    statuses = sorted(t.status for t in rows.values())
    assert statuses == ["scheduled"] * 4 + ["sent"], log_path.read_text()
    for touch in rows.values():
        assert touch.lease_owner is None and touch.lease_expires_at is None
    assert len(smtp_peer.messages) == 1
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]
    assert any(line.get("event") == "released" and line["count"] == 4 for line in lines)
    [summary] = [line for line in lines if line.get("event") == "worker_stopped"]
    assert summary["outcomes"] == {"sent": 1}


@pytest.mark.slow
def test_worker_once_drains_what_is_due_and_exits_with_progress_lines(
    app, db, smtp_peer, tmp_path, database_url
):
    engine = app.extensions["touchbase.engine"]
    seeded = seed_due_touches(engine, 230, email_settings=smtp_peer.settings())
    proc, log_path = start_worker(
        database_url, tmp_path, "--once", "--batch", "40", **no_tls_env(tmp_path)
    )
    assert proc.wait(timeout=120) == 0, log_path.read_text()

    rows = _status(db, seeded.touch_ids)
    assert {t.status for t in rows.values()} == {"sent"}
    assert len(smtp_peer.messages) == 230
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]
    outcomes = [line for line in lines if line.get("event") == "touch"]
    assert len(outcomes) == 230
    assert {line["outcome"] for line in outcomes} == {"sent"}
    assert all({"touch_id", "channel", "attempt", "ms", "worker"} <= set(o) for o in outcomes)
    progress = [line for line in lines if line.get("event") == "progress"]
    assert [p["processed"] for p in progress] == [100, 200]
    [summary] = [line for line in lines if line.get("event") == "worker_stopped"]
    assert summary["outcomes"] == {"sent": 230}
    assert summary["peak_rss_kb"] > 0


def test_the_claim_query_uses_the_partial_due_index(app):
    """Claiming does not slow down as the ledger grows: the plan walks ix_touches_due."""
    engine = app.extensions["touchbase.engine"]
    dialect = engine.dialect.name
    if dialect == "postgresql":
        fill_ledger(engine, 20_000)
    statement = claim.claim_statement(dialect, "w", utcnow(), timedelta(seconds=5), 50)
    compiled = statement.compile(engine, compile_kwargs={"literal_binds": True})
    explain = "EXPLAIN" if dialect == "postgresql" else "EXPLAIN QUERY PLAN"
    with engine.connect() as conn:
        plan = "\n".join(str(row[-1]) for row in conn.exec_driver_sql(f"{explain} {compiled}"))
        conn.rollback()
    assert "ix_touches_due" in plan, plan


@requires_postgres
@pytest.mark.slow
def test_a_worker_whose_database_connections_die_mid_send_records_and_goes_on(
    app, db, smtp_peer, tmp_path, database_url
):
    """PostgreSQL restarted, a failover, a proxy dropping idle connections: every
    connection the worker holds dies while it waits on the SMTP server. The answer is
    written on a new connection, and the rest of the batch goes out, each touch once."""
    engine = app.extensions["touchbase.engine"]
    seeded = seed_due_touches(engine, 5, email_settings=smtp_peer.settings())
    smtp_peer.hang_next(2.0)
    proc, log_path = start_worker(
        database_url, tmp_path, "--batch", "5", "--lease", "30", PGAPPNAME="tb-outage"
    )
    try:
        _wait_until(
            db, seeded.touch_ids, lambda s: "sending" in s, 30, log_path, "never started sending"
        )
        killed = db.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = 'tb-outage'"
            )
        )
        db.commit()
        assert killed >= 1

        _wait_until(
            db, seeded.touch_ids, lambda s: set(s) == {"sent"}, 60, log_path, "not all sent"
        )
        assert proc.poll() is None, log_path.read_text()  # still working
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, log_path.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()

    assert len(smtp_peer.messages) == 5
    assert len({m.data for m in smtp_peer.messages}) == 5
