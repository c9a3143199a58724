"""After an erasure, nothing of the candidate remains: not in any row of any table, not in
the instance folder or the outbox, not in the SQLite file, not in the logs."""

from __future__ import annotations

import pytest

from tests.privacy.conftest import MARKER


def test_the_marked_candidate_is_everywhere_before_the_erasure(marked, traces):
    found = traces(MARKER)
    assert "table:users" in found
    assert "table:touches" in found
    assert "table:inbound_mail" in found
    assert "table:idempotency_keys" in found
    assert any(place.startswith("file:") and place.endswith(".eml") for place in found)


def test_no_trace_of_an_erased_candidate_remains(marked, traces, call, all_logs):
    answer = call(
        "post",
        f"/v1/users/{marked.id}/erasure",
        marked.token,
        json={"confirm": f"ana.{MARKER}@example.org"},
    )
    assert answer.status_code == 200, answer.get_json()
    assert traces(MARKER) == []
    logs = all_logs()
    assert "worker" in logs  # the seeding's worker logged its sends: the logs were read
    assert MARKER not in logs.lower()


def test_the_sqlite_file_holds_the_candidate_before_the_erasure(marked, traces, engine_of):
    if engine_of.dialect.name != "sqlite":
        pytest.skip("PostgreSQL: its rows are read, not its files")
    assert any(place.startswith("sqlite-file:") for place in traces(MARKER))
