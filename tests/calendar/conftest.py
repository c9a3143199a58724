"""Fixtures for the calendar and its iCalendar feed.

`desk` is an office around the real clock: the world's candidate (assigned to the advisor)
has touches to Maria Lopez of Acme (Madrid) at known offsets from now, the unassigned
candidate has one, and a candidate of another organisation has one. The HTTP shorthands
read the calendar and the feed the way a portal and a calendar app would.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import icalendar
import pytest

from api.models import Touch, utcnow
from tests.api.conftest import count, engine_of, row, sql  # noqa: F401 (fixtures)
from tests.ledger.conftest import Scene

#: Offsets from now of the candidate's touches to Maria, with their states.
MARIA_TOUCHES = (
    ("thank_you", "sent", timedelta(days=-3)),
    ("follow_up", "scheduled", timedelta(days=4)),
    ("call", "cancelled", timedelta(days=6)),
)


class Desk:
    def __init__(self, world, factory):
        self.world = world
        self.now = utcnow().replace(microsecond=0)
        self.candidate = world.candidate
        self.maria = factory.contact(
            world.candidate, name="Maria Lopez", company="Acme", timezone="Europe/Madrid"
        )
        self.application = factory.application(world.candidate, company="Acme")
        self.touches: dict[str, Touch] = {}
        for step, status, offset in MARIA_TOUCHES:
            at = self.now + offset
            times = {"sent_at": at, "scheduled_for": at - timedelta(minutes=1)}
            if status != "sent":
                times = {"scheduled_for": at}
            channel = "call" if step == "call" else "email"
            self.touches[step] = factory.touch(
                self.maria, self.application, step=step, status=status, channel=channel, **times
            )
        other = world.other_candidate
        self.other_contact = factory.contact(other, name="Raj Patel", company="Globex")
        self.other_application = factory.application(other, company="Globex")
        self.other_touch = factory.touch(
            self.other_contact, self.other_application, scheduled_for=self.now + timedelta(days=2)
        )
        stranger = world.stranger
        stranger_contact = factory.contact(stranger, name="Lena Meyer")
        self.stranger_application = factory.application(stranger)
        self.stranger_touch = factory.touch(
            stranger_contact, self.stranger_application, scheduled_for=self.now + timedelta(days=1)
        )


@pytest.fixture
def desk(world, factory) -> Desk:
    return Desk(world, factory)


@pytest.fixture
def calendar(call, world):
    """`calendar(role, **query)`: GET /v1/calendar as that user (a `world.tokens` key)."""

    def _calendar(role: str = "candidate", query: Any = None, **params: Any):
        params.setdefault("page_size", 100)
        return call("get", "/v1/calendar", world.tokens[role], query_string=query or params)

    return _calendar


@pytest.fixture
def ids(calendar):
    """`ids(role, **query)`: the touch ids of the calendar's answer, in its order."""

    def _ids(role: str = "candidate", **params: Any) -> list[int]:
        response = calendar(role, **params)
        assert response.status_code == 200, response.get_json()
        return [r["touch_id"] for r in response.get_json()]

    return _ids


@pytest.fixture
def new_feed(call, world):
    """`new_feed(role)`: POST /v1/calendar/feed; the URL's path."""

    def _new_feed(role: str = "candidate") -> str:
        response = call("post", "/v1/calendar/feed", world.tokens[role])
        assert response.status_code == 201, response.get_json()
        return path_of(response.get_json()["url"])

    return _new_feed


@pytest.fixture
def fetch(client):
    """`fetch(path)`: the feed as a calendar app fetches it (no token)."""

    def _fetch(path: str):
        return client.get(path)

    return _fetch


@pytest.fixture
def events_of(fetch):
    """`events_of(path)`: the feed parsed with icalendar, one VEVENT per UID."""

    def _events(path: str) -> dict[str, icalendar.Event]:
        response = fetch(path)
        assert response.status_code == 200, response.get_data(as_text=True)
        parsed = icalendar.Calendar.from_ical(response.get_data())
        return {str(e["UID"]): e for e in parsed.walk("VEVENT")}

    return _events


def path_of(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def query_range(start: datetime, end: datetime) -> dict[str, str]:
    return {"from": start.isoformat(), "to": end.isoformat()}


@pytest.fixture
def scene(world, factory, call) -> Scene:
    """The ledger tests' far-future panel (2030), for touches made through the API."""
    return Scene(world, factory, call)
