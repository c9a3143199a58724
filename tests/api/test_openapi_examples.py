"""The examples in the document (api/openapi_examples.json) are what the API accepts and
answers: each validates against its operation's schema, and the main operations have one."""

from __future__ import annotations

import json
from http import HTTPStatus

import pytest
from openapi_schema_validator import OAS30Validator

from api import cli
from api.openapi_documents import operations
from api.openapi_examples import EXAMPLES, PROBLEM_EXAMPLES, apply_examples

MAIN_OPERATIONS = {
    "create_contact": ("request", "201"),
    "create_application": ("request", "201"),
    "create_interview": ("request", "201"),
    "plan_interview": ("200",),
    "approve_touch": ("request", "200"),
    "list_touches": ("200",),
    "create_response": ("request", "201"),
    "get_contact_budget": ("200",),
    "list_calendar_entries": ("200",),
}


@pytest.fixture(scope="module")
def spec() -> dict:
    return json.loads(cli.openapi_document())


def _examples(spec: dict):
    """(where, example, schema) of every example in the document."""
    for path, method, operation in operations(spec):
        where = f"{method} {path}"
        body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
        if "example" in body:
            yield f"{where} request", body["example"], body["schema"]
        for status, response in operation["responses"].items():
            media = response.get("content", {}).get("application/json", {})
            if "example" in media:
                yield f"{where} {status}", media["example"], media["schema"]


def test_every_example_validates_against_its_schema(spec):
    checked = 0
    for where, example, schema in _examples(spec):
        validator = OAS30Validator({**schema, "components": spec["components"]})
        errors = [error.message for error in validator.iter_errors(example)]
        assert not errors, f"{where}: {errors}"
        checked += 1

    assert checked >= len(MAIN_OPERATIONS)


@pytest.mark.parametrize(("operation_id", "parts"), sorted(MAIN_OPERATIONS.items()))
def test_each_main_operation_has_its_examples(spec, operation_id, parts):
    operation = next(op for _, _, op in operations(spec) if op["operationId"] == operation_id)
    for part in parts:
        holder = operation["requestBody"] if part == "request" else operation["responses"][part]
        assert "example" in holder["content"]["application/json"], f"{operation_id} {part}"


def test_an_example_that_breaks_its_schema_is_caught(spec):
    schema = spec["paths"]["/v1/contacts"]["post"]["requestBody"]["content"]["application/json"]
    validator = OAS30Validator({**schema["schema"], "components": spec["components"]})
    broken = {**EXAMPLES["create_contact"]["request"], "name": 7}

    assert list(validator.iter_errors(broken))


def test_an_example_for_an_unknown_operation_stops_the_build(monkeypatch):
    monkeypatch.setattr("api.openapi_examples.EXAMPLES", {"teleport_touch": {}})

    with pytest.raises(ValueError, match="unknown operation 'teleport_touch'"):
        apply_examples({"paths": {}})


def test_each_error_this_api_answers_has_an_example():
    assert set(PROBLEM_EXAMPLES) >= {
        "BAD_REQUEST",
        "UNAUTHORIZED",
        "FORBIDDEN",
        "NOT_FOUND",
        "CONFLICT",
        "REQUEST_ENTITY_TOO_LARGE",
        "UNSUPPORTED_MEDIA_TYPE",
        "UNPROCESSABLE_ENTITY",
        "SERVICE_UNAVAILABLE",
    }


def test_every_error_example_is_a_documented_problem_of_its_status(spec):
    problem = OAS30Validator({"$ref": "#/components/schemas/Problem", **spec})
    for name, response in spec["components"]["responses"].items():
        if name not in PROBLEM_EXAMPLES:
            continue
        examples = response["content"]["application/problem+json"]["examples"]
        for example in examples.values():
            errors = [error.message for error in problem.iter_errors(example["value"])]
            assert not errors, f"{name}: {errors}"
            assert example["value"]["status"] == HTTPStatus[name].value, name


def test_the_conflict_examples_show_the_extension_members(spec):
    examples = spec["components"]["responses"]["CONFLICT"]["content"]["application/problem+json"]
    values = [example["value"] for example in examples["examples"].values()]

    assert {"existing_id", "rule"} <= {key for value in values for key in value}
