"""schemathesis hooks for tests/fuzz/fuzz_api.py (loaded through SCHEMATHESIS_HOOKS).

Authentication. The fuzzer is free to delete or demote the user it acts as, or revoke its
token: those are operations like any other. The auth provider checks every few seconds
(and on a 401) that its token still belongs to a user of the role under test, and
otherwise makes one straight in the database with the app's own token code, as
`touchbase bootstrap` does.
"""

from __future__ import annotations

import json
import os
import threading
from functools import cache
from pathlib import Path

import schemathesis
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth import hash_token, issue_token
from api.db import make_engine
from api.input_hygiene import printable
from api.models import ApiToken, Organization, User

ROLE = os.environ.get("TB_FUZZ_ROLE", "admin")
_engine = None
_lock = threading.Lock()
_token = json.loads(os.environ.get("TB_FUZZ_TOKENS", "{}")).get(ROLE, "")


def _session() -> Session:
    global _engine
    if _engine is None:
        _engine = make_engine(os.environ["TB_FUZZ_DATABASE_URL"])
    return Session(_engine)


def _still_works(session: Session, secret: str) -> bool:
    row = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == hash_token(secret))
    ).first()
    return row is not None and row[0].revoked_at is None and row[1].role == ROLE


def _fresh_token(session: Session) -> str:
    org = session.scalars(select(Organization).order_by(Organization.id)).first()
    user = session.scalars(
        select(User).where(User.org_id == org.id, User.role == ROLE).order_by(User.id)
    ).first()
    if user is None:
        user = User(org_id=org.id, email=f"fuzz-{ROLE}@example.org", name=f"Fuzz {ROLE}", role=ROLE)
        session.add(user)
        session.flush()
    _row, secret = issue_token(session, user, "fuzz")
    session.commit()
    return secret


@schemathesis.auth(refresh_interval=5)
class TouchbaseToken:
    def get(self, case, context):
        global _token
        with _lock, _session() as session:
            if not (_token and _still_works(session, _token)):
                _token = _fresh_token(session)
            return _token

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


# -- schema-valid requests ------------------------------------------------------------------
#
# schemathesis's own positive_data_acceptance check (turned off in schemathesis.toml) wants
# every schema-valid request accepted. Some rules no JSON Schema states: ends_at after
# starts_at, an id that names one of *your* applications, a template that renders. This
# check keeps the rest of its promise and the house rule: a schema-valid request is
# accepted, or refused by the domain (404, 409), or refused with a 422 problem whose
# `errors` names fields of this operation.

#: Both committed documents as one (tests/fuzz/fuzz_api.py writes it).
SPEC = Path(os.environ.get("TB_FUZZ_SPEC", "openapi/openapi.json"))
ACCEPTED = frozenset({401, 403, 404, 409, 429})


@cache
def _spec() -> dict:
    return json.loads(SPEC.read_text())


def _resolve(node: dict) -> dict:
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[1]
        node = _spec()["components"]["schemas"][name]
    return node


@cache
def _operation_fields(path: str, method: str) -> frozenset[str]:
    operation = _spec()["paths"][path][method]
    names = {p["name"] for p in operation.get("parameters", [])}
    for media_type, media in operation.get("requestBody", {}).get("content", {}).items():
        names |= set(_resolve(media["schema"]).get("properties", {}))
        if "json" not in media_type and "form" not in media_type:
            names.add("body")  # a raw body (message/rfc822) is one field: the body
    return frozenset(names)


def _names_a_field(name: str, known: set[str]) -> bool:
    """A nested field is named by its dotted path ("interviewers.0.contact_id"); a name may
    hold dots of its own, so any leading run of its parts may be the field."""
    parts = name.split(".")
    return any(".".join(parts[: i + 1]) in known for i in range(len(parts)))


def _sends(case, header: str) -> bool:
    return any(name.lower() == header.lower() for name in case.headers or {})


@schemathesis.check
def schema_valid_request_accepted_or_refused_by_name(ctx, response, case):
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return None
    status = response.status_code
    if status < 400 or status in ACCEPTED or status >= 500:  # 5xx: not_a_server_error
        return None
    if status == 412 and _sends(case, "If-Match"):  # the client's own precondition
        return None
    if status != 422:
        raise AssertionError(f"A schema-valid request was answered {status}")
    try:
        errors = response.json().get("errors") or {}
    except ValueError as exc:
        raise AssertionError("A 422 without a problem body") from exc
    # The server names a field as it can print it: NUL and surrogates escaped.
    sent = {printable(k) for k in case.body} if isinstance(case.body, dict) else set()
    known = _operation_fields(case.operation.path, case.method.lower()) | sent
    unnamed = [name for name in errors if not _names_a_field(name, known)]
    if not errors or unnamed:
        raise AssertionError(
            f"A schema-valid request was refused with a 422 that names no field of the "
            f"operation: {sorted(errors) or 'no errors member'}"
        )
    return None


@schemathesis.serializer("message/rfc822")
def raw_message(ctx, value):
    """A raw email (POST /v1/inbound/email) goes as its bytes, whatever they hold."""
    value = getattr(value, "data", value)  # schemathesis's Binary wraps the bytes
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    return str(value).encode("utf-8", "surrogatepass")
