"""Fixtures for the fault tests: the real loopback peers."""

from channels.testing import smtp_peer  # noqa: F401  (fixture)
