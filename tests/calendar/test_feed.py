"""The iCalendar feed: a secret URL per user, revocable, holding what the API calendar
shows that user, parsed with the same icalendar library a subscriber would use."""

from __future__ import annotations

from datetime import timedelta

import icalendar
import pytest

from api import ical
from api.models import CalendarFeed, Touch
from tests.api.helpers import assert_problem
from tests.calendar.conftest import at, query_range

UID_HOST = "127.0.0.1"  # the host of the test app's PUBLIC_URL


def _api_rows(calendar, desk, role: str) -> list[dict]:
    """What GET /v1/calendar shows over the feed's window (30 days back, 180 ahead)."""
    window = query_range(desk.now - timedelta(days=30), desk.now + timedelta(days=180))
    response = calendar(role, **window)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_creating_a_feed_answers_its_url_once(desk, call, world):
    response = call("post", "/v1/calendar/feed", world.tokens["candidate"])

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["active"] is True
    assert body["url"].startswith("http://127.0.0.1:8000/calendar/cal_")
    assert body["url"].endswith(".ics")


def test_only_a_hash_of_the_secret_is_stored(desk, new_feed, sql):
    secret = new_feed().removeprefix("/calendar/").removesuffix(".ics")

    [(stored,)] = sql("SELECT secret_hash FROM calendar_feeds")

    assert secret not in stored and len(stored) == 64


def test_the_feed_status_shows_no_secret(desk, new_feed, call, world):
    path = new_feed()

    status = call("get", "/v1/calendar/feed", world.tokens["candidate"]).get_json()

    assert status["active"] is True and "url" not in status
    assert path.split("/")[-1][:10] == status["prefix"]


def test_without_a_feed_the_status_is_inactive(call, world):
    status = call("get", "/v1/calendar/feed", world.tokens["candidate"])

    assert status.status_code == 200
    assert status.get_json()["active"] is False


def test_the_feed_is_icalendar_text(desk, new_feed, fetch):
    response = fetch(new_feed())

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.get_data().startswith(b"BEGIN:VCALENDAR\r\n")


def test_the_feed_needs_no_token(desk, new_feed, client):
    assert client.get(new_feed(), headers={}).status_code == 200


@pytest.mark.parametrize("role", ["candidate", "advisor", "admin"])
def test_the_feed_holds_the_touches_the_api_calendar_shows_that_user(
    desk, new_feed, events_of, calendar, role
):
    rows = _api_rows(calendar, desk, role)

    events = events_of(new_feed(role))

    assert set(events) == {ical.uid(r["touch_id"], UID_HOST) for r in rows}


@pytest.mark.parametrize("role", ["candidate", "advisor", "admin"])
def test_every_event_matches_its_api_row(desk, new_feed, events_of, calendar, role):
    events = events_of(new_feed(role))

    for row in _api_rows(calendar, desk, role):
        event = events[ical.uid(row["touch_id"], UID_HOST)]
        assert event.decoded("DTSTART") == at(row["at"])
        assert str(event["SUMMARY"]) == ical.summary(row)
        assert str(event["STATUS"]) == ical.event_status(row["state"])
        assert int(event["SEQUENCE"]) == row["sequence"]
        assert row["reason"] in str(event["DESCRIPTION"])
        assert f"State: {row['state']}" in str(event["DESCRIPTION"])


def test_the_summary_names_step_contact_company_and_channel(desk, new_feed, events_of):
    follow_up = desk.touches["follow_up"]

    event = events_of(new_feed())[ical.uid(follow_up.id, UID_HOST)]

    assert str(event["SUMMARY"]) == "Follow-up to Maria Lopez (Acme) by email"


@pytest.mark.parametrize(
    ("step", "status"),
    [("thank_you", "CONFIRMED"), ("follow_up", "CONFIRMED"), ("call", "CANCELLED")],
)
def test_the_event_status_follows_the_touch_state(desk, new_feed, events_of, step, status):
    event = events_of(new_feed())[ical.uid(desk.touches[step].id, UID_HOST)]

    assert str(event["STATUS"]) == status


def test_a_touch_in_an_unknown_outcome_is_tentative():
    assert ical.event_status("unknown") == "TENTATIVE"
    assert ical.event_status("draft") == "TENTATIVE"


