"""Under a client saving and previewing every sandbox payload in a loop, the real server
(`touchbase serve`) refuses each with a 422 naming the field and keeps answering /healthz.

The figures for CI come from tests/bench/sandbox_bench.py (p99 < 200 ms); this test only
asserts what holds on any machine, however loaded: before the sandbox, one save stalled
/healthz for 30 s and the next made the server answer nothing for over 70 s.
"""

from __future__ import annotations

import pytest

from tests.sandbox_load import Server, measure, set_up

#: /healthz answers within this even on a loaded two-CPU machine (the benchmark's p99
#: under attack is ~100 ms there); the old code stalled it for 30 s.
RESPONSIVE_WITHIN = 2.0


@pytest.fixture(scope="module")
def under_attack(tmp_path_factory):
    server = Server.start(tmp_path_factory.mktemp("sandbox-load"))
    try:
        attacks = set_up(server)
        yield measure(server, attacks, seconds=3, rounds=1, patience=30), attacks
    finally:
        server.stop()


def test_every_payload_is_answered_422_naming_its_field(under_attack):
    figures, attacks = under_attack

    assert {a.label for a in figures.answers} == {a.label for a in attacks}
    assert [f"{a.label} ({a.status})" for a in figures.answers if not a.refused] == []


def test_healthz_keeps_answering_while_they_are_saved(under_attack):
    figures, _ = under_attack

    assert len(figures.healthz) > 20
    assert figures.healthz_failed == 0
    assert max(figures.healthz) < RESPONSIVE_WITHIN
