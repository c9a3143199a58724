"""The report's range: both ends required, start before end, at most 366 days, facts at
the start kept and at the end left out."""

from datetime import timedelta

import pytest

from tests.reports.conftest import END, START, row_of


def problem_fields(answer) -> list[str]:
    return sorted(answer.get_json()["errors"])


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"end": END.isoformat()}, "start"),
        ({"start": START.isoformat()}, "end"),
        ({"start": END.isoformat(), "end": START.isoformat()}, "end"),
        ({"start": START.isoformat(), "end": START.isoformat()}, "end"),
        ({"start": START.isoformat(), "end": (START + timedelta(days=367)).isoformat()}, "end"),
        ({"start": "2026-11-16T00:00:00", "end": END.isoformat()}, "start"),
    ],
    ids=["no start", "no end", "inverted", "empty", "over 366 days", "naive start"],
)
def test_a_bad_range_is_a_422_naming_the_field(call, world, params, field):
    answer = call("GET", "/v1/reports/adherence", world.tokens["admin"], query_string=params)
    assert (answer.status_code, problem_fields(answer)) == (422, [field])


def test_a_fact_at_the_start_of_the_range_is_in_it(report, cohort, world):
    cohort.interviewed(world.candidate, ends_at=START)
    assert row_of(report(), world.candidate)["interviews"] == 1


def test_a_fact_at_the_end_of_the_range_is_not(report, cohort, world):
    cohort.interviewed(world.candidate, ends_at=END)
    assert row_of(report(), world.candidate)["interviews"] == 0


def test_a_range_of_366_days_is_accepted(call, world):
    params = {"start": START.isoformat(), "end": (START + timedelta(days=366)).isoformat()}
    answer = call("GET", "/v1/reports/adherence", world.tokens["admin"], query_string=params)
    assert answer.status_code == 200
