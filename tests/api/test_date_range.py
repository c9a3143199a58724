"""Every date and time a request gives is within 2000-01-01 and 2100-01-01 (UTC): outside
it is a 422 naming the field, never an OverflowError, and nothing is stored."""

from __future__ import annotations

import pytest
from marshmallow import fields

from api import create_app
from api.schemas.fields import _AwareUTC, _Day
from tests.api.helpers import assert_problem

BAD_TIMES = [
    "0001-01-01T00:00:00+05:00",  # leaves the calendar when converted to UTC
    "9999-12-31T23:59:59-05:00",
    "9999-12-31T00:00:00Z",
    "1999-12-31T23:59:59Z",
    "2100-01-01T00:00:00Z",
    "2099-12-31T20:00:00-05:00",  # 2100-01-01T01:00Z
]
BAD_DAYS = ["0001-01-01", "9999-12-31", "1999-12-31", "2100-01-01"]


@pytest.fixture
def scene(world, factory):
    contact = factory.contact(world.candidate)
    application = factory.application(world.candidate)
    touch = factory.touch(contact, application)
    return {"contact": contact.id, "application": application.id, "touch": touch.id}


def _touch(s, **extra):
    return {
        "contact_id": s["contact"],
        "application_id": s["application"],
        "step": "thank_you",
        "channel": "email",
        **extra,
    }


def _manual(s, **extra):
    return _touch(s, channel="manual", **extra)


def _interview(s, **extra):
    body = {
        "application_id": s["application"],
        "starts_at": "2030-06-04T13:00:00Z",
        "ends_at": "2030-06-04T14:00:00Z",
        "interviewers": [{"contact_id": s["contact"]}],
    }
    return {**body, **extra}


def _response(s, kind, **extra):
    return {"contact_id": s["contact"], "application_id": s["application"], "kind": kind, **extra}


TIME_BODIES = [
    ("POST", "/v1/touches", "scheduled_for", lambda s, v: _touch(s, scheduled_for=v)),
    ("POST", "/v1/touches", "occurred_at", lambda s, v: _manual(s, occurred_at=v)),
    ("PATCH", "/v1/touches/{touch}", "scheduled_for", lambda s, v: {"scheduled_for": v}),
    ("POST", "/v1/interviews", "starts_at", lambda s, v: _interview(s, starts_at=v)),
    ("POST", "/v1/interviews", "ends_at", lambda s, v: _interview(s, ends_at=v)),
    ("POST", "/v1/responses", "occurred_at", lambda s, v: _response(s, "replied", occurred_at=v)),
    ("POST", "/v1/tokens", "expires_at", lambda s, v: {"name": "portal", "expires_at": v}),
]
DAY_BODIES = [
    (
        "POST",
        "/v1/responses",
        "decision_date",
        lambda s, v: _response(s, "decision_date", decision_date=v),
    ),
    ("POST", "/v1/responses", "until", lambda s, v: _response(s, "out_of_office", until=v)),
    (
        "POST",
        "/v1/applications",
        "decision_expected_on",
        lambda s, v: {"company": "Acme", "position": "Engineer", "decision_expected_on": v},
    ),
    (
        "PATCH",
        "/v1/applications/{application}",
        "decision_expected_on",
        lambda s, v: {"decision_expected_on": v},
    ),
]


def _cases(bodies, values):
    return [
        pytest.param(method, path, field, body, value, id=f"{method} {path} {field} {value}")
        for method, path, field, body in bodies
        for value in values
    ]


@pytest.mark.parametrize(
    ("method", "path", "field", "body", "value"),
    _cases(TIME_BODIES, BAD_TIMES) + _cases(DAY_BODIES, BAD_DAYS),
)
def test_a_time_or_date_outside_the_range_is_a_422_naming_it(
    call, world, scene, snapshot, method, path, field, body, value
):
    before = snapshot()

    response = call(
        method, path.format(**scene), world.tokens["candidate"], json=body(scene, value)
    )

    assert_problem(response, 422, field)
    assert snapshot() == before


@pytest.mark.parametrize("value", BAD_TIMES)
@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/v1/interviews", "starts_after"),
        ("/v1/interviews", "starts_before"),
        ("/v1/touches", "due_before"),
    ],
)
def test_a_time_filter_outside_the_range_is_a_422_naming_it(call, world, path, field, value):
    response = call("GET", path, world.tokens["candidate"], query_string={field: value})

    assert_problem(response, 422, field)


def test_the_first_instant_of_the_range_is_a_valid_filter(call, world):
    response = call(
        "GET",
        "/v1/touches",
        world.tokens["candidate"],
        query_string={"due_before": "2000-01-01T00:00:00Z"},
    )

    assert response.status_code == 200


def test_the_last_day_of_the_range_is_a_valid_date(call, world, scene):
    url = f"/v1/applications/{scene['application']}"

    response = call(
        "PATCH", url, world.tokens["candidate"], json={"decision_expected_on": "2099-12-31"}
    )

    assert response.status_code == 200
    assert response.get_json()["decision_expected_on"] == "2099-12-31"


def _input_fields():
    app = create_app({"DATABASE_URL": "sqlite:///:memory:", "SECRET_KEY": "x"})
    for rule in app.url_map.iter_rules():
        view_class = getattr(app.view_functions[rule.endpoint], "view_class", None)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            handler = getattr(view_class, method.lower(), None)
            arguments = getattr(handler, "_apidoc", {}).get("arguments") or {}
            for param in arguments.get("parameters", []):
                schema = param["schema"]
                schema = schema() if isinstance(schema, type) else schema
                yield from _temporal(f"{method} {rule.rule}", schema)


def _temporal(route, schema, prefix=""):
    for name, field in schema.fields.items():
        inner = field.inner if isinstance(field, fields.List) else field
        if isinstance(inner, fields.Nested):
            yield from _temporal(route, inner.schema, f"{prefix}{name}.")
        elif isinstance(inner, fields.DateTime | fields.Date | fields.Time):
            yield pytest.param(inner, id=f"{route} {prefix}{name}")


@pytest.mark.parametrize("field", list(_input_fields()))
def test_every_time_and_date_input_is_a_bounded_field(field):
    assert isinstance(field, _AwareUTC | _Day)
