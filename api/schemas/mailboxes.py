"""The mailboxes replies are read from, and how reading them goes."""

from __future__ import annotations

from marshmallow import fields

from api.schemas.fields import ReadSchema

STATUSES = ("new", "ok", "unavailable", "misconfigured")


class MailboxSchema(ReadSchema):
    id = fields.Integer()
    candidate_id = fields.Integer(
        allow_none=True, metadata={"description": "None: the organisation's mailbox"}
    )
    channel = fields.String(metadata={"description": "The channel whose settings name it"})
    source = fields.String(metadata={"description": "imap://user@host:port/folder"})
    status = fields.String(
        metadata={
            "enum": list(STATUSES),
            "description": "new: not read yet; ok: the last poll worked; unavailable: the "
            "server could not be reached or refused the login (see last_error), retried "
            "with backoff; misconfigured: the settings are refused (see last_error)",
        }
    )
    last_error = fields.String(allow_none=True)
    heard = fields.Integer(metadata={"description": "Messages heard from it so far"})
    created_at = fields.DateTime(
        metadata={"description": "Mail that arrived before this is never read"}
    )
    last_polled_at = fields.DateTime(allow_none=True)
    next_poll_at = fields.DateTime()
