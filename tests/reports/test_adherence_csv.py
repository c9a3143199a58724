"""The report as CSV (Accept: text/csv): a header, one row per candidate, a total row."""

from __future__ import annotations

import csv
import io

from api.reports.tables import COLUMNS
from tests.reports.conftest import RANGE


def csv_report(call, world, role="admin", accept="text/csv"):
    answer = call(
        "GET",
        "/v1/reports/adherence",
        world.tokens[role],
        query_string=RANGE,
        headers={"Accept": accept},
    )
    assert answer.status_code == 200
    return answer, list(csv.reader(io.StringIO(answer.get_data(as_text=True))))


def test_the_csv_is_served_as_text_csv(call, world):
    answer, _rows = csv_report(call, world)
    assert answer.mimetype == "text/csv"


def test_the_csv_has_the_documented_header(call, world):
    _answer, rows = csv_report(call, world)
    assert tuple(rows[0]) == COLUMNS


def test_the_csv_has_a_row_per_candidate_then_the_total(call, world):
    _answer, rows = csv_report(call, world)
    assert [(r[0], r[1]) for r in rows[1:]] == [
        ("candidate", str(world.candidate.id)),
        ("candidate", str(world.other_candidate.id)),
        ("total", ""),
    ]


def test_the_csv_cells_are_the_json_figures(call, world, cohort, report):
    app, (dana,) = cohort.interviewed(world.candidate)
    cohort.sent(dana, app)
    touch = cohort.f.touch(dana, app, step="follow_up", status="cancelled")
    cohort.stopped(touch, "cancelled", "R8")
    _answer, rows = csv_report(call, world)
    cells = dict(zip(rows[0], rows[1], strict=True))
    assert (cells["thanked_within_24h"], cells["refused_by_rule"]) == ("1", "R8=1")


def test_a_name_that_looks_like_a_formula_is_quoted(call, world, db):
    world.candidate.name = "=HYPERLINK(1)"
    db.merge(world.candidate)
    db.commit()
    _answer, rows = csv_report(call, world)
    assert rows[1][2] == "'=HYPERLINK(1)"


def test_json_stays_the_default_for_any_accept(call, world):
    answer = call(
        "GET",
        "/v1/reports/adherence",
        world.tokens["admin"],
        query_string=RANGE,
        headers={"Accept": "*/*"},
    )
    assert answer.mimetype == "application/json"
