"""Assertions shared by the API tests."""

from __future__ import annotations

import functools
import json
from typing import Any

from openapi_schema_validator import OAS30Validator

PROBLEM = "application/problem+json"


@functools.cache
def _problem_validator() -> OAS30Validator:
    from api import cli

    spec = json.loads(cli.openapi_document())
    return OAS30Validator({"$ref": "#/components/schemas/Problem", **spec})


def assert_documented_problem(body: dict[str, Any]) -> None:
    """The body is what the OpenAPI document's Problem schema allows, extension members too."""
    errors = sorted(_problem_validator().iter_errors(body), key=str)
    assert not errors, f"not a documented Problem: {[e.message for e in errors]} in {body}"


def error_paths(errors: Any, prefix: str = "") -> set[str]:
    """Dotted paths of the fields a problem's `errors` names (nested or already dotted)."""
    if not isinstance(errors, dict):
        return {prefix}
    paths: set[str] = set()
    for key, value in errors.items():
        paths |= error_paths(value, f"{prefix}.{key}" if prefix else str(key))
    return paths


def assert_problem(response, status: int, *fields: str) -> dict[str, Any]:
    """The response is an RFC 9457 problem of `status` whose `errors` name each of `fields`."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert body["status"] == status
    assert {"type", "title", "detail"} <= body.keys()
    assert_documented_problem(body)
    if fields:
        named = error_paths(body.get("errors") or {})
        for field in fields:
            assert field in named, f"{field!r} not named in {body.get('errors')}"
    return body


def pagination(response) -> dict[str, Any]:
    return json.loads(response.headers["X-Pagination"])
