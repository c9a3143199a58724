"""Interviews: an application's rounds, zone-aware times, and the panel with notes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from api.models import Interview, Interviewer
from tests.api.helpers import assert_problem, pagination

STARTS = "2026-11-17T10:00:00-05:00"
ENDS = "2026-11-17T11:00:00-05:00"


@pytest.fixture
def mine(world, factory):
    """The candidate's application and two of their contacts."""

    class Mine:
        application = factory.application(world.candidate)
        dana = factory.contact(world.candidate, name="Dana")
        lee = factory.contact(world.candidate, name="Lee")

    return Mine


def _body(mine, **overrides):
    body = {
        "application_id": mine.application.id,
        "round": 2,
        "starts_at": STARTS,
        "ends_at": ENDS,
        "format": "onsite",
        "location": "Acme HQ, 3rd floor",
        "interviewers": [
            {
                "contact_id": mine.dana.id,
                "topics": "data quality",
                "skills": "SQL",
                "specific_point": "the migration of the billing pipeline",
            },
            {"contact_id": mine.lee.id},
        ],
    }
    body.update(overrides)
    return body


def _create(call, token, mine, **overrides):
    return call("POST", "/v1/interviews", token, json=_body(mine, **overrides))


def _panel(engine, interview_id) -> list[tuple[int, int]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(Interviewer.position, Interviewer.contact_id)
            .where(Interviewer.interview_id == interview_id)
            .order_by(Interviewer.position)
        )
        return [tuple(r) for r in rows]


def _ids(response) -> list[int]:
    return [item["id"] for item in response.get_json()]


# -- create, read, update, delete ---------------------------------------------------------


def test_a_candidate_adds_an_interview_with_its_panel(call, world, mine, engine_of):
    response = _create(call, world.tokens["candidate"], mine)

    assert response.status_code == 201
    body = response.get_json()
    assert body["candidate_id"] == world.candidate.id
    assert body["application_id"] == mine.application.id
    assert [i["contact_id"] for i in body["interviewers"]] == [mine.dana.id, mine.lee.id]
    assert body["interviewers"][0]["specific_point"] == "the migration of the billing pipeline"
    assert _panel(engine_of, body["id"]) == [(0, mine.dana.id), (1, mine.lee.id)]


def test_times_keep_their_instant_and_come_back_in_utc(call, world, mine):
    body = _create(call, world.tokens["candidate"], mine).get_json()

    starts = datetime.fromisoformat(body["starts_at"])
    assert starts == datetime(2026, 11, 17, 15, 0, tzinfo=UTC)
    assert starts.utcoffset() == timedelta(0)


def test_an_advisor_adds_an_interview_for_an_assigned_candidate(call, world, mine):
    response = _create(call, world.tokens["advisor"], mine)

    assert response.status_code == 201
    assert response.get_json()["candidate_id"] == world.candidate.id


@pytest.mark.parametrize(
    ("role", "owner"),
    [("admin", "stranger"), ("advisor", "other_candidate"), ("candidate", "other_candidate")],
)
def test_an_application_the_caller_may_not_see_is_422_naming_it(
    call, world, factory, snapshot, role, owner
):
    candidate = getattr(world, owner)
    application = factory.application(candidate)
    contact = factory.contact(candidate)
    before = snapshot()

    response = call(
        "POST",
        "/v1/interviews",
        world.tokens[role],
        json={
            "application_id": application.id,
            "starts_at": STARTS,
            "ends_at": ENDS,
            "interviewers": [{"contact_id": contact.id}],
        },
    )

    body = assert_problem(response, 422, "application_id")
    assert body["errors"] == {"application_id": ["Unknown application."]}
    assert snapshot() == before


def test_an_interview_is_shown(call, world, mine, factory):
    interview = factory.interview(mine.application, [mine.dana])

    response = call("GET", f"/v1/interviews/{interview.id}", world.tokens["advisor"])

    assert response.status_code == 200
    assert [i["contact_id"] for i in response.get_json()["interviewers"]] == [mine.dana.id]


def test_a_new_panel_replaces_the_old_one(call, world, mine, factory, engine_of):
    interview = factory.interview(mine.application, [mine.dana])

    response = call(
        "PATCH",
        f"/v1/interviews/{interview.id}",
        world.tokens["candidate"],
        json={"interviewers": [{"contact_id": mine.lee.id}, {"contact_id": mine.dana.id}]},
    )

    assert response.status_code == 200
    assert _panel(engine_of, interview.id) == [(0, mine.lee.id), (1, mine.dana.id)]


