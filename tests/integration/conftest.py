"""Fixtures for the channel, settings and template API tests: the API suite's snapshots."""

from __future__ import annotations

from tests.api.conftest import count, engine_of, row, snapshot, sql  # noqa: F401  (fixtures)
