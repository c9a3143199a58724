"""Loopback stand-ins for the providers, for tests and local development.

:class:`SmtpPeer`   a real SMTP server (aiosmtpd) on 127.0.0.1 that records
                    what it receives and can be told to refuse, hang or drop.
:class:`TwilioPeer` a small HTTP server on 127.0.0.1 that answers like
                    Twilio's REST API for ``POST .../Messages.json`` and
                    ``.../Calls.json``, records each request, and can be told
                    to answer with Twilio errors, 429, 500, hang or drop.

Both bind to 127.0.0.1 only and stop by themselves when used as context
managers. The pytest fixtures ``smtp_peer`` and ``twilio_peer`` in
:mod:`channels.testing` wrap them. ``aiosmtpd`` (a dev dependency) is needed
for :class:`SmtpPeer` only.

Example::

    with SmtpPeer() as peer:
        peer.reply_next("451 4.3.0 Try again later")
        result = EmailChannel().send(message, EmailChannel().load_settings(peer.settings()))
        assert isinstance(result, RetryLater)
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import socket
import sys
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

LOOPBACK = "127.0.0.1"
MAX_HANG_SECONDS = 10.0


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


# =========================================================================== SMTP


@dataclass
class ReceivedMail:
    """One message the SMTP peer accepted (or received before answering)."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    """The message as transmitted (dot-stuffing removed)."""
    connection: int = 0
    """Which connection carried it: 1 for the server's first, 2 for the next..."""

    @property
    def message(self) -> EmailMessage:
        """The parsed message (``email.policy.default``)."""
        return BytesParser(policy=policy.default).parsebytes(self.data)  # type: ignore[return-value]


@dataclass
class _SmtpAction:
    stage: str  # "mail" | "rcpt" | "data" | "rset"
    kind: str  # "reply" | "hang" | "drop"
    reply: str = ""
    seconds: float = 0.0


class _SmtpHandler:
    def __init__(self, peer: SmtpPeer) -> None:
        self.peer = peer

    async def handle_RSET(self, server, session, envelope):
        self.peer.rsets += 1
        action = self.peer._take("rset")
        if action and action.kind == "drop":  # the server closed the idle connection
            server.transport.abort()
            await asyncio.sleep(0)
        return "250 OK"

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        action = self.peer._take("mail")
        if action and action.kind == "reply":
            return action.reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        action = self.peer._take("rcpt")
        if action and action.kind == "reply":
            return action.reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        action = self.peer._take("data")
        mail = ReceivedMail(
            envelope.mail_from,
            list(envelope.rcpt_tos),
            envelope.original_content,
            self.peer._connection(session),
        )
        if action and action.kind == "reply":
            self.peer.refused.append(mail)
            return action.reply
        self.peer.messages.append(mail)
        if self.peer.deliver is not None:  # local delivery, as an MTA hands mail to a mailbox
            await asyncio.to_thread(self.peer.deliver, mail)
        if action and action.kind == "hang":
            await asyncio.sleep(min(action.seconds, MAX_HANG_SECONDS))
        if action and action.kind == "drop":
            server.transport.abort()
            await asyncio.sleep(0)
        return "250 2.0.0 OK: queued"