def test_times_are_changed(call, world, mine, factory, row):
    interview = factory.interview(mine.application, [mine.dana])

    response = call(
        "PATCH",
        f"/v1/interviews/{interview.id}",
        world.tokens["candidate"],
        json={"starts_at": "2026-11-18T09:00:00+01:00", "ends_at": "2026-11-18T10:30:00+01:00"},
    )

    assert response.status_code == 200
    stored = row(Interview, interview.id)
    assert stored["starts_at"].astimezone(UTC) == datetime(2026, 11, 18, 8, 0, tzinfo=UTC)


def test_an_interview_is_deleted_with_its_panel(call, world, mine, factory, count):
    interview = factory.interview(mine.application, [mine.dana, mine.lee])

    response = call("DELETE", f"/v1/interviews/{interview.id}", world.tokens["candidate"])

    assert response.status_code == 204
    assert count(Interview, id=interview.id) == 0
    assert count(Interviewer, interview_id=interview.id) == 0


# -- lists ---------------------------------------------------------------------------------


def test_the_application_filter(call, world, mine, factory):
    wanted = factory.interview(mine.application, [mine.dana])
    other_application = factory.application(world.candidate)
    factory.interview(other_application, [mine.dana])

    response = call(
        "GET", f"/v1/interviews?application_id={mine.application.id}", world.tokens["candidate"]
    )

    assert _ids(response) == [wanted.id]
    assert pagination(response)["total"] == 1


def test_the_starts_after_and_before_filters_respect_offsets(call, world, mine, factory):
    early = factory.interview(mine.application, [mine.dana], datetime(2026, 11, 17, 14, tzinfo=UTC))
    late = factory.interview(mine.application, [mine.dana], datetime(2026, 11, 17, 16, tzinfo=UTC))

    # 15:00 UTC, written in New York time.
    after = call(
        "GET",
        "/v1/interviews?" + urlencode({"starts_after": "2026-11-17T10:00:00-05:00"}),
        world.tokens["candidate"],
    )
    before = call(
        "GET",
        "/v1/interviews?" + urlencode({"starts_before": "2026-11-17T10:00:00-05:00"}),
        world.tokens["candidate"],
    )

    assert _ids(after) == [late.id]
    assert _ids(before) == [early.id]


def test_a_naive_starts_after_is_422(call, world):
    response = call(
        "GET", "/v1/interviews?starts_after=2026-11-17T10:00:00", world.tokens["candidate"]
    )

    assert_problem(response, 422, "starts_after")


def test_interviews_are_listed_in_start_order(call, world, mine, factory):
    later = factory.interview(mine.application, [mine.dana], datetime(2026, 12, 1, tzinfo=UTC))
    sooner = factory.interview(mine.application, [mine.dana], datetime(2026, 11, 1, tzinfo=UTC))

    response = call("GET", "/v1/interviews", world.tokens["candidate"])

    assert _ids(response) == [sooner.id, later.id]


def test_pages_of_interviews(call, world, mine, factory):
    start = datetime(2026, 11, 1, tzinfo=UTC)
    made = [
        factory.interview(mine.application, [mine.dana], start + timedelta(days=i)).id
        for i in range(5)
    ]

    response = call("GET", "/v1/interviews?page=2&page_size=2", world.tokens["candidate"])

    assert _ids(response) == made[2:4]
    assert pagination(response)["total"] == 5
    assert_problem(
        call("GET", "/v1/interviews?page_size=101", world.tokens["candidate"]), 422, "page_size"
    )


@pytest.mark.parametrize(
    ("role", "target"),
    [("admin", "stranger"), ("advisor", "other_candidate"), ("candidate", "other_candidate")],
)
def test_filters_never_reach_an_invisible_candidates_interviews(call, world, factory, role, target):
    candidate = getattr(world, target)
    application = factory.application(candidate)
    factory.interview(application, [factory.contact(candidate)])

    for query in (
        {"candidate_id": candidate.id},
        {"application_id": application.id},
        {"starts_after": "2000-01-01T00:00:00Z"},
    ):
        response = call("GET", f"/v1/interviews?{urlencode(query)}", world.tokens[role])
        assert response.get_json() == [], query
        assert pagination(response)["total"] == 0, query


