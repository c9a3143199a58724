"""Two deliveries of one inbound SMS at the same moment make one response (PostgreSQL).

The app runs under a real threaded WSGI server on 127.0.0.1. The test holds a lock on the
contact's row, so both deliveries get as far as they can and wait; then it lets go. The
guard under test is the unique MessageSid of the inbound log: the second delivery's
insert waits for the first to commit, then fails, and that delivery changes nothing. A
read-then-write check ("is there a response for this SID yet?") lets both through.

SQLite serialises writers anyway, so the test needs PostgreSQL.
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from sqlalchemy import select, text

from api.models import Contact, Response
from channels.twilio_client import sign_twilio_request
from tests.live_server import live_server, needs_postgres
from tests.webhooks.twilio import INBOUND, ORG_TOKEN, PUBLIC_URL, inbound

pytestmark = needs_postgres

WAITING = text(
    "SELECT count(*) FROM pg_stat_activity "
    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
)


@pytest.fixture
def server(app, tmp_path):
    with live_server(tmp_path, pool_size=4, public_url=PUBLIC_URL) as base:
        yield base


def deliver(base: str, params: dict[str, str]) -> int:
    """POST the inbound webhook as Twilio does, signed for the public URL."""
    request = urllib.request.Request(
        base + INBOUND,
        data=urllib.parse.urlencode(params).encode(),
        method="POST",
        headers={
            "X-Twilio-Signature": sign_twilio_request(ORG_TOKEN, PUBLIC_URL + INBOUND, params)
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def wait_for_waiters(engine, expected: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            if conn.scalar(WAITING) >= expected:
                return
        time.sleep(0.05)
    pytest.fail(f"fewer than {expected} requests waiting on a lock after {timeout}s")


def test_two_deliveries_of_one_reply_at_once_make_one_response(
    conversation, server, engine_of, count, sql
):
    dana, _application, _follow_up = conversation
    params = inbound("Thanks, we will decide on Friday.")
    statuses: list[int] = []

    with engine_of.connect() as holder:
        holder.execute(select(Contact.id).where(Contact.id == dana.id).with_for_update())
        threads = [
            threading.Thread(target=lambda: statuses.append(deliver(server, params)))
            for _ in range(2)
        ]
        for thread in threads:
            thread.start()
        wait_for_waiters(engine_of, 2)
        holder.rollback()  # let them go
    for thread in threads:
        thread.join(timeout=60)

    assert statuses == [200, 200]
    assert count(Response) == 1
    assert sql("SELECT count(*) FROM inbound_messages WHERE sid = :s", s=params["MessageSid"]) == [
        (1,)
    ]
