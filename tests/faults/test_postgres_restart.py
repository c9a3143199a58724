"""PostgreSQL restarted under load: two API processes and two workers ride it out.

While clients read and write through two `touchbase serve --no-worker` processes and two
`touchbase worker` processes dispatch email touches to a loopback SMTP server, PostgreSQL
is restarted (`pg_ctlcluster ... restart`: every connection is cut). Requests during the
outage get a fast 503 problem, never a 500 or a hang; every process recovers on its own;
every touch ends sent exactly once, or `unknown` (sent at most once), counted at the server.
"""

from __future__ import annotations

import re
import time
from collections import Counter

import pytest
from sqlalchemy import func, select

from api.models import Touch
from tests.dispatch.conftest import no_tls_env, requires_postgres, start_worker
from tests.dispatch.seeding import seed_due_touches
from tests.faults.harness import (
    Client,
    ensure_postgres,
    restart_postgres,
    start_api,
    stop,
    wait_until,
)

pytestmark = [requires_postgres, pytest.mark.slow, pytest.mark.serial]

TOUCHES = 800
MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>\r\n]+>)", re.IGNORECASE | re.MULTILINE)
#: An answer slower than this during the outage counts as a hang.
FAST_SECONDS = 6.0


def _statuses(db, ids) -> Counter:
    db.expire_all()
    rows = db.execute(
        select(Touch.status, func.count()).where(Touch.id.in_(ids)).group_by(Touch.status)
    ).all()
    db.commit()
    return Counter(dict(rows))


def _portal(candidate_id: int):
    def request_for(n: int):
        if n % 3 == 0:
            return "GET", "/v1/me", None
        if n % 3 == 1:
            return "GET", "/v1/touches?page_size=5", None
        body = {"candidate_id": candidate_id, "name": f"Outage Contact {n}", "company": "Acme"}
        return "POST", "/v1/contacts", body

    return request_for


@pytest.fixture
def postgres_comes_back():
    yield
    ensure_postgres()


def test_a_postgres_restart_gives_fast_503s_and_nothing_is_sent_twice(
    app, db, world, smtp_peer, tmp_path, database_url, postgres_comes_back, reap
):
    seeded = seed_due_touches(
        app.extensions["touchbase.engine"], TOUCHES, email_settings=smtp_peer.settings()
    )
    env = no_tls_env(tmp_path)
    apis = [start_api(database_url, tmp_path, f"api{n}", **env) for n in range(2)]
    workers = [
        start_worker(
            database_url,
            tmp_path,
            "--batch",
            "10",
            "--lease",
            "5",
            "--poll",
            "0.2",
            log_name=f"worker{n}",
            **env,
        )
        for n in range(2)
    ]
    reap.extend([api.proc for api in apis] + [proc for proc, _ in workers])
    clients = [
        Client(api.base, world.tokens["admin"], _portal(world.candidate.id), timeout=20)
        for api in apis
        for _ in range(2)
    ]
    try:
        for client in clients:
            client.start()
        wait_until(lambda: _statuses(db, seeded.touch_ids)["sent"] >= 100, 120, "no sends")
        restart_at = time.monotonic()
        restart_postgres()
        restarted = time.monotonic() - restart_at
        # The test's own pooled connections died too; its engine does not ping before a
        # checkout (no app engine does: the API processes under test retry their first
        # statement instead), so it lets them go rather than read on a dead one.
        db.close()
        app.extensions["touchbase.engine"].dispose()

        # Both API processes answer again without a restart of their own...
        for api in apis:
            wait_until(
                lambda api=api: _fresh_success(clients, api.base), 30, f"{api.base} stays down"
            )
        # ...and the workers drain the queue (stuck sends become unknown when leases end).
        wait_until(
            lambda: _statuses(db, seeded.touch_ids).keys() <= {"sent", "unknown"},
            180,
            f"not drained: {_statuses(db, seeded.touch_ids)}",
        )
    finally:
        for client in clients:
            client.stop()

    assert all(api.proc.poll() is None for api in apis), "an API process died"
    assert all(proc.poll() is None for proc, _ in workers), "a worker died"
    for proc, _ in workers:
        assert stop(proc) == 0
    for api in apis:
        stop(api.proc)

    answers = [a for c in clients for a in c.answers]
    codes = Counter(a.status for a in answers)
    slowest = max(a.seconds for a in answers)
    print(
        f"PostgreSQL restart took {restarted:.1f}s; answers by status: {dict(codes)}; "
        f"slowest answer {slowest:.2f}s"
    )
    assert codes.keys() <= {200, 201, 503}, codes
    assert codes[503] > 0, "no request saw the outage: the test proved nothing"
    unavailable = [a for a in answers if a.status == 503]
    assert {a.mimetype for a in unavailable} == {"application/problem+json"}
    assert slowest < FAST_SECONDS

    final = _statuses(db, seeded.touch_ids)
    delivered = Counter(
        MESSAGE_ID.search(mail.data).group(1).decode() for mail in list(smtp_peer.messages)
    )
    print(f"touches: {dict(final)}")
    assert max(delivered.values()) == 1, "a touch was sent twice"
    sent_ids = _ids_with_status(db, seeded.touch_ids, "sent")
    assert {seeded.message_ids[i] for i in sent_ids} <= set(delivered)


def _fresh_success(clients, base: str) -> bool:
    """The last few answers of a client of `base` are all successes."""
    for client in clients:
        if client.base == base:
            recent = client.answers[-3:]
            if len(recent) == 3 and all(a.status in (200, 201) for a in recent):
                return True
    return False


def _ids_with_status(db, ids, status: str) -> set[int]:
    db.expire_all()
    found = set(db.scalars(select(Touch.id).where(Touch.id.in_(ids), Touch.status == status)))
    db.commit()
    return found
