"""Outbound webhooks to the portal: the endpoints an org subscribes, the outbox of events,
and one delivery row per event and endpoint (the queue the workers claim from)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.models.base import Base, utcnow

JSONType = JSON().with_variant(JSONB(), "postgresql")

#: What a portal can subscribe to. The API documents this set (the WebhookEventType enum):
#: a generated client expects no other, so api.webhooks.events refuses to write any other.
WEBHOOK_EVENT_TYPES = (
    "touch.scheduled",
    "touch.rescheduled",
    "touch.awaiting_approval",
    "touch.sent",
    "touch.delivered",
    "touch.failed",
    "touch.skipped",
    "touch.cancelled",
    "touch.unknown",
    "response.recorded",
    "contact.opted_out",
    "inbound.unmatched",
)
#: pending (waiting for an attempt, or retrying), delivered (a 2xx), failed (gave up).
DELIVERY_STATUSES = ("pending", "delivered", "failed")


class WebhookEndpoint(Base):
    """A URL of the org's portal and the event types it hears. The secret signs every
    request; after a rotation the previous one signs too until ``previous_expires_at``, so
    the portal can switch without missing a delivery. Both are kept readable: the worker
    needs them to sign (as Stripe and Svix keep theirs)."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = (Index(None, "org_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str | None] = mapped_column(String(200))
    event_types: Mapped[list[str]] = mapped_column(JSONType, default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    secret: Mapped[str] = mapped_column(String(100))
    previous_secret: Mapped[str | None] = mapped_column(String(100))
    previous_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class WebhookEvent(Base):
    """One event, written in the transaction of the change it reports. ``msg_id`` is the
    ``webhook-id`` of every delivery and retry of it; ``payload`` is the exact body."""

    __tablename__ = "webhook_events"
    __table_args__ = (Index(None, "org_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    msg_id: Mapped[str] = mapped_column(String(40), unique=True)
    type: Mapped[str] = mapped_column(String(40))
    touch_id: Mapped[int | None] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    deliveries: Mapped[list[WebhookDelivery]] = relationship(
        back_populates="event", cascade="all, delete-orphan", passive_deletes=True
    )


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


class WebhookDelivery(Base):
    """An event on its way to one endpoint: claimed under a lease like a touch, retried
    with backoff, then delivered or failed. ``touch_id`` keeps a touch's events in order
    per endpoint: one is claimable only when no earlier one of the same touch is pending."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        CheckConstraint(f"status IN ({_in(DELIVERY_STATUSES)})", name="status"),
        # The claim query: only pending rows are indexed, so it stays small however long
        # the delivery log grows.
        Index(
            "ix_webhook_deliveries_due",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
        # "No earlier pending delivery of this touch to this endpoint" (order per touch).
        Index(
            "ix_webhook_deliveries_order",
            "endpoint_id",
            "touch_id",
            "id",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
        Index(None, "endpoint_id", "id"),
        Index(None, "event_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("webhook_events.id", ondelete="CASCADE"))
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    touch_id: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    event: Mapped[WebhookEvent] = relationship(back_populates="deliveries")
