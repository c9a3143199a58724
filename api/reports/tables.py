"""The adherence report as CSV, for the spreadsheet an office lives in: one row per
candidate, then one ``total`` row."""

from __future__ import annotations

import csv
import io

from api.reports.adherence import COUNTED
from api.reports.attention import FIGURES as ATTENTION

COLUMNS = (
    "row",
    "candidate_id",
    "name",
    "email",
    *COUNTED,
    "refused",
    "refused_by_rule",
    "median_hours_to_first_reply",
    *ATTENTION,
)
#: The document's description of the CSV (the columns, in order).
DESCRIPTION = (
    "One row per candidate (`row` = candidate), then one `row` = total (its candidate_id "
    "is empty, its name is the number of candidates). Columns, in order: "
    + ", ".join(f"`{c}`" for c in COLUMNS)
    + ". They mean what the JSON fields of the same name mean; `refused_by_rule` is "
    "`RULE=count` pairs joined by `;` (`R6=2;R8=5`), the attention figures are the JSON's "
    "`attention` object flattened."
)


def _text(value) -> str:
    """A name as a spreadsheet shows it, never as a formula (CSV injection)."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _cells(kind: str, values: dict) -> list:
    rules = ";".join(f"{rule}={n}" for rule, n in values["refused_by_rule"].items())
    median = values["median_hours_to_first_reply"]
    return [
        kind,
        values.get("candidate_id", ""),
        _text(values.get("name", "")),
        _text(values.get("email", "")),
        *(values[name] for name in COUNTED),
        values["refused"],
        rules,
        "" if median is None else median,
        *(values["attention"][name] for name in ATTENTION),
    ]


def to_csv(report: dict) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in report["candidates"]:
        writer.writerow(_cells("candidate", row))
    total = report["total"]
    writer.writerow(_cells("total", {**total, "name": total["candidates"]}))
    return out.getvalue()
