"""GET /v1/calendar: which touches, in which order, what each row says, and bad input."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from api.models import utcnow
from tests.api.helpers import assert_problem, pagination
from tests.calendar.conftest import at, query_range


def test_a_candidate_sees_their_own_touches_by_time(desk, ids):
    t = desk.touches

    assert ids("candidate") == [t["thank_you"].id, t["follow_up"].id, t["call"].id]


def test_an_advisor_sees_only_assigned_candidates(desk, ids):
    assert set(ids("advisor")) == {t.id for t in desk.touches.values()}


def test_an_admin_sees_the_whole_organisation_and_no_other(desk, ids):
    expected = {t.id for t in desk.touches.values()} | {desk.other_touch.id}

    assert set(ids("admin")) == expected


def test_another_candidate_sees_none_of_them(desk, ids):
    assert ids("other_candidate") == [desk.other_touch.id]


def test_a_row_names_the_contact_company_and_local_time(desk, calendar):
    follow_up = desk.touches["follow_up"]

    [row] = [r for r in calendar().get_json() if r["touch_id"] == follow_up.id]

    local = follow_up.scheduled_for.astimezone(ZoneInfo("Europe/Madrid"))
    assert row == row | {
        "candidate_id": desk.candidate.id,
        "candidate_name": desk.candidate.name,
        "contact_id": desk.maria.id,
        "contact_name": "Maria Lopez",
        "company": "Acme",
        "application_id": desk.application.id,
        "step": "follow_up",
        "channel": "email",
        "state": "scheduled",
        "time_zone": "Europe/Madrid",
        "local_time": f"{local:%a %Y-%m-%d %H:%M} {local.tzname()}",
        "sequence": 0,
        "approve_by": None,
    }
    assert at(row["at"]) == follow_up.scheduled_for


def test_a_sent_touch_is_at_its_send_time(desk, calendar):
    thank_you = desk.touches["thank_you"]

    [row] = [r for r in calendar().get_json() if r["touch_id"] == thank_you.id]

    assert (row["state"], at(row["at"])) == ("sent", thank_you.sent_at)


def test_an_ended_touch_says_why_it_ended(desk, factory, calendar):
    cancelled = factory.touch(
        desk.maria,
        desk.application,
        step="custom",
        status="cancelled",
        scheduled_for=desk.now + timedelta(days=1),
        reason="Cancelled by the candidate.",
    )

    [row] = [r for r in calendar().get_json() if r["touch_id"] == cancelled.id]

    assert row["reason"] == "Cancelled by the candidate."


def test_the_plan_reason_explains_a_touch_that_never_moved(desk, factory, calendar):
    planned = factory.touch(
        desk.maria,
        desk.application,
        step="custom",
        scheduled_for=desk.now + timedelta(days=1),
        plan_reason="Seven days after the thank-you (R5).",
    )

    [row] = [r for r in calendar().get_json() if r["touch_id"] == planned.id]

    assert row["reason"] == "Seven days after the thank-you (R5)."


def test_the_default_window_is_a_week_back_and_sixty_days_ahead(desk, factory, ids):
    too_old = factory.touch(
        desk.maria, desk.application, step="custom", scheduled_for=desk.now - timedelta(days=8)
    )
    too_far = factory.touch(
        desk.maria, desk.application, step="custom", scheduled_for=desk.now + timedelta(days=61)
    )

    shown = ids("candidate")

    assert too_old.id not in shown and too_far.id not in shown
    assert desk.touches["thank_you"].id in shown


def test_from_and_to_choose_the_window(desk, ids):
    window = query_range(desk.now + timedelta(days=3), desk.now + timedelta(days=5))

    assert ids("candidate", **window) == [desk.touches["follow_up"].id]


def test_to_is_exclusive(desk, ids):
    follow_up = desk.touches["follow_up"]
    window = query_range(desk.now, follow_up.scheduled_for)

    assert follow_up.id not in ids("candidate", **window)


def test_the_candidate_filter_narrows_an_admins_calendar(desk, ids):
    assert ids("admin", candidate_id=desk.world.other_candidate.id) == [desk.other_touch.id]


def test_the_application_filter_narrows_the_calendar(desk, factory, ids):
    second = factory.application(desk.candidate, company="Initech")
    elsewhere = factory.touch(
        desk.maria, second, step="custom", scheduled_for=desk.now + timedelta(days=1)
    )

    assert ids("candidate", application_id=second.id) == [elsewhere.id]


def test_states_are_repeatable(desk, calendar):
    response = calendar(query=[("state", "scheduled"), ("state", "cancelled"), ("page_size", 100)])

    assert [r["touch_id"] for r in response.get_json()] == [
        desk.touches["follow_up"].id,
        desk.touches["call"].id,
    ]


def test_states_may_be_a_comma_list(desk, calendar):
    response = calendar(state="scheduled,cancelled")

    assert [r["touch_id"] for r in response.get_json()] == [
        desk.touches["follow_up"].id,
        desk.touches["call"].id,
    ]


def test_an_unknown_state_is_a_422_naming_it(desk, calendar):
    body = assert_problem(calendar(state="scheduled,posted"), 422, "state")

    assert "posted" in body["detail"]


def test_another_users_candidate_answers_as_a_nonexistent_one(desk, calendar):
    foreign = calendar("candidate", candidate_id=desk.world.stranger.id)
    absent = calendar("candidate", candidate_id=987654321)

    assert (foreign.status_code, foreign.get_json()) == (absent.status_code, absent.get_json())
    assert foreign.get_json() == []


def test_another_users_application_answers_as_a_nonexistent_one(desk, calendar):
    foreign = calendar("advisor", application_id=desk.other_application.id)
    absent = calendar("advisor", application_id=987654321)

    assert (foreign.status_code, foreign.get_json()) == (absent.status_code, absent.get_json())
    assert foreign.get_json() == []


def test_touches_at_the_same_time_are_ordered_by_id(desk, factory, ids):
    when = desk.now + timedelta(days=2, hours=3)
    first, second = (
        factory.touch(desk.maria, desk.application, step="custom", scheduled_for=when)
        for _ in range(2)
    )

    shown = ids("candidate")

    assert shown.index(first.id) + 1 == shown.index(second.id)


def test_the_calendar_is_paginated(desk, calendar):
    response = calendar(page_size=2)

    assert len(response.get_json()) == 2
    assert pagination(response)["total"] == 3


def test_a_range_over_366_days_is_a_422_naming_to(calendar):
    now = utcnow()

    assert_problem(calendar(**query_range(now, now + timedelta(days=367))), 422, "to")


def test_a_range_of_366_days_is_allowed(calendar):
    now = utcnow()

    assert calendar(**query_range(now, now + timedelta(days=366))).status_code == 200


def test_from_after_to_is_a_422_naming_from(calendar):
    now = utcnow()

    assert_problem(calendar(**query_range(now, now - timedelta(days=1))), 422, "from")


def test_a_from_long_before_the_default_to_is_a_422_naming_from(calendar):
    now = utcnow()

    assert_problem(calendar(**{"from": (now - timedelta(days=400)).isoformat()}), 422, "from")


@pytest.mark.parametrize(
    ("name", "value"),
    [("from", "yesterday"), ("to", "2026-12-01T10:00:00"), ("candidate_id", "0")],
)
def test_bad_query_values_are_a_422_naming_the_field(calendar, name, value):
    assert_problem(calendar(**{name: value}), 422, name)


def test_an_unknown_filter_is_a_422(calendar):
    assert_problem(calendar(contact="Maria"), 422, "contact")


def test_the_calendar_needs_a_token(client):
    assert client.get("/v1/calendar").status_code == 401


def test_a_draft_shows_its_approval_deadline(desk, factory, calendar):
    deadline = desk.now + timedelta(days=1)
    draft = factory.touch(
        desk.maria,
        desk.application,
        step="custom",
        status="draft",
        scheduled_for=desk.now + timedelta(days=2),
        approve_by=deadline,
    )

    [row] = [r for r in calendar(state="draft").get_json() if r["touch_id"] == draft.id]

    assert row["state"] == "draft"
    assert at(row["approve_by"]) == deadline
