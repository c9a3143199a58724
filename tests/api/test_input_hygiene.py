"""Input no view could store or answer is refused at the edge, before any view runs:
bodies nested too deep, text that is not UTF-8, NUL characters and lone surrogates, in
JSON bodies, query strings, paths and form bodies alike."""

from __future__ import annotations

import re

import pytest

from api import create_app
from api.input_hygiene import MAX_JSON_DEPTH, json_depth
from tests.api.helpers import assert_problem
from tests.webhooks.twilio import CONTACT_PHONE, INBOUND, inbound, signed_post, twilio_settings

JSON = "application/json"


def _nested(depth: int) -> str:
    """A contact whose notes are lists nested so that the whole body is `depth` deep."""
    inner = depth - 1
    return '{"name": "Dana", "notes": ' + "[" * inner + "]" * inner + "}"


def test_json_nested_a_thousand_deep_is_a_400_naming_the_body(call, world, snapshot):
    before = snapshot()

    response = call(
        "POST", "/v1/contacts", world.tokens["candidate"], data=_nested(1000), content_type=JSON
    )

    assert_problem(response, 400, "json")
    assert snapshot() == before


def test_json_one_level_past_the_limit_is_refused_before_parsing(call, world):
    response = call(
        "POST",
        "/v1/contacts",
        world.tokens["candidate"],
        data=_nested(MAX_JSON_DEPTH + 1),
        content_type=JSON,
    )

    body = assert_problem(response, 400, "json")
    assert str(MAX_JSON_DEPTH) in body["errors"]["json"][0]


def test_json_at_the_limit_is_parsed_and_judged_by_the_schema(call, world):
    response = call(
        "POST",
        "/v1/contacts",
        world.tokens["candidate"],
        data=_nested(MAX_JSON_DEPTH),
        content_type=JSON,
    )

    assert_problem(response, 422, "notes")


def test_brackets_inside_strings_are_text_not_nesting(call, world):
    notes = "[{" * 500

    response = call(
        "POST", "/v1/contacts", world.tokens["candidate"], json={"name": "D", "notes": notes}
    )

    assert response.status_code == 201
    assert response.get_json()["notes"] == notes


@pytest.mark.parametrize(
    ("text", "depth"),
    [("1", 0), ("[]", 1), ('{"a": [1, {"b": []}]}', 4), ('["]]]", "\\"[["]', 1), ('"[["', 0)],
)
def test_json_depth_counts_brackets_outside_strings(text, depth):
    assert json_depth(text) == depth


@pytest.mark.parametrize("value", ["a\u0000b", "\ud800", "ok \udfff"])
def test_a_string_that_cannot_be_text_is_a_422_naming_the_field(call, world, snapshot, value):
    before = snapshot()

    response = call(
        "POST", "/v1/contacts", world.tokens["candidate"], json={"name": "Dana", "notes": value}
    )

    assert_problem(response, 422, "notes")
    assert snapshot() == before


def test_a_lone_surrogate_deep_in_a_body_is_named_by_its_path(call, world, factory):
    contact = factory.contact(world.candidate)
    application = factory.application(world.candidate)
    body = {
        "application_id": application.id,
        "starts_at": "2030-06-04T13:00:00Z",
        "ends_at": "2030-06-04T14:00:00Z",
        "interviewers": [{"contact_id": contact.id, "topics": "pipelines \ud83d"}],
    }

    response = call("POST", "/v1/interviews", world.tokens["candidate"], json=body)

    body = assert_problem(response, 422, "interviewers.0.topics")
    assert list(body["errors"]) == ["interviewers.0.topics"]


def test_a_field_name_that_cannot_be_text_is_named_escaped(call, world):
    response = call(
        "POST", "/v1/contacts", world.tokens["candidate"], json={"name": "D", "no\u0000tes": "x"}
    )

    body = assert_problem(response, 422, "no\\u0000tes")
    assert "\x00" not in response.get_data(as_text=True).encode().decode("unicode_escape")
    assert body["errors"]["no\\u0000tes"][0].startswith("The field name contains a NUL")


