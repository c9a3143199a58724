"""The budget holds under real concurrency: on PostgreSQL, 20 simultaneous requests
competing for the last touch of a contact's budget leave exactly one touch scheduled.

The app runs under a real threaded WSGI server on 127.0.0.1 with its own connection pool,
and 20 threads released by one barrier fire their requests over separate HTTP and
database connections. The guard under test is the contact row lock (ledger.lock_contact):
without it, every request reads "two of three used" and many are let through.

SQLite serialises writers anyway (BEGIN IMMEDIATE), so the test needs PostgreSQL; CI always
sets TOUCHBASE_TEST_DATABASE_URL.
"""

from __future__ import annotations

import threading
from datetime import timedelta

from api.models import Touch
from tests.ledger.conftest import (
    CALL_AT,
    FOLLOW_UP_AT,
    LIVE_REQUESTS,
    THANK_YOU_AT,
    needs_postgres,
    request,
)

REQUESTS = LIVE_REQUESTS
pytestmark = needs_postgres


def test_twenty_simultaneous_requests_for_the_last_touch_leave_exactly_one(scene, server, count):
    # Only the budget may refuse: no minimum gap, and a daily cap far above the traffic
    # (loosenings, so staff set them).
    assert (
        scene.call(
            "put",
            f"/v1/contacts/{scene.dana.id}/policy",
            scene.world.tokens["admin"],
            json={"min_gap_hours": 0, "daily_cap": 100},
        ).status_code
        == 200
    )
    scene.existing("thank_you", THANK_YOU_AT)
    scene.existing("follow_up", FOLLOW_UP_AT)  # two of three used: one touch left
    # Warm up: the token's last-use stamp is written now, not by the racing requests.
    assert request(server, "GET", "/v1/touches", scene.token)[0] == 200

    payload = {
        "contact_id": scene.dana.id,
        "application_id": scene.application.id,
        "step": "custom",
        "channel": "email",
    }
    barrier = threading.Barrier(REQUESTS)
    results: list[tuple[int, dict]] = []
    lock = threading.Lock()

    def compete(i: int) -> None:
        body = dict(payload, scheduled_for=(CALL_AT + timedelta(minutes=i)).isoformat())
        barrier.wait(timeout=30)
        outcome = request(server, "POST", "/v1/touches", scene.token, body)
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=compete, args=(i,)) for i in range(REQUESTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    statuses = sorted(status for status, _ in results)
    assert statuses == [201] + [409] * (REQUESTS - 1), results
    assert {body["rule"] for status, body in results if status == 409} == {"R6"}
    assert count(Touch, contact_id=scene.dana.id, status="scheduled") == 3
    assert count(Touch, contact_id=scene.dana.id, step="custom") == 1
