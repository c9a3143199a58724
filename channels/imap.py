"""Fetch new messages from one IMAP folder, remembering where the last poll stopped.

The poller asks :func:`fetch_new` for the messages that arrived since the
:class:`MailboxState` it holds, and stores the state it gets back once those messages are
safely processed. Nothing here touches the database: the caller stores the state and leases
the mailbox so that one worker polls it at a time.

Why UIDs and UIDVALIDITY: an IMAP UID names one message in one folder for as long as the
folder's UIDVALIDITY stays the same (RFC 3501 2.3.1.1), and UIDs only grow, so "UID greater
than the last one processed" is exactly "not seen yet", across restarts. When UIDVALIDITY
changes, the server has renumbered the folder (it was deleted and recreated, restored from a
backup, or the server lost its index): the old last UID means nothing in the new numbering, so
the fetch starts over from UID 0 of the new validity. Messages already processed then come
again; the pipeline's Message-ID dedupe is what keeps them from counting twice.

Only the named folder is ever selected, read-only, and bodies are fetched with BODY.PEEK so
that polling never marks the candidate's mail as read. Sent and Drafts are never read: a synced
copy of our own threaded follow-up would otherwise look like a reply by its In-Reply-To.
"""

from __future__ import annotations

import contextlib
import imaplib
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from channels.inbound import SourceUnavailable

TlsMode = Literal["none", "ssl", "starttls"]
TLS_MODES: tuple[str, ...] = ("none", "ssl", "starttls")
DEFAULT_LIMIT = 200
"""At most this many messages per call: a large backlog is worked off in bounded steps."""
FETCH_BATCH = 50
"""Messages per UID FETCH command, so one round trip never carries an unbounded body list."""


class MailboxUnavailable(SourceUnavailable):
    """The mailbox could not be read: connection, TLS, login or folder failure.

    ``reason`` says which, in words fit for the mailbox's status shown to the candidate.
    """


@dataclass(frozen=True)
class MailboxSettings:
    """Where and how to read one mailbox."""

    host: str
    port: int
    user: str
    password: str
    tls: TlsMode = "ssl"
    folder: str = "INBOX"
    timeout: float = 30.0

    def __post_init__(self) -> None:
        if self.tls not in TLS_MODES:
            raise ValueError(f"tls must be one of {', '.join(TLS_MODES)}, not {self.tls!r}")

    def __repr__(self) -> str:  # the password never reaches a log line
        return (
            f"MailboxSettings(host={self.host!r}, port={self.port}, user={self.user!r}, "
            f"tls={self.tls!r}, folder={self.folder!r}, timeout={self.timeout})"
        )


@dataclass(frozen=True)
class MailboxState:
    """How far a mailbox has been read: the folder's UIDVALIDITY and the last UID taken."""

    uidvalidity: int | None = None
    last_uid: int = 0


@dataclass(frozen=True)
class FetchedMessage:
    """One message as the server holds it: its UID, raw RFC 822 bytes and INTERNALDATE."""

    uid: int
    raw: bytes
    internal_date: datetime | None
    """When the server received it (UTC), or None when the server gave none."""


