"""What Touchbase heard: inbound SMS (one row per Twilio MessageSid, ever) and email, and the
mailboxes it reads email from."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from api.models.base import Base, utcnow
from api.models.touches import JSONType

INBOUND_KINDS = ("opt_out", "opt_in", "reply", "other")


class InboundMessage(Base):
    """The unique MessageSid makes each inbound webhook act at most once, even when two
    deliveries of it race (the second insert fails); ``id`` is the order the server first
    saw each message, which orders STOP/START (Twilio's webhook carries no timestamp).
    No phone numbers or text are kept: a reply's text is in its response."""

    __tablename__ = "inbound_messages"
    __table_args__ = (
        CheckConstraint("kind IN ('opt_out', 'opt_in', 'reply', 'other')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sid: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


MAIL_OUTCOMES = ("recorded", "ignored", "unmatched")


class InboundMail(Base):
    """Every email Touchbase heard, once: posted raw or read from a mailbox.

    ``dedupe_key`` (the Message-ID, else a digest of the message) is unique per org, so a
    message delivered twice, even at the same moment, acts once. An unmatched one is kept
    with its text for the candidate to see; a matched one names what it matched and the
    response it recorded."""

    __tablename__ = "inbound_mail"
    __table_args__ = (
        CheckConstraint(
            "outcome IN (" + ", ".join(f"'{o}'" for o in MAIL_OUTCOMES) + ")", name="outcome"
        ),
        UniqueConstraint("org_id", "dedupe_key"),
        Index(None, "org_id", "candidate_id", "id"),
        # The retention sweep (api.privacy.retention): texts still kept, by age.
        Index(
            "ix_inbound_mail_texts_kept",
            "org_id",
            "received_at",
            postgresql_where=text("text IS NOT NULL"),
            sqlite_where=text("text IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    candidate_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    dedupe_key: Mapped[str] = mapped_column(String(300))
    message_id: Mapped[str | None] = mapped_column(String(300))
    source: Mapped[str] = mapped_column(String(40))
    sender: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str | None] = mapped_column(String(300))
    sent_at: Mapped[datetime | None]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    outcome: Mapped[str] = mapped_column(String(10))
    classification: Mapped[str | None] = mapped_column(String(20))
    confidence: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(Text)
    # What the classifier read besides the kind, so an unmatched message can be attached
    # later (POST /v1/inbound/{id}/attach) and acted on without the raw message.
    decision_date: Mapped[date | None] = mapped_column(Date)
    until: Mapped[date | None] = mapped_column(Date)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    application_id: Mapped[int | None] = mapped_column(
        ForeignKey("applications.id", ondelete="SET NULL")
    )
    touch_id: Mapped[int | None] = mapped_column(ForeignKey("touches.id", ondelete="SET NULL"))
    response_id: Mapped[int | None] = mapped_column(ForeignKey("responses.id", ondelete="SET NULL"))


class Mailbox(Base):
    """A place replies are read from (an IMAP folder named by a channel's settings), with
    how far it has been read and which worker holds it.

    ``source`` is the channel's name for the place (``imap://user@host:993/INBOX``):
    unique per org and channel, so two layers of settings naming the same folder poll it
    once. ``cursor`` is the channel's own bookmark (for IMAP the folder's UIDVALIDITY and
    the last UID processed), written in the same transaction as each message it covers,
    so a worker killed mid-poll neither skips a message nor hears one twice. The lease
    (``lease_owner`` until ``lease_expires_at``) lets one worker at a time poll it."""

    __tablename__ = "mailboxes"
    __table_args__ = (
        UniqueConstraint("org_id", "channel", "source"),
        Index(None, "next_poll_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    candidate_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(300))
    cursor: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(12), default="new")
    last_error: Mapped[str | None] = mapped_column(Text)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    heard: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_polled_at: Mapped[datetime | None]
    next_poll_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(120))
    lease_expires_at: Mapped[datetime | None]
