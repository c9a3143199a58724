"""The email channel's way back in: the IMAP folder its replies arrive in.

The settings (org or candidate, like the SMTP ones) may name one mailbox folder; the worker
polls it (``channels.inbound``). Only an inbound folder may be named: a Sent or Drafts folder
holds our own follow-ups, whose In-Reply-To would make them look like replies.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from channels.imap import FETCH_BATCH, TLS_MODES, MailboxSettings, MailboxState, fetch_new
from channels.inbound import InboundReply, Replies

IMAP_PORTS = {"none": 143, "starttls": 143, "ssl": 993}
#: Folders that hold what the candidate sent or is writing, never what came back.
_OUTGOING_FOLDER = re.compile(
    r"(^|[/.])(sent|sent items|sent mail|sent messages|drafts?|outbox|envoy[ée]s)$",
    re.IGNORECASE,
)


class ImapSettingsFields(Schema):
    """The IMAP half of the email channel's settings (mixed into its schema)."""

    imap_host = fields.String(
        load_default="",
        metadata={"description": "IMAP server to read replies from; empty: no mailbox polling"},
    )
    imap_port = fields.Integer(
        load_default=None,
        allow_none=True,
        validate=validate.Range(1, 65535),
        metadata={"description": "Default: 993 (ssl), 143 (starttls, none)"},
    )
    imap_security = fields.String(
        load_default="ssl",
        validate=validate.OneOf(TLS_MODES),
        metadata={"description": "Connection security of the IMAP server"},
    )
    imap_username = fields.String(
        load_default="", metadata={"description": "IMAP login; default: the SMTP username"}
    )
    imap_password = fields.String(
        load_default="",
        load_only=True,
        metadata={
            "secret": True,
            "description": "IMAP password or app password; default: the SMTP password",
        },
    )
    imap_folder = fields.String(
        load_default="INBOX",
        validate=validate.Length(1, 200),
        metadata={"description": "The folder replies arrive in (never Sent or Drafts)"},
    )
    imap_poll_seconds = fields.Float(
        load_default=60.0,
        validate=validate.Range(min=1, max=86400),
        metadata={"description": "Seconds between two polls of the mailbox"},
    )

    @validates_schema
    def _imap_complete(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if not data.get("imap_host"):
            return
        if not (data.get("imap_username") or data.get("username")):
            raise ValidationError("a login is required with imap_host", "imap_username")
        if not (data.get("imap_password") or data.get("password")):
            raise ValidationError("a password is required with imap_host", "imap_password")
        if _OUTGOING_FOLDER.search(data.get("imap_folder", "").strip()):
            raise ValidationError(
                "name the folder replies arrive in: a Sent or Drafts folder holds your own "
                "messages, which would count as replies",
                "imap_folder",
            )


def mailbox_settings(settings: Mapping[str, Any]) -> MailboxSettings | None:
    """Where to read replies under these (loaded) settings, or None when none is named."""
    host = settings.get("imap_host")
    if not host:
        return None
    tls = settings.get("imap_security") or "ssl"
    return MailboxSettings(
        host=host,
        port=settings.get("imap_port") or IMAP_PORTS[tls],
        user=settings.get("imap_username") or settings.get("username") or "",
        password=settings.get("imap_password") or settings.get("password") or "",
        tls=tls,
        folder=settings.get("imap_folder") or "INBOX",
        timeout=float(settings.get("timeout") or 30.0),
    )


def imap_source(settings: Mapping[str, Any]) -> str | None:
    """``imap://user@host:port/folder``: one bookmark per folder, whatever else changes."""
    box = mailbox_settings(settings)
    if box is None:
        return None
    return f"imap://{box.user}@{box.host.lower()}:{box.port}/{box.folder}"[:300]


def fetch_imap_replies(
    settings: Mapping[str, Any],
    cursor: Mapping[str, Any] | None,
    *,
    since: datetime,
    limit: int,
) -> Replies:
    """The folder's messages after ``cursor`` ({uidvalidity, last_uid}), each with the
    cursor just past it (raises ``MailboxUnavailable``, a ``SourceUnavailable``)."""
    box = mailbox_settings(settings)
    if box is None:
        return Replies((), dict(cursor or {}))
    cursor = cursor or {}
    state = MailboxState(cursor.get("uidvalidity"), int(cursor.get("last_uid") or 0))
    messages, after = fetch_new(box, state, limit=max(1, min(limit, 4 * FETCH_BATCH)), since=since)
    items = [
        InboundReply(m.raw, {"uidvalidity": after.uidvalidity, "last_uid": m.uid}, m.internal_date)
        for m in messages
    ]
    return Replies(items, {"uidvalidity": after.uidvalidity, "last_uid": after.last_uid})
