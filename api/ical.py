"""Calendar rows (api.calendar_rows) as an iCalendar document (RFC 5545), one VEVENT each.

A calendar app replaces an event it already has when the UID matches and the SEQUENCE is
higher, so the UID is the touch's and never changes, and SEQUENCE is the touch's own
counter, bumped each time its time moves.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from icalendar import Calendar, Event

PRODID = "-//Touchbase//Follow-up calendar//EN"
#: Touches are short: long enough to see in a day view, not to block the day.
DURATION = timedelta(minutes=15)
#: How often a subscribed calendar is asked to fetch again (apps may poll less often);
#: X-PUBLISHED-TTL below says the same.
REFRESH = timedelta(hours=1)

STEP_LABELS = {
    "thank_you": "Thank-you",
    "follow_up": "Follow-up",
    "call": "Call",
    "post_rejection": "Note after the decision",
    "next_round_reply": "Reply on the next round",
    "custom": "Note",
}
CHANNEL_LABELS = {"email": "email", "sms": "SMS", "call": "phone", "manual": "hand"}
#: A draft may still change or never go; what is on its way is confirmed; what will not
#: happen is cancelled. Anything else (unknown: the outcome was lost) stays tentative.
EVENT_STATUS = {
    "draft": "TENTATIVE",
    "scheduled": "CONFIRMED",
    "sending": "CONFIRMED",
    "sent": "CONFIRMED",
    "delivered": "CONFIRMED",
    "cancelled": "CANCELLED",
    "skipped": "CANCELLED",
    "failed": "CANCELLED",
}


def event_status(state: str) -> str:
    return EVENT_STATUS.get(state, "TENTATIVE")


def summary(row: dict[str, Any]) -> str:
    """E.g. "Follow-up to Maria Lopez (Acme) by email"."""
    step = STEP_LABELS.get(row["step"], row["step"].replace("_", " ").capitalize())
    company = f" ({row['company']})" if row.get("company") else ""
    channel = CHANNEL_LABELS.get(row["channel"], row["channel"])
    verb = "logged by" if row["channel"] == "manual" else "by"
    return f"{step} to {row['contact_name']}{company} {verb} {channel}"


def description(row: dict[str, Any]) -> str:
    rule = f" ({row['rule']})" if row.get("rule") else ""
    lines = [
        f"Why: {row['reason']}{rule}",
        f"State: {row['state']}",
        f"Local time for {row['contact_name']}: {row['local_time']} ({row['time_zone']})",
        f"Application: {row['position']}, round {row['round']}",
    ]
    if row.get("approve_by"):
        lines.append(f"Approve by: {row['approve_by']:%Y-%m-%d %H:%M} UTC")
    lines.append(f"Touch {row['touch_id']}, candidate {row['candidate_name']}")
    return "\n".join(lines)


def uid(touch_id: int, host: str) -> str:
    return f"touch-{touch_id}@{host}"


def document(rows: Iterable[dict[str, Any]], *, host: str, name: str, now: datetime) -> bytes:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")  # Outlook's name for it: an X- text property
    for row in rows:
        event = Event()
        event.add("uid", uid(row["touch_id"], host))
        event.add("dtstamp", now)
        event.add("dtstart", row["at"])
        event.add("duration", DURATION)
        event.add("summary", summary(row))
        event.add("description", description(row))
        event.add("status", event_status(row["state"]))
        event.add("last-modified", row["updated_at"])
        event.add("sequence", row["sequence"])
        event.add("categories", [STEP_LABELS.get(row["step"], row["step"])])
        cal.add_component(event)
    return cal.to_ical()
