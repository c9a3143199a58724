"""Idempotency-Key across two API processes on one PostgreSQL database, as a portal's
retries reach a load-balanced deployment: concurrent retries of one POST have exactly one
effect (the others get its answer or a 409), and a retry reaching the other process gets
the stored answer."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
import uuid

import pytest

from api.models import Contact
from tests.live_server import PG_URL, needs_postgres
from tests.serve_process import request, start_serve

pytestmark = needs_postgres

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
RETRIES_PER_PROCESS = 6


def post(base: str, path: str, token: str, key: str, body: dict) -> tuple[int, dict, dict]:
    """(status, headers, JSON answer) of one keyed POST on a new connection."""
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST")
    req.add_header("Content-Type", "application/json")
    req.add_header("Authorization", f"Bearer {token}")
    req.add_header(HEADER, key)
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), json.loads(exc.read())


def _wait_until_up(proc, base: str, log_path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            if request(base, "GET", "/healthz", timeout=2)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"touchbase serve did not come up:\n{log_path.read_text()}")


@pytest.fixture(scope="module")
def servers(engine, tmp_path_factory):
    """Two `touchbase serve --no-worker` processes on the test database."""
    started = []
    try:
        for name in ("a", "b"):
            workdir = tmp_path_factory.mktemp(f"serve-{name}")
            started.append(
                start_serve(
                    workdir,
                    "--no-worker",
                    TOUCHBASE_DATABASE_URL=PG_URL,
                    TOUCHBASE_DB_POOL_SIZE="8",
                )
            )
        for proc, base, log_path in started:
            _wait_until_up(proc, base, log_path)
        yield [base for _proc, base, _log in started]
    finally:
        for proc, _base, _log in started:
            proc.terminate()
        for proc, _base, _log in started:
            proc.wait(timeout=30)


def _all_at_once(calls) -> list:
    """Run the calls in threads released together; their results, in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, fn):
        barrier.wait()
        results[i] = fn()

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_concurrent_retries_on_two_processes_have_one_effect(servers, world, count):
    # No email or phone: without the key, nothing would stop twelve Ana Silvas.
    key, body = str(uuid.uuid4()), {"name": "Ana Silva", "company": "Acme"}
    token = world.tokens["candidate"]
    calls = [
        (lambda base=base: post(base, "/v1/contacts", token, key, body))
        for base in servers
        for _ in range(RETRIES_PER_PROCESS)
    ]
    answers = _all_at_once(calls)
    assert count(Contact) == 1
    created = [a for a in answers if a[0] == 201 and a[1].get(REPLAYED) is None]
    replayed = [a for a in answers if a[0] == 201 and a[1].get(REPLAYED) == "true"]
    in_flight = [a for a in answers if a[0] == 409]
    assert len(created) == 1
    assert len(created) + len(replayed) + len(in_flight) == len(answers)
    assert all(a[2] == created[0][2] for a in replayed)
    assert all(list(a[2]["errors"]) == [HEADER] for a in in_flight)


def test_a_retry_reaching_the_other_process_gets_the_stored_answer(servers, world, count):
    key, body = str(uuid.uuid4()), {"name": "Bo Chen"}
    token = world.tokens["candidate"]
    first = post(servers[0], "/v1/contacts", token, key, body)
    again = post(servers[1], "/v1/contacts", token, key, body)
    assert first[0] == 201
    assert (again[0], again[1].get(REPLAYED), again[2]) == (201, "true", first[2])
    assert count(Contact) == 1


def test_concurrent_posts_with_their_own_keys_all_run(servers, world, count):
    token = world.tokens["candidate"]
    calls = [
        (
            lambda base=base, n=n: post(
                base, "/v1/contacts", token, str(uuid.uuid4()), {"name": f"C{n}"}
            )
        )
        for n, base in enumerate(servers * RETRIES_PER_PROCESS)
    ]
    answers = _all_at_once(calls)
    assert [a[0] for a in answers] == [201] * len(calls)
    assert count(Contact) == len(calls)
