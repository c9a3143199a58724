"""Rate limits counted in Redis, as in production: one count for every API process.

Needs TOUCHBASE_TEST_REDIS_URL (see conftest.py): skipped without it, failed when it is
given and unreachable. Two `touchbase serve --no-worker` processes on one database and one
Redis share each token's quota and each address's failed authentications.
"""

from __future__ import annotations

import subprocess
import time
import urllib.error
import urllib.request
from email.message import Message
from pathlib import Path

import pytest

from api import create_app
from tests.conftest import bearer
from tests.ratelimit.conftest import redis_keys
from tests.serve_process import admin_token, start_serve

BAD_TOKEN = "tb_" + "x" * 43


def test_an_app_counts_a_token_in_redis(engine, tmp_path, world, redis_url, redis_prefix):
    app = create_app(
        {
            "ENGINE": engine,
            "DATABASE_URL": engine.url.render_as_string(hide_password=False),
            "SECRET_KEY": "x",
            "INSTANCE_DIR": str(tmp_path),
            "RATELIMIT_STORAGE_URI": redis_url,
            "RATELIMIT_STORAGE_PREFIX": redis_prefix,
            "RATELIMIT_PER_TOKEN": "3/hour",
        }
    )
    client = app.test_client()
    statuses = [
        client.get("/v1/me", headers=bearer(world.tokens["candidate"])).status_code
        for _ in range(4)
    ]

    assert statuses == [200, 200, 200, 429]
    assert any("/token/" in key for key in redis_keys(redis_url, redis_prefix))


# -- two API processes ---------------------------------------------------------------------


def fetch(base: str, path: str, token: str) -> tuple[int, Message]:
    """(status, headers) of one GET with a bearer token; header names case-insensitive,
    as HTTP has them (waitress sends `Ratelimit`)."""
    req = urllib.request.Request(base + path, headers=bearer(token))
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, response.headers
    except urllib.error.HTTPError as exc:
        exc.read()
        return exc.code, exc.headers


def wait_healthy(proc: subprocess.Popen, base: str, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"touchbase serve did not come up:\n{log.read_text()}")


@pytest.fixture
def two_apis(tmp_path, redis_url, redis_prefix):
    """Two API processes on one SQLite file and one Redis: (base A, base B, admin token).
    A token may make 5 requests an hour; an address may fail to authenticate 4 times."""
    settings = {
        "TOUCHBASE_DATABASE_URL": f"sqlite:///{tmp_path / 'shared.db'}",
        "TOUCHBASE_SECRET_KEY": "two-apis",
        "TOUCHBASE_RATELIMIT_STORAGE_URL": redis_url,
        "TOUCHBASE_RATELIMIT_STORAGE_PREFIX": redis_prefix,
        "TOUCHBASE_RATELIMIT_PER_TOKEN": "5/hour",
        "TOUCHBASE_RATELIMIT_AUTH_FAILURES": "4/hour",
    }
    procs = []
    try:
        (tmp_path / "a").mkdir()
        proc_a, base_a, log_a = start_serve(tmp_path / "a", "--no-worker", **settings)
        procs.append(proc_a)
        token = admin_token(proc_a, base_a, log_a)  # A created the database: B finds it
        (tmp_path / "b").mkdir()
        proc_b, base_b, log_b = start_serve(tmp_path / "b", "--no-worker", **settings)
        procs.append(proc_b)
        wait_healthy(proc_b, base_b, log_b)
        yield base_a, base_b, token
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def test_two_processes_share_one_token_quota(two_apis):
    base_a, base_b, token = two_apis
    answers = [fetch(base, "/v1/me", token) for base in (base_a, base_b) * 3]

    assert [status for status, _ in answers] == [200, 200, 200, 200, 200, 429]
    remaining = [headers["RateLimit"].split(";")[1] for _, headers in answers]
    assert remaining == ["r=4", "r=3", "r=2", "r=1", "r=0", "r=0"]
    assert 1 <= int(answers[-1][1]["Retry-After"]) <= 3600


def test_two_processes_share_one_count_of_failed_authentications(two_apis):
    base_a, base_b, token = two_apis
    statuses = [fetch(base, "/v1/me", BAD_TOKEN)[0] for base in (base_a, base_b) * 3]

    assert statuses == [401, 401, 401, 401, 429, 429]
    status, headers = fetch(base_b, "/v1/me", token)
    assert status == 429
    assert headers["RateLimit-Policy"] == "auth-failures;q=4;w=3600"
