"""Fixtures for the rate-limit tests: small limits on the suite's app, and a Redis for the
tests that share counters between API processes.

Redis is TOUCHBASE_TEST_REDIS_URL (.ci/run gives redis://127.0.0.1:6379/13). Without it the
Redis tests are skipped; given and unreachable, they fail: never a silent skip in CI. Each
test counts under its own key prefix and deletes its keys after.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

REDIS_URL = os.environ.get("TOUCHBASE_TEST_REDIS_URL", "")


@pytest.fixture
def limits(app):
    """`limits(token=..., auth_failures=..., public=...)`: the app's limits for this test
    (the app fixture restores the suite's after it, and clears the counters)."""

    def _set(token: str | None = None, auth_failures: str | None = None, public=None) -> None:
        for setting, value in (
            ("RATELIMIT_PER_TOKEN", token),
            ("RATELIMIT_AUTH_FAILURES", auth_failures),
            ("RATELIMIT_PUBLIC", public),
        ):
            if value is not None:
                app.config[setting] = value

    return _set


@pytest.fixture(scope="session")
def redis_url() -> str:
    if not REDIS_URL:
        pytest.skip("set TOUCHBASE_TEST_REDIS_URL=redis://127.0.0.1:6379/<n> for Redis tests")
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"TOUCHBASE_TEST_REDIS_URL={REDIS_URL!r} is unreachable: {exc}")
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture
def redis_prefix(redis_url) -> Iterator[str]:
    """A key prefix no other test or run uses; its keys are deleted after the test."""
    import redis

    prefix = f"touchbase-test-{uuid.uuid4().hex[:12]}"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def redis_keys(redis_url: str, prefix: str) -> list[str]:
    import redis

    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        return sorted(client.scan_iter(match=f"{prefix}:*", count=1000))
    finally:
        client.close()
