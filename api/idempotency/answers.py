"""What a request with an Idempotency-Key is answered when it does not run."""

from __future__ import annotations

from flask import Response

from api.idempotency.keys import HEADER
from api.models import IdempotencyKey
from api.problems import Problem, problem_response

#: Set to "true" on an answer that repeats the first request's.
REPLAYED = "Idempotent-Replayed"
#: Seconds a client is told to wait before retrying a key still in flight.
IN_FLIGHT_RETRY_AFTER = 1


def bad_key(reason: str) -> Problem:
    return Problem(422, f"Invalid input: {HEADER}: {reason}", errors={HEADER: [reason]})


def replay(row: IdempotencyKey) -> Response:
    """The first request's answer: status, body and the headers that matter."""
    if row.withheld:
        return withheld(row)
    response = Response(row.body or "", status=row.status)
    for name, value in (row.headers or {}).items():
        response.headers[name] = value
    response.headers[REPLAYED] = "true"
    return response


def withheld(row: IdempotencyKey) -> Response:
    """The first answer held a secret shown once, so it was not stored: say what happened
    and where the created resource is, without repeating the secret."""
    headers = dict(row.headers or {})
    location = headers.get("Location")
    where = f" It is at {location}." if location else ""
    return problem_response(
        409,
        f"The request with this {HEADER} already succeeded ({row.status}).{where} Its "
        "answer held a secret that is shown only once, so it is not stored or replayed.",
        type_="urn:touchbase:problem:idempotent-answer-withheld",
        title="Answer not replayed",
        headers={REPLAYED: "true", **({"Location": location} if location else {})},
    )


def in_flight(detail: str | None = None) -> Response:
    reason = "A request with this key is still in progress."
    return problem_response(
        409,
        detail or f"{reason} Retry once it has finished, with the same {HEADER}.",
        type_="urn:touchbase:problem:idempotency-key-in-use",
        title="Idempotency-Key in use",
        errors={HEADER: [reason]},
        headers={"Retry-After": str(IN_FLIGHT_RETRY_AFTER)},
    )


def mismatch(row: IdempotencyKey | None) -> Response:
    first = f" ({row.method} {row.path})" if row is not None else ""
    reason = (
        f"Already used for another request{first}: the same key must come with the same "
        "method, path, query and body. Use a new key for a new request."
    )
    return problem_response(
        422,
        f"Invalid input: {HEADER}: {reason}",
        type_="urn:touchbase:problem:idempotency-key-reused",
        title="Idempotency-Key reused",
        errors={HEADER: [reason]},
    )
