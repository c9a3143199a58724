"""Real answers hold to the document's read schemas: every field it marks `required` is in
the answer, every field the answer has is marked `required` (so a generated client types it
without `| Unset`), and a field is null only where the document says `nullable`."""

from __future__ import annotations

import json

import pytest

from api import cli
from api.schemas.enums import NULL_SCHEMA

STARTS = "2026-11-17T10:00:00-05:00"
ENDS = "2026-11-17T11:00:00-05:00"


@pytest.fixture(scope="module")
def spec() -> dict:
    return json.loads(cli.openapi_document())


def _answer_schema(spec: dict, method: str, path: str, status: int) -> str:
    """The component an operation answers with (of a list: of its items)."""
    content = spec["paths"][path][method]["responses"][str(status)]["content"]
    schema = content["application/json"]["schema"]
    schema = schema.get("items", schema)
    return schema["$ref"].rsplit("/", 1)[1]


def assert_holds_to(spec: dict, component: str, body: dict) -> None:
    schema = spec["components"]["schemas"][component]
    required = set(schema.get("required", []))
    missing = required - set(body)
    unmarked = set(body) - required
    assert not missing, f"{component}: required but absent: {sorted(missing)}"
    assert not unmarked, f"{component}: always in the answer but not required: {sorted(unmarked)}"
    for name, value in body.items():
        if value is None:
            prop = schema["properties"][name]
            nullable = prop.get("nullable") or NULL_SCHEMA in prop.get("anyOf", [])
            assert nullable, f"{component}.{name} is null"


@pytest.fixture
def candidate(world, call):
    """`candidate(method, path, **kw)`: the candidate's request, answered 2xx (JSON)."""

    def _request(method: str, path: str, **kwargs):
        response = call(method, path, world.tokens["candidate"], **kwargs)
        assert response.status_code < 300, response.get_data(as_text=True)
        return response.get_json()

    return _request


@pytest.fixture
def answers(spec, candidate):
    """`answers(method, path, concrete, status, **kw)`: the request made and each object of
    its answer checked against the operation's component; returns the body."""

    def _check(method: str, path: str, concrete: str, status: int = 200, **kwargs):
        body = candidate(method, concrete, **kwargs)
        component = _answer_schema(spec, method, path, status)
        for item in body if isinstance(body, list) else [body]:
            assert_holds_to(spec, component, item)
        return body

    return _check


@pytest.fixture
def contact(answers):
    return answers(
        "post",
        "/v1/contacts",
        "/v1/contacts",
        201,
        json={"name": "Dana Jones", "email": "dana@acme.example", "company": "Acme Corp"},
    )


@pytest.fixture
def application(answers):
    return answers(
        "post",
        "/v1/applications",
        "/v1/applications",
        201,
        json={"company": "Acme Corp", "position": "Data Engineer"},
    )


def test_a_contact_answer_holds_to_contact(answers, contact):
    answers("get", "/v1/contacts/{contact_id}", f"/v1/contacts/{contact['id']}")
    answers("get", "/v1/contacts", "/v1/contacts")


def test_an_application_answer_holds_to_application(answers, application):
    answers("get", "/v1/applications/{application_id}", f"/v1/applications/{application['id']}")
    answers("get", "/v1/applications", "/v1/applications")


def test_a_user_answer_holds_to_user(answers, world):
    answers("get", "/v1/users/{user_id}", f"/v1/users/{world.candidate.id}")
    answers("get", "/v1/users", "/v1/users")
    answers("get", "/v1/me", "/v1/me")


def test_an_interview_answer_holds_to_interview(answers, application, contact):
    body = {
        "application_id": application["id"],
        "starts_at": STARTS,
        "ends_at": ENDS,
        "interviewers": [{"contact_id": contact["id"], "topics": "data quality"}],
    }
    interview = answers("post", "/v1/interviews", "/v1/interviews", 201, json=body)
    answers("get", "/v1/interviews/{interview_id}", f"/v1/interviews/{interview['id']}")


@pytest.mark.parametrize("channel", ["email", "manual"])
def test_a_touch_answer_holds_to_touch(answers, application, contact, channel):
    body = {
        "contact_id": contact["id"],
        "application_id": application["id"],
        "step": "thank_you",
        "channel": channel,
    }
    touch = answers("post", "/v1/touches", "/v1/touches", 201, json=body)
    answers("get", "/v1/touches/{touch_id}", f"/v1/touches/{touch['id']}")
    answers("get", "/v1/touches", "/v1/touches")
    answers("get", "/v1/touches/{touch_id}/events", f"/v1/touches/{touch['id']}/events")


@pytest.mark.parametrize("kind", ["replied", "rejected"])
def test_a_response_answer_holds_to_contact_response(answers, application, contact, kind):
    body = {"contact_id": contact["id"], "application_id": application["id"], "kind": kind}
    recorded = answers("post", "/v1/responses", "/v1/responses", 201, json=body)
    answers("get", "/v1/responses/{response_id}", f"/v1/responses/{recorded['id']}")
    answers("get", "/v1/responses", "/v1/responses")
    answers(
        "patch",
        "/v1/responses/{response_id}",
        f"/v1/responses/{recorded['id']}",
        json={"kind": "offer"},
    )


def test_an_answer_missing_a_required_field_is_caught(spec):
    with pytest.raises(AssertionError, match="required but absent: \\['email'\\]"):
        assert_holds_to(spec, "Contact", _all_but(spec, "email"))


def test_an_answer_with_a_field_not_marked_required_is_caught(spec):
    with pytest.raises(AssertionError, match="not required: \\['surprise'\\]"):
        assert_holds_to(spec, "Contact", _all_but(spec) | {"surprise": 1})


def _all_but(spec: dict, *names: str) -> dict:
    """A Contact answer with every required field set (not null), but `names`."""
    required = spec["components"]["schemas"]["Contact"]["required"]
    return {name: "x" for name in required if name not in names}
