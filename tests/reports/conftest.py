"""A cohort to report on: the `world` (tests/conftest.py) with an interview in the report's
week, and helpers that record what happened after it directly in the ledger."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.models import TouchEvent

#: The report's range in these tests: one week of whole UTC days.
START = datetime(2026, 11, 16, tzinfo=UTC)
END = datetime(2026, 11, 23, tzinfo=UTC)
#: The interview every cohort candidate had, ending inside the range.
INTERVIEW_ENDS = datetime(2026, 11, 17, 16, 0, tzinfo=UTC)
RANGE = {"start": START.isoformat(), "end": END.isoformat()}


class Cohort:
    def __init__(self, factory, world):
        self.f, self.w = factory, world

    def interviewed(self, candidate, panel: int = 1, ends_at: datetime = INTERVIEW_ENDS):
        """An application and one interview with ``panel`` interviewers: (app, contacts)."""
        application = self.f.application(candidate)
        contacts = [self.f.contact(candidate) for _ in range(panel)]
        self.f.interview(
            application, contacts, starts_at=ends_at - timedelta(hours=1), ends_at=ends_at
        )
        return application, contacts

    def sent(self, contact, application, step: str = "thank_you", at: datetime | None = None):
        at = at or INTERVIEW_ENDS + timedelta(hours=3)
        return self.f.touch(
            contact, application, step=step, status="sent", scheduled_for=at, sent_at=at
        )

    def stopped(self, touch, kind: str, rule: str, at: datetime | None = None) -> None:
        """An event saying ``rule`` refused, skipped or cancelled the touch."""
        self.f.s.add(
            TouchEvent(
                touch_id=touch.id,
                kind=kind,
                actor="system",
                rule=rule,
                reason=f"{rule} said no",
                at=at or INTERVIEW_ENDS + timedelta(days=1),
            )
        )
        self.f.s.commit()


@pytest.fixture
def cohort(factory, world) -> Cohort:
    return Cohort(factory, world)


@pytest.fixture
def report(call, world):
    """`report(role)`: the JSON report of the range for that role's token."""

    def _report(role: str = "admin", **params):
        answer = call(
            "GET", "/v1/reports/adherence", world.tokens[role], query_string=RANGE | params
        )
        assert answer.status_code == 200, answer.get_json()
        return answer.get_json()

    return _report


def row_of(found: dict, candidate) -> dict:
    (row,) = [r for r in found["candidates"] if r["candidate_id"] == candidate.id]
    return row
