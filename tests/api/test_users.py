"""Users of an organisation: admins manage them, others see only who they work with."""

from __future__ import annotations

import pytest

from api.models import (
    ApiToken,
    Application,
    Assignment,
    Contact,
    Interview,
    Interviewer,
    User,
)
from tests.api.helpers import assert_problem, pagination


def _new_user(**overrides):
    body = {"email": "new.person@example.org", "name": "New Person", "role": "candidate"}
    body.update(overrides)
    return body


def test_an_admin_creates_a_user_with_the_email_lowercased(call, world, row):
    response = call(
        "POST", "/v1/users", world.tokens["admin"], json=_new_user(email="New.Person@Example.ORG")
    )

    assert response.status_code == 201
    body = response.get_json()
    assert body["email"] == "new.person@example.org"
    assert body["org_id"] == world.org.id
    assert body["role"] == "candidate"
    assert row(User, body["id"])["email"] == "new.person@example.org"


def test_a_new_users_phone_is_normalised_to_e164(call, world):
    response = call(
        "POST", "/v1/users", world.tokens["admin"], json=_new_user(phone="+1 (415) 555-0123")
    )

    assert response.status_code == 201
    assert response.get_json()["phone"] == "+14155550123"


def test_a_duplicate_email_is_409_naming_email(call, world, snapshot):
    before = snapshot()

    response = call(
        "POST",
        "/v1/users",
        world.tokens["admin"],
        json=_new_user(email=world.advisor.email.upper()),
    )

    assert_problem(response, 409, "email")
    assert snapshot() == before


def test_the_same_email_may_exist_in_another_org(call, world):
    response = call(
        "POST", "/v1/users", world.tokens["admin"], json=_new_user(email=world.stranger.email)
    )

    assert response.status_code == 201


def test_changing_to_a_taken_email_is_409_naming_email(call, world, snapshot):
    before = snapshot()

    response = call(
        "PATCH",
        f"/v1/users/{world.candidate.id}",
        world.tokens["admin"],
        json={"email": world.advisor.email},
    )

    assert_problem(response, 409, "email")
    assert snapshot() == before


def test_an_admin_sees_every_user_of_the_org_and_no_other(call, world):
    response = call("GET", "/v1/users", world.tokens["admin"])

    ids = {u["id"] for u in response.get_json()}
    assert ids == {world.admin.id, world.advisor.id, world.candidate.id, world.other_candidate.id}
    assert pagination(response)["total"] == 4


def test_an_advisor_sees_self_and_assigned_candidates_only(call, world):
    response = call("GET", "/v1/users", world.tokens["advisor"])

    assert {u["id"] for u in response.get_json()} == {world.advisor.id, world.candidate.id}
    assert pagination(response)["total"] == 2


def test_a_candidate_sees_only_self(call, world):
    response = call("GET", "/v1/users", world.tokens["candidate"])

    assert [u["id"] for u in response.get_json()] == [world.candidate.id]
    assert pagination(response)["total"] == 1


def test_the_role_filter_never_widens_what_is_visible(call, world):
    response = call("GET", "/v1/users?role=candidate", world.tokens["advisor"])

    assert [u["id"] for u in response.get_json()] == [world.candidate.id]
    assert pagination(response)["total"] == 1


def test_an_advisor_gets_404_for_an_unassigned_candidate(call, world):
    response = call("GET", f"/v1/users/{world.other_candidate.id}", world.tokens["advisor"])

    assert_problem(response, 404)


def test_an_admin_changes_a_users_name_and_time_zone(call, world, row):
    response = call(
        "PATCH",
        f"/v1/users/{world.candidate.id}",
        world.tokens["admin"],
        json={"name": "Renamed", "timezone": "Europe/Berlin"},
    )

    assert response.status_code == 200
    stored = row(User, world.candidate.id)
    assert (stored["name"], stored["timezone"]) == ("Renamed", "Europe/Berlin")


def test_the_role_cannot_be_changed(call, world, snapshot, row):
    before = snapshot()

    response = call(
        "PATCH", f"/v1/users/{world.candidate.id}", world.tokens["admin"], json={"role": "admin"}
    )

    body = assert_problem(response, 422, "role")
    assert body["errors"]["role"] == ["Unknown field."]
    assert snapshot() == before
    assert row(User, world.candidate.id)["role"] == "candidate"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"phone": "12345"}, "phone"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"name": "x" * 201}, "name"),
        ({"name": ""}, "name"),
        ({"role": "owner"}, "role"),
        ({"nickname": "Dee"}, "nickname"),
        ({"id": 999}, "id"),
        ({"org_id": 999}, "org_id"),
        ({"created_at": "2026-01-01T00:00:00Z"}, "created_at"),
    ],
)
def test_a_bad_new_user_is_422_naming_the_field(call, world, snapshot, body, field):
    before = snapshot()

    response = call("POST", "/v1/users", world.tokens["admin"], json=_new_user(**body))

    assert_problem(response, 422, field)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"phone": "+1 555"}, "phone"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"name": "x" * 201}, "name"),
        ({"id": 999}, "id"),
        ({"org_id": 2}, "org_id"),
        ({"candidate_id": 2}, "candidate_id"),
        ({"updated_at": "2026-01-01T00:00:00Z"}, "updated_at"),
    ],
)
def test_a_bad_user_change_is_422_naming_the_field(call, world, snapshot, body, field):
    before = snapshot()

    response = call("PATCH", f"/v1/users/{world.candidate.id}", world.tokens["admin"], json=body)

    assert_problem(response, 422, field)
    assert snapshot() == before


def test_deleting_a_candidate_removes_all_their_records(call, world, factory, count):
    contact = factory.contact(world.candidate)
    application = factory.application(world.candidate)
    factory.interview(application, [contact])
    kept_contact = factory.contact(world.other_candidate)
    kept_application = factory.application(world.other_candidate)
    factory.interview(kept_application, [kept_contact])

    response = call("DELETE", f"/v1/users/{world.candidate.id}", world.tokens["admin"])

    assert response.status_code == 204
    gone = world.candidate.id
    assert count(User, id=gone) == 0
    assert count(Contact, candidate_id=gone) == 0
    assert count(Application, candidate_id=gone) == 0
    assert count(Interview, candidate_id=gone) == 0
    assert count(Interviewer, contact_id=contact.id) == 0
    assert count(Assignment, candidate_id=gone) == 0
    assert count(ApiToken, user_id=gone) == 0
    kept = world.other_candidate.id
    assert count(Contact, candidate_id=kept) == 1
    assert count(Application, candidate_id=kept) == 1
    assert count(Interview, candidate_id=kept) == 1


def test_a_deleted_users_token_stops_working(call, world):
    call("DELETE", f"/v1/users/{world.candidate.id}", world.tokens["admin"])

    assert_problem(call("GET", "/v1/me", world.tokens["candidate"]), 401)


def test_an_admin_cannot_delete_themselves(call, world, snapshot):
    before = snapshot()

    response = call("DELETE", f"/v1/users/{world.admin.id}", world.tokens["admin"])

    assert_problem(response, 409)
    assert snapshot() == before
