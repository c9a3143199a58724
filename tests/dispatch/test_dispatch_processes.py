"""Exactly once with real processes: four ``touchbase worker`` processes, one SMTP server.

PostgreSQL only (SKIP LOCKED claims; SQLite runs one worker in ``touchbase serve``).
Every message is counted at the loopback SMTP server by its Message-ID.
"""

from __future__ import annotations

import json
import re
import signal
import time
from collections import Counter

import pytest
from sqlalchemy import func, select

from api.models import Touch
from tests.dispatch.conftest import no_tls_env, requires_postgres, start_worker
from tests.dispatch.seeding import seed_due_touches

pytestmark = [requires_postgres, pytest.mark.slow]

TOUCHES = 2000
WORKERS = 4
MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>\r\n]+>)", re.IGNORECASE | re.MULTILINE)


def delivered(peer) -> Counter:
    """How many times the server received each Message-ID."""
    return Counter(MESSAGE_ID.search(mail.data).group(1).decode() for mail in list(peer.messages))


def statuses(db, ids) -> Counter:
    db.expire_all()
    found = Counter(
        dict(
            db.execute(
                select(Touch.status, func.count()).where(Touch.id.in_(ids)).group_by(Touch.status)
            ).all()
        )
    )
    db.commit()
    return found


def logs(paths) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in paths)


def test_four_workers_deliver_each_touch_exactly_once(app, db, smtp_peer, tmp_path, database_url):
    engine = app.extensions["touchbase.engine"]
    seeded = seed_due_touches(engine, TOUCHES, email_settings=smtp_peer.settings())
    env = no_tls_env(tmp_path)

    started = time.monotonic()
    procs = [
        start_worker(database_url, tmp_path, "--once", "--batch", "25", log_name=f"w{n}", **env)
        for n in range(WORKERS)
    ]
    for proc, _ in procs:
        assert proc.wait(timeout=150) == 0, logs(p for _, p in procs)
    elapsed = time.monotonic() - started

    counts = delivered(smtp_peer)
    assert len(counts) == TOUCHES
    assert set(counts) == set(seeded.message_ids.values())
    assert max(counts.values()) == 1, [m for m, n in counts.items() if n > 1][:5]
    assert statuses(db, seeded.touch_ids) == {"sent": TOUCHES}
    # All four took part (SKIP LOCKED shares the queue), each told how many it sent.
    summaries = []
    for _, path in procs:
        lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        summaries += [line for line in lines if line.get("event") == "worker_stopped"]
    assert len(summaries) == WORKERS
    assert sum(s["outcomes"].get("sent", 0) for s in summaries) == TOUCHES
    assert all(s["outcomes"].get("sent", 0) > 0 for s in summaries), summaries
    print(f"{TOUCHES} touches, {WORKERS} workers: {elapsed:.1f}s, {TOUCHES / elapsed:.0f}/s")


def test_a_worker_killed_mid_send_loses_nothing_and_sends_nothing_twice(
    app, db, smtp_peer, tmp_path, database_url
):
    engine = app.extensions["touchbase.engine"]
    seeded = seed_due_touches(engine, TOUCHES, email_settings=smtp_peer.settings())
    env = no_tls_env(tmp_path)
    args = ("--batch", "25", "--lease", "3", "--poll", "0.2")
    procs = [
        start_worker(database_url, tmp_path, *args, log_name=f"w{n}", **env) for n in range(WORKERS)
    ]
    victim = None
    try:
        # Once the run is well under way, the server holds its reply to the next message:
        # whichever worker sent it is stuck mid-send. That one dies.
        victim, stuck_id = kill_the_stuck_sender(db, seeded.touch_ids, smtp_peer, procs, 200)
        # The others finish the queue, including the victim's claimed touches once their
        # lease runs out; the victim's send in flight becomes unknown.
        wait_until_drained(db, seeded.touch_ids, procs)
    finally:
        stop_all_but(victim, procs)

    final = statuses(db, seeded.touch_ids)
    assert final == {"sent": TOUCHES - 1, "unknown": 1}, final
    db.expire_all()
    rows = {t.id: t for t in db.scalars(select(Touch).where(Touch.id.in_(seeded.touch_ids)))}
    db.commit()
    lost = rows[stuck_id]
    assert lost.status == "unknown"
    assert lost.reason.startswith("worker lost during send; not re-sent automatically")
    assert lost.lease_expires_at is None

    counts = delivered(smtp_peer)
    # No duplicates, and nothing lost: every touch reached the server exactly once (the
    # server had received the killed worker's message before it held its reply).
    assert max(counts.values()) == 1, [m for m, n in counts.items() if n > 1][:5]
    assert set(counts) == set(seeded.message_ids.values())


def kill_the_stuck_sender(db, ids, smtp_peer, procs, after_sent: int):
    """Once ``after_sent`` touches are sent, the server holds its reply to the next
    message; the worker that sent it, stuck mid-send, is SIGKILLed. (victim, touch id)."""
    by_pid = {proc.pid: proc for proc, _ in procs}
    _wait_for(lambda: statuses(db, ids)["sent"] >= after_sent, 90, procs)
    smtp_peer.hang_next(10.0)
    stuck_id, owner = _wait_for(lambda: _stuck_sending(db, ids), 30, procs)
    victim = by_pid[int(owner.split(":")[-2])]
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=10)
    return victim, stuck_id


def wait_until_drained(db, ids, procs) -> None:
    """Until nothing is left scheduled or sending."""

    def drained():
        now = statuses(db, ids)
        return now["scheduled"] == 0 and now["sending"] == 0

    _wait_for(drained, 120, procs)


def stop_all_but(victim, procs) -> None:
    """SIGTERM every worker but the killed one; each must exit cleanly."""
    for proc, _ in procs:
        if proc is not victim and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc, _ in procs:
        if proc is not victim:
            assert proc.wait(timeout=30) == 0, logs(p for _, p in procs)


def _stuck_sending(db, ids, seen: dict = {}):  # noqa: B006  (remembers across polls)
    """(id, lease_owner) of a touch seen in 'sending' for over a second, else None."""
    db.expire_all()
    rows = db.execute(
        select(Touch.id, Touch.lease_owner).where(Touch.id.in_(ids), Touch.status == "sending")
    ).all()
    db.commit()
    now = time.monotonic()
    for touch_id, owner in rows:
        first = seen.setdefault(touch_id, now)
        if now - first > 1.0:
            return touch_id, owner
    return None


def _wait_for(condition, seconds, procs):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.05)
    pytest.fail(f"timed out after {seconds}s\n" + logs(p for _, p in procs))
