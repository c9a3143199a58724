"""Advisor <-> candidate assignments decide what an advisor sees."""

from __future__ import annotations

import pytest

from api.models import Assignment
from tests.api.helpers import assert_problem, pagination


def _assign(call, token, advisor_id, candidate_id):
    return call(
        "POST",
        "/v1/assignments",
        token,
        json={"advisor_id": advisor_id, "candidate_id": candidate_id},
    )


def test_an_admin_assigns_a_candidate_to_an_advisor(call, world, count):
    response = _assign(call, world.tokens["admin"], world.advisor.id, world.other_candidate.id)

    assert response.status_code == 201
    body = response.get_json()
    assert (body["advisor_id"], body["candidate_id"]) == (
        world.advisor.id,
        world.other_candidate.id,
    )
    assert count(Assignment, advisor_id=world.advisor.id, candidate_id=world.other_candidate.id)


def test_an_assigned_advisor_then_sees_the_candidates_records(call, world, factory):
    contact = factory.contact(world.other_candidate)
    assert call("GET", f"/v1/contacts/{contact.id}", world.tokens["advisor"]).status_code == 404

    _assign(call, world.tokens["admin"], world.advisor.id, world.other_candidate.id)

    assert call("GET", f"/v1/contacts/{contact.id}", world.tokens["advisor"]).status_code == 200
    listed = call("GET", "/v1/contacts", world.tokens["advisor"])
    assert contact.id in [c["id"] for c in listed.get_json()]


def test_after_the_assignment_ends_the_advisor_gets_404(call, world, factory):
    contact = factory.contact(world.candidate)
    assignment = call(
        "GET", f"/v1/assignments?candidate_id={world.candidate.id}", world.tokens["admin"]
    ).get_json()[0]
    assert call("GET", f"/v1/contacts/{contact.id}", world.tokens["advisor"]).status_code == 200

    ended = call("DELETE", f"/v1/assignments/{assignment['id']}", world.tokens["admin"])

    assert ended.status_code == 204
    assert_problem(call("GET", f"/v1/contacts/{contact.id}", world.tokens["advisor"]), 404)
    listed = call("GET", "/v1/contacts", world.tokens["advisor"])
    assert listed.get_json() == []
    assert pagination(listed)["total"] == 0


@pytest.mark.parametrize(
    ("advisor", "candidate", "field"),
    [
        ("candidate", "candidate", "advisor_id"),
        ("admin", "candidate", "advisor_id"),
        ("advisor", "advisor", "candidate_id"),
        ("advisor", "admin", "candidate_id"),
        ("advisor", "stranger", "candidate_id"),
    ],
)
def test_a_user_of_the_wrong_role_or_org_is_422_naming_the_field(
    call, world, snapshot, advisor, candidate, field
):
    before = snapshot()

    response = _assign(
        call,
        world.tokens["admin"],
        getattr(world, advisor).id,
        getattr(world, candidate).id,
    )

    assert_problem(response, 422, field)
    assert snapshot() == before


def test_a_duplicate_assignment_is_409(call, world, snapshot):
    before = snapshot()

    response = _assign(call, world.tokens["admin"], world.advisor.id, world.candidate.id)

    assert_problem(response, 409, "candidate_id")
    assert snapshot() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"advisor_id": "2", "candidate_id": 3}, "advisor_id"),
        ({"candidate_id": 3}, "advisor_id"),
        ({"advisor_id": 2, "candidate_id": 3, "id": 7}, "id"),
        ({"advisor_id": 2, "candidate_id": 3, "org_id": 1}, "org_id"),
    ],
)
def test_a_malformed_assignment_is_422_naming_the_field(call, world, snapshot, body, field):
    before = snapshot()

    response = call("POST", "/v1/assignments", world.tokens["admin"], json=body)

    assert_problem(response, 422, field)
    assert snapshot() == before


def test_an_advisor_lists_only_their_own_assignments(call, world, factory):
    other_advisor, _ = factory.user(world.org, "advisor")
    factory.assign(other_advisor, world.other_candidate)

    response = call("GET", "/v1/assignments", world.tokens["advisor"])

    assert [(a["advisor_id"], a["candidate_id"]) for a in response.get_json()] == [
        (world.advisor.id, world.candidate.id)
    ]
    assert pagination(response)["total"] == 1


def test_a_candidate_lists_only_assignments_about_them(call, world):
    mine = call("GET", "/v1/assignments", world.tokens["candidate"])
    other = call("GET", "/v1/assignments", world.tokens["other_candidate"])

    assert [a["candidate_id"] for a in mine.get_json()] == [world.candidate.id]
    assert other.get_json() == []
    assert pagination(other)["total"] == 0


def test_the_assignment_filters_never_reach_another_org(call, world, factory):
    stranger_advisor, _ = factory.user(world.other_org, "advisor")
    factory.assign(stranger_advisor, world.stranger)

    response = call(
        "GET", f"/v1/assignments?advisor_id={stranger_advisor.id}", world.tokens["admin"]
    )

    assert response.get_json() == []
    assert pagination(response)["total"] == 0


def test_an_advisor_cannot_assign(call, world, count):
    before = count(Assignment)

    response = _assign(call, world.tokens["advisor"], world.advisor.id, world.other_candidate.id)

    assert_problem(response, 403)
    assert count(Assignment) == before
