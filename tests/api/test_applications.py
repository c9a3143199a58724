"""Applications: the positions a candidate pursues."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from api.models import Application, Interview, Interviewer
from tests.api.helpers import assert_problem, pagination

ACME = {"company": "Acme Corp", "position": "Data Engineer"}


def _create(call, token, **overrides):
    body = dict(ACME)
    body.update(overrides)
    return call("POST", "/v1/applications", token, json=body)


def _ids(response) -> list[int]:
    return [item["id"] for item in response.get_json()]


def test_a_candidate_adds_an_application_of_their_own(call, world, row):
    response = _create(call, world.tokens["candidate"], decision_expected_on="2026-12-01")

    assert response.status_code == 201
    body = response.get_json()
    assert body["candidate_id"] == world.candidate.id
    assert body["status"] == "active"
    assert body["decision_expected_on"] == "2026-12-01"
    assert row(Application, body["id"])["org_id"] == world.org.id


def test_an_admin_adds_an_application_for_a_named_candidate(call, world):
    response = _create(call, world.tokens["admin"], candidate_id=world.other_candidate.id)

    assert response.status_code == 201
    assert response.get_json()["candidate_id"] == world.other_candidate.id


def test_an_advisor_adds_an_application_for_an_assigned_candidate(call, world):
    response = _create(call, world.tokens["advisor"], candidate_id=world.candidate.id)

    assert response.status_code == 201
    assert response.get_json()["candidate_id"] == world.candidate.id


@pytest.mark.parametrize("role", ["admin", "advisor"])
def test_acting_for_a_candidate_needs_candidate_id(call, world, snapshot, role):
    before = snapshot()

    response = _create(call, world.tokens[role])

    assert_problem(response, 422, "candidate_id")
    assert snapshot() == before


@pytest.mark.parametrize(
    ("role", "target"),
    [("admin", "stranger"), ("advisor", "other_candidate"), ("candidate", "other_candidate")],
)
def test_a_candidate_the_caller_may_not_see_is_unknown(call, world, snapshot, role, target):
    before = snapshot()

    response = _create(call, world.tokens[role], candidate_id=getattr(world, target).id)

    body = assert_problem(response, 422, "candidate_id")
    assert body["errors"] == {"candidate_id": ["Unknown candidate."]}
    assert snapshot() == before


def test_an_application_is_shown(call, world, factory):
    application = factory.application(world.candidate, company="Initech")

    response = call("GET", f"/v1/applications/{application.id}", world.tokens["advisor"])

    assert response.status_code == 200
    assert response.get_json()["company"] == "Initech"


def test_an_applications_status_is_changed(call, world, factory, row):
    application = factory.application(world.candidate)

    response = call(
        "PATCH",
        f"/v1/applications/{application.id}",
        world.tokens["candidate"],
        json={"status": "next_round", "decision_expected_on": None},
    )

    assert response.status_code == 200
    assert response.get_json()["status"] == "next_round"
    assert row(Application, application.id)["status"] == "next_round"


def test_deleting_an_application_removes_its_interviews(call, world, factory, count):
    contact = factory.contact(world.candidate)
    application = factory.application(world.candidate)
    interview = factory.interview(application, [contact])

    response = call("DELETE", f"/v1/applications/{application.id}", world.tokens["candidate"])

    assert response.status_code == 204
    assert count(Application, id=application.id) == 0
    assert count(Interview, id=interview.id) == 0
    assert count(Interviewer, interview_id=interview.id) == 0


def test_the_status_filter(call, world, factory):
    wanted = factory.application(world.candidate, status="offer")
    factory.application(world.candidate, status="active")

    response = call("GET", "/v1/applications?status=offer", world.tokens["candidate"])

    assert _ids(response) == [wanted.id]
    assert pagination(response)["total"] == 1


def test_the_company_filter(call, world, factory):
    wanted = factory.application(world.candidate, company="Initech")
    factory.application(world.candidate, company="Acme Corp")

    response = call("GET", "/v1/applications?company=Initech", world.tokens["admin"])

    assert _ids(response) == [wanted.id]


def test_the_candidate_filter(call, world, factory):
    wanted = factory.application(world.candidate)
    factory.application(world.other_candidate)

    response = call(
        "GET", f"/v1/applications?candidate_id={world.candidate.id}", world.tokens["admin"]
    )

    assert _ids(response) == [wanted.id]
    assert pagination(response)["total"] == 1


def test_pages_of_applications(call, world, factory):
    made = [factory.application(world.candidate).id for _ in range(7)]

    response = call("GET", "/v1/applications?page=2&page_size=5", world.tokens["candidate"])

    assert _ids(response) == made[5:]
    assert pagination(response)["total"] == 7


def test_a_page_size_over_100_is_422(call, world):
    response = call("GET", "/v1/applications?page_size=101", world.tokens["candidate"])

    assert_problem(response, 422, "page_size")


def test_an_unknown_status_filter_is_422(call, world):
    response = call("GET", "/v1/applications?status=ghosted", world.tokens["candidate"])

    assert_problem(response, 422, "status")


@pytest.mark.parametrize(
    ("role", "target"),
    [("admin", "stranger"), ("advisor", "other_candidate"), ("candidate", "other_candidate")],
)
def test_filters_never_reach_an_invisible_candidates_applications(
    call, world, factory, role, target
):
    hidden = factory.application(getattr(world, target), company="Hidden Co", status="offer")

    for query in (
        {"candidate_id": hidden.candidate_id},
        {"company": "Hidden Co"},
        {"status": "offer"},
    ):
        response = call("GET", f"/v1/applications?{urlencode(query)}", world.tokens[role])
        assert response.get_json() == [], query
        assert pagination(response)["total"] == 0, query


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"company": ""}, "company"),
        ({"company": "x" * 201}, "company"),
        ({"position": "x" * 201}, "position"),
        ({"status": "ghosted"}, "status"),
        ({"decision_expected_on": "next week"}, "decision_expected_on"),
        ({"decision_expected_on": "2026-02-30"}, "decision_expected_on"),
        ({"salary": 100_000}, "salary"),
        ({"id": 42}, "id"),
        ({"org_id": 1}, "org_id"),
        ({"created_at": "2026-01-01T00:00:00Z"}, "created_at"),
        ({"candidate_id": "3"}, "candidate_id"),
    ],
)
def test_a_bad_new_application_is_422_naming_the_field(call, world, snapshot, body, field):
    before = snapshot()

    response = _create(call, world.tokens["candidate"], **body)

    assert_problem(response, 422, field)
    assert snapshot() == before


@pytest.mark.parametrize("missing", ["company", "position"])
def test_company_and_position_are_required(call, world, snapshot, missing):
    before = snapshot()
    body = {k: v for k, v in ACME.items() if k != missing}

    response = call("POST", "/v1/applications", world.tokens["candidate"], json=body)

    assert_problem(response, 422, missing)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "ghosted"}, "status"),
        ({"position": None}, "position"),
        ({"id": 42}, "id"),
        ({"candidate_id": 3}, "candidate_id"),
        ({"org_id": 1}, "org_id"),
        ({"updated_at": "2026-01-01T00:00:00Z"}, "updated_at"),
    ],
)
def test_a_bad_application_change_is_422_naming_the_field(
    call, world, factory, snapshot, body, field
):
    application = factory.application(world.candidate)
    before = snapshot()

    response = call(
        "PATCH", f"/v1/applications/{application.id}", world.tokens["candidate"], json=body
    )

    assert_problem(response, 422, field)
    assert snapshot() == before


def test_an_oversize_body_is_413_and_changes_nothing(call, world, app, snapshot):
    before = snapshot()
    padding = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)

    response = _create(call, world.tokens["candidate"], position=padding)

    assert_problem(response, 413)
    assert snapshot() == before
