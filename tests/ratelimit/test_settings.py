"""Rate limits are settings: where counters live, each policy's limit, off altogether, and
the client address behind trusted proxies; and the OpenAPI document promises the 429."""

from __future__ import annotations

import json

import pytest

from api import cli, create_app
from api.config import default_ratelimit_storage, load_config
from api.ratelimit import EXEMPT_ENDPOINTS, SETTINGS, parse_limit
from api.spec import NOT_RATE_LIMITED
from tests.conftest import bearer
from tests.high_limits import CONFIG as HIGH

BAD_TOKEN = "tb_" + "x" * 43


def test_the_embedded_setup_counts_in_memory():
    assert default_ratelimit_storage("sqlite:///instance/touchbase.db") == "memory://"


def test_production_counts_in_redis_on_this_machine():
    url = "postgresql+psycopg://touchbase@db.internal/touchbase"

    assert default_ratelimit_storage(url) == "redis://127.0.0.1:6379/0"


def test_the_storage_setting_wins(monkeypatch):
    monkeypatch.setenv("TOUCHBASE_RATELIMIT_STORAGE_URL", "redis://cache.internal:6379/2")

    config = load_config({"DATABASE_URL": "sqlite:///x.db", "SECRET_KEY": "x"})

    assert config["RATELIMIT_STORAGE_URI"] == "redis://cache.internal:6379/2"


@pytest.mark.parametrize("raw", ["0", "false", "off"])
def test_limits_can_be_turned_off(monkeypatch, raw):
    monkeypatch.setenv("TOUCHBASE_RATELIMIT_ENABLED", raw)

    assert load_config({"SECRET_KEY": "x"})["RATELIMIT_ENABLED"] is False


@pytest.mark.parametrize("setting", sorted(SETTINGS.values()))
def test_each_limit_is_read_from_its_variable(monkeypatch, setting):
    monkeypatch.setenv(f"TOUCHBASE_{setting}", "7/hour")

    assert load_config({"SECRET_KEY": "x"})[setting] == "7/hour"


@pytest.mark.parametrize("value", ["lots", "10/fortnight", "1/second;5/minute", ""])
def test_a_limit_that_is_not_one_rate_fails_at_start_naming_its_variable(value):
    with pytest.raises(RuntimeError, match="TOUCHBASE_RATELIMIT_PER_TOKEN"):
        parse_limit("RATELIMIT_PER_TOKEN", value)


def _app(engine, tmp_path, **config):
    """An app of its own (the setting is read once, at start), on the suite's database."""
    return create_app(
        {
            "ENGINE": engine,
            "DATABASE_URL": engine.url.render_as_string(hide_password=False),
            **HIGH,
            "SECRET_KEY": "x",
            "INSTANCE_DIR": str(tmp_path),
            **config,
        }
    )


def test_turned_off_nothing_is_limited_or_reported(engine, tmp_path):
    client = _app(
        engine, tmp_path, RATELIMIT_ENABLED=False, RATELIMIT_AUTH_FAILURES="1/minute"
    ).test_client()

    answers = [client.get("/v1/me", headers=bearer(BAD_TOKEN)) for _ in range(3)]

    assert [a.status_code for a in answers] == [401] * 3
    assert all("RateLimit" not in a.headers for a in answers)


def test_behind_a_trusted_proxy_the_forwarded_address_is_counted(engine, tmp_path):
    app = _app(engine, tmp_path, RATELIMIT_AUTH_FAILURES="1/minute", TRUSTED_PROXIES=1)
    client = app.test_client()
    client.get("/v1/me", headers={**bearer(BAD_TOKEN), "X-Forwarded-For": "203.0.113.7"})

    other = client.get("/v1/me", headers={**bearer(BAD_TOKEN), "X-Forwarded-For": "203.0.113.8"})
    again = client.get("/v1/me", headers={**bearer(BAD_TOKEN), "X-Forwarded-For": "203.0.113.7"})

    assert (other.status_code, again.status_code) == (401, 429)


def test_with_no_trusted_proxy_a_forwarded_address_is_ignored(engine, tmp_path):
    app = _app(engine, tmp_path, RATELIMIT_AUTH_FAILURES="1/minute")
    client = app.test_client()
    client.get("/v1/me", headers={**bearer(BAD_TOKEN), "X-Forwarded-For": "203.0.113.7"})

    other = client.get("/v1/me", headers={**bearer(BAD_TOKEN), "X-Forwarded-For": "203.0.113.8"})

    assert other.status_code == 429


# -- the document --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def document() -> dict:
    return json.loads(cli.openapi_document())


def test_every_limited_operation_documents_the_429(document):
    missing = [
        (path, method)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict)
        and "responses" in operation
        and (path, method) not in NOT_RATE_LIMITED
        and operation["responses"].get("429")
        != {"$ref": "#/components/responses/TOO_MANY_REQUESTS"}
    ]

    assert missing == []


def test_the_health_checks_document_no_429(document):
    for path, method in NOT_RATE_LIMITED:
        assert "429" not in document["paths"][path][method]["responses"]


def test_the_429_carries_retry_after_and_the_ratelimit_fields(document):
    response = document["components"]["responses"]["TOO_MANY_REQUESTS"]

    assert set(response["headers"]) == {"Retry-After", "RateLimit", "RateLimit-Policy"}
    assert "application/problem+json" in response["content"]


def test_the_documented_exemptions_are_the_served_ones(_shared_app):
    exempt = {
        (rule.rule, method.lower())
        for rule in _shared_app.url_map.iter_rules()
        if rule.endpoint in EXEMPT_ENDPOINTS
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }

    assert exempt == set(NOT_RATE_LIMITED)


def test_with_redis_unreachable_the_process_counts_in_memory(engine, tmp_path, world):
    from channels.testing_peers import free_port

    app = _app(
        engine,
        tmp_path,
        RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
        RATELIMIT_PER_TOKEN="2/minute",
    )
    client = app.test_client()

    statuses = [
        client.get("/v1/me", headers=bearer(world.tokens["candidate"])).status_code
        for _ in range(3)
    ]

    assert statuses == [200, 200, 429]


def test_the_embedded_counters_start_no_thread_per_request(monkeypatch):
    import threading
    import time

    from limits import parse
    from limits.strategies import FixedWindowRateLimiter

    from api.ratelimit import MemoryCounters

    counter = FixedWindowRateLimiter(MemoryCounters("touchbase-memory://"))
    counter.hit(parse("1000/minute"), "warm")
    time.sleep(0.05)  # the sweep limits schedules at start is over: ours is the next one
    counter.hit(parse("1000/minute"), "warm")
    started = []
    original = threading.Thread.start
    monkeypatch.setattr(threading.Thread, "start", lambda t: (started.append(t), original(t)))

    for _ in range(50):  # over 0.1 s: limits' own storage would sweep ten times
        counter.hit(parse("1000/minute"), "portal")
        time.sleep(0.002)

    assert started == []


def test_the_embedded_counters_expire_on_time():
    import time

    from limits import parse
    from limits.strategies import FixedWindowRateLimiter

    from api.ratelimit import MemoryCounters

    counter = FixedWindowRateLimiter(MemoryCounters("touchbase-memory://"))
    item = parse("1/second")
    assert [counter.hit(item, "k"), counter.hit(item, "k")] == [True, False]

    time.sleep(1.05)

    assert counter.hit(item, "k") is True
