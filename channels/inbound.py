"""The inbound half of the channel contract: replies a channel reads back, and what was heard.

A channel that declares the ``inbound_replies`` capability is polled by the worker for the
messages its contacts sent back (the built-in email channel reads an IMAP folder). It
implements two methods beside ``send``:

``inbound_source(settings) -> str | None``
    A stable name for the place replies come from under these settings (the built-in
    email channel answers ``imap://user@host:993/INBOX``), or ``None`` when the settings
    name no such place. Touchbase keeps one bookmark per name, so two settings that name
    the same place are read once; a new name starts a new bookmark.

``fetch_replies(settings, cursor, *, since, limit) -> Replies``
    At most ``limit`` messages that arrived after ``cursor`` (a JSON-able dict the channel
    returned before, or ``None`` the first time), oldest first. With no usable cursor, only
    messages that arrived at or after ``since`` count: configuring a mailbox never replays
    its history. Each :class:`InboundReply` carries the cursor that covers it; Touchbase
    stores that cursor in the same transaction as the message's effects, so a worker killed
    mid-poll neither skips a message nor hears one twice. Raise :class:`SourceUnavailable`
    (with a reason fit to show the candidate) when the place cannot be read. It is called
    from a helper thread, with the cursor of the last message fetched, while the batch
    before is heard (a worker never makes two calls at once for one place); nothing of a
    fetched batch is stored until it is heard.

``inbound_poll_seconds(settings) -> float`` (optional; the ``Channel`` base answers 60)
    Seconds between two polls of the place under these settings.

Each message goes through Touchbase's one inbound pipeline (parse, dedupe, match, classify,
act), and every ``inbound_message`` hook then hears an :class:`InboundEvent`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class SourceUnavailable(Exception):
    """The place replies come from could not be read (connection, TLS, login, folder).

    ``reason`` says which, in words fit for the mailbox status shown to the candidate."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class InboundReply:
    """One message read back: the raw RFC 5322 bytes, and the cursor to store once it is
    processed (the bookmark just past it)."""

    raw: bytes
    cursor: Mapping[str, Any]
    received_at: datetime | None = None


@dataclass(frozen=True)
class Replies:
    """What one ``fetch_replies`` call found, and the cursor to store when ``items`` is
    empty (the place may have been renumbered even with nothing new)."""

    items: Sequence[InboundReply]
    cursor: Mapping[str, Any]


@dataclass(frozen=True, kw_only=True)
class InboundEvent:
    """One inbound email Touchbase heard, passed to every ``inbound_message`` hook after
    its effects are committed.

    ``outcome``: ``recorded`` (a response was recorded, or a bounce acted on the touch),
    ``ignored`` (an automatic reply, a copy of our own message), ``unmatched`` (kept for the
    candidate to attach), ``duplicate`` (heard before; nothing happened).
    ``source``: ``upload`` (``POST /v1/inbound/email``) or the channel that read it.
    """

    outcome: str
    reason: str
    source: str
    org_id: int
    candidate_id: int | None = None
    inbound_id: int | None = None
    classification: str | None = None
    response_id: int | None = None
    touch_id: int | None = None
    contact_id: int | None = None
    at: datetime | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)
