"""Fixtures for the ledger tests: one candidate, a two-person panel, and HTTP shorthands.

Everything happens around a far-future interview, so the server's real clock ("now") is
always long before it: Tuesday 2030-06-04 09:00-10:00 in New York (13:00-14:00 UTC).
June keeps every zone on summer time for the weeks the tests span (no DST change
between the thank-you and the call), so each expected local time is a plain number.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.api.conftest import count, engine_of, row, snapshot  # noqa: F401 (fixtures)
from tests.api.helpers import assert_documented_problem
from tests.live_server import PG_URL, live_server, needs_postgres  # noqa: F401 (re-exported)

INTERVIEW_START = datetime(2030, 6, 4, 13, 0, tzinfo=UTC)  # Tue 09:00 EDT
INTERVIEW_END = INTERVIEW_START + timedelta(hours=1)  # Tue 10:00 EDT
THANK_YOU_AT = datetime(2030, 6, 4, 16, 0, tzinfo=UTC)  # Tue 12:00 EDT
FOLLOW_UP_AT = THANK_YOU_AT + timedelta(days=7)  # Tue 2030-06-11 12:00 EDT (R5)
CALL_AT = FOLLOW_UP_AT + timedelta(days=2)  # Thu 2030-06-13 12:00 EDT (R7 after it)

NEW_YORK = ZoneInfo("America/New_York")


def iso(at: datetime) -> str:
    return at.isoformat()


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


def local(value: str | datetime, tz: str | ZoneInfo) -> datetime:
    """A stored UTC instant as a naive wall-clock time in `tz` (for readable assertions)."""
    at = parse(value) if isinstance(value, str) else value
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    return at.astimezone(zone).replace(tzinfo=None)


class Scene:
    """A candidate, Dana (New York) and Raj (London) on one interview panel, and the calls
    a candidate makes about them."""

    def __init__(self, world, factory, call):
        self.world = world
        self.factory = factory
        self._call = call
        self.candidate = world.candidate
        self.token = world.tokens["candidate"]
        self.dana = factory.contact(
            self.candidate, name="Dana Jones", timezone="America/New_York", country="US"
        )
        self.raj = factory.contact(
            self.candidate, name="Raj Patel", timezone="Europe/London", country="GB"
        )
        self.application = factory.application(self.candidate)
        self.interview = factory.interview(
            self.application, [self.dana, self.raj], starts_at=INTERVIEW_START
        )

    def call(self, method: str, url: str, token: str | None = None, **kwargs):
        return self._call(method, url, token or self.token, **kwargs)

    def schedule(
        self, step: str, at: datetime | None, contact=None, channel: str = "email", **extra: Any
    ):
        """POST /v1/touches for an automated touch."""
        payload: dict[str, Any] = {
            "contact_id": (contact or self.dana).id,
            "application_id": self.application.id,
            "step": step,
            "channel": channel,
        }
        if at is not None:
            payload["scheduled_for"] = iso(at)
        payload.update(extra)
        return self.call("post", "/v1/touches", json=payload)

    def log(self, step: str, occurred_at: datetime, contact=None, **extra: Any):
        """POST /v1/touches for a manual touch the candidate made themselves."""
        payload: dict[str, Any] = {
            "contact_id": (contact or self.dana).id,
            "application_id": self.application.id,
            "step": step,
            "channel": "manual",
            "occurred_at": iso(occurred_at),
        }
        payload.update(extra)
        return self.call("post", "/v1/touches", json=payload)

    def respond(self, kind: str, contact=None, **extra: Any):
        payload: dict[str, Any] = {
            "contact_id": (contact or self.dana).id,
            "application_id": self.application.id,
            "kind": kind,
        }
        payload.update(extra)
        return self.call("post", "/v1/responses", json=payload)

    def touch(self, touch_id: int) -> dict[str, Any]:
        response = self.call("get", f"/v1/touches/{touch_id}")
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def events(self, touch_id: int) -> list[dict[str, Any]]:
        response = self.call("get", f"/v1/touches/{touch_id}/events")
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def budget(self, contact=None) -> dict[str, Any]:
        response = self.call("get", f"/v1/contacts/{(contact or self.dana).id}/budget")
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def plan(self, dry_run: bool = False, token: str | None = None) -> list[dict[str, Any]]:
        """POST /v1/interviews/{id}/plan: the steps of a 200 answer."""
        url = f"/v1/interviews/{self.interview.id}/plan" + ("?dry_run=true" if dry_run else "")
        response = self.call("post", url, token)
        assert response.status_code == 200, response.get_json()
        return response.get_json()["steps"]

    def approve(self, touch_id: int, token: str | None = None, **edits: Any):
        """POST /v1/touches/{id}/approve, with an edit when given."""
        return self.call("post", f"/v1/touches/{touch_id}/approve", token, json=edits)

    def draft(self, step: str = "thank_you", at: datetime = THANK_YOU_AT, **kw):
        """A draft put straight into the ledger, due at ``at``, approvable for a day after."""
        kw.setdefault("approve_by", at + timedelta(days=1))
        kw.setdefault("planned", True)
        kw.setdefault("subject", "Thank you for the Data Engineer interview")
        kw.setdefault(
            "body",
            "Dear Dana Jones,\n\nThank you for your time today. I especially enjoyed our talk "
            "about the migration of the billing pipeline, and I am excited about the role.\n\n"
            "Best regards,\nAna",
        )
        return self.existing(step, at, status="draft", **kw)

    def existing(self, step: str, at: datetime, contact=None, **kw):
        """A touch put straight into the ledger (arrangement, not the behaviour under test)."""
        return self.factory.touch(
            contact or self.dana,
            self.application,
            step=step,
            scheduled_for=at,
            interview_id=self.interview.id,
            **kw,
        )


@pytest.fixture(autouse=True)
def _twilio_configured(world, factory):
    """Every channel can send here (a touch by an unconfigured channel is refused at
    creation: tests/scheduling says so)."""
    factory.twilio_channels(world.org)


@pytest.fixture
def scene(world, factory, call) -> Scene:
    return Scene(world, factory, call)


def created(response) -> dict[str, Any]:
    """The touch a 201 answered (scheduled, or logged as manual), as GET shows it: the
    other touches the change moved (``affected_touches``) left out."""
    assert response.status_code == 201, response.get_json()
    touch = response.get_json()
    touch.pop("affected_touches")
    return touch


def refused(response, rule: str) -> dict[str, Any]:
    """A 409 policy refusal naming `rule`."""
    assert response.status_code == 409, response.get_json()
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["rule"] == rule, body
    assert body["detail"]
    assert_documented_problem(body)
    return body


# -- the app under a real server, for races on PostgreSQL ---------------------------------------

#: Requests fired at once by the race tests; the served pool holds a connection for each.
LIVE_REQUESTS = 20


@pytest.fixture
def server(app, tmp_path):
    """The app under a threaded WSGI server, a connection for every request at once."""
    with live_server(tmp_path, pool_size=LIVE_REQUESTS + 5) as base:
        yield base


def request(base: str, method: str, path: str, token: str, payload=None) -> tuple[int, dict]:
    data = None if payload is None else json.dumps(payload).encode()
    req = urllib.request.Request(
        base + path,
        data=data,
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=60) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            return error.code, json.loads(raw or b"null")
        except ValueError:  # not ours (a server error page): keep it for the assertion
            return error.code, raw.decode(errors="replace")


def race(base: str, token: str, calls: list[tuple[str, str, Any]]) -> list[tuple[int, Any]]:
    """Fire each (method, path, payload) from its own thread, all released by one barrier,
    each over its own HTTP and database connection; the (status, body) answers, any order."""
    barrier = threading.Barrier(len(calls))
    results: list[tuple[int, Any]] = []
    lock = threading.Lock()

    def compete(method: str, path: str, payload: Any) -> None:
        barrier.wait(timeout=30)
        try:
            outcome = request(base, method, path, token, payload)
        except Exception as exc:  # a lost answer is a result too, never a silent pass
            outcome = (0, repr(exc))
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=compete, args=call) for call in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(results) == len(calls), f"{len(calls) - len(results)} requests never answered"
    return results
