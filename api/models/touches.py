"""The touch ledger: every outbound contact attempt, its events, and the contact's responses."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    event,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, attributes, mapped_column, relationship

from api import policy
from api.models.base import Base, utcnow

if TYPE_CHECKING:
    from api.models.records import Contact

JSONType = JSON().with_variant(JSONB(), "postgresql")

# The ledger speaks the engine's vocabulary (api.policy): one definition of each.
STEPS = policy.STEPS
STATUSES = policy.STATUSES
RESPONSE_KINDS = policy.RESPONSE_KINDS
#: How a response reached Touchbase: typed in, or heard and classified.
RESPONSE_SOURCES = ("manual", "email", "sms")
#: What a touch event says happened: the status the touch reached, or a change that is no
#: status. The API documents this set (GET /v1/touches/{id}/events), so api.ledger refuses
#: to record any other kind.
EVENT_KINDS = (
    *STATUSES,
    "created",
    "rescheduled",
    "rechanneled",
    "edited",
    "approved",
    "refused",
    "restored",
    "retry",
    "bounce",
    "provider_status",
    "opted_out",
)


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


#: The time a touch counts on for the candidate's daily cap (api.ledger.SENDS_ON_LOCAL_DAY).
CAP_AT_SQL = "coalesce(sent_at, scheduled_for)"


class Touch(Base):
    __tablename__ = "touches"
    __table_args__ = (
        CheckConstraint(f"status IN ({_in(STATUSES)})", name="status"),
        CheckConstraint(f"step IN ({_in(STEPS)})", name="step"),
        # The worker's claim query: only scheduled rows are indexed, so it stays small
        # however large the ledger grows.
        Index(
            "ix_touches_due",
            "scheduled_for",
            postgresql_where=text("status = 'scheduled'"),
            sqlite_where=text("status = 'scheduled'"),
        ),
        # The draft-expiry sweep (api.draft_expiry): only drafts are indexed.
        Index(
            "ix_touches_drafts",
            "approve_by",
            postgresql_where=text("status = 'draft'"),
            sqlite_where=text("status = 'draft'"),
        ),
        Index(
            "ix_touches_leased",
            "lease_expires_at",
            postgresql_where=text("status = 'sending'"),
            sqlite_where=text("status = 'sending'"),
        ),
        Index(None, "contact_id", "round"),
        Index(None, "application_id", "round"),
        # The policy's history: the day's sends of a candidate (the daily cap), an
        # application's one-off replies (R9/R10). A contact's touches near a time (R7) are
        # read through contact_id's index: one person's history stays small, and every
        # index more costs the worker's writes.
        Index("ix_touches_cap_day", "candidate_id", text(CAP_AT_SQL)),
        Index(
            "ix_touches_replies",
            "application_id",
            "round",
            postgresql_where=text("step IN ('post_rejection', 'next_round_reply')"),
            sqlite_where=text("step IN ('post_rejection', 'next_round_reply')"),
        ),
        Index(None, "org_id", "candidate_id", "id"),
        Index(None, "candidate_id", "status"),
        Index(None, "interview_id"),
        Index(None, "provider_id"),
        # Inbound mail names the touches it answers by their Message-IDs.
        Index(None, "message_id"),
        # The retention sweep (api.privacy.retention): sent bodies still kept, by age.
        Index(
            "ix_touches_bodies_kept",
            "org_id",
            "sent_at",
            postgresql_where=text("body IS NOT NULL AND sent_at IS NOT NULL"),
            sqlite_where=text("body IS NOT NULL AND sent_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    candidate_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"))
    interview_id: Mapped[int | None] = mapped_column(
        ForeignKey("interviews.id", ondelete="SET NULL")
    )
    round: Mapped[int] = mapped_column(Integer, default=1)
    step: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12), default="scheduled")
    # Automated touches are sent by the worker; manual ones record what the candidate did.
    automated: Mapped[bool] = mapped_column(Boolean, default=True)
    planned: Mapped[bool] = mapped_column(Boolean, default=False)
    scheduled_for: Mapped[datetime | None]
    # A time a person chose; None: as the rules say (the scheduling core re-plans from it).
    requested_for: Mapped[datetime | None]
    # A draft not approved by then is skipped (R2's late mark for a thank-you).
    approve_by: Mapped[datetime | None]
    # Bumped each time scheduled_for of a stored touch moves (see _bump_sequence and
    # api.ledger.events.update_touch): the iCalendar feed's SEQUENCE, so subscribed calendars
    # replace the event instead of keeping the old time.
    sequence: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    sent_at: Mapped[datetime | None]
    subject: Mapped[str | None] = mapped_column(String(300))
    body: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str | None] = mapped_column(Text)
    rule: Mapped[str | None] = mapped_column(String(20))
    flags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    warnings: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    plan_reason: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(255))
    thread_of_id: Mapped[int | None] = mapped_column(ForeignKey("touches.id", ondelete="SET NULL"))
    provider_id: Mapped[str | None] = mapped_column(String(64))
    provider_status: Mapped[str | None] = mapped_column(String(32))
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    #: Read-only: answers carry the contact's name and company (lists load it in one query).
    contact: Mapped[Contact] = relationship(viewonly=True)
    events: Mapped[list[TouchEvent]] = relationship(
        back_populates="touch",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="TouchEvent.id",
    )


@event.listens_for(Touch.scheduled_for, "set", active_history=True)
def _bump_sequence(touch: Touch, value, oldvalue, _initiator) -> None:
    """A stored touch whose time really changes gets the next SEQUENCE. A new touch keeps
    0; active_history loads the old time first, so an expired attribute still compares."""
    if oldvalue in (attributes.NO_VALUE, attributes.NEVER_SET) or value == oldvalue:
        return
    if attributes.instance_state(touch).key is None:  # not stored yet
        return
    touch.sequence = (touch.sequence or 0) + 1


class TouchEvent(Base):
    """Every change of a touch, so a candidate can always see why something was not sent."""

    __tablename__ = "touch_events"
    __table_args__ = (
        # The adherence report's refusals by rule: the few events that name one.
        Index(
            "ix_touch_events_rule",
            "at",
            "touch_id",
            "rule",
            "kind",
            postgresql_where=text("rule IS NOT NULL"),
            sqlite_where=text("rule IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    touch_id: Mapped[int] = mapped_column(ForeignKey("touches.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(Text)
    rule: Mapped[str | None] = mapped_column(String(20))
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    touch: Mapped[Touch] = relationship(back_populates="events")


class Response(Base):
    """Something the contact did: replied, gave a decision date, invited, rejected, offered."""

    __tablename__ = "responses"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_in(RESPONSE_KINDS)})", name="kind"),
        CheckConstraint(f"source IN ({_in(RESPONSE_SOURCES)})", name="source"),
        CheckConstraint("confidence >= 0 AND confidence <= 1", name="confidence"),
        Index(None, "contact_id", "round"),
        Index(None, "application_id", "round"),
        Index(None, "org_id", "candidate_id", "id"),
        # The retention sweep: heard texts still kept, by age.
        Index(
            "ix_responses_texts_kept",
            "org_id",
            "created_at",
            postgresql_where=text("text IS NOT NULL"),
            sqlite_where=text("text IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    candidate_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"))
    round: Mapped[int] = mapped_column(Integer, default=1)
    kind: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str | None] = mapped_column(String(40))
    occurred_at: Mapped[datetime]
    decision_date: Mapped[date | None] = mapped_column(Date)
    until: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    # Provenance: where the response came from and what the machine made of it. A
    # correction (PATCH) changes ``kind`` and its dates, never these, so the record keeps
    # what the classifier said next to what the person says it was.
    source: Mapped[str] = mapped_column(String(10), server_default="manual")
    #: The heard message's Message-ID (email) or MessageSid (SMS).
    message_id: Mapped[str | None] = mapped_column(String(300))
    #: The heard message's text, quoted history and signature stripped.
    text: Mapped[str | None] = mapped_column(Text)
    classified_as: Mapped[str | None] = mapped_column(String(20))
    confidence: Mapped[float | None] = mapped_column(Float)
    # use_alter: inbound_mail.response_id points back here; the cycle is broken for
    # ordering tables (create, drop, the test suite's cleanup).
    inbound_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbound_mail.id", ondelete="SET NULL", use_alter=True)
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    corrections: Mapped[list[ResponseCorrection]] = relationship(
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="ResponseCorrection.id",
        lazy="selectin",
    )


class ResponseCorrection(Base):
    """A person corrected what a response says (its kind, decision date, return date):
    who, when, from what to what. The response then acts as if recorded that way."""

    __tablename__ = "response_corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(
        ForeignKey("responses.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    #: {"kind", "decision_date", "until"} before and after (ISO dates).
    before: Mapped[dict[str, Any]] = mapped_column(JSONType)
    after: Mapped[dict[str, Any]] = mapped_column(JSONType)