def test_a_field_under_an_empty_name_is_named_by_its_whole_path(call, world):
    body = {"name": "D", "notes": "x", "": {"a\u0000": 1}}

    response = call("POST", "/v1/contacts", world.tokens["candidate"], json=body)

    assert list(assert_problem(response, 422)["errors"]) == [".a\\u0000"]


def test_a_body_that_is_not_utf8_is_a_400_naming_the_body(call, world):
    response = call(
        "POST",
        "/v1/contacts",
        world.tokens["candidate"],
        data=b'{"name": "Dan\xe4"}',
        content_type=JSON,
    )

    assert_problem(response, 400, "json")


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_numbers_that_are_not_json_are_a_400(call, world, factory, number):
    contact = factory.contact(world.candidate)

    response = call(
        "PUT",
        f"/v1/contacts/{contact.id}/policy",
        world.tokens["candidate"],
        data='{"touch_budget": ' + number + "}",
        content_type=JSON,
    )

    assert_problem(response, 400, "json")


@pytest.mark.parametrize("body", ["[]", '["Dana"]', '"Dana"', "null", "3"])
def test_a_body_that_is_not_an_object_is_a_422(call, world, body):
    response = call("POST", "/v1/contacts", world.tokens["candidate"], data=body, content_type=JSON)

    assert_problem(response, 422, "_schema")


def test_a_nul_in_a_query_string_is_a_422_naming_the_parameter(call, world):
    response = call("GET", "/v1/contacts?company=Acme%00Corp", world.tokens["candidate"])

    assert_problem(response, 422, "company")


def test_a_query_string_that_is_not_utf8_is_a_400_naming_the_parameter(call, world):
    response = call("GET", "/v1/contacts?company=Caf%E9", world.tokens["candidate"])

    assert_problem(response, 400, "company")


def test_percent_encoded_utf8_in_a_query_string_is_ordinary_text(call, world, factory):
    factory.contact(world.candidate, company="Café Ltd")

    response = call("GET", "/v1/contacts?company=Caf%C3%A9+Ltd", world.tokens["candidate"])

    assert response.status_code == 200
    assert [c["company"] for c in response.get_json()] == ["Café Ltd"]


def test_a_nul_in_a_path_names_nothing(call, world):
    response = call("GET", "/v1/channels/em%00ail/settings", world.tokens["admin"])

    assert_problem(response, 404)


def _body_routes():
    app = create_app({"DATABASE_URL": "sqlite:///:memory:", "SECRET_KEY": "x"})
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods & {"POST", "PUT", "PATCH"}):
            yield method, rule.rule.replace("<int:", "<").replace("<channel>", "email")


BODY_ROUTES = list(_body_routes())


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES, ids=[f"{m} {p}" for m, p in BODY_ROUTES])
def test_every_route_refuses_a_nul_in_a_json_body_before_anything_else(call, world, method, path):
    url = re.sub(r"<\w+>", "1", path)

    response = call(method, url, world.tokens["admin"], json={"note": ["fine", "a\u0000b"]})

    assert_problem(response, 422, "note.1")


# -- Twilio's form bodies ---------------------------------------------------------------------


@pytest.fixture
def twilio_account(world, factory):
    """The organisation's Twilio account, and a contact texting from CONTACT_PHONE."""
    twilio_settings(factory, world.org.id)
    return factory.contact(world.candidate, phone=CONTACT_PHONE)


def _signed_inbound(client, body: str):
    return signed_post(client, INBOUND, inbound(body))


def test_a_signed_inbound_sms_with_a_nul_is_a_422_and_changes_nothing(
    client, twilio_account, snapshot
):
    before = snapshot()

    response = _signed_inbound(client, "Thanks\u0000 for writing")

    assert_problem(response, 422, "Body")
    assert snapshot() == before


def test_a_signed_inbound_sms_in_plain_text_is_still_taken(client, twilio_account):
    assert _signed_inbound(client, "Thanks for writing").status_code == 200


def test_a_form_body_that_is_not_utf8_is_a_400_naming_the_field(client, twilio_account):
    response = client.post(
        INBOUND,
        data=b"From=%2B14155550100&Body=Caf%E9",
        content_type="application/x-www-form-urlencoded",
    )

    assert_problem(response, 400, "Body")