def test_events_are_in_utc_with_a_short_duration_and_stamps(desk, new_feed, events_of):
    event = events_of(new_feed())[ical.uid(desk.touches["follow_up"].id, UID_HOST)]

    assert event.decoded("DTSTART").utcoffset() == timedelta(0)
    assert event.decoded("DURATION") == timedelta(minutes=15)
    assert event.decoded("DTSTAMP") and event.decoded("LAST-MODIFIED")


def test_a_move_bumps_the_events_sequence_and_keeps_its_uid(desk, new_feed, events_of, db):
    path = new_feed()
    uid = ical.uid(desk.touches["follow_up"].id, UID_HOST)
    before = events_of(path)[uid]
    touch = db.get(Touch, desk.touches["follow_up"].id)
    touch.scheduled_for += timedelta(days=1)
    db.commit()

    after = events_of(path)[uid]

    assert int(after["SEQUENCE"]) == int(before["SEQUENCE"]) + 1
    assert after.decoded("DTSTART") == before.decoded("DTSTART") + timedelta(days=1)


def test_the_feed_window_is_30_days_back_to_180_ahead(desk, factory, new_feed, events_of):
    old = factory.touch(
        desk.maria, desk.application, step="custom", scheduled_for=desk.now - timedelta(days=31)
    )
    far = factory.touch(
        desk.maria, desk.application, step="custom", scheduled_for=desk.now + timedelta(days=181)
    )
    near = factory.touch(
        desk.maria, desk.application, step="custom", scheduled_for=desk.now + timedelta(days=179)
    )

    events = events_of(new_feed())

    assert ical.uid(near.id, UID_HOST) in events
    assert ical.uid(old.id, UID_HOST) not in events
    assert ical.uid(far.id, UID_HOST) not in events


def test_a_revoked_feed_is_404(desk, new_feed, fetch, call, world):
    path = new_feed()

    revoked = call("delete", "/v1/calendar/feed", world.tokens["candidate"])

    assert revoked.status_code == 204
    assert_problem(fetch(path), 404)


def test_revoking_clears_the_status(desk, new_feed, call, world, count):
    new_feed()
    call("delete", "/v1/calendar/feed", world.tokens["candidate"])

    assert count(CalendarFeed) == 0
    status = call("get", "/v1/calendar/feed", world.tokens["candidate"]).get_json()
    assert status["active"] is False


def test_rotating_invalidates_the_old_url(desk, new_feed, fetch):
    old = new_feed()

    new = new_feed()

    assert new != old
    assert_problem(fetch(old), 404)
    assert fetch(new).status_code == 200


def test_each_user_has_their_own_feed(desk, new_feed, fetch, count):
    mine, theirs = new_feed("candidate"), new_feed("other_candidate")

    assert count(CalendarFeed) == 2
    assert fetch(mine).status_code == fetch(theirs).status_code == 200


@pytest.mark.parametrize("secret", ["cal_not-a-secret", "nothing", "cal_" + "x" * 200])
def test_an_unknown_secret_is_404(fetch, secret):
    assert_problem(fetch(f"/calendar/{secret}.ics"), 404)


def test_a_fetch_notes_when_the_feed_was_last_used(desk, new_feed, fetch, call, world):
    fetch(new_feed())

    status = call("get", "/v1/calendar/feed", world.tokens["candidate"]).get_json()

    assert status["last_used_at"] is not None


def test_the_feed_asks_calendar_apps_to_refresh_hourly(desk, new_feed, fetch):
    parsed = icalendar.Calendar.from_ical(fetch(new_feed()).get_data())

    assert parsed.decoded("REFRESH-INTERVAL") == timedelta(hours=1)
    assert str(parsed["X-PUBLISHED-TTL"]) == "PT1H"


def test_a_draft_is_tentative_and_says_when_to_approve_it(desk, factory, new_feed, events_of):
    draft = factory.touch(
        desk.maria,
        desk.application,
        step="custom",
        status="draft",
        scheduled_for=desk.now + timedelta(days=2),
        approve_by=desk.now + timedelta(days=1),
    )

    event = events_of(new_feed())[ical.uid(draft.id, UID_HOST)]

    assert str(event["STATUS"]) == "TENTATIVE"
    assert "Approve by:" in str(event["DESCRIPTION"])
