"""Idempotency-Key on every POST, with Stripe's semantics, for every resource at once.

A POST that carries the header, from a caller with a bearer token, first claims the key in
its own short transaction (:mod:`.keys`): the key is the caller's (per user), with a
fingerprint of the request. Then the view runs under a :class:`~.hold.Hold` on its session,
and its effect is committed together with its answer. A retry with the same key gets that
answer again (``Idempotent-Replayed: true``); the same key with another request is a 422;
a retry while the first still runs is a 409. Keys live ``IDEMPOTENCY_TTL_SECONDS`` (24 h);
an unanswered claim (its request crashed) runs out after ``IDEMPOTENCY_LEASE_SECONDS``.

Public POSTs (Twilio's signed webhooks) have no principal to scope a key to: the header is
ignored there, as on views marked :func:`exempt`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask import Flask, Response, current_app, g, request
from webargs.core import is_json

from api.auth import PUBLIC, access_rule, authenticate
from api.db import get_session, session_factory
from api.idempotency import answers, keys
from api.idempotency.hold import Hold
from api.input_hygiene import has_body, json_body
from api.models import utcnow

HEADER = keys.HEADER
REPLAYED = answers.REPLAYED
EXEMPT_ATTR = "__touchbase_idempotency_exempt__"
SECRET_ATTR = "__touchbase_idempotency_secret__"
#: The operation's doc entry saying how the header is treated (read by .spec, then removed).
DOC_KEY = "x-touchbase-idempotency"
_G_KEY = "idempotency_hold"


def exempt(reason: str) -> Callable:
    """The header is ignored on this view (``reason`` says why, for the reader)."""

    def decorator(fn: Callable) -> Callable:
        setattr(fn, EXEMPT_ATTR, reason)
        fn.__dict__.setdefault("_apidoc", {}).setdefault("manual_doc", {})[DOC_KEY] = "ignored"
        return fn

    return decorator


def secret_answer(fn: Callable) -> Callable:
    """The view's answer holds a secret shown once: a retry learns that the first request
    succeeded (409, with its Location), but the secret is never stored to be replayed."""
    setattr(fn, SECRET_ATTR, True)
    fn.__dict__.setdefault("_apidoc", {}).setdefault("manual_doc", {})[DOC_KEY] = "withheld"
    return fn


def init_app(app: Flask) -> None:
    """Wire the hooks. Registered after the access rule's before_request; the after_request
    runs last of those registered after it, so the stored answer has their headers."""
    app.before_request(begin)
    app.after_request(finish)
    app.teardown_request(_teardown)


def _handler() -> Callable | None:
    view = current_app.view_functions.get(request.url_rule.endpoint)
    view_class = getattr(view, "view_class", None)
    return getattr(view_class, "post", None) if view_class is not None else view


def begin() -> Response | None:
    """before_request: claim the key, or answer for the request that owns it."""
    if request.method != "POST" or request.url_rule is None or HEADER not in request.headers:
        return None
    handler = _handler()
    if handler is None or getattr(handler, EXEMPT_ATTR, None):
        return None
    if access_rule(current_app.view_functions[request.url_rule.endpoint], "POST") == PUBLIC:
        return None
    principal = authenticate()  # 401 before anything is said about the key
    value = request.headers[HEADER]
    reason = keys.key_problem(value)
    if reason is not None:
        raise answers.bad_key(reason)
    parsed = json_body(request) if is_json(request.mimetype) else None
    body = parsed if parsed is not None and has_body(parsed) else None
    raw = b"" if body is not None else request.get_data(cache=True)
    req = keys.Request(
        user_id=principal.user_id,
        key=value,
        fingerprint=keys.fingerprint("POST", request.path, request.query_string, body, raw),
        method="POST",
        path=request.path,
    )
    config = current_app.config
    session = get_session()
    if session.in_transaction() and session.get_bind().dialect.name == "sqlite":
        # The claim commits in a session of its own: the token lookup's transaction, a
        # writer's on SQLite, must not hold the write lock meanwhile.
        session.commit()
    result = keys.claim(
        session_factory(),
        req,
        utcnow(),
        ttl=timedelta(seconds=config["IDEMPOTENCY_TTL_SECONDS"]),
        lease=timedelta(seconds=config["IDEMPOTENCY_LEASE_SECONDS"]),
    )
    if isinstance(result, keys.Found):
        if result.state == "mismatch":
            return answers.mismatch(result.row)
        if result.state == "answered" and result.row is not None:
            return answers.replay(result.row)
        return answers.in_flight()
    g.idempotency_hold = Hold(
        get_session(),
        session_factory(),
        result,
        withheld=bool(getattr(handler, SECRET_ATTR, False)),
    )
    return None


def finish(response: Response) -> Response:
    """after_request: the effect and the answer are committed together (or neither)."""
    hold = g.pop(_G_KEY, None)
    return hold.settle(response) if hold is not None else response


def _teardown(_exc: BaseException | None = None) -> None:
    """A request that ended without an answer (an exception passed through): keep
    nothing, free the key."""
    hold = g.pop(_G_KEY, None)
    if hold is not None:
        hold.abandon()
