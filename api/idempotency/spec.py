"""The Idempotency-Key in the OpenAPI document: one header parameter, on every POST that
honours it, its 409 and 422 answers, and the replay header (a component) on its answers.

The parameter is written out in each operation, as every other parameter of the document
is: generators read it the same either way, and tools that walk an operation's parameters
(the fuzzing hooks, the document's own tests) find its name and place there."""

from __future__ import annotations

import copy
import http
from typing import Any

from apispec import BasePlugin
from apispec.ext.marshmallow import MarshmallowPlugin

from api.idempotency import DOC_KEY
from api.idempotency.answers import REPLAYED
from api.idempotency.keys import HEADER, KEY_PATTERN, MAX_KEY_LENGTH
from api.problems import PROBLEM_MIMETYPE, ProblemSchema

REPLAY_HEADER = "IdempotentReplayed"

PARAMETER_DOC = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "description": (
        "Makes a retry safe (Stripe's semantics): a new random string (e.g. a UUID) per "
        "operation, at most 255 printable ASCII characters. The first request's answer "
        "(status, body, `Location`) is stored with the key for 24 hours, in the same "
        "transaction as its effect; a retry with the same key, method, path, query and body "
        "gets it again with `Idempotent-Replayed: true` and changes nothing. The same key "
        "with another request is a 422; a retry while the first still runs is a 409 (retry "
        "after `Retry-After`). Keys are per user. 4xx answers are stored too; a 5xx or 429 "
        "is not, so a retry runs again."
    ),
    "schema": {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_KEY_LENGTH,
        "pattern": KEY_PATTERN,
    },
    "example": "4f1c2b8e-2d0a-4d8e-9a7e-2f6b1c0d9e31",
}

REPLAY_HEADER_DOC = {
    "description": "`true` when this answer repeats the one stored for the Idempotency-Key.",
    "schema": {"type": "string", "enum": ["true"]},
}

IN_FLIGHT = "a request with the same Idempotency-Key is still in progress"
WITHHELD = (
    "the request with this Idempotency-Key already succeeded; its answer held a secret "
    "shown once, so it is not replayed (`Location` says where the resource is)"
)
REUSED = "the Idempotency-Key is malformed or was used for another request"


class IdempotencyPlugin(BasePlugin):
    def init_spec(self, spec) -> None:
        super().init_spec(spec)
        self.spec = spec
        spec.components.header(REPLAY_HEADER, REPLAY_HEADER_DOC)

    def _problem(self) -> dict:
        marshmallow = next(p for p in self.spec.plugins if isinstance(p, MarshmallowPlugin))
        return {
            PROBLEM_MIMETYPE: {"schema": marshmallow.converter.resolve_nested_schema(ProblemSchema)}
        }

    def operation_helper(self, path: str | None = None, operations: dict | None = None, **_):
        for method, operation in (operations or {}).items():
            mode = operation.pop(DOC_KEY, "stored")
            if method != "post" or mode == "ignored" or operation.get("security") == []:
                continue
            operation.setdefault("parameters", []).append(copy.deepcopy(PARAMETER_DOC))
            responses: dict[Any, Any] = operation.setdefault("responses", {})
            problem = self._problem()
            _also(responses, 409, problem, WITHHELD if mode == "withheld" else IN_FLIGHT)
            _also(responses, 422, problem, REUSED)
            for status, response in responses.items():
                if str(status).startswith("2") and isinstance(response, dict):
                    response.setdefault("headers", {})[REPLAYED] = REPLAY_HEADER


def _also(responses: dict[Any, Any], status: int, problem: dict, why: str) -> None:
    """Declare ``status`` with this reason and a problem body; or, when the view describes
    it already, add the reason to its description."""
    key = status if status in responses else str(status)
    existing = responses.get(key)
    if existing is None:
        phrase = http.HTTPStatus(status).phrase
        responses[str(status)] = {
            "description": f"{phrase}: {why}.",
            "content": problem,
        }
    elif isinstance(existing, dict) and existing.get("description"):
        existing["description"] = f"{existing['description'].rstrip('.')}; or {why}."
