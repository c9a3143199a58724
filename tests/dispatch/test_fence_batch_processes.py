"""``--fence-batch K`` with real processes: a worker killed after a fence of K touches
leaves at most K 'unknown', and nothing is ever sent twice (PostgreSQL)."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.dispatch.conftest import no_tls_env, requires_postgres, start_worker
from tests.dispatch.seeding import seed_due_touches
from tests.dispatch.test_dispatch_processes import (
    delivered,
    kill_the_stuck_sender,
    statuses,
    stop_all_but,
    wait_until_drained,
)

pytestmark = [requires_postgres, pytest.mark.slow]

TOUCHES = 600
WORKERS = 2
FENCE = 10


def test_a_worker_killed_after_a_fence_of_k_leaves_at_most_k_unknown_and_no_duplicate(
    app, db, smtp_peer, tmp_path, database_url
):
    engine = app.extensions["touchbase.engine"]
    seeded = seed_due_touches(engine, TOUCHES, email_settings=smtp_peer.settings())
    env = no_tls_env(tmp_path)
    args = ("--batch", "50", "--fence-batch", str(FENCE), "--lease", "3", "--poll", "0.2")
    procs = [
        start_worker(database_url, tmp_path, *args, log_name=f"w{n}", **env) for n in range(WORKERS)
    ]
    victim = None
    try:
        # Under way, the server holds its reply to the next message: the worker that sent
        # it is stuck with the rest of its fence 'sending' behind it. That one dies.
        victim, _ = kill_the_stuck_sender(db, seeded.touch_ids, smtp_peer, procs, 100)
        wait_until_drained(db, seeded.touch_ids, procs)
    finally:
        stop_all_but(victim, procs)

    final = statuses(db, seeded.touch_ids)
    assert set(final) == {"sent", "unknown"}, final
    assert 1 <= final["unknown"] <= FENCE, final
    counts: Counter = delivered(smtp_peer)
    assert max(counts.values()) == 1, [m for m, n in counts.items() if n > 1][:5]
    # every touch marked sent reached the server; the unknown ones at most once
    assert len(counts) >= final["sent"]
