"""A portal's whole loop, written as a portal developer writes it: only the client that
openapi-python-client generates from openapi/openapi.json, no hand-made request.

An admin makes a candidate and a token for them; the candidate enters a contact, an
application and an interview, has the follow-ups planned as drafts, approves the
thank-you, reads the touches and their events, records the interviewer's reply, and reads
the contact's budget and the calendar. tests/client/test_python_client.py runs it against
a live server and type-checks this file with `mypy --strict`: a field the document types
wrongly (optional where always present, not nullable where null comes) fails one or the
other.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any, TypeVar

from touchbase_client import AuthenticatedClient
from touchbase_client.api.accounts import create_token, create_user, get_me
from touchbase_client.api.calendar import list_calendar_entries
from touchbase_client.api.follow_ups import (
    approve_touch,
    create_response,
    get_contact_budget,
    get_touch,
    list_touch_events,
    list_touches,
    plan_interview,
)
from touchbase_client.api.records import create_application, create_contact, create_interview
from touchbase_client.models import (
    Application,
    ApplicationCreate,
    Budget,
    CalendarEntry,
    Contact,
    ContactCreate,
    ContactResponseChange,
    ContactResponseCreate,
    Interview,
    InterviewCreate,
    InterviewerInput,
    Me,
    Plan,
    Problem,
    ResponseKind,
    Step,
    TokenCreate,
    TokenCreated,
    Touch,
    TouchApprove,
    TouchChange,
    TouchEvent,
    TouchStatus,
    User,
    UserCreate,
    UserRole,
)
from touchbase_client.types import Response

T = TypeVar("T")


def expect(response: Response[Any], kind: type[T], status: HTTPStatus = HTTPStatus.OK) -> T:
    """The answer parsed as `kind`, or a failure that shows the problem the server sent."""
    assert response.status_code == status, response.content
    parsed = response.parsed
    assert isinstance(parsed, kind), f"expected {kind.__name__}, got {parsed!r}"
    return parsed


def expect_list(response: Response[Any], kind: type[T]) -> list[T]:
    assert response.status_code == HTTPStatus.OK, response.content
    parsed = response.parsed
    assert isinstance(parsed, list), parsed
    items: list[T] = []
    for item in parsed:
        assert isinstance(item, kind), item
        items.append(item)
    return items


@dataclass(frozen=True)
class Loop:
    """What the loop saw, for the test to hold it to."""

    planned: list[Touch]
    approved: TouchChange
    events: list[TouchEvent]
    response: ContactResponseChange
    budget: Budget
    calendar: list[CalendarEntry]
    total_drafts: int
    duplicate: Problem
    dana: Contact


def run_loop(base_url: str, admin_token: str) -> Loop:
    admin = AuthenticatedClient(base_url=base_url, token=admin_token)
    me = expect(get_me.sync_detailed(client=admin), Me)
    assert me.role == UserRole.ADMIN

    ana = expect(
        create_user.sync_detailed(
            client=admin,
            body=UserCreate(
                email="ana@example.org",
                name="Ana Silva",
                role=UserRole.CANDIDATE,
                timezone="Europe/Lisbon",
            ),
        ),
        User,
        HTTPStatus.CREATED,
    )
    token = expect(
        create_token.sync_detailed(client=admin, body=TokenCreate(name="portal", user_id=ana.id)),
        TokenCreated,
        HTTPStatus.CREATED,
    )
    candidate = AuthenticatedClient(base_url=base_url, token=token.token)

    dana = expect(
        create_contact.sync_detailed(
            client=candidate,
            body=ContactCreate(
                name="Dana Jones",
                email="dana@acme.example",
                company="Acme Corp",
                title="Engineering Manager",
                timezone="America/New_York",
            ),
        ),
        Contact,
        HTTPStatus.CREATED,
    )
    duplicate = problem_of(
        create_contact.sync_detailed(
            client=candidate, body=ContactCreate(name="D. Jones", email="Dana@acme.example")
        ),
        HTTPStatus.CONFLICT,
    )
    application = expect(
        create_application.sync_detailed(
            client=candidate,
            body=ApplicationCreate(company="Acme Corp", position="Data Analyst"),
        ),
        Application,
        HTTPStatus.CREATED,
    )
    ended = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    interview = expect(
        create_interview.sync_detailed(
            client=candidate,
            body=InterviewCreate(
                application_id=application.id,
                starts_at=ended - timedelta(hours=1),
                ends_at=ended,
                interviewers=[
                    InterviewerInput(
                        contact_id=dana.id, specific_point="the churn model you sketched"
                    )
                ],
            ),
        ),
        Interview,
        HTTPStatus.CREATED,
    )
    assert [person.contact_id for person in interview.interviewers] == [dana.id]

    plan = expect(plan_interview.sync_detailed(interview.id, client=candidate), Plan)
    assert not plan.dry_run
    assert {step.step for step in plan.steps} >= {Step.THANK_YOU}

    drafts = list_touches.sync_detailed(
        client=candidate, interview_id=interview.id, status=TouchStatus.DRAFT
    )
    planned = expect_list(drafts, Touch)
    total = int(json.loads(drafts.headers["X-Pagination"])["total"])
    thank_you = next(touch for touch in planned if touch.step == Step.THANK_YOU)
    assert thank_you.approve_by is not None

    approved = expect(
        approve_touch.sync_detailed(thank_you.id, client=candidate, body=TouchApprove()),
        TouchChange,
    )
    again = expect(get_touch.sync_detailed(thank_you.id, client=candidate), Touch)
    assert again.status == approved.status
    events = expect_list(
        list_touch_events.sync_detailed(thank_you.id, client=candidate), TouchEvent
    )

    response = expect(
        create_response.sync_detailed(
            client=candidate,
            body=ContactResponseCreate(
                application_id=application.id, contact_id=dana.id, kind=ResponseKind.REPLIED
            ),
        ),
        ContactResponseChange,
        HTTPStatus.CREATED,
    )
    budget = expect(
        get_contact_budget.sync_detailed(dana.id, client=candidate, application_id=application.id),
        Budget,
    )
    calendar = expect_list(list_calendar_entries.sync_detailed(client=candidate), CalendarEntry)
    return Loop(planned, approved, events, response, budget, calendar, total, duplicate, dana)


def problem_of(response: Response[Any], status: HTTPStatus) -> Problem:
    """The problem+json answer of a refused request, as the generated client parses it."""
    assert response.status_code == status, response.content
    parsed = response.parsed
    assert isinstance(parsed, Problem), parsed
    return parsed
