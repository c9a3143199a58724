"""Reports for career-services staff: a cohort's adherence, as JSON, CSV or a chart.

An admin's report covers the organisation (its total includes erased candidates'
anonymous tallies), an advisor's their assigned candidates, a candidate's their own row.
"""

from __future__ import annotations

import json
from datetime import datetime

from flask import Response, request
from flask.views import MethodView

from api.auth import ALL_ROLES, current
from api.auth import roles as allow
from api.db import get_session
from api.models import utcnow
from api.reports import adherence, chart, tables
from api.resources.common import Blueprint
from api.schemas.reports import AdherenceQuerySchema, AdherenceReportSchema

CSV = "text/csv; charset=utf-8"
SVG = "image/svg+xml"
CSV_EXAMPLE = (
    ",".join(tables.COLUMNS) + "\r\n"
    "candidate,7,Ana Silva,ana@example.org,2,3,3,2,3,2,1,1,0,1,0,0,0,1,R8=1,26.5,1,0,0,0,0\r\n"
)

blp = Blueprint(
    "reports",
    __name__,
    url_prefix="/v1/reports",
    description="How a cohort follows the rules: per candidate and in total, as JSON, CSV "
    "or a weekly chart.",
)


def _iso(value: datetime) -> str:
    return value.isoformat()


def _wants_csv() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/csv"])
    return best == "text/csv"


@blp.route("/adherence")
class AdherenceReport(MethodView):
    @allow(*ALL_ROLES)
    @blp.arguments(AdherenceQuerySchema, location="query")
    @blp.response(200, AdherenceReportSchema)
    @blp.alt_response(
        200,
        description="The report as JSON; with `Accept: text/csv`, as CSV. " + tables.DESCRIPTION,
        content_type="text/csv",
        example=CSV_EXAMPLE,
        success=True,
    )
    @blp.doc(operationId="get_adherence_report")
    def get(self, args):
        """A cohort's adherence to the rules over a time range, per candidate and in total

        For each candidate the caller may see (an admin: the organisation; an advisor:
        their assigned candidates; a candidate: their own row) and in total: interviews
        that ended in `[start, end)` and how many interviewers got a thank-you, within
        24 h and 48 h (R2); follow-ups sent after the right wait (R4/R5); calls made;
        touches a rule stopped, per rule; replies, rejections, next rounds and offers;
        the median time to a first reply; and what needs attention now (drafts to
        approve, touches past their time, unknown outcomes, bounced addresses, unmatched
        mail). An admin's total includes erased candidates' anonymous counts (whole UTC
        days that start in the range); no per-candidate row can. With `Accept: text/csv`
        the same as CSV: one row per candidate and a total row. The range is at most
        366 days.
        """
        principal = current()
        found = adherence.report(get_session(), principal, args["start"], args["end"], utcnow())
        if _wants_csv():
            return Response(
                tables.to_csv(found),
                status=200,
                content_type=CSV,
                headers={"Content-Disposition": 'attachment; filename="adherence.csv"'},
            )
        # Plain values already (AdherenceReportSchema documents them): a marshmallow dump
        # of 1,000 nested rows would cost more than the queries (tests/bench).
        return Response(json.dumps(found, default=_iso), status=200, mimetype="application/json")


@blp.route("/adherence.svg")
class AdherenceChart(MethodView):
    @allow(*ALL_ROLES)
    @blp.arguments(AdherenceQuerySchema, location="query")
    @blp.response(
        200,
        description="The weekly chart (SVG): two lines, thanked within 24 h and answered, "
        "as shares of the week's interviewers",
        content_type=SVG,
    )
    @blp.doc(operationId="get_adherence_chart")
    def get(self, args):
        """The cohort's weekly thank-you-within-24h rate and reply rate, as an SVG chart

        The same cohort as GET /v1/reports/adherence, week by week from the range's
        first UTC day: of the interviewers whose interview ended that week, the share
        thanked within 24 h (R2) and the share that answered. An admin's weeks include
        erased candidates' anonymous counts. Embed it in a page as an image.
        """
        principal = current()
        start, end = args["start"], args["end"]
        weeks = adherence.weekly(get_session(), principal, start, end)
        title = f"Adherence {start.date().isoformat()} to {end.date().isoformat()}"
        return Response(chart.svg(weeks, title), status=200, content_type=SVG)
