"""One person, one contact: a candidate's second contact with an email or phone already on
one of their contacts is a 409 naming the field and the existing contact (R6/R7 count per
contact, so a duplicate would get a budget and a gap of its own)."""

from __future__ import annotations

import pytest

from api.models import Contact
from tests.api.helpers import assert_problem

DANA = {"name": "Dana Jones", "email": "dana.jones@acme.example", "phone": "+14155550123"}


def create(call, token, **fields):
    return call("POST", "/v1/contacts", token, json={**DANA, **fields})


def patch(call, token, contact_id, **fields):
    return call("PATCH", f"/v1/contacts/{contact_id}", token, json=fields)


@pytest.fixture
def dana(call, world):
    answer = create(call, world.tokens["candidate"])
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def test_the_issue_case_four_contacts_with_one_address_are_one_contact(call, world, count):
    token = world.tokens["candidate"]
    answers = [create(call, token, name=f"Dana {i}", phone=f"+1415555012{i}") for i in range(4)]

    assert [a.status_code for a in answers] == [201, 409, 409, 409]
    first = answers[0].get_json()["id"]
    assert {a.get_json()["existing_id"] for a in answers[1:]} == {first}
    assert count(Contact, candidate_id=world.candidate.id) == 1


@pytest.mark.parametrize(
    "email", ["dana.jones@acme.example", "Dana.Jones@ACME.example", "DANA.JONES@acme.EXAMPLE"]
)
def test_the_same_email_in_any_case_is_409_naming_the_existing_contact(
    call, world, dana, snapshot, email
):
    before = snapshot()

    answer = create(call, world.tokens["candidate"], email=email, phone=None, name="D. Jones")

    problem = assert_problem(answer, 409, "email")
    assert problem["existing_id"] == dana["id"]
    assert str(dana["id"]) in problem["errors"]["email"][0]
    assert snapshot() == before


@pytest.mark.parametrize("phone", ["+14155550123", "+1 (415) 555-0123", "+1.415.555.0123"])
def test_the_same_phone_in_any_format_is_409_naming_the_existing_contact(
    call, world, dana, snapshot, phone
):
    before = snapshot()

    answer = create(call, world.tokens["candidate"], email="other@acme.example", phone=phone)

    problem = assert_problem(answer, 409, "phone")
    assert problem["existing_id"] == dana["id"]
    assert snapshot() == before


def test_both_fields_are_named_when_both_are_taken(call, world, dana):
    answer = create(call, world.tokens["candidate"])

    problem = assert_problem(answer, 409, "email", "phone")
    assert problem["existing_id"] == dana["id"]


def test_staff_adding_a_duplicate_for_a_candidate_get_the_same_409(call, world, dana):
    answer = create(call, world.tokens["advisor"], candidate_id=world.candidate.id)

    assert assert_problem(answer, 409, "email")["existing_id"] == dana["id"]


def test_another_candidates_contact_with_the_same_address_is_no_duplicate(call, world, dana):
    answer = create(call, world.tokens["other_candidate"])

    assert answer.status_code == 201, answer.get_json()
    assert "existing_id" not in answer.get_json()


def test_a_different_address_at_the_same_company_is_another_person(call, world, dana):
    answer = create(call, world.tokens["candidate"], email="raj@acme.example", phone=None)

    assert answer.status_code == 201, answer.get_json()


def test_contacts_without_email_or_phone_are_never_duplicates(call, world):
    token = world.tokens["candidate"]
    answers = [create(call, token, email=None, phone=None) for _ in range(2)]

    assert [a.status_code for a in answers] == [201, 201]


# -- changing a contact into a duplicate --------------------------------------------------------


def test_changing_an_email_into_anothers_is_409_and_changes_nothing(call, world, dana, snapshot):
    token = world.tokens["candidate"]
    raj = create(call, token, name="Raj", email="raj@acme.example", phone=None).get_json()
    before = snapshot()

    answer = patch(call, token, raj["id"], email="DANA.JONES@acme.example", title="Director")

    assert assert_problem(answer, 409, "email")["existing_id"] == dana["id"]
    assert snapshot() == before


def test_changing_a_phone_into_anothers_is_409(call, world, dana):
    token = world.tokens["candidate"]
    raj = create(call, token, name="Raj", email=None, phone="+14155550124").get_json()

    answer = patch(call, token, raj["id"], phone="+1 415 555 0123")

    assert assert_problem(answer, 409, "phone")["existing_id"] == dana["id"]


def test_a_contact_keeps_its_own_address_through_a_change(call, world, dana):
    answer = patch(call, world.tokens["candidate"], dana["id"], email="Dana.Jones@acme.example")

    assert answer.status_code == 200, answer.get_json()


def test_an_address_given_up_may_be_taken_by_another_contact(call, world, dana):
    token = world.tokens["candidate"]
    assert patch(call, token, dana["id"], email=None).status_code == 200

    assert create(call, token, name="Dana (work)", phone=None).status_code == 201
