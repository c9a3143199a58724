"""Fixtures for the fault tests: the real loopback peers, and processes that never outlive
their test (a stray worker would go on sending from the next test's database)."""

import pytest

from channels.testing import smtp_peer  # noqa: F401  (fixture)
from tests.faults.harness import stop


@pytest.fixture
def reap():
    """A list: every process appended to it is stopped when the test ends, pass or fail."""
    procs = []
    yield procs
    for proc in procs:
        stop(proc, timeout=10)