class SmtpPeer:
    """A loopback SMTP server (aiosmtpd) that records messages.

    ``messages``: mail accepted (also mail whose reply was delayed or dropped:
    the server had it). ``refused``: mail answered with an error at DATA.
    Program the next sessions with :meth:`reply_next`, :meth:`hang_next`,
    :meth:`drop_next`, :meth:`drop_at_next_rset`. ``rsets`` counts the ``RSET`` commands
    received; each :class:`ReceivedMail` says which connection carried it.
    ``auth``: ``{"user": "password"}`` enables AUTH (over plain text, loopback only).
    ``smtputf8=False``: a server that does not offer SMTPUTF8 (non-ASCII addresses).
    ``deliver``: called with each accepted :class:`ReceivedMail` before the server
    answers, to hand it on (to a mailbox).
    """

    def __init__(self, auth: dict[str, str] | None = None, *, smtputf8: bool = True) -> None:
        self.host = LOOPBACK
        self.port = 0
        self.auth = dict(auth or {})
        self.smtputf8 = smtputf8
        self.messages: list[ReceivedMail] = []
        self.refused: list[ReceivedMail] = []
        self.deliver: Callable[[ReceivedMail], None] | None = None
        self.rsets = 0
        self._actions: deque[_SmtpAction] = deque()
        self._sessions: dict[int, tuple[Any, int]] = {}  # id(session) -> (session, number)
        self._numbered = 0
        self._lock = threading.Lock()
        self._controller: Any = None

    # ---- programming

    def reply_next(self, reply: str, *, stage: str = "data", count: int = 1) -> None:
        """Answer ``reply`` (e.g. ``"550 5.1.1 No such user"``) at ``stage``
        (``mail``, ``rcpt`` or ``data``) for the next ``count`` messages."""
        if stage not in ("mail", "rcpt", "data"):
            raise ValueError(stage)
        self._queue([_SmtpAction(stage, "reply", reply=reply)] * count)

    def hang_next(self, seconds: float, *, count: int = 1) -> None:
        """Receive the next message(s) but wait ``seconds`` before answering DATA."""
        self._queue([_SmtpAction("data", "hang", seconds=seconds)] * count)

    def drop_next(self, *, count: int = 1) -> None:
        """Receive the next message(s), then close the connection without a reply."""
        self._queue([_SmtpAction("data", "drop")] * count)

    def drop_at_next_rset(self, *, count: int = 1) -> None:
        """Close the connection at the next ``RSET``(s), before answering it: a server
        that dropped an idle connection between two messages."""
        self._queue([_SmtpAction("rset", "drop")] * count)

    def _connection(self, session: Any) -> int:
        """The number of the connection ``session`` (aiosmtpd's, one per connection) is."""
        with self._lock:
            known = self._sessions.get(id(session))
            if known is None or known[0] is not session:
                self._numbered += 1
                known = self._sessions[id(session)] = (session, self._numbered)
            return known[1]

    def _queue(self, actions: list[_SmtpAction]) -> None:
        with self._lock:
            self._actions.extend(actions)

    def _take(self, stage: str) -> _SmtpAction | None:
        with self._lock:
            for action in self._actions:
                if action.stage == stage:
                    self._actions.remove(action)
                    return action
        return None

    def settings(self, **overrides: Any) -> dict[str, Any]:
        """Raw email-channel settings pointing at this server."""
        values: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "security": "none",
            "timeout": 5.0,
        }
        values.update(overrides)
        return values

    # ---- lifecycle

    def start(self) -> SmtpPeer:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        kwargs: dict[str, Any] = {"enable_SMTPUTF8": self.smtputf8}
        if self.auth:

            def authenticator(server, session, envelope, mechanism, auth_data):
                ok = (
                    isinstance(auth_data, LoginPassword)
                    and self.auth.get(auth_data.login.decode()) == auth_data.password.decode()
                )
                return AuthResult(success=ok, handled=False)

            kwargs.update(authenticator=authenticator, auth_require_tls=False)
        last_error: Exception | None = None
        for _attempt in range(5):
            self.port = free_port()
            controller = Controller(
                _SmtpHandler(self), hostname=self.host, port=self.port, **kwargs
            )
            try:
                controller.start()
            except Exception as exc:  # port taken between free_port() and bind
                last_error = exc
                continue
            self._controller = controller
            return self
        raise RuntimeError(f"cannot start the SMTP peer: {last_error}")

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpPeer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


# =========================================================================== Twilio


TWILIO_ERRORS: dict[int, tuple[int, str]] = {
    20003: (401, "Authenticate"),
    20404: (404, "The requested resource was not found"),
    20429: (429, "Too Many Requests"),
    20500: (500, "Internal Server Error"),
    21211: (400, "The 'To' number is not a valid phone number."),
    21610: (400, "Attempt to send to unsubscribed recipient"),
    21614: (400, "'To' number is not a valid mobile number"),
    21635: (400, "'To' number cannot be a landline"),
}


