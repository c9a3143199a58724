"""The built-in email channel: SMTP through the standard library, or an outbox.

With no ``host`` configured (the embedded default) nothing leaves the machine:
each message is written as an ``.eml`` file into ``outbox_dir`` (default
``instance/outbox``), named ``<touch id>_<message id>.eml``, so a newcomer can
open exactly what would have been sent. A retry overwrites the same file.

Headers: ``From`` is the candidate (``from_name <from_address>``), ``Reply-To``
when given, ``Message-ID`` is the message's own (the same on every retry, so
the contact can never get two different copies), and for a follow-up
(``in_reply_to`` set) ``In-Reply-To``, ``References`` (the thread plus the
parent) and a subject prefixed with ``Re: `` here, once (R16). The caller
passes the subject as written.

Deliverability: ``From`` is the candidate's own address, so the SMTP server
must be allowed to send for it (the candidate's provider, or a relay covered
by that domain's SPF/DKIM). ``envelope_from`` sets the bounce address.

Outcomes: a 4xx reply or a connection problem before the message was
transmitted is ``RetryLater``; a 5xx reply is ``Failed`` with ``smtp:<code>``
and the server's text; a connection lost or timed out *after* the whole
message was transmitted but before the server's reply to it is ``Unknown``
(the server may have accepted it).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from email.charset import QP, Charset
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.message import Message as MIMEMessage
from email.mime.text import MIMEText
from email.policy import SMTPUTF8 as SMTPUTF8_POLICY
from email.policy import Compat32
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from channels.base import Channel, Failed, Message, RetryLater, SendResult, Sent
from channels.email_address import email_address_problem
from channels.email_inbound import ImapSettingsFields, fetch_imap_replies, imap_source
from channels.hookspecs import hookimpl
from channels.smtp_session import DEFAULT_PORTS, SmtpSession

__all__ = ["DEFAULT_PORTS", "EmailChannel", "SmtpSession", "build_email", "email_bytes"]

# CRLF line ends; headers unfolded up to SMTP's 998: a Message-ID in In-Reply-To
# stays on one line (folding it is legal but trips naive threading code).
WIRE_POLICY_UTF8 = SMTPUTF8_POLICY.clone(max_line_length=998)

#: Printable ASCII words separated by single spaces (no tab, no line break, no edge space).
_PLAIN_HEADER = re.compile(r"[!-~]+(?: [!-~]+)*")


class _WireCompat32(Compat32):
    """compat32 that writes a short, plain ASCII one-line header value as it is.

    compat32 runs every header through ``email.header.Header`` to fold it, about 20 µs
    each, and the worker writes nine per message. For a value it would leave alone anyway
    (ASCII, single spaces, no line break, within ``max_line_length``) that is
    ``name: value``; anything else takes compat32's own way."""

    def _fold(self, name: str, value: Any, sanitize: bool) -> str:
        if (
            isinstance(value, str)
            and value.isascii()
            and len(name) + 2 + len(value) <= (self.max_line_length or 78)
            and _PLAIN_HEADER.fullmatch(value)
        ):
            return f"{name}: {value}{self.linesep}"
        return super()._fold(name, value, sanitize)


WIRE_COMPAT = _WireCompat32(linesep="\r\n", max_line_length=998)
_UTF8_QP = Charset("utf-8")
_UTF8_QP.body_encoding = QP
DEFAULT_OUTBOX = "instance/outbox"
_RE_PREFIX = re.compile(r"^\s*re\s*:", re.IGNORECASE)


