"""Assertions shared by the API tests."""

from __future__ import annotations

import json
from typing import Any

PROBLEM = "application/problem+json"


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
    if fields:
        named = error_paths(body.get("errors") or {})
        for field in fields:
            assert field in named, f"{field!r} not named in {body.get('errors')}"
    return body


def pagination(response) -> dict[str, Any]:
    return json.loads(response.headers["X-Pagination"])
