"""Twilio access shared by the SMS and call channels.

:func:`make_client` builds a real ``twilio.rest.Client``. Its HTTP client never
retries a request by itself (a retried POST could send a message twice), uses
separate connect and read timeouts, keeps the last response (for its
``Retry-After`` header), and, when ``TOUCHBASE_TWILIO_API_BASE`` is set (e.g.
``http://127.0.0.1:8099``), sends every ``https://*.twilio.com`` request to
that base instead: the loopback stub in tests, a local fake in development.

:func:`classify_twilio_error` turns an exception from the client into a
``SendResult``; :func:`validate_twilio_request` checks a webhook signature.
"""

from __future__ import annotations

import email.utils
import os
import time
from collections.abc import Mapping
from datetime import UTC
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from marshmallow import Schema, ValidationError, fields, validate
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from urllib3.exceptions import MaxRetryError, NewConnectionError

from channels.base import Failed, RetryLater, SendResult, Unknown
from channels.phone import check_phone_number

API_BASE_ENV = "TOUCHBASE_TWILIO_API_BASE"
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 15.0

# Twilio error codes (https://www.twilio.com/docs/api/errors)
OPT_OUT_CODES = frozenset({21610})  # "Attempt to send to unsubscribed recipient"
PERMANENT_CODES = frozenset(
    {
        21211,  # invalid 'To' phone number
        21614,  # 'To' number is not a valid mobile number
        21635,  # 'To' number cannot be a landline
        21612,  # 'To' number not reachable from this 'From' number
        21408,  # permission to send to this region not enabled
    }
)
RATE_LIMIT_CODES = frozenset({20429})


class TwilioAccountSchema(Schema):
    """Settings every Twilio channel has: the account and its credentials."""

    account_sid = fields.String(
        required=True,
        validate=validate.Regexp(r"^AC[0-9a-fA-F]{32}$", error="an Account SID: AC + 32 hex"),
        metadata={"description": "Twilio Account SID (AC...)"},
    )
    auth_token = fields.String(
        required=True,
        load_only=True,
        validate=validate.Length(min=1),
        metadata={"secret": True, "description": "Twilio Auth Token (also signs webhooks)"},
    )
    timeout = fields.Float(
        load_default=DEFAULT_READ_TIMEOUT,
        validate=validate.Range(min=0.1, max=120),
        metadata={"description": "Seconds to wait for Twilio's answer"},
    )


def validate_e164(value: str | None) -> None:
    """Marshmallow validator: an E.164 phone number (empty allowed)."""
    if value:
        error = check_phone_number(value)
        if error:
            raise ValidationError(error)


class RewritingHttpClient(TwilioHttpClient):
    """TwilioHttpClient that can redirect ``*.twilio.com`` to another base URL,
    with (connect, read) timeouts and the last response kept for inspection.
    Not thread-safe: make one client per send (they are cheap)."""

    def __init__(
        self,
        api_base: str | None = None,
        timeout: float = DEFAULT_READ_TIMEOUT,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    ) -> None:
        super().__init__(pool_connections=True, timeout=timeout, max_retries=0)
        if connect_timeout <= 0:
            raise ValueError(connect_timeout)
        self.api_base = api_base.rstrip("/") if api_base else None
        self.read_timeout = timeout
        self.connect_timeout = connect_timeout
        # requests accepts (connect, read); the parent passes self.timeout on as is.
        self.timeout = (connect_timeout, timeout)  # type: ignore[assignment]
        self.last_response: Response | None = None

    def rewrite(self, url: str) -> str:
        """``url`` with its scheme and host replaced by ``api_base``, when it
        points to a ``twilio.com`` host and a base is configured."""
        if not self.api_base:
            return url
        parts = urlsplit(url)
        host = parts.hostname or ""
        if not (host == "twilio.com" or host.endswith(".twilio.com")):
            return url
        base = urlsplit(self.api_base)
        path = base.path.rstrip("/") + parts.path
        return urlunsplit((base.scheme, base.netloc, path, parts.query, parts.fragment))

    def request(self, method, url, params=None, data=None, headers=None, auth=None,
                timeout=None, allow_redirects=False) -> Response:  # fmt: skip
        if timeout is not None and timeout <= 0:
            raise ValueError(timeout)
        self.last_response = None
        self.timeout = (self.connect_timeout, timeout or self.read_timeout)  # type: ignore[assignment]
        response = super().request(
            method,
            self.rewrite(url),
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=None,
            allow_redirects=allow_redirects,
        )
        self.last_response = response
        return response