# -- validation: the problem names the field and nothing changes ---------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"starts_at": "2026-11-17T10:00:00"}, "starts_at"),
        ({"ends_at": "2026-11-17T11:00:00"}, "ends_at"),
        ({"starts_at": "tomorrow morning"}, "starts_at"),
        ({"ends_at": "2026-11-17T09:00:00-05:00"}, "ends_at"),
        ({"ends_at": STARTS}, "ends_at"),
        ({"round": 0}, "round"),
        ({"round": "2"}, "round"),
        ({"format": "carrier pigeon"}, "format"),
        ({"location": "x" * 301}, "location"),
        ({"interviewers": []}, "interviewers"),
        ({"interviewers": [{"contact_id": "1"}]}, "interviewers.0.contact_id"),
        ({"interviewers": [{"name": "Dana"}]}, "interviewers.0.contact_id"),
        ({"interviewers": [{"contact_id": 1, "mood": "happy"}]}, "interviewers.0.mood"),
        ({"application_id": None}, "application_id"),
        ({"dress_code": "smart"}, "dress_code"),
        ({"id": 42}, "id"),
        ({"candidate_id": 3}, "candidate_id"),
        ({"org_id": 1}, "org_id"),
        ({"created_at": "2026-01-01T00:00:00Z"}, "created_at"),
    ],
)
def test_a_bad_new_interview_is_422_naming_the_field(call, world, mine, snapshot, overrides, field):
    before = snapshot()

    response = _create(call, world.tokens["candidate"], mine, **overrides)

    assert_problem(response, 422, field)
    assert snapshot() == before


def test_an_interviewers_notes_are_bounded(call, world, mine, snapshot):
    before = snapshot()
    panel = [{"contact_id": mine.dana.id, "specific_point": "x" * 2001}]

    response = _create(call, world.tokens["candidate"], mine, interviewers=panel)

    assert_problem(response, 422, "interviewers.0.specific_point")
    assert snapshot() == before


def test_an_interviewer_of_another_candidate_is_422_naming_it(call, world, mine, factory, snapshot):
    theirs = factory.contact(world.other_candidate)
    before = snapshot()

    response = _create(call, world.tokens["admin"], mine, interviewers=[{"contact_id": theirs.id}])

    assert_problem(response, 422, "interviewers.0.contact_id")
    assert snapshot() == before


def test_the_bad_interviewer_is_named_by_its_position(call, world, mine, factory, snapshot):
    theirs = factory.contact(world.stranger)
    before = snapshot()

    response = _create(
        call,
        world.tokens["candidate"],
        mine,
        interviewers=[{"contact_id": mine.dana.id}, {"contact_id": theirs.id}],
    )

    body = assert_problem(response, 422, "interviewers.1.contact_id")
    assert "interviewers.0.contact_id" not in str(body["errors"])
    assert snapshot() == before


def test_a_duplicate_interviewer_is_422(call, world, mine, snapshot):
    before = snapshot()

    response = _create(
        call,
        world.tokens["candidate"],
        mine,
        interviewers=[{"contact_id": mine.dana.id}, {"contact_id": mine.dana.id}],
    )

    assert_problem(response, 422, "interviewers")
    assert snapshot() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"starts_at": "2026-11-17T10:00:00"}, "starts_at"),
        ({"ends_at": "2026-11-17T14:00:00+00:00"}, "ends_at"),
        ({"starts_at": "2026-11-17T17:00:00+00:00"}, "ends_at"),
        ({"interviewers": []}, "interviewers"),
        ({"application_id": 1}, "application_id"),
        ({"id": 42}, "id"),
        ({"candidate_id": 3}, "candidate_id"),
        ({"org_id": 1}, "org_id"),
        ({"updated_at": "2026-01-01T00:00:00Z"}, "updated_at"),
    ],
)
def test_a_bad_interview_change_is_422_naming_the_field(
    call, world, mine, factory, snapshot, body, field
):
    # 15:00 to 16:00 UTC.
    interview = factory.interview(mine.application, [mine.dana])
    before = snapshot()

    response = call("PATCH", f"/v1/interviews/{interview.id}", world.tokens["candidate"], json=body)

    assert_problem(response, 422, field)
    assert snapshot() == before


def test_a_bad_new_panel_keeps_the_old_one(call, world, mine, factory, snapshot, engine_of):
    interview = factory.interview(mine.application, [mine.dana])
    theirs = factory.contact(world.other_candidate)
    before = snapshot()

    response = call(
        "PATCH",
        f"/v1/interviews/{interview.id}",
        world.tokens["candidate"],
        json={"interviewers": [{"contact_id": mine.lee.id}, {"contact_id": theirs.id}]},
    )

    assert_problem(response, 422, "interviewers.1.contact_id")
    assert snapshot() == before
    assert _panel(engine_of, interview.id) == [(0, mine.dana.id)]


def test_an_oversize_body_is_413_and_changes_nothing(call, world, mine, app, snapshot):
    before = snapshot()
    padding = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)

    response = _create(call, world.tokens["candidate"], mine, location=padding)

    assert_problem(response, 413)
    assert snapshot() == before
