"""A candidate's own records: contacts, applications, interviews and their interviewers."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.models.base import Base, utcnow

APPLICATION_STATUSES = ("active", "next_round", "offer", "rejected", "withdrawn", "hired")
INTERVIEW_FORMATS = ("onsite", "video", "phone")


class Contact(Base):
    __tablename__ = "contacts"
    __table_args__ = (
        Index(None, "org_id", "candidate_id", "id"),
        Index(None, "candidate_id", "company"),
        # One person, one contact (api.contact_identity); NULLs never collide.
        Index("uq_contacts_candidate_email", "candidate_id", "email", unique=True),
        # Inbound mail from an address, when its candidate is not known (an org's mailbox).
        Index(None, "org_id", "email"),
        Index("uq_contacts_candidate_phone", "candidate_id", "phone", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    candidate_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(200))
    company: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    country: Mapped[str | None] = mapped_column(String(2))
    preferred_channel: Mapped[str | None] = mapped_column(String(40))
    notes: Mapped[str | None] = mapped_column(Text)
    do_not_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    sms_opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    # Who set sms_opted_out last, and in which order (api.inbound_sms): the MessageSid of
    # the contact's STOP/START, or "touch:<id>" when Twilio refused that SMS (21610).
    sms_opt_source: Mapped[str | None] = mapped_column(String(64))
    sms_opt_changed_at: Mapped[datetime | None]
    # InboundMessage.id of the last STOP/START applied: an older-seen one never undoes it.
    # A plain number, not a foreign key: the inbound log may be pruned.
    sms_opt_seq: Mapped[int | None] = mapped_column(Integer)
    # A permanent bounce (5.x.x) of a touch sent to ``email``: nothing more goes to that
    # address by email (the policy's UNDELIVERABLE rule); a new address clears it.
    email_undeliverable_at: Mapped[datetime | None]
    email_undeliverable_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Application(Base):
    __tablename__ = "applications"
    __table_args__ = (
        CheckConstraint(
            "status IN ('active', 'next_round', 'offer', 'rejected', 'withdrawn', 'hired')",
            name="status",
        ),
        Index(None, "org_id", "candidate_id", "id"),
        Index(None, "candidate_id", "status"),
        Index(None, "candidate_id", "company"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    candidate_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    company: Mapped[str] = mapped_column(String(200))
    position: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="active")
    decision_expected_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    interviews: Mapped[list[Interview]] = relationship(
        back_populates="application", cascade="all, delete-orphan", passive_deletes=True
    )


class Interview(Base):
    __tablename__ = "interviews"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("format IN ('onsite', 'video', 'phone')", name="format"),
        Index(None, "org_id", "candidate_id", "id"),
        Index(None, "application_id", "round"),
        Index(None, "candidate_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    candidate_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"))
    round: Mapped[int] = mapped_column(Integer, default=1)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    format: Mapped[str] = mapped_column(String(10), default="video")
    location: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    application: Mapped[Application] = relationship(back_populates="interviews")
    interviewers: Mapped[list[Interviewer]] = relationship(
        back_populates="interview",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Interviewer.position",
    )


class Interviewer(Base):
    """One contact on an interview panel, with the candidate's notes on that person (R1, R3)."""

    __tablename__ = "interviewers"

    interview_id: Mapped[int] = mapped_column(
        ForeignKey("interviews.id", ondelete="CASCADE"), primary_key=True
    )
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    topics: Mapped[str | None] = mapped_column(Text)
    skills: Mapped[str | None] = mapped_column(Text)
    specific_point: Mapped[str | None] = mapped_column(Text)

    interview: Mapped[Interview] = relationship(back_populates="interviewers")
    contact: Mapped[Contact] = relationship()
