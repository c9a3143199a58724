"""Raw input, checked once at the edge, before any view or parser reads it.

Every request's query string, form body (Twilio's webhooks) and JSON body is screened by
:func:`screen_request` (a ``before_request`` hook), so no route has to remember it:

- text is UTF-8: werkzeug would keep undecodable bytes percent-encoded or replace them,
  silently changing what was asked. 400 naming the parameter, or ``json`` for a body.
- a JSON body nests at most :data:`MAX_JSON_DEPTH` levels. Python's json parser recurses,
  so the depth is measured on the text before parsing. 400 naming ``json``.
- a JSON body is strict JSON: ``NaN``, ``Infinity`` and numbers beyond a float are not
  JSON. 400 naming ``json``, like any malformed body.
- no string anywhere (values and names) holds NUL, which PostgreSQL text refuses, or a
  lone UTF-16 surrogate (``"\\ud800"``), which cannot be encoded for any database. 422
  naming the field path, e.g. ``interviewers.0.topics``.
- a path holding NUL names nothing: 404.

The parsed JSON is kept on the request; the arguments parser reads it from there
(:func:`json_body`) instead of parsing the body again.
"""

from __future__ import annotations

import json
import math
import re
from itertools import accumulate
from typing import Any
from urllib.parse import parse_qsl

from flask import Request, request
from webargs.core import is_json
from werkzeug.exceptions import NotFound

from api.problems import Problem, describe_errors

MAX_JSON_DEPTH = 32
_JSON_KEY = "touchbase.json"
_NO_BODY = object()

# A JSON string (escapes included) and anything that is not a bracket: what is left of a
# body once both are removed is its nesting, bracket by bracket.
_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]++")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}

NUL = "Contains a NUL character (\\u0000), which text cannot hold."
SURROGATE = "Contains a lone UTF-16 surrogate (\\ud800-\\udfff), which is not text."
NOT_UTF8 = "Not valid UTF-8."


def screen_request() -> None:
    """The ``before_request`` hook: refuse what no view could store or answer safely."""
    if "\x00" in request.path:
        raise NotFound()
    _screen_pairs(request.query_string)
    if request.mimetype == "application/x-www-form-urlencoded":
        _screen_pairs(request.get_data(cache=True))
    elif request.mimetype == "multipart/form-data":
        form = request.form.items(multi=True)
        _raise_for({printable(k): text_problem(k) or text_problem(v) for k, v in form})
    elif is_json(request.mimetype):
        json_body(request)


def json_body(req: Request) -> Any:
    """The request's JSON body, parsed once and screened; ``_NO_BODY`` when empty."""
    if _JSON_KEY not in req.environ:
        req.environ[_JSON_KEY] = _parse_json(req.get_data(cache=True))
    return req.environ[_JSON_KEY]


def has_body(value: Any) -> bool:
    return value is not _NO_BODY


def json_depth(text: str) -> int:
    """How deep the brackets of a JSON text nest (strings do not count)."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def text_problem(value: str) -> str | None:
    """Why a string cannot be stored as text, or None."""
    if "\x00" in value:
        return NUL
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return SURROGATE
    return None


def _join(path: str | None, name: str) -> str:
    return name if path is None else f"{path}.{name}"


def string_problems(value: Any) -> dict[str, list[str]]:
    """Every string in a parsed JSON value that cannot be text, by dotted field path
    (a name that cannot be text is reported at its own path). Iterative: the depth is
    already bounded, but nothing here needs to recurse."""
    errors: dict[str, list[str]] = {}
    # The root has no path (None): an empty key ("") is a field name like any other.
    stack: list[tuple[str | None, Any]] = [(None, value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            problem = text_problem(item)
            if problem:
                errors["_schema" if path is None else path] = [problem]
        elif isinstance(item, dict):
            for key, child in item.items():
                child_path = _join(path, printable(key))
                problem = text_problem(key)
                if problem:
                    errors[child_path] = ["The field name " + problem[0].lower() + problem[1:]]
                stack.append((child_path, child))
        elif isinstance(item, list):
            stack.extend((_join(path, str(i)), child) for i, child in enumerate(item))
    return dict(sorted(errors.items()))


def _parse_json(raw: bytes) -> Any:
    if not raw:
        return _NO_BODY
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _bad_body(f"{NOT_UTF8[:-1]} (byte {exc.start}).") from None
    if json_depth(text) > MAX_JSON_DEPTH:
        raise _bad_body(f"Nested deeper than {MAX_JSON_DEPTH} levels.")
    try:
        value = json.loads(text, parse_constant=_not_json, parse_float=_finite)
    except ValueError as exc:
        raise _bad_body(f"Invalid JSON body: {exc}") from None
    _raise_for(string_problems(value))
    return value


def _screen_pairs(raw: bytes) -> None:
    """A query string or urlencoded form: each name and value UTF-8 text, without NUL."""
    if not raw:
        return
    undecodable: dict[str, list[str]] = {}
    problems: dict[str, str | None] = {}
    for name, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True, encoding="latin-1"):
        name_bytes, value_bytes = name.encode("latin-1"), value.encode("latin-1")
        label = name_bytes.decode("utf-8", "backslashreplace")
        try:
            name_text, value_text = name_bytes.decode("utf-8"), value_bytes.decode("utf-8")
        except UnicodeDecodeError:
            undecodable[label] = [NOT_UTF8]
            continue
        problems[printable(label)] = text_problem(name_text) or text_problem(value_text)
    if undecodable:
        raise Problem(400, describe_errors(undecodable), errors=undecodable)
    _raise_for(problems)


def _raise_for(problems: dict[str, Any]) -> None:
    errors = {
        path: reason if isinstance(reason, list) else [reason]
        for path, reason in problems.items()
        if reason
    }
    if errors:
        raise Problem(422, describe_errors(errors), errors=errors)


def printable(name: str) -> str:
    """A field name fit to appear in an answer (NUL and surrogates escaped)."""
    return name.replace("\x00", "\\u0000").encode("utf-8", "backslashreplace").decode("utf-8")


def _bad_body(reason: str) -> Problem:
    return Problem(400, f"Invalid input: json: {reason}", errors={"json": [reason]})


def _not_json(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    number = float(text)
    if math.isinf(number):
        raise ValueError(f"{text} is beyond the range of a number")
    return number
