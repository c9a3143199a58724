"""Rate limits no test reaches by accident: most tests make many requests from one address
and one token. The rate-limit tests (tests/api/test_rate_limits*.py) set their own."""

from __future__ import annotations

HIGH = "100000/minute"

#: For an app the suite builds in-process (counters in its memory).
CONFIG = {
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_PER_TOKEN": HIGH,
    "RATELIMIT_AUTH_FAILURES": HIGH,
    "RATELIMIT_PUBLIC": HIGH,
}

#: For a `touchbase serve` the suite starts (storage as the database implies).
ENV = {
    "TOUCHBASE_RATELIMIT_PER_TOKEN": HIGH,
    "TOUCHBASE_RATELIMIT_AUTH_FAILURES": HIGH,
    "TOUCHBASE_RATELIMIT_PUBLIC": HIGH,
}
