"""RFC 9457 problem details for every error the API answers."""

from __future__ import annotations

import http
from typing import Any

import marshmallow as ma
from flask import Response, json
from werkzeug.exceptions import HTTPException

PROBLEM_MIMETYPE = "application/problem+json"


class ProblemSchema(ma.Schema):
    """application/problem+json (RFC 9457); `errors` names each bad field. Only documents
    what problem_response writes: its four RFC members are always there (`required`), the
    extension members when they apply."""

    type = ma.fields.String(
        required=True, metadata={"description": "URI identifying the problem type"}
    )
    title = ma.fields.String(
        required=True, metadata={"description": "Short summary of the problem type"}
    )
    status = ma.fields.Integer(required=True, metadata={"description": "HTTP status code"})
    detail = ma.fields.String(
        required=True, metadata={"description": "What went wrong, for a person"}
    )
    errors = ma.fields.Dict(
        metadata={"description": "Field name -> list of reasons (nested for nested input)"}
    )
    rule = ma.fields.String(metadata={"description": "Domain rule that refused (e.g. R6)"})
    next_allowed_at = ma.fields.DateTime(
        metadata={"description": "Earliest time the refused action would be allowed"}
    )
    existing_id = ma.fields.Integer(
        metadata={"description": "On a 409 for a duplicate: the id of the one that exists"}
    )
    limits = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Dict(),
        metadata={
            "description": "On a refused policy change: per setting, the level that forbids "
            'it and the value in force there, e.g. {"touch_budget": {"level": "candidate", '
            '"in_force": 2}}'
        },
    )
    policy = ma.fields.String(
        metadata={
            "description": "On a 429: the rate limit that refused (token, auth-failures, "
            "address; see the RateLimit-Policy header)"
        }
    )
    checks = ma.fields.List(
        ma.fields.Nested(lambda: _finding_schema()),
        metadata={"description": "On a refused message: every finding of the message check"},
    )


def _finding_schema() -> ma.Schema:
    from api.schemas.touches import FindingSchema  # the schemas import this module

    return FindingSchema()


class Problem(HTTPException):
    """Raise to answer a problem with extension members (e.g. rule, next_allowed_at)."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        type_: str | None = None,
        title: str | None = None,
        errors: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ):
        super().__init__(description=detail)
        self.code = status
        self.detail = detail
        self.type_ = type_
        self.title = title
        self.errors = errors
        self.headers = headers or {}
        self.extensions = extensions


def validation_error(errors: dict[str, Any], detail: str | None = None) -> Problem:
    return Problem(422, detail or describe_errors(errors), errors=errors)


def describe_errors(errors: dict[str, Any]) -> str:
    """One sentence naming every bad field, so a log line or a person sees the reason."""
    parts = []
    for path, reasons in _flatten(errors):
        parts.append(f"{path}: {' '.join(reasons)}")
    return "Invalid input: " + "; ".join(parts) if parts else "Invalid input."


def _flatten(errors: Any, prefix: str = "") -> list[tuple[str, list[str]]]:
    out: list[tuple[str, list[str]]] = []
    if isinstance(errors, dict):
        for key, value in errors.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            out.extend(_flatten(value, path))
    elif isinstance(errors, list) and all(isinstance(x, str) for x in errors):
        out.append((prefix or "_schema", list(errors)))
    elif isinstance(errors, list):
        for i, value in enumerate(errors):
            out.extend(_flatten(value, f"{prefix}.{i}"))
    else:
        out.append((prefix or "_schema", [str(errors)]))
    return out


def problem_response(
    status: int,
    detail: str,
    *,
    type_: str | None = None,
    title: str | None = None,
    errors: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> Response:
    body: dict[str, Any] = {
        "type": type_ or "about:blank",
        "title": title or _phrase(status),
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    for key, value in extensions.items():
        if value is not None:
            body[key] = value.isoformat() if hasattr(value, "isoformat") else value
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_MIMETYPE)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def from_http_exception(error: HTTPException) -> Response:
    """Turn any werkzeug/webargs/flask-smorest HTTP error into a problem response."""
    if isinstance(error, Problem):
        return problem_response(
            error.code or 500,
            error.detail,
            type_=error.type_,
            title=error.title,
            errors=error.errors,
            headers=error.headers,
            **error.extensions,
        )
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    headers = dict(data.get("headers") or {})
    errors = data.get("errors")
    if errors is None and "messages" in data:
        errors = _merge_locations(data["messages"])
    if status == 405 and getattr(error, "valid_methods", None):
        headers["Allow"] = ", ".join(error.valid_methods)
    if errors:
        detail = describe_errors(errors)
    elif "message" in data:
        detail = data["message"]
    elif status >= 500:
        detail = "The server could not complete the request."
    else:
        detail = error.description or _phrase(status)
    return problem_response(status, detail, errors=errors, headers=headers)


def _merge_locations(messages: dict[str, Any]) -> dict[str, Any]:
    """webargs nests errors under the location (json, query, ...); the field is what matters."""
    merged: dict[str, Any] = {}
    for location, fields in messages.items():
        if isinstance(fields, dict):
            merged.update(fields)
        else:
            merged[location] = fields
    return merged
