"""The calendar: every pending and recent touch in a time range, and the caller's feed URL."""

from __future__ import annotations

from flask.views import MethodView

from api import calendar_rows, feed_secrets, idempotency
from api.auth import ALL_ROLES, current, roles
from api.db import get_session
from api.models import Touch, utcnow
from api.resources.common import PAGINATION, Blueprint, SelectPage, field_error
from api.resources.listing import Sort
from api.schemas.calendar import (
    CalendarEntrySchema,
    CalendarQuerySchema,
    FeedCreatedSchema,
    FeedSchema,
)

#: `at` is what each row shows (sent_at once sent, else scheduled_for), the default order.
CALENDAR_SORT = Sort(
    Touch.id, component="CalendarEntrySort", at=calendar_rows.TIME, updated_at=Touch.updated_at
)

blp = Blueprint(
    "calendar",
    __name__,
    url_prefix="/v1/calendar",
    description="What will happen and when: every pending and recent touch the caller may "
    "see, in time order, with the reason for its time; and the caller's iCalendar feed URL.",
)


class CalendarPage(SelectPage):
    """A page of touches, answered as calendar rows (contact, company, local time, reason)."""

    @property
    def items(self):
        return calendar_rows.rows(get_session(), super().items)


def requested_range(args: dict):
    """[from, to) from the query, each defaulting around now; 422 naming the field given."""
    now = utcnow()
    start = args.get("from_", now - calendar_rows.DEFAULT_BACK)
    end = args.get("to", now + calendar_rows.DEFAULT_AHEAD)
    named = "to" if "to" in args else "from"
    if start > end:
        field = "from" if "from_" in args else "to"
        raise field_error(field, "from must not be after to (defaults: now - 7 d, now + 60 d).")
    if end - start > calendar_rows.MAX_SPAN:
        days = calendar_rows.MAX_SPAN.days
        raise field_error(named, f"The range may span at most {days} days.")
    return start, end


@blp.route("")
class CalendarView(MethodView):
    @roles(*ALL_ROLES)
    @blp.arguments(CalendarQuerySchema, location="query")
    @blp.response(200, CalendarEntrySchema(many=True))
    @blp.paginate(CalendarPage, sort=CALENDAR_SORT, **PAGINATION)
    @blp.doc(operationId="list_calendar_entries")
    def get(self, args):
        """The calendar: touches in a time range, by time (default: 7 days back, 60 ahead)

        Every touch the caller may see (own, assigned candidates', or the
        organisation's) by time, each with the contact and company, step, channel,
        state, the time in the contact's zone and why it is at that time (the latest
        re-plan's reason and rule). Filter with `candidate_id`, `application_id`,
        `state` (repeated or comma-separated), `from` and `to` (at most 366 days
        apart).
        """
        start, end = requested_range(args)
        return calendar_rows.select_touches(
            current(),
            start,
            end,
            candidate_id=args.get("candidate_id"),
            application_id=args.get("application_id"),
            states=args.get("state"),
        )


def _status(feed) -> dict:
    if feed is None:
        return {"active": False, "prefix": None, "created_at": None, "last_used_at": None}
    return {
        "active": True,
        "prefix": feed.prefix,
        "created_at": feed.created_at,
        "last_used_at": feed.last_used_at,
    }


@blp.route("/feed")
class CalendarFeedUrl(MethodView):
    @roles(*ALL_ROLES)
    @blp.etag
    @blp.response(200, FeedSchema)
    @blp.doc(operationId="get_calendar_feed")
    def get(self):
        """Whether the caller has a feed URL (never its secret)

        Whether the caller has a feed URL, when it was made and last read, and the
        start of its secret to recognise it by. The secret itself is shown only when
        the URL is created.
        """
        return _status(feed_secrets.feed_of(get_session(), current().user_id))

    @idempotency.secret_answer
    @roles(*ALL_ROLES)
    @blp.response(201, FeedCreatedSchema)
    @blp.doc(operationId="create_calendar_feed")
    def post(self):
        """Create or rotate the caller's feed URL; it is in this answer only

        Makes the caller's secret iCalendar URL, built on TOUCHBASE_PUBLIC_URL, and
        answers it once. Posting again rotates it: the old URL stops working at
        once. Subscribe to it from Google Calendar or Outlook.
        """
        session = get_session()
        feed, secret = feed_secrets.issue(session, current().user_id)
        session.commit()
        return {**_status(feed), "url": feed_secrets.feed_url(secret)}

    @roles(*ALL_ROLES)
    @blp.response(204)
    @blp.doc(operationId="revoke_calendar_feed")
    def delete(self):
        """Revoke the caller's feed URL: it stops working at once

        The feed URL stops answering at once (404); calendar apps subscribed to it
        keep what they last fetched. POST /v1/calendar/feed makes a new one.
        """
        session = get_session()
        feed_secrets.revoke(session, current().user_id)
        session.commit()
