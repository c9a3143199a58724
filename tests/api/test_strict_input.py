"""Input that says nothing, or says it loosely, is refused: an empty PATCH, a PUT without
a body, a boolean that is not true or false, a time zone that is not an IANA name."""

from __future__ import annotations

import re

import pytest
from marshmallow import fields

from api import create_app
from api.models import PolicySetting
from api.schemas.fields import StrictBoolean
from tests.api import samples
from tests.api.helpers import assert_problem

APP = create_app({"DATABASE_URL": "sqlite:///:memory:", "SECRET_KEY": "x"})


def _routes(*methods: str) -> list[tuple[str, str]]:
    out = []
    for rule in APP.url_map.iter_rules():
        for method in sorted(rule.methods & set(methods)):
            out.append((method, rule.rule))
    return out


PATCH_ROUTES = _routes("PATCH")
PUT_ROUTES = _routes("PUT")


@pytest.fixture
def own(world, factory):
    """One object of the candidate's for every path parameter, visible to the admin."""
    contact = factory.contact(world.candidate)
    application = factory.application(world.candidate)
    interview = factory.interview(application, [contact])
    ids = samples.build(factory, world.candidate, contact, application, interview)
    return {
        **ids,
        "contact_id": contact.id,
        "application_id": application.id,
        "interview_id": interview.id,
        "user_id": world.candidate.id,
        "channel": "email",  # a registered channel: its settings can be PUT
    }


def _fill(path: str, ids: dict) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(ids[m.group(1)]), path)


@pytest.mark.parametrize(("method", "path"), PATCH_ROUTES, ids=[p for _, p in PATCH_ROUTES])
def test_every_patch_refuses_an_empty_object(call, world, own, snapshot, method, path):
    before = snapshot()

    response = call("PATCH", _fill(path, own), world.tokens["admin"], json={})

    assert_problem(response, 422, "_schema")
    assert snapshot() == before


@pytest.mark.parametrize(("method", "path"), PATCH_ROUTES, ids=[p for _, p in PATCH_ROUTES])
def test_every_patch_refuses_a_missing_body(call, world, own, snapshot, method, path):
    before = snapshot()

    response = call("PATCH", _fill(path, own), world.tokens["admin"])

    assert_problem(response, 422, "json")
    assert snapshot() == before


@pytest.mark.parametrize(("method", "path"), PUT_ROUTES, ids=[p for _, p in PUT_ROUTES])
def test_every_put_refuses_a_missing_body(call, world, own, snapshot, method, path):
    before = snapshot()

    response = call("PUT", _fill(path, own), world.tokens["admin"])

    assert_problem(response, 422, "json")
    assert snapshot() == before


def test_a_json_body_sent_as_text_is_no_body(call, world, own):
    response = call(
        "PATCH",
        f"/v1/contacts/{own['contact_id']}",
        world.tokens["admin"],
        data='{"name": "Dana"}',
        content_type="text/plain",
    )

    assert_problem(response, 422, "json")


@pytest.fixture
def overrides(world, factory, own):
    row = PolicySetting(
        org_id=world.org.id,
        candidate_id=world.candidate.id,
        contact_id=own["contact_id"],
        values={"touch_budget": 2},
    )
    factory.s.add(row)
    factory.s.commit()
    return f"/v1/contacts/{own['contact_id']}/policy"


def test_a_policy_put_without_a_body_keeps_the_overrides(call, world, overrides):
    call("PUT", overrides, world.tokens["admin"])

    assert call("GET", overrides, world.tokens["candidate"]).get_json()["overrides"] == {
        "touch_budget": 2
    }


def test_an_explicit_empty_object_clears_the_overrides_of_that_level(call, world, overrides):
    # The contact level's overrides are staff's (a candidate's own rules are kept apart).
    response = call("PUT", overrides, world.tokens["admin"], json={})

    assert response.status_code == 200
    assert response.get_json()["overrides"] == {}


# -- booleans ----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, 1, "true", "false", "", None, [], {}])
def test_a_body_boolean_is_true_or_false_only(call, world, value):
    body = {"name": "Dana", "do_not_contact": value}

    response = call("POST", "/v1/contacts", world.tokens["candidate"], json=body)

    assert_problem(response, 422, "do_not_contact")


