"""Rate limits, with flask-limiter: three policies, each one setting (api.config).

- `token`: requests per bearer token, on every endpoint that needs one. Counted before the
  token is looked up (the key is the token's hash), so a token over its limit costs no query.
- `auth-failures`: failed authentications (401) per client address. Once spent, every
  request from that address that needs a token is answered 429 until the window ends, valid
  token or not (as GitHub does): otherwise a flood of guesses would go on being answered.
- `address`: requests per client address to the endpoints that need no token (the signed
  Twilio webhooks, the calendar feed, the docs). Generous: Twilio calls from a few
  addresses for every message it carries. /healthz and /readyz are never limited: a
  supervisor polling them must learn the truth about the process, not a 429.

Counts are fixed windows that start at a key's first hit. Every limited answer carries the
IETF RateLimit fields of the policy that governed it (draft-ietf-httpapi-ratelimit-headers,
the structured `RateLimit` / `RateLimit-Policy` form), and a 429 also `Retry-After`.
If Redis cannot be reached, each process goes on counting in memory and checks Redis again
with a growing pause (flask-limiter's in-memory fallback): limits stay, per process.
"""

from __future__ import annotations

import math
import threading
import time

from flask import Flask, Response, current_app, request
from flask_limiter import Limit, Limiter, RequestLimit
from flask_limiter.errors import RateLimitExceeded
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from werkzeug.middleware.proxy_fix import ProxyFix

from api.auth import PUBLIC, access_rule, hash_token
from api.problems import problem_response

TOKEN = "token"
AUTH_FAILURES = "auth-failures"
ADDRESS = "address"
#: The setting that holds each policy's limit.
SETTINGS = {
    TOKEN: "RATELIMIT_PER_TOKEN",
    AUTH_FAILURES: "RATELIMIT_AUTH_FAILURES",
    ADDRESS: "RATELIMIT_PUBLIC",
}
#: Endpoints no limit applies to.
EXEMPT_ENDPOINTS = frozenset({"health.Health", "health.Ready"})
#: Seconds a Redis command may take before the process falls back to counting in memory.
REDIS_TIMEOUT_SECONDS = 0.5
PROBLEM_TYPE = "urn:touchbase:problem:rate-limited"
#: Seconds between sweeps of expired in-memory counters (limits sweeps every 0.01 s).
MEMORY_SWEEP_SECONDS = 1.0


class MemoryCounters(MemoryStorage):
    """limits' in-memory storage, swept once a second instead of a hundred times: its sweep
    is a new thread each time, which a busy machine is slow to schedule, and every request
    that counts waits for it to start. Reads check expiry themselves, so counts are as exact;
    only the memory of an expired key is freed later."""

    STORAGE_SCHEME = ["touchbase-memory"]

    def _MemoryStorage__schedule_expiry(self) -> None:  # overrides limits' private hook
        if not self.timer.is_alive():
            self.timer = threading.Timer(MEMORY_SWEEP_SECONDS, self._MemoryStorage__expire_events)
            self.timer.daemon = True  # a process exits without waiting for a sweep
            self.timer.start()


def init_rate_limits(app: Flask) -> Limiter:
    """The app's Limiter, its policies checked before any other request hook."""
    config = app.config
    for setting in SETTINGS.values():
        parse_limit(setting, config[setting])
    if config.get("TRUSTED_PROXIES"):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=config["TRUSTED_PROXIES"])  # type: ignore[method-assign]
    storage = config["RATELIMIT_STORAGE_URI"]
    if storage == "memory://":
        storage = "touchbase-memory://"
    options: dict = {}
    if storage.startswith(("redis", "rediss")):
        options = {
            "key_prefix": config["RATELIMIT_STORAGE_PREFIX"],
            "socket_timeout": REDIS_TIMEOUT_SECONDS,
            "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
        }
    # Registered before the limiter's own hook, so it runs after it (after_request hooks
    # run in reverse): the failure just answered is already counted in what it reports.
    app.after_request(_add_headers)
    limiter = Limiter(
        client_address,
        default_limits=_policies(),
        storage_uri=storage,
        storage_options=options,
        strategy="fixed-window",
        headers_enabled=False,  # it writes X-RateLimit-*; _add_headers writes the IETF form
        in_memory_fallback_enabled=True,
    )
    limiter.init_app(app)
    app.register_error_handler(RateLimitExceeded, too_many_requests)
    app.extensions["touchbase.limiter"] = limiter
    return limiter


def parse_limit(setting: str, value: str) -> RateLimitItem:
    """The one limit a setting holds; RuntimeError naming the TOUCHBASE_ variable if it is
    not exactly one "N/unit" (a typo found at start-up, not as a 500 on every request)."""
    try:
        items = parse_many(value)
    except ValueError:
        items = []
    if len(items) != 1:
        raise RuntimeError(
            f"TOUCHBASE_{setting} must be one limit such as '600/minute', got {value!r}"
        )
    return items[0]