@dataclass
class RecordedRequest:
    """One request the Twilio peer received."""

    method: str
    path: str
    headers: dict[str, str]
    form_lists: dict[str, list[str]]
    auth: tuple[str, str] | None
    answered: int | None = None

    @property
    def form(self) -> dict[str, str]:
        """Form fields, first value of each (see ``form_lists`` for repeats)."""
        return {k: v[0] for k, v in self.form_lists.items()}

    @property
    def resource(self) -> str:
        """``Messages`` or ``Calls`` (or the last path part)."""
        return self.path.rsplit("/", 1)[-1].removesuffix(".json")


@dataclass
class _HttpAction:
    kind: str  # "error" | "hang" | "drop"
    status: int = 0
    code: int | None = None
    message: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    resource: str | None = None


def twilio_sid(prefix: str) -> str:
    """A realistic Twilio SID: two-letter prefix + 32 hex digits."""
    return prefix + secrets.token_hex(16)


class TwilioPeer:
    """A loopback server speaking Twilio's REST API, enough for the channels.

    ``POST /2010-04-01/Accounts/{sid}/Messages.json`` and ``.../Calls.json``
    answer 201 with Twilio's JSON (sid ``SM...``/``CA...``, status
    ``queued``); wrong Basic auth answers 401 (code 20003). ``requests``
    records every request. Point the channels at it with the environment
    variable ``TOUCHBASE_TWILIO_API_BASE=peer.base_url`` (the ``twilio_peer``
    fixture does).
    """

    def __init__(self, account_sid: str | None = None, auth_token: str | None = None) -> None:
        self.account_sid = account_sid or twilio_sid("AC")
        self.auth_token = auth_token or secrets.token_hex(16)
        self.from_number = "+15005550006"
        self.requests: list[RecordedRequest] = []
        self._actions: deque[_HttpAction] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start the peer first"
        return f"http://{LOOPBACK}:{self._server.server_address[1]}"

    @property
    def messages(self) -> list[RecordedRequest]:
        """Requests to ``Messages.json``."""
        return [r for r in self.requests if r.resource == "Messages"]

    @property
    def calls(self) -> list[RecordedRequest]:
        """Requests to ``Calls.json``."""
        return [r for r in self.requests if r.resource == "Calls"]

    # ---- programming

    def fail_next(
        self,
        code: int,
        *,
        status: int | None = None,
        message: str | None = None,
        headers: dict[str, str] | None = None,
        count: int = 1,
        resource: str | None = None,
    ) -> None:
        """Answer the next ``count`` requests (to ``resource``, e.g. ``"Calls"``,
        if given) with Twilio error ``code`` in Twilio's error JSON shape
        ``{"code", "message", "more_info", "status"}``. ``status`` and
        ``message`` default to Twilio's for known codes (21610: 400,
        20429: 429, 20500: 500...)."""
        known_status, known_message = TWILIO_ERRORS.get(code, (400, f"Error {code}"))
        action = _HttpAction(
            "error",
            status=status or known_status,
            code=code,
            message=message or known_message,
            headers=dict(headers or {}),
            resource=resource,
        )
        self._queue([action] * count)

    def hang_next(self, seconds: float, *, count: int = 1, resource: str | None = None) -> None:
        """Record the next request(s), then wait ``seconds`` before answering 201."""
        self._queue([_HttpAction("hang", seconds=seconds, resource=resource)] * count)

    def drop_next(self, *, count: int = 1, resource: str | None = None) -> None:
        """Record the next request(s), then close the connection without an answer."""
        self._queue([_HttpAction("drop", resource=resource)] * count)

    def _queue(self, actions: list[_HttpAction]) -> None:
        with self._lock:
            self._actions.extend(actions)

    def _take(self, resource: str) -> _HttpAction | None:
        with self._lock:
            for action in self._actions:
                if action.resource in (None, resource):
                    self._actions.remove(action)
                    return action
        return None

    def settings(self, **overrides: Any) -> dict[str, Any]:
        """Raw SMS/call channel settings for this peer's account."""
        values: dict[str, Any] = {
            "account_sid": self.account_sid,
            "auth_token": self.auth_token,
            "from_number": self.from_number,
            "timeout": 5.0,
        }
        values.update(overrides)
        return values

    # ---- answering

    def _resource_json(self, resource: str, form: dict[str, str]) -> dict[str, Any]:
        now = format_datetime(datetime.now(UTC), usegmt=True)
        base = f"/2010-04-01/Accounts/{self.account_sid}"
        if resource == "Messages":
            from channels.segments import count_segments

            sid = twilio_sid("SM")
            service = form.get("MessagingServiceSid")
            return {
                "account_sid": self.account_sid,
                "api_version": "2010-04-01",
                "body": form.get("Body", ""),
                "date_created": now,
                "date_sent": None,
                "date_updated": now,
                "direction": "outbound-api",
                "error_code": None,
                "error_message": None,
                "from": form.get("From"),
                "messaging_service_sid": service,
                "num_media": "0",
                "num_segments": str(count_segments(form.get("Body", "")).segments),
                "price": None,
                "price_unit": "USD",
                "sid": sid,
                "status": "accepted" if service and not form.get("From") else "queued",
                "subresource_uris": {"media": f"{base}/Messages/{sid}/Media.json"},
                "to": form.get("To"),
                "uri": f"{base}/Messages/{sid}.json",
            }
        sid = twilio_sid("CA")
        return {
            "account_sid": self.account_sid,
            "annotation": None,
            "answered_by": None,
            "api_version": "2010-04-01",
            "caller_name": None,
            "date_created": None,
            "date_updated": None,
            "direction": "outbound-api",
            "duration": None,
            "end_time": None,
            "forwarded_from": None,
            "from": form.get("From"),
            "from_formatted": form.get("From"),
            "group_sid": None,
            "parent_call_sid": None,
            "phone_number_sid": twilio_sid("PN"),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "start_time": None,
            "status": "queued",
            "subresource_uris": {"notifications": f"{base}/Calls/{sid}/Notifications.json"},
            "to": form.get("To"),
            "to_formatted": form.get("To"),
            "trunk_sid": None,
            "uri": f"{base}/Calls/{sid}.json",
            "queue_time": "0",
        }

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        peer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def _answer(self, status: int, body: dict[str, Any], headers=None) -> None:
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            def _error(self, status: int, code: int, message: str, headers=None) -> None:
                self._answer(
                    status,
                    {
                        "code": code,
                        "message": message,
                        "more_info": f"https://www.twilio.com/docs/errors/{code}",
                        "status": status,
                    },
                    headers,
                )

            def do_GET(self) -> None:
                self._error(404, 20404, TWILIO_ERRORS[20404][1])

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8") if length else ""
                record = RecordedRequest(
                    method="POST",
                    path=self.path.split("?", 1)[0],
                    headers=dict(self.headers.items()),
                    form_lists=parse_qs(raw, keep_blank_values=True),
                    auth=_basic_auth(self.headers.get("Authorization")),
                )
                with peer._lock:
                    peer.requests.append(record)
                prefix = f"/2010-04-01/Accounts/{peer.account_sid}/"
                resource = record.resource
                if not record.path.startswith(prefix) or resource not in ("Messages", "Calls"):
                    record.answered = 404
                    self._error(404, 20404, TWILIO_ERRORS[20404][1])
                    return
                if record.auth != (peer.account_sid, peer.auth_token):
                    record.answered = 401
                    self._error(401, 20003, TWILIO_ERRORS[20003][1])
                    return
                action = peer._take(resource)
                if action and action.kind == "error":
                    record.answered = action.status
                    self._error(action.status, action.code or 0, action.message, action.headers)
                    return
                if action and action.kind == "drop":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if action and action.kind == "hang":
                    peer._stopping.wait(min(action.seconds, MAX_HANG_SECONDS))
                record.answered = 201
                self._answer(201, peer._resource_json(resource, record.form))

        return Handler

    # ---- lifecycle

    def start(self) -> TwilioPeer:
        server = _QuietServer((LOOPBACK, 0), self._handler_class())
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> TwilioPeer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # dropped on purpose
            super().handle_error(request, client_address)


def _basic_auth(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except ValueError:
        return None
    return user, password