def test_a_changed_boolean_is_strict_too(call, world, own):
    url = f"/v1/contacts/{own['contact_id']}"

    assert_problem(call("PATCH", url, world.tokens["admin"], json={"do_not_contact": 1}), 422)
    response = call("PATCH", url, world.tokens["admin"], json={"do_not_contact": True})
    assert response.get_json()["do_not_contact"] is True


@pytest.mark.parametrize("field", ["stop_on_response", "observe_holidays"])
def test_a_policy_boolean_is_strict(call, world, field):
    response = call("PUT", "/v1/policy", world.tokens["admin"], json={field: 0})

    assert_problem(response, 422, field)


@pytest.mark.parametrize(
    ("channel", "field"), [("sms", "smart_encoding"), ("call", "detect_voicemail")]
)
def test_a_channel_setting_boolean_is_strict(call, world, snapshot, channel, field):
    before = snapshot()

    response = call(
        "PUT", f"/v1/channels/{channel}/settings", world.tokens["admin"], json={field: 0}
    )

    assert_problem(response, 422, field)
    assert snapshot() == before


def test_a_channel_setting_boolean_of_true_is_stored(call, world):
    response = call(
        "PUT", "/v1/channels/sms/settings", world.tokens["admin"], json={"smart_encoding": False}
    )

    assert response.status_code == 200
    assert response.get_json()["values"]["smart_encoding"] is False


@pytest.mark.parametrize("value", ["1", "yes", "True", "on", ""])
def test_a_query_boolean_is_the_text_true_or_false(call, world, value):
    response = call("GET", f"/v1/tokens?include_revoked={value}", world.tokens["candidate"])

    assert_problem(response, 422, "include_revoked")


@pytest.mark.parametrize("value", ["true", "false"])
def test_a_query_boolean_of_true_or_false_is_read(call, world, value):
    response = call("GET", f"/v1/tokens?include_revoked={value}", world.tokens["candidate"])

    assert response.status_code == 200


def _json_schemas():
    for rule in APP.url_map.iter_rules():
        view_class = getattr(APP.view_functions[rule.endpoint], "view_class", None)
        for method in sorted(rule.methods & {"POST", "PUT", "PATCH"}):
            handler = getattr(view_class, method.lower(), None)
            arguments = getattr(handler, "_apidoc", {}).get("arguments") or {}
            for param in arguments.get("parameters", []):
                if param["in"] == "json":
                    schema = param["schema"]
                    yield f"{method} {rule.rule}", schema() if isinstance(schema, type) else schema


def _booleans(schema, prefix=""):
    for name, field in schema.fields.items():
        inner = field.inner if isinstance(field, fields.List) else field
        if isinstance(inner, fields.Nested):
            yield from _booleans(inner.schema, f"{prefix}{name}.")
        elif isinstance(inner, fields.Boolean):
            yield f"{prefix}{name}", inner


@pytest.mark.parametrize(("route", "schema"), list(_json_schemas()), ids=lambda v: str(v))
def test_every_body_boolean_is_a_strict_boolean(route, schema):
    loose = [name for name, field in _booleans(schema) if not isinstance(field, StrictBoolean)]
    assert loose == [], f"{route}: use StrictBoolean for {loose}"


# -- time zones --------------------------------------------------------------------------------

NOT_ZONES = [
    "localtime",
    "posixrules",
    "Factory",
    "posix/Europe/London",
    "right/UTC",
    "Mars/Olympus",
]


@pytest.mark.parametrize("zone", NOT_ZONES)
def test_a_zone_that_is_not_an_iana_name_is_refused_for_a_contact(call, world, zone):
    response = call(
        "POST", "/v1/contacts", world.tokens["candidate"], json={"name": "D", "timezone": zone}
    )

    assert_problem(response, 422, "timezone")


@pytest.mark.parametrize("zone", NOT_ZONES)
def test_a_zone_that_is_not_an_iana_name_is_refused_for_a_user(call, world, zone):
    url = f"/v1/users/{world.candidate.id}"

    response = call("PATCH", url, world.tokens["admin"], json={"timezone": zone})

    assert_problem(response, 422, "timezone")


@pytest.mark.parametrize(
    "zone", ["Europe/Lisbon", "America/Argentina/Buenos_Aires", "UTC", "US/Eastern"]
)
def test_iana_names_and_their_links_are_zones(call, world, zone):
    response = call(
        "POST", "/v1/contacts", world.tokens["candidate"], json={"name": "D", "timezone": zone}
    )

    assert response.status_code == 201
    assert response.get_json()["timezone"] == zone
