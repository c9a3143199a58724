"""SMTP sessions for the email channel: connections held across a batch.

The worker opens one :class:`SmtpSession` per batch (``EmailChannel.open_session``) and
sends the batch's emails through it: one connection per SMTP server, ``RSET`` between
two messages, a new connection when the server dropped the old one. The outcome of each
message is classified exactly as for a message on a connection of its own (see
:mod:`channels.email`): once the whole message is on the wire, a lost reply is
``Unknown``, never retried.
"""

from __future__ import annotations

import contextlib
import functools
import re
import smtplib
import socket
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.message import Message as MIMEMessage
from typing import TYPE_CHECKING, Any

from channels.base import Failed, Message, RetryLater, SendResult, Sent, Unknown

if TYPE_CHECKING:
    from channels.email import EmailChannel

DEFAULT_PORTS = {"none": 25, "starttls": 587, "ssl": 465}


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One verifying TLS context per process: loading the CA bundle costs tens of
    milliseconds, more than sending a message, so it is not done per message."""
    return ssl.create_default_context()


@functools.cache
def _local_hostname() -> str:
    """The EHLO name smtplib would work out for every connection (``socket.getfqdn()``, a
    resolver lookup each time), worked out once per process."""
    fqdn = socket.getfqdn()
    if "." in fqdn:
        return fqdn
    try:
        return f"[{socket.gethostbyname(socket.gethostname())}]"
    except OSError:
        return "[127.0.0.1]"


def _reply(stage: str, code: int, text: bytes | str) -> SendResult:
    reply = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    reply = " ".join(reply.split())
    if 400 <= code < 500:
        return RetryLater(f"SMTP {code} at {stage}: {reply}")
    return Failed(f"smtp:{code}", reply or f"SMTP {code} at {stage}")


def _dot_stuff(data: bytes) -> bytes:
    data = re.sub(rb"(?m)^\.", b"..", data)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


def server_key(settings: Mapping[str, Any]) -> tuple[Any, ...]:
    """What makes two settings one SMTP server session: host, port, TLS, the login and
    the EHLO name (two candidates of an office on the same relay share a connection)."""
    security = settings.get("security", "starttls")
    return (
        settings.get("host"),
        settings.get("port") or DEFAULT_PORTS[security],
        security,
        settings.get("username") or "",
        settings.get("password") or "",
        settings.get("helo_name") or "",
    )


class _Reject(Exception):
    """A refusal before the envelope (no STARTTLS, no AUTH...): the connection is dropped."""

    def __init__(self, result: SendResult) -> None:
        self.result = result


class SmtpSession:
    """SMTP connections kept open across the messages of a batch, one per server
    (:func:`server_key`). Between two messages on a connection: ``RSET``; a connection
    the server dropped meanwhile (the ``RSET`` fails) is replaced by a new one, and so is
    one that fails before the message was transmitted (nothing complete was sent: safe).
    The replies are classified as for a single message: once the whole message is on the
    wire, a lost reply is ``Unknown``, on a reused connection as on a new one. Not
    thread-safe: one session per worker thread."""

    def __init__(self, channel: EmailChannel) -> None:
        self.channel = channel
        self._open: dict[tuple[Any, ...], smtplib.SMTP] = {}
        self.connections = 0  # opened, for the tests and the log

    def send(self, message: Message, settings: Mapping[str, Any]) -> SendResult:
        problem = self.channel._check_message(message)
        if problem:
            return problem
        from channels.email import build_email

        msg = build_email(message)
        if not settings.get("host"):
            return self.channel._write_outbox(message, msg, settings)
        key = server_key(settings)
        smtp = self._take(key, settings)
        if smtp is not None:
            result, keep, sent_data = self._transaction(smtp, message, msg, settings)
            if keep:
                self._open[key] = smtp
                return result
            _close(smtp)
            if sent_data or not isinstance(result, RetryLater):
                return result
            # the reused connection failed before the message went: once more, afresh
        smtp_or_result = self._connect(settings)
        if not isinstance(smtp_or_result, smtplib.SMTP):
            return smtp_or_result
        smtp = smtp_or_result
        try:
            self._greet(smtp, settings)
        except _Reject as reject:
            _close(smtp)
            return reject.result
        except Exception as exc:
            _close(smtp)
            return _before_data(exc)
        result, keep, _ = self._transaction(smtp, message, msg, settings)
        if keep:
            self._open[key] = smtp
        else:
            _close(smtp)
        return result

    def close(self) -> None:
        """QUIT every connection still open."""
        while self._open:
            _, smtp = self._open.popitem()
            with contextlib.suppress(OSError, smtplib.SMTPException):
                smtp.quit()
            _close(smtp)

    def _take(self, key: tuple[Any, ...], settings: Mapping[str, Any]) -> smtplib.SMTP | None:
        """The open connection to this server, reset for a new message (``RSET``); None
        when there is none or the server dropped it."""
        smtp = self._open.pop(key, None)
        if smtp is None:
            return None
        try:
            if smtp.sock is not None:
                smtp.sock.settimeout(settings.get("timeout", 30.0))
            code, _ = smtp.rset()
        except (OSError, smtplib.SMTPException):
            code = 0
        if code != 250:
            _close(smtp)
            return None
        return smtp

    def _connect(self, settings: Mapping[str, Any]) -> smtplib.SMTP | SendResult:
        security = settings.get("security", "starttls")
        host = settings["host"]
        port = settings.get("port") or DEFAULT_PORTS[security]
        timeout = settings.get("timeout", 30.0)
        helo = settings.get("helo_name") or _local_hostname()
        try:
            if security == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    host, port, local_hostname=helo, timeout=timeout, context=_tls_context()
                )
            else:
                smtp = smtplib.SMTP(host, port, local_hostname=helo, timeout=timeout)
        except smtplib.SMTPConnectError as exc:
            return _reply("connect", exc.smtp_code, exc.smtp_error)
        except ssl.SSLCertVerificationError as exc:
            return Failed("smtp:tls", f"the server's certificate was refused: {exc}")
        except (OSError, smtplib.SMTPException) as exc:
            return RetryLater(f"cannot connect to {host}:{port}: {exc}")
        self.connections += 1
        return smtp

    def _greet(self, smtp: smtplib.SMTP, settings: Mapping[str, Any]) -> None:
        """EHLO, STARTTLS and AUTH on a new connection; raises :class:`_Reject` or the
        smtplib error."""
        security = settings.get("security", "starttls")
        smtp.ehlo_or_helo_if_needed()
        if security == "starttls":
            if not smtp.has_extn("starttls"):
                raise _Reject(
                    Failed(
                        "smtp:starttls_unsupported",
                        "the server does not offer STARTTLS (set security to 'ssl' or 'none')",
                    )
                )
            smtp.starttls(context=_tls_context())
            smtp.ehlo()
        if settings.get("username"):
            if not smtp.has_extn("auth"):
                raise _Reject(Failed("smtp:auth_unsupported", "the server does not offer AUTH"))
            smtp.login(settings["username"], settings.get("password", ""))

    def _transaction(
        self,
        smtp: smtplib.SMTP,
        message: Message,
        msg: EmailMessage | MIMEMessage,
        settings: Mapping[str, Any],
    ) -> tuple[SendResult, bool, bool]:
        """MAIL, RCPT, DATA on a greeted connection: (the result, whether the connection
        may carry the next message, whether the whole message was transmitted)."""
        sender = settings.get("envelope_from") or message.from_address or ""
        try:
            # raw UTF-8 in the headers (a non-ASCII address) or in the envelope
            utf8 = isinstance(msg, EmailMessage) or not sender.isascii()
            options: list[str] = []
            if utf8:
                if not smtp.has_extn("smtputf8"):
                    no_utf8 = Failed("smtp:smtputf8_unsupported", "non-ASCII address, no SMTPUTF8")
                    return no_utf8, True, False
                options = ["SMTPUTF8", "BODY=8BITMIME"]
            code, text = smtp.mail(sender, options)
            if code != 250:
                return _reply("MAIL FROM", code, text), True, False
            code, text = smtp.rcpt(message.to_address)
            if code not in (250, 251):
                return _reply("RCPT TO", code, text), True, False
            code, text = smtp.docmd("DATA")
            if code != 354:
                return _reply("DATA", code, text), True, False
            from channels.email import email_bytes

            payload = email_bytes(msg)
            smtp.send(_dot_stuff(payload))
            if smtp.sock is not None:
                smtp.sock.settimeout(settings.get("data_timeout", 120.0))
        except Exception as exc:
            return _before_data(exc), False, False

        # The whole message is on the wire: from here on, silence means "maybe".
        try:
            code, text = smtp.getreply()
        except (OSError, smtplib.SMTPException) as exc:
            return Unknown(f"no reply after the message was transmitted: {exc}"), False, True
        if code != 250:
            return _reply("end of DATA", code, text), True, True
        reply = text.decode("utf-8", "replace")
        return Sent(message.message_id or "", {"smtp_reply": f"{code} {reply}"}), True, True


def _before_data(exc: Exception) -> SendResult:
    """An error before the whole message was transmitted, as a result."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return _reply("AUTH", exc.smtp_code, exc.smtp_error)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return Failed("smtp:not_supported", str(exc))
    if isinstance(exc, smtplib.SMTPResponseException):
        return _reply("session", exc.smtp_code, exc.smtp_error)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return Failed("smtp:tls", f"the server's certificate was refused: {exc}")
    if isinstance(exc, OSError | smtplib.SMTPException):
        # Nothing complete was transmitted: the server discards a partial DATA.
        return RetryLater(f"SMTP connection failed before the message was sent: {exc}")
    raise exc


def _close(smtp: smtplib.SMTP) -> None:
    with contextlib.suppress(OSError):
        smtp.close()
