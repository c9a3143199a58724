"""Request and response examples for the main operations, and of each error answer.

A portal developer reads an example before a schema, so the main loop (contacts,
applications, interviews, the plan, approval, touches, responses, the budget, the
calendar) shows one of each. They are real answers of the API to the README's story
(Ana Silva, interviewed by Dana Jones at Acme Corp), kept as data in openapi_examples.json
rather than on the views, so that one place holds them; tests/api/test_openapi_examples.py
validates each against its operation's schema, so an example cannot drift from what the API
accepts and answers. Each shared error response (`components/responses`) shows what its
problem looks like, extension members included (a duplicate's `existing_id`, a refusal's
`rule`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from api.problems import PROBLEM_MIMETYPE

_DATA = json.loads(Path(__file__).with_name("openapi_examples.json").read_text("utf-8"))
#: operationId -> {"request": body, "responses": {status: body}}.
EXAMPLES: dict[str, dict[str, Any]] = _DATA["operations"]
#: Component response name (CONFLICT...) -> OpenAPI `examples` of its problem.
PROBLEM_EXAMPLES: dict[str, dict[str, Any]] = _DATA["problems"]


def apply_examples(document: dict) -> None:
    """Writes each example into its operation's JSON media types; an example for an
    operation, status or body the document lacks stops the build."""
    by_id = {
        operation["operationId"]: operation
        for item in document["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and "operationId" in operation
    }
    for operation_id, example in EXAMPLES.items():
        operation = by_id.get(operation_id)
        if operation is None:
            raise ValueError(f"example for unknown operation {operation_id!r}")
        if "request" in example:
            _media(operation.get("requestBody", {}), operation_id)["example"] = example["request"]
        for status, body in example.get("responses", {}).items():
            response = operation["responses"].get(str(status))
            if response is None:
                raise ValueError(f"example for {operation_id} {status}: no such response")
            _media(response, f"{operation_id} {status}")["example"] = body
    responses = document.get("components", {}).get("responses", {})
    for name, examples in PROBLEM_EXAMPLES.items():
        if name in responses:
            responses[name]["content"][PROBLEM_MIMETYPE]["examples"] = examples


def _media(holder: dict, where: str) -> dict:
    try:
        return holder["content"]["application/json"]
    except KeyError:
        raise ValueError(f"example for {where}: it has no application/json body") from None
