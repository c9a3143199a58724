"""Factories for the pure policy core: plain records with sensible defaults.

Exposed as fixtures (not importable helpers) so this directory needs no ``__init__.py``
and never clashes with other test packages' conftest modules.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

import pytest

from api.policy import (
    ContactInfo,
    InterviewInfo,
    PolicySettings,
    ProposedTouch,
    ResponseRecord,
    TouchRecord,
    evaluate,
)

APP = 10


def _utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def utc():
    """``utc(2026, 6, 10, 14)``: an aware UTC datetime."""
    return _utc


@pytest.fixture
def settings():
    def make(**overrides) -> PolicySettings:
        return PolicySettings(**overrides)

    return make


@pytest.fixture
def make_contact():
    def make(id: int = 1, **fields) -> ContactInfo:
        values = {
            "tz": "UTC",
            "country": None,
            "phone": "+442071234567",
            "email": f"contact{id}@example.com",
            "preferred_channel": None,
            "do_not_contact": False,
            "sms_opted_out": False,
        }
        values.update(fields)
        return ContactInfo(id=id, **values)

    return make


@pytest.fixture
def make_touch():
    ids = itertools.count(1)

    def make(
        step: str,
        at: datetime,
        *,
        contact_id: int = 1,
        channel: str = "email",
        status: str = "sent",
        automated: bool = True,
        application_id: int = APP,
        round: int = 1,
        id: int | None = None,
    ) -> TouchRecord:
        return TouchRecord(
            id=next(ids) if id is None else id,
            contact_id=contact_id,
            application_id=application_id,
            round=round,
            step=step,
            channel=channel,
            status=status,
            at=at,
            automated=automated,
        )

    return make


@pytest.fixture
def make_response():
    ids = itertools.count(1)

    def make(
        kind: str,
        at: datetime,
        *,
        contact_id: int = 1,
        application_id: int = APP,
        round: int = 1,
        decision_date: date | None = None,
        until: date | None = None,
    ) -> ResponseRecord:
        return ResponseRecord(
            id=next(ids),
            contact_id=contact_id,
            application_id=application_id,
            round=round,
            kind=kind,
            occurred_at=at,
            decision_date=decision_date,
            until=until,
        )

    return make


@pytest.fixture
def propose():
    def make(
        step: str,
        at: datetime,
        *,
        contact_id: int = 1,
        channel: str = "email",
        automated: bool = True,
        application_id: int = APP,
        round: int = 1,
        touch_id: int | None = None,
    ) -> ProposedTouch:
        return ProposedTouch(
            contact_id=contact_id,
            application_id=application_id,
            round=round,
            step=step,
            channel=channel,
            at=at,
            automated=automated,
            touch_id=touch_id,
        )

    return make


@pytest.fixture
def make_interview():
    def make(ends_at: datetime, **fields) -> InterviewInfo:
        values = {"id": 1, "application_id": APP, "round": 1, "decision_expected_on": None}
        values.update(fields)
        return InterviewInfo(ends_at=ends_at, **values)

    return make


@pytest.fixture
def decide(settings, make_contact):
    """``decide(proposal, history=..., responses=...)``: evaluate with quiet defaults.

    ``now`` defaults to the proposal's time, the policy to the domain defaults and the
    contact to contact 1 in UTC with email and phone.
    """

    def run(proposal, history=(), responses=(), *, now=None, policy=None, contact=None, **kw):
        return evaluate(
            policy or settings(),
            contact or make_contact(proposal.contact_id),
            history,
            responses,
            proposal,
            now or proposal.at,
            **kw,
        )

    return run