class EmailSettingsSchema(ImapSettingsFields):
    host = fields.String(
        load_default="",
        metadata={"description": "SMTP server; empty: write .eml files to outbox_dir instead"},
    )
    port = fields.Integer(
        load_default=None,
        allow_none=True,
        validate=validate.Range(1, 65535),
        metadata={"description": "Default: 25 (none), 587 (starttls), 465 (ssl)"},
    )
    security = fields.String(
        load_default="starttls",
        validate=validate.OneOf(["none", "starttls", "ssl"]),
        metadata={"description": "Connection security"},
    )
    username = fields.String(load_default="", metadata={"description": "SMTP AUTH user"})
    password = fields.String(
        load_default="",
        load_only=True,
        metadata={"secret": True, "description": "SMTP AUTH password"},
    )
    timeout = fields.Float(
        load_default=30.0,
        validate=validate.Range(min=0.1, max=300),
        metadata={"description": "Seconds to wait for the server at each step"},
    )
    data_timeout = fields.Float(
        load_default=120.0,
        validate=validate.Range(min=0.1, max=600),
        metadata={
            "description": "Seconds to wait for the server to accept the transmitted message "
            "(RFC 5321 suggests up to 10 minutes); silence past it is an unknown outcome"
        },
    )
    envelope_from = fields.String(
        load_default="",
        metadata={"description": "Bounce address (MAIL FROM); default: the From address"},
    )
    helo_name = fields.String(
        load_default="", metadata={"description": "Name sent in EHLO; default: this host's"}
    )
    outbox_dir = fields.String(
        load_default=DEFAULT_OUTBOX,
        metadata={"description": "Where .eml files go when no host is set"},
    )

    @validates_schema
    def _auth_needs_password(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("username") and not data.get("password"):
            raise ValidationError("a password is required with a username", "password")


def check_email_address(address: str) -> str | None:
    """``None`` for an address this channel can send to, else what is wrong: the same rule
    as the API's (:mod:`channels.email_address`), so nothing accepted there fails here."""
    return email_address_problem(address)


def reply_subject(subject: str | None) -> str:
    """``subject`` as a reply: ``Re: `` added unless it is already there."""
    subject = (subject or "").strip()
    return subject if _RE_PREFIX.match(subject) else f"Re: {subject}".rstrip()


def build_email(message: Message, now: datetime | None = None) -> EmailMessage | MIMEMessage:
    """The email for ``message`` (headers as described in the module docstring); render it
    with :func:`email_bytes`.

    With ASCII addresses (nearly always) it is built with the standard library's compat32
    MIME classes: about 0.1 ms, where ``EmailMessage`` parses every header it is given back
    through its header registry (about 1 ms), and the worker builds one per touch. Display
    names and subject are RFC 2047-encoded when not ASCII, and made one line, so nothing in
    them can start a header of its own. A non-ASCII address needs SMTPUTF8 and raw UTF-8
    headers, which ``EmailMessage`` with the SMTPUTF8 policy writes.
    """
    addresses = (message.from_address or "", message.to_address or "", message.reply_to or "")
    if not all(a.isascii() for a in addresses):
        return _build_email_utf8(message, now)
    msg = MIMEMessage(policy=WIRE_COMPAT)
    for name, value in _headers(message, now, _ascii_address, _ascii_text):
        msg[name] = value
    msg["MIME-Version"] = "1.0"
    if message.html:
        msg["Content-Type"] = "multipart/alternative"
        msg.attach(_text_part(message.body, "plain"))
        msg.attach(_text_part(message.html, "html"))
    else:
        msg.set_payload(message.body, _body_charset(message.body))
    return msg


def email_bytes(msg: EmailMessage | MIMEMessage) -> bytes:
    """The message as sent: CRLF line ends, long header lines left unfolded up to 998."""
    if isinstance(msg, EmailMessage):
        return msg.as_bytes(policy=WIRE_POLICY_UTF8)
    return msg.as_bytes(policy=WIRE_COMPAT)


def _build_email_utf8(message: Message, now: datetime | None) -> EmailMessage:
    msg = EmailMessage(policy=WIRE_POLICY_UTF8)
    for name, value in _headers(message, now, _utf8_address, str):
        msg[name] = value
    msg.set_content(message.body)
    if message.html:
        msg.add_alternative(message.html, subtype="html")
    return msg


def _headers(
    message: Message,
    now: datetime | None,
    address: Callable[[str, str], Any],
    text: Callable[[str], Any],
) -> Iterator[tuple[str, Any]]:
    """The headers of ``message`` but the MIME ones, in order; ``address(name, addr)`` and
    ``text(subject)`` write them for the message class at hand."""
    yield "From", address(_one_line(message.from_name), message.from_address or "")
    yield "To", address(_one_line(message.to_name), message.to_address)
    if message.reply_to:
        yield "Reply-To", _one_line(message.reply_to)
    subject = _one_line(message.subject)
    yield "Subject", text(reply_subject(subject) if message.in_reply_to else subject)
    yield "Date", format_datetime(now or datetime.now(UTC))
    yield "Message-ID", _one_line(message.message_id)
    if message.in_reply_to:
        parent = _one_line(message.in_reply_to)
        refs = [_one_line(r) for r in message.references if _one_line(r) != parent]
        yield "In-Reply-To", parent
        yield "References", " ".join([*refs, parent])
    elif message.references:
        yield "References", " ".join(_one_line(r) for r in message.references)


def _ascii_address(name: str, addr: str) -> str:
    return formataddr((name, addr), "utf-8")  # a non-ASCII name as an RFC 2047 word


def _ascii_text(text: str) -> str:
    return text if text.isascii() else Header(text, "utf-8").encode()


def _utf8_address(name: str, addr: str) -> Address:
    # By its parts: parsing an addr_spec refuses a non-ASCII local part, which SMTPUTF8
    # carries (the address was checked with email_address_problem before).
    username, _, domain = addr.rpartition("@")
    return Address(display_name=name, username=username, domain=domain)


def _one_line(text: str | None) -> str:
    """``text`` with every run of whitespace, line breaks included, as one space."""
    return " ".join((text or "").split())


def _body_charset(text: str) -> Charset | str:
    """7bit when it can go as is (ASCII, lines within SMTP's 998); else UTF-8, quoted-
    printable, which any server relays (no 8BITMIME needed) and stays readable."""
    if text.isascii() and all(len(line) <= 998 for line in text.splitlines()):
        return "us-ascii"
    return _UTF8_QP


def _text_part(text: str, subtype: str) -> MIMEText:
    return MIMEText(text, subtype, _body_charset(text), policy=WIRE_COMPAT)


def outbox_filename(message: Message) -> str:
    """``<touch id>_<message id>.eml`` with anything but ``[A-Za-z0-9.-]`` as ``_``."""
    raw = f"{message.touch_id}_{(message.message_id or '').strip('<>')}"
    return re.sub(r"[^A-Za-z0-9.-]", "_", raw) + ".eml"


class EmailChannel(Channel):
    name = "email"
    title = "Email (SMTP)"
    address_kind = "email"
    capabilities = frozenset({"threading", "inbound_replies"})
    settings_schema = EmailSettingsSchema

    def check_address(self, address: str) -> str | None:
        return check_email_address(address)

    def inbound_source(self, settings: Mapping[str, Any]) -> str | None:
        return imap_source(settings)

    def inbound_poll_seconds(self, settings: Mapping[str, Any]) -> float:
        return float(settings["imap_poll_seconds"])

    def fetch_replies(self, settings, cursor, *, since, limit):
        return fetch_imap_replies(settings, cursor, since=since, limit=limit)

    def send(self, message: Message, settings: Mapping[str, Any]) -> SendResult:
        """One message on a connection of its own (closed with QUIT after it)."""
        session = self.open_session()
        try:
            return session.send(message, settings)
        finally:
            session.close()

    def open_session(self) -> SmtpSession:
        """Connections held across a batch: one per SMTP server, ``RSET`` between
        messages (see :class:`SmtpSession`)."""
        return SmtpSession(self)

    def _check_message(self, message: Message) -> Failed | None:
        error = check_email_address(message.to_address)
        if error:
            return Failed("invalid_address", error)
        if not message.from_address or check_email_address(message.from_address):
            return Failed("invalid_message", "a valid from_address (the candidate's) is required")
        if not message.message_id:
            return Failed(
                "invalid_message", "message_id is required (make it once, reuse it on retries)"
            )
        return None

    def _write_outbox(
        self, message: Message, msg: EmailMessage | MIMEMessage, settings: Mapping[str, Any]
    ) -> SendResult:
        directory = Path(settings.get("outbox_dir") or DEFAULT_OUTBOX)
        try:
            directory.mkdir(parents=True, exist_ok=True)
            path = directory / outbox_filename(message)
            fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".eml")
            with os.fdopen(fd, "wb") as handle:
                handle.write(email_bytes(msg))
            os.replace(tmp, path)
        except OSError as exc:
            return RetryLater(f"cannot write to the outbox {directory}: {exc}")
        return Sent(message.message_id or "", {"outbox_path": str(path)})


@hookimpl
def register_channels(register):
    register(EmailChannel())
