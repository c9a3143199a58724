"""Inbound SMS as the server first saw them: one row per Twilio MessageSid, ever."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from api.models.base import Base, utcnow

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