def fetch_new(
    settings: MailboxSettings,
    state: MailboxState,
    *,
    limit: int = DEFAULT_LIMIT,
    since: datetime | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> tuple[list[FetchedMessage], MailboxState]:
    """The messages of ``settings.folder`` with a UID above ``state.last_uid``, oldest UID
    first, at most ``limit`` of them, and the state to store once they are processed.

    Call again with the returned state to get the rest of a backlog. With ``since``, a
    state that does not apply (the first poll, or a folder renumbered since) starts at the
    first message the server received at or after ``since``, not at the folder's oldest:
    reading a mailbox for the first time never replays its history. Raises
    :class:`MailboxUnavailable` when the server cannot be reached, refuses the login, or has
    no such folder. ``ssl_context`` defaults to the system's verified context.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    try:
        client = _open(settings, ssl_context)
        try:
            return _fetch(client, settings, state, limit, since)
        finally:
            _close(client)
    except MailboxUnavailable:
        raise
    except ssl.SSLError as exc:
        raise MailboxUnavailable(f"TLS with {_where(settings)} failed: {exc}") from exc
    except TimeoutError as exc:
        raise MailboxUnavailable(f"{_where(settings)} did not answer in time") from exc
    except OSError as exc:
        raise MailboxUnavailable(f"cannot reach {_where(settings)}: {exc}") from exc
    except (IMAPClientError, imaplib.IMAP4.error) as exc:
        raise MailboxUnavailable(f"{_where(settings)} failed: {_text(exc)}") from exc


def _fetch(
    client: IMAPClient,
    settings: MailboxSettings,
    state: MailboxState,
    limit: int,
    since: datetime | None,
) -> tuple[list[FetchedMessage], MailboxState]:
    try:
        selected = client.select_folder(settings.folder, readonly=True)
    except IMAPClientError as exc:
        raise MailboxUnavailable(
            f"folder {settings.folder!r} cannot be opened on {_where(settings)}: {_text(exc)}"
        ) from exc
    uidvalidity = int(selected[b"UIDVALIDITY"])
    if state.uidvalidity == uidvalidity:
        last_uid = state.last_uid
    else:
        last_uid = _start(client, since) if since is not None else 0
    # "n:*" always includes the highest UID, even one below n (RFC 3501 6.4.8): filter.
    uids = sorted(uid for uid in client.search(["UID", f"{last_uid + 1}:*"]) if uid > last_uid)
    wanted = uids[:limit]
    messages: list[FetchedMessage] = []
    for start in range(0, len(wanted), FETCH_BATCH):
        batch = wanted[start : start + FETCH_BATCH]
        answer = client.fetch(batch, ["BODY.PEEK[]", "INTERNALDATE"])
        for uid in batch:  # a message expunged since the search is simply absent
            data = answer.get(uid)
            if data is None or b"BODY[]" not in data:
                continue
            messages.append(FetchedMessage(uid, bytes(data[b"BODY[]"]), _utc(data)))
    new_last = wanted[-1] if wanted else last_uid
    return messages, MailboxState(uidvalidity=uidvalidity, last_uid=new_last)


def _start(client: IMAPClient, since: datetime) -> int:
    """The UID to read after so that only messages received at or after ``since`` come:
    one below the first such message, else the highest UID there is. SEARCH SINCE has
    day granularity (RFC 3501 6.4.4), so the day's messages are sorted by INTERNALDATE,
    which has whole seconds: a message of the same second as ``since`` counts."""
    since = since.replace(microsecond=0)
    day = since.astimezone(UTC).date() - timedelta(days=1)  # the server's zone may lag UTC
    candidates = sorted(client.search(["SINCE", day]))
    if candidates:
        dates = client.fetch(candidates, ["INTERNALDATE"])
        for uid in candidates:
            when = _utc(dates.get(uid, {}))
            if when is not None and when >= since:
                return uid - 1
    everything = client.search(["ALL"])
    return max(everything, default=0)


def _open(settings: MailboxSettings, ssl_context: ssl.SSLContext | None) -> IMAPClient:
    """An IMAPClient logged in to the mailbox; on any failure the connection is closed."""
    context = ssl_context or ssl.create_default_context()
    client = IMAPClient(
        settings.host,
        port=settings.port,
        ssl=settings.tls == "ssl",
        ssl_context=context if settings.tls == "ssl" else None,
        timeout=settings.timeout,
    )
    client.normalise_times = False  # keep the server's zone: converted to UTC below
    try:
        if settings.tls == "starttls":
            try:
                client.starttls(context)
            except IMAPClientError as exc:  # never fall back to sending the password in clear
                raise MailboxUnavailable(
                    f"STARTTLS refused by {_where(settings)}: {_text(exc)}"
                ) from exc
        try:
            client.login(settings.user, settings.password)
        except IMAPClientError as exc:
            raise MailboxUnavailable(
                f"login as {settings.user!r} refused by {_where(settings)}: {_text(exc)}"
            ) from exc
    except BaseException:
        _close(client, logout=False)
        raise
    return client


def _close(client: IMAPClient, *, logout: bool = True) -> None:
    """Log out politely; when that fails or the connection is broken, just drop it."""
    errors = (IMAPClientError, imaplib.IMAP4.error, OSError)
    if logout:
        with contextlib.suppress(*errors):
            client.logout()
            return
    with contextlib.suppress(*errors):
        client.shutdown()


def _utc(data: dict) -> datetime | None:
    when = data.get(b"INTERNALDATE")
    if not isinstance(when, datetime):
        return None
    return when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)


def _where(settings: MailboxSettings) -> str:
    return f"IMAP server {settings.host}:{settings.port}"


def _text(exc: BaseException) -> str:
    text = str(exc)
    return text[2:-1] if text.startswith(("b'", 'b"')) else text