def make_client(
    account_sid: str,
    auth_token: str,
    *,
    timeout: float = DEFAULT_READ_TIMEOUT,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    api_base: str | None = None,
) -> Client:
    """A ``twilio.rest.Client`` for one account. ``api_base`` defaults to the
    ``TOUCHBASE_TWILIO_API_BASE`` environment variable (unset: the real API).
    Twilio's own ``TWILIO_REGION``/``TWILIO_EDGE`` variables still apply."""
    base = api_base if api_base is not None else os.environ.get(API_BASE_ENV) or None
    http_client = RewritingHttpClient(base, timeout=timeout, connect_timeout=connect_timeout)
    return Client(account_sid, auth_token, http_client=http_client)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _request_never_left(exc: requests.exceptions.ConnectionError) -> bool:
    """True when the connection failed before any byte of the request was sent
    (refused, DNS failure, connect timeout): only then is a retry safe."""
    if isinstance(exc, requests.exceptions.ConnectTimeout | requests.exceptions.SSLError):
        return True
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, NewConnectionError)


def classify_twilio_error(exc: BaseException, client: Client | None = None) -> SendResult:
    """Map an exception raised by a Twilio API call to a result.

    - error 21610 (recipient replied STOP): ``Failed(opt_out=True)``
    - 21211, 21614, 21635 and other invalid-recipient codes: ``Failed``
    - 20429 / HTTP 429 and HTTP 5xx: ``RetryLater`` (honouring ``Retry-After``)
    - any other 4xx: ``Failed`` (bad credentials, bad parameters)
    - connection refused / DNS / connect timeout: ``RetryLater`` (nothing was sent)
    - read timeout or connection dropped after the request: ``Unknown``
    - other client-side TwilioException (bad arguments): ``Failed("twilio:client")``
    """
    if isinstance(exc, TwilioRestException | TwilioServiceException):
        status = int(exc.status or 0)
        code = int(exc.code) if exc.code is not None else status
        text = (exc.msg if isinstance(exc, TwilioRestException) else exc.title) or ""
        text = text.replace("Unable to create record: ", "")
        if code in OPT_OUT_CODES:
            return Failed(f"twilio:{code}", text or "recipient opted out", opt_out=True)
        if code in PERMANENT_CODES:
            return Failed(f"twilio:{code}", text)
        if code in RATE_LIMIT_CODES or status == 429 or status >= 500:
            retry_after = None
            last = getattr(getattr(client, "http_client", None), "last_response", None)
            if last is not None and last.headers is not None:
                retry_after = parse_retry_after(last.headers.get("Retry-After"))
            return RetryLater(f"Twilio HTTP {status} ({code}): {text}", retry_after)
        return Failed(f"twilio:{code}", text or f"HTTP {status}")
    if isinstance(exc, requests.exceptions.ConnectionError) and _request_never_left(exc):
        return RetryLater(f"cannot reach Twilio: {exc}")
    if isinstance(exc, OSError):  # read timeout, connection dropped mid-request...
        return Unknown(f"no answer from Twilio after the request was sent: {exc}")
    return Failed("twilio:client", str(exc))


def validate_twilio_request(
    auth_token: str, url: str, params: Mapping[str, Any] | str | None, signature: str | None
) -> bool:
    """True when ``signature`` (the ``X-Twilio-Signature`` header) is Twilio's
    signature of ``url`` (the full URL Twilio requested, as Twilio saw it:
    behind a proxy use the public URL) and ``params`` (the POST form fields;
    a Flask/Werkzeug MultiDict is fine). Uses twilio's own RequestValidator."""
    if not auth_token or not signature:
        return False
    return RequestValidator(auth_token).validate(url, params or {}, signature)


def sign_twilio_request(auth_token: str, url: str, params: Mapping[str, Any]) -> str:
    """The ``X-Twilio-Signature`` Twilio would send (for tests and local tools)."""
    return RequestValidator(auth_token).compute_signature(url, params)
