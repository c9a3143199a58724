"""The iCalendar feed a calendar app subscribes to (Google Calendar, Outlook, Apple).

Outside /v1 and its bearer tokens: calendar apps fetch a plain URL, so the secret in the
URL is the credential (api.feed_secrets). An unknown, rotated or revoked secret is a 404,
the same as a path that names nothing.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import Response, current_app
from flask.views import MethodView
from sqlalchemy.orm import Session

from api import calendar_rows, feed_secrets, ical
from api.auth import Principal, public
from api.db import get_session
from api.models import User, utcnow
from api.problems import Problem
from api.resources.common import Blueprint

blp = Blueprint(
    "feed",
    __name__,
    description="The caller's calendar as iCalendar, for calendar apps to subscribe to. No "
    "token: the secret in the URL (POST /v1/calendar/feed) is the credential.",
)

#: The feed's fixed window around now: what a calendar app shows as past and upcoming.
BACK = timedelta(days=30)
AHEAD = timedelta(days=180)
MIMETYPE = "text/calendar; charset=utf-8"
EXAMPLE = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Touchbase//Follow-up calendar//EN\r\n"
    "BEGIN:VEVENT\r\nUID:touch-7@touchbase.example\r\nDTSTART:20261208T140000Z\r\n"
    "SUMMARY:Follow-up to Maria Lopez (Acme) by email\r\nSTATUS:CONFIRMED\r\nSEQUENCE:1\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n"
)


def feed_document(session: Session, principal: Principal) -> bytes:
    now = utcnow()
    query = calendar_rows.select_touches(principal, now - BACK, now + AHEAD)
    rows = calendar_rows.rows(session, session.scalars(query).all())
    user = session.get(User, principal.user_id)
    host = urlsplit(current_app.config["PUBLIC_URL"]).hostname or "touchbase"
    return ical.document(rows, host=host, name=f"Touchbase: {user.name}", now=now)


SECRET_PARAMETER = {
    "in": "path",
    "name": "secret",
    "description": "The feed secret (cal_...) from POST /v1/calendar/feed: the credential",
}


@blp.route("/calendar/<secret>.ics", parameters=[SECRET_PARAMETER])
class CalendarFeed(MethodView):
    @public
    @blp.response(
        200, description="The calendar (RFC 5545)", content_type=MIMETYPE, example=EXAMPLE
    )
    @blp.doc(operationId="get_ical_feed")
    def get(self, secret):
        """The iCalendar feed: touches from 30 days back to 180 days ahead

        The calendar apps' URL: no token, the secret in the path is the credential,
        so whoever has the URL reads the calendar. The same touches as GET
        /v1/calendar as iCalendar (RFC 5545) events; a touch that moves keeps its
        event with a higher SEQUENCE. An unknown, rotated or revoked secret is a
        404.
        """
        session = get_session()
        principal = feed_secrets.owner(session, secret)
        if principal is None:
            raise Problem(404, "No such calendar feed.")
        body = feed_document(session, principal)
        return Response(
            body,
            status=200,
            content_type=MIMETYPE,
            headers={"Cache-Control": "private, max-age=300"},
        )
