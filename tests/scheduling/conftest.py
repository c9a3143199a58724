"""Fixtures for the calendar scenarios: a candidate, an interviewer, the planner over HTTP,
and the real worker with a clock the test moves.

The interview is far in the future (Tue 2030-06-04 09:00-10:00 in New York), so the
server's own clock is always before it; the worker runs on the test's clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from api.dispatch import Options, Worker
from api.models import ChannelSetting, TouchEvent, utcnow
from channels.testing import smtp_peer  # noqa: F401  (fixture)
from tests.api.conftest import count, engine_of, row, snapshot, sql  # noqa: F401 (fixtures)
from tests.dispatch.conftest import Clock, _no_real_twilio  # noqa: F401 (autouse fixture)
from tests.dispatch.seeding import OPEN_POLICY

INTERVIEW_START = datetime(2030, 6, 4, 13, 0, tzinfo=UTC)  # Tue 09:00 EDT
INTERVIEW_END = INTERVIEW_START + timedelta(hours=1)  # Tue 10:00 EDT


class Calendar:
    """Dana (New York) on one interview panel; the candidate's requests and the worker."""

    def __init__(
        self,
        app,
        db,
        world,
        factory,
        call,
        smtp,
        starts_at=INTERVIEW_START,
        *,
        twilio=True,
        with_raj=False,
        policy=None,
    ):
        self.app, self.db, self.factory, self._call = app, db, factory, call
        self.token = world.tokens["candidate"]
        self.candidate = world.candidate
        self.smtp = smtp
        db.add(
            ChannelSetting(
                org_id=world.org.id,
                candidate_id=None,
                channel="email",
                values=smtp.settings(),
            )
        )
        db.commit()
        if twilio:
            factory.twilio_channels(world.org)
        # The drift scenarios are about times: planned touches are scheduled directly
        # (tests/ledger/test_drafts_* cover drafts and approval).
        factory.policy(world.org, approval="auto", **(policy or {}))
        self.dana = factory.contact(
            world.candidate, name="Dana Jones", timezone="America/New_York", country="US"
        )
        panel = [self.dana]
        if with_raj:
            self.raj = factory.contact(
                world.candidate, name="Raj Patel", timezone="Europe/London", country="GB"
            )
            panel.append(self.raj)
        self.application = factory.application(world.candidate)
        self.interview = factory.interview(self.application, panel, starts_at=starts_at)
        self.ends_at = self.interview.ends_at
        self.clock = Clock(starts_at)

    def call(self, method: str, url: str, **kwargs):
        return self._call(method, url, self.token, **kwargs)

    def ok(self, method: str, url: str, **kwargs) -> Any:
        answer = self.call(method, url, **kwargs)
        assert answer.status_code in (200, 201), answer.get_json()
        return answer.get_json()

    def plan(self) -> list[dict]:
        return self.ok("post", f"/v1/interviews/{self.interview.id}/plan")["steps"]

    def pending(self) -> dict[str, datetime]:
        """step -> time of each scheduled touch of the application."""
        rows = self.ok("get", f"/v1/touches?application_id={self.application.id}&page_size=100")
        return {
            t["step"]: datetime.fromisoformat(t["scheduled_for"])
            for t in rows
            if t["status"] == "scheduled"
        }

    def touches(self) -> list[dict]:
        return self.ok("get", f"/v1/touches?application_id={self.application.id}&page_size=100")

    def send_due(self, at: datetime) -> None:
        """Run the worker once at ``at`` (every touch due by then goes out)."""
        self.clock.now = at
        worker = Worker.from_app(self.app, options=Options(lease=30.0, poll=0.05), clock=self.clock)
        worker.run(once=True)

    def events(self, touch_id: int) -> list[dict]:
        return self.ok("get", f"/v1/touches/{touch_id}/events")

    def log_manual(self, step: str, occurred_at: datetime) -> dict:
        """POST /v1/touches for a touch the candidate made themselves."""
        return self.ok(
            "post",
            "/v1/touches",
            json={
                "contact_id": self.dana.id,
                "application_id": self.application.id,
                "step": step,
                "channel": "manual",
                "occurred_at": occurred_at.isoformat(),
            },
        )

    def respond(self, kind: str, contact=None, **extra: Any) -> dict:
        payload = {
            "contact_id": (contact or self.dana).id,
            "application_id": self.application.id,
            "kind": kind,
        }
        payload.update(extra)
        return self.ok("post", "/v1/responses", json=payload)

    def correct(self, response_id: int, **changes: Any) -> dict:
        """PATCH /v1/responses/{id}: a person corrects what the response says."""
        return self.ok("patch", f"/v1/responses/{response_id}", json=changes)

    def event_count(self) -> int:
        with self.app.extensions["touchbase.engine"].connect() as conn:
            return conn.scalar(select(func.count()).select_from(TouchEvent))


@pytest.fixture
def calendar(app, db, world, factory, call, request) -> Calendar:
    return Calendar(app, db, world, factory, call, request.getfixturevalue("smtp_peer"))


@pytest.fixture
def recent(app, db, world, factory, call, request) -> Calendar:
    """The same, but the interview ended an hour ago by the real clock (a candidate can only
    log what already happened), with every hour open so that times read as plain sums."""
    starts = utcnow().replace(second=0, microsecond=0) - timedelta(hours=2)
    smtp = request.getfixturevalue("smtp_peer")
    return Calendar(app, db, world, factory, call, smtp, starts_at=starts, policy=OPEN_POLICY)


@pytest.fixture
def bare(app, db, world, factory, call, request) -> Calendar:
    """The same, with email only: nobody configured Twilio (no SMS, no calls)."""
    smtp = request.getfixturevalue("smtp_peer")
    return Calendar(app, db, world, factory, call, smtp, twilio=False)


@pytest.fixture
def duo(app, db, world, factory, call, request) -> Calendar:
    """Dana (New York) and Raj (London) on the panel."""
    smtp = request.getfixturevalue("smtp_peer")
    return Calendar(app, db, world, factory, call, smtp, with_raj=True)
