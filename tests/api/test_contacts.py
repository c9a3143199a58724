"""Contacts: people on the hiring side, each owned by one candidate."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from api.models import Contact
from tests.api.helpers import assert_problem, pagination

DANA = {
    "name": "Dana Jones",
    "title": "Engineering Manager",
    "company": "Acme Corp",
    "email": "Dana.Jones@Acme.example",
    "phone": "+14155550100",
    "timezone": "America/Los_Angeles",
    "country": "us",
    "preferred_channel": "email",
    "notes": "Met at the meetup.",
    "do_not_contact": False,
}


def _create(call, token, **overrides):
    body = dict(DANA)
    body.update(overrides)
    return call("POST", "/v1/contacts", token, json=body)


def _ids(response) -> list[int]:
    return [item["id"] for item in response.get_json()]


# -- create, read, update, delete ---------------------------------------------------------


def test_a_candidate_adds_a_contact_of_their_own(call, world, row):
    response = _create(call, world.tokens["candidate"])

    assert response.status_code == 201
    body = response.get_json()
    assert body["candidate_id"] == world.candidate.id
    assert body["email"] == "dana.jones@acme.example"
    assert body["country"] == "US"
    assert row(Contact, body["id"])["org_id"] == world.org.id


def test_a_contact_without_a_zone_takes_the_candidates_zone(call, world):
    response = call("POST", "/v1/contacts", world.tokens["candidate"], json={"name": "Lee"})

    assert response.status_code == 201
    assert response.get_json()["timezone"] == world.candidate.timezone


def test_an_admin_adds_a_contact_for_a_named_candidate(call, world):
    response = _create(call, world.tokens["admin"], candidate_id=world.other_candidate.id)

    assert response.status_code == 201
    assert response.get_json()["candidate_id"] == world.other_candidate.id


def test_an_advisor_adds_a_contact_for_an_assigned_candidate(call, world):
    response = _create(call, world.tokens["advisor"], candidate_id=world.candidate.id)

    assert response.status_code == 201
    assert response.get_json()["candidate_id"] == world.candidate.id


def test_an_admin_without_candidate_id_is_422_naming_it(call, world, snapshot):
    before = snapshot()

    response = _create(call, world.tokens["admin"])

    assert_problem(response, 422, "candidate_id")
    assert snapshot() == before


@pytest.mark.parametrize(
    ("role", "target"),
    [
        ("admin", "stranger"),
        ("advisor", "other_candidate"),
        ("advisor", "stranger"),
        ("candidate", "other_candidate"),
    ],
)
def test_a_candidate_the_caller_may_not_see_is_unknown(call, world, snapshot, role, target):
    before = snapshot()

    response = _create(call, world.tokens[role], candidate_id=getattr(world, target).id)

    body = assert_problem(response, 422, "candidate_id")
    assert body["errors"] == {"candidate_id": ["Unknown candidate."]}
    assert snapshot() == before


def test_an_unknown_candidate_answer_never_reveals_existence(call, world):
    foreign = _create(call, world.tokens["admin"], candidate_id=world.stranger.id)
    missing = _create(call, world.tokens["admin"], candidate_id=999_999)

    assert foreign.get_json() == missing.get_json()


def test_a_contact_is_shown_to_its_candidate(call, world, factory):
    contact = factory.contact(world.candidate, name="Sam Lee")

    response = call("GET", f"/v1/contacts/{contact.id}", world.tokens["candidate"])

    assert response.status_code == 200
    assert response.get_json()["name"] == "Sam Lee"


def test_a_contact_is_changed(call, world, factory, row):
    contact = factory.contact(world.candidate)

    response = call(
        "PATCH",
        f"/v1/contacts/{contact.id}",
        world.tokens["candidate"],
        json={"title": "Director", "email": "NEW@Acme.example", "do_not_contact": True},
    )

    assert response.status_code == 200
    stored = row(Contact, contact.id)
    assert stored["title"] == "Director"
    assert stored["email"] == "new@acme.example"
    assert stored["do_not_contact"] is True


def test_an_optional_field_is_cleared_with_null(call, world, factory, row):
    contact = factory.contact(world.candidate)

    response = call(
        "PATCH", f"/v1/contacts/{contact.id}", world.tokens["advisor"], json={"phone": None}
    )

    assert response.status_code == 200
    assert row(Contact, contact.id)["phone"] is None


def test_a_contact_is_deleted(call, world, factory, row):
    contact = factory.contact(world.candidate)

    response = call("DELETE", f"/v1/contacts/{contact.id}", world.tokens["admin"])

    assert response.status_code == 204
    assert row(Contact, contact.id) is None
    assert_problem(call("GET", f"/v1/contacts/{contact.id}", world.tokens["admin"]), 404)


# -- lists: filters and pagination ----------------------------------------------------------


def test_the_company_filter(call, world, factory):
    wanted = factory.contact(world.candidate, company="Initech")
    factory.contact(world.candidate, company="Acme Corp")

    response = call("GET", "/v1/contacts?company=Initech", world.tokens["candidate"])

    assert _ids(response) == [wanted.id]
    assert pagination(response)["total"] == 1


def test_the_email_filter_ignores_case(call, world, factory):
    wanted = factory.contact(world.candidate, email="pat@initech.example")
    factory.contact(world.candidate)

    response = call("GET", "/v1/contacts?email=Pat@Initech.example", world.tokens["candidate"])

    assert _ids(response) == [wanted.id]


def test_the_candidate_filter(call, world, factory):
    wanted = factory.contact(world.other_candidate)
    factory.contact(world.candidate)

    response = call(
        "GET", f"/v1/contacts?candidate_id={world.other_candidate.id}", world.tokens["admin"]
    )

    assert _ids(response) == [wanted.id]
    assert pagination(response)["total"] == 1


def test_pages_of_contacts(call, world, factory):
    made = [factory.contact(world.candidate).id for _ in range(25)]

    first = call("GET", "/v1/contacts?page_size=10", world.tokens["candidate"])
    last = call("GET", "/v1/contacts?page=3&page_size=10", world.tokens["candidate"])

    assert _ids(first) == made[:10]
    assert _ids(last) == made[20:]
    assert pagination(last)["total"] == 25
    assert pagination(last)["total_pages"] == 3


def test_a_page_of_100_is_allowed(call, world, factory):
    factory.contact(world.candidate)

    assert call("GET", "/v1/contacts?page_size=100", world.tokens["candidate"]).status_code == 200


@pytest.mark.parametrize("query", ["page_size=101", "page_size=0", "page=0", "page=x"])
def test_a_bad_page_is_422_naming_it(call, world, query):
    response = call("GET", f"/v1/contacts?{query}", world.tokens["candidate"])

    assert_problem(response, 422, query.split("=")[0])


@pytest.mark.parametrize(
    "query",
    ["candidate_id=abc", "candidate_id=0", "company=" + "x" * 201],
    ids=["not-a-number", "zero", "too-long"],
)
def test_a_bad_filter_is_422_naming_it(call, world, query):
    response = call("GET", f"/v1/contacts?{query}", world.tokens["admin"])

    assert_problem(response, 422, query.split("=")[0])


@pytest.mark.parametrize(
    ("role", "target"),
    [("admin", "stranger"), ("advisor", "other_candidate"), ("candidate", "other_candidate")],
)
def test_filters_never_reach_an_invisible_candidates_contacts(call, world, factory, role, target):
    hidden = factory.contact(getattr(world, target), company="Hidden Co", email="h@hidden.example")

    for query in (
        {"candidate_id": hidden.candidate_id},
        {"company": "Hidden Co"},
        {"email": "h@hidden.example"},
    ):
        response = call("GET", f"/v1/contacts?{urlencode(query)}", world.tokens[role])
        assert response.get_json() == [], query
        assert pagination(response)["total"] == 0, query


def test_a_candidate_lists_only_their_own_contacts(call, world, factory):
    mine = factory.contact(world.candidate)
    factory.contact(world.other_candidate)
    factory.contact(world.stranger)

    response = call("GET", "/v1/contacts?company=Acme%20Corp", world.tokens["candidate"])

    assert _ids(response) == [mine.id]
    assert pagination(response)["total"] == 1


# -- validation: the problem names the field and nothing changes ---------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "dana-at-acme"}, "email"),
        ({"phone": "555-0100"}, "phone"),
        ({"phone": "+1 555 000"}, "phone"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"country": "XX"}, "country"),
        ({"preferred_channel": "Carrier Pigeon!"}, "preferred_channel"),
        ({"name": "x" * 201}, "name"),
        ({"name": ""}, "name"),
        ({"company": "x" * 201}, "company"),
        ({"email": "a" * 250 + "@x.example"}, "email"),
        ({"notes": "x" * 10_001}, "notes"),
        ({"do_not_contact": "perhaps"}, "do_not_contact"),
        ({"favourite_colour": "blue"}, "favourite_colour"),
        ({"id": 42}, "id"),
        ({"org_id": 1}, "org_id"),
        ({"created_at": "2026-01-01T00:00:00Z"}, "created_at"),
        ({"sms_opted_out": True}, "sms_opted_out"),
    ],
)
def test_a_bad_new_contact_is_422_naming_the_field(call, world, snapshot, body, field):
    before = snapshot()

    response = _create(call, world.tokens["candidate"], **body)

    assert_problem(response, 422, field)
    assert snapshot() == before


def test_a_contact_needs_a_name(call, world, snapshot):
    before = snapshot()

    response = call("POST", "/v1/contacts", world.tokens["candidate"], json={"company": "Acme"})

    assert_problem(response, 422, "name")
    assert snapshot() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "dana-at-acme"}, "email"),
        ({"phone": "not a phone"}, "phone"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"title": "x" * 201}, "title"),
        ({"name": None}, "name"),
        ({"id": 42}, "id"),
        ({"candidate_id": 3}, "candidate_id"),
        ({"org_id": 1}, "org_id"),
        ({"created_at": "2026-01-01T00:00:00Z"}, "created_at"),
        ({"updated_at": "2026-01-01T00:00:00Z"}, "updated_at"),
    ],
)
def test_a_bad_contact_change_is_422_naming_the_field(call, world, factory, snapshot, body, field):
    contact = factory.contact(world.candidate)
    before = snapshot()

    response = call("PATCH", f"/v1/contacts/{contact.id}", world.tokens["candidate"], json=body)

    assert_problem(response, 422, field)
    assert snapshot() == before


def test_one_bad_field_rejects_the_whole_change(call, world, factory, snapshot):
    contact = factory.contact(world.candidate)
    before = snapshot()

    response = call(
        "PATCH",
        f"/v1/contacts/{contact.id}",
        world.tokens["candidate"],
        json={"title": "Director", "timezone": "Mars/Olympus"},
    )

    assert_problem(response, 422, "timezone")
    assert snapshot() == before


@pytest.mark.parametrize(
    "phone", ["+1 (415) 555-0123", "+1 415-555-0123", "+1.415.555.0123", "+14155550123"]
)
def test_a_phone_is_normalised_to_e164(call, world, row, phone):
    response = _create(call, world.tokens["candidate"], phone=phone)

    assert response.status_code == 201
    assert response.get_json()["phone"] == "+14155550123"
    assert row(Contact, response.get_json()["id"])["phone"] == "+14155550123"


def test_an_oversize_body_is_413_and_changes_nothing(call, world, app, snapshot):
    before = snapshot()
    padding = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)

    response = _create(call, world.tokens["candidate"], notes=padding)

    assert_problem(response, 413)
    assert snapshot() == before