def _policies() -> list[Limit]:
    # The order is the order of evaluation for limits of one granularity: a blocked address
    # is refused before its request is counted against the token it presents.
    return [
        Limit(
            _setting(AUTH_FAILURES),
            key_function=client_address,
            scope=AUTH_FAILURES,
            shared=True,
            exempt_when=_needs_no_token,
            deduct_when=lambda response: response.status_code == 401,
        ),
        Limit(
            _setting(TOKEN),
            key_function=_token_key,
            scope=TOKEN,
            shared=True,
            exempt_when=lambda: _needs_no_token() or presented_token() is None,
        ),
        Limit(
            _setting(ADDRESS),
            key_function=client_address,
            scope=ADDRESS,
            shared=True,
            exempt_when=lambda: not _needs_no_token() or request.endpoint in EXEMPT_ENDPOINTS,
        ),
    ]


def _setting(policy: str):
    """The limit as a callable, read per request: a changed setting applies at once."""
    return lambda: current_app.config[SETTINGS[policy]]


def client_address() -> str:
    return request.remote_addr or "unknown"


def presented_token() -> str | None:
    """The bearer secret the request presents, valid or not."""
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    secret = secret.strip()
    return secret if scheme.lower() == "bearer" and secret else None


def _token_key() -> str:
    return hash_token(presented_token() or "")[:32]


def _needs_no_token() -> bool:
    """The endpoint is public, or routes nowhere (the app answers that itself)."""
    rule = request.url_rule
    view = current_app.view_functions.get(rule.endpoint) if rule is not None else None
    return view is None or access_rule(view, request.method) in (None, PUBLIC)


def _governing(limiter: Limiter, status: int) -> RequestLimit | None:
    """The one policy an answer reports: the one refused, else failed authentication on a
    401, else the one counted (the token's, or the address's on a public endpoint)."""
    evaluated = limiter.current_limits
    for limit in evaluated:
        if limit.breached:
            return limit
    for limit in evaluated:
        if (_policy(limit) == AUTH_FAILURES) == (status == 401):
            return limit
    return None


def _policy(limit: RequestLimit) -> str:
    return str(limit.request_args[-1])


def rate_limit_headers(limit: RequestLimit, now: float | None = None) -> dict[str, str]:
    """`RateLimit-Policy: token;q=1200;w=60` and `RateLimit: token;r=1199;t=60`: the
    policy's quota and window, what is left of it and the seconds until it is whole again."""
    now = time.time() if now is None else now
    policy = _policy(limit)
    window = limit.limit.get_expiry()
    # Redis rounds a key's TTL to whole seconds: never more than the window itself.
    reset_in = min(window, max(0, math.ceil(limit.window[0] - now)))
    return {
        "RateLimit-Policy": f"{policy};q={limit.limit.amount};w={window}",
        "RateLimit": f"{policy};r={max(0, limit.remaining)};t={reset_in}",
    }


def _add_headers(response: Response) -> Response:
    limiter: Limiter | None = current_app.extensions.get("touchbase.limiter")
    if limiter is None or not limiter.enabled or "RateLimit" in response.headers:
        return response
    try:
        limit = _governing(limiter, response.status_code)
        if limit is not None:
            response.headers.update(rate_limit_headers(limit))
    except Exception:  # the storage failed between the check and now: no fields, no 500
        current_app.logger.warning("rate limit fields left out: storage unavailable")
    return response


DETAILS = {
    TOKEN: "This token is over its rate limit of {limit}",
    AUTH_FAILURES: "Too many failed authentications from this address ({limit}): every "
    "request from it that needs a token is refused until the window ends",
    ADDRESS: "Too many requests from this address ({limit})",
}


def too_many_requests(error: RateLimitExceeded) -> Response:
    """429 as problem+json: which policy refused, and when to come back."""
    limiter: Limiter = current_app.extensions["touchbase.limiter"]
    limit = limiter.current_limit
    headers: dict[str, str] = {}
    policy = str(error.limit.scope)
    if limit is not None:
        headers = rate_limit_headers(limit)
        policy = _policy(limit)
    retry_after = _retry_after(headers, error.limit.limit)
    headers["Retry-After"] = str(retry_after)
    template = DETAILS.get(policy, DETAILS[ADDRESS])
    return problem_response(
        429,
        f"{template.format(limit=error.limit.limit)}; retry in {retry_after} s.",
        type_=PROBLEM_TYPE,
        headers=headers,
        policy=policy,
    )


def _retry_after(headers: dict[str, str], item: RateLimitItem) -> int:
    """Seconds until the refused policy's window ends (at least 1: it has not ended)."""
    for part in headers.get("RateLimit", "").split(";"):
        if part.startswith("t="):
            return max(1, int(part[2:]))
    return item.get_expiry()
