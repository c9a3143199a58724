"""Layered settings: policy numbers, channel settings and message templates.

Each row belongs to an org and optionally narrows to a candidate (and, for policy, a
contact); the most specific row wins field by field.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from api.models.base import Base, utcnow
from api.models.touches import JSONType


def _partial_unique(name: str, columns: tuple[str, ...], where: str) -> Index:
    return Index(
        name, *columns, unique=True, postgresql_where=text(where), sqlite_where=text(where)
    )


class PolicySetting(Base):
    __tablename__ = "policy_settings"
    # NULLs never collide in a unique constraint, so each layer gets its own partial index.
    __table_args__ = (
        UniqueConstraint("org_id", "candidate_id", "contact_id"),
        _partial_unique(
            "uq_policy_settings_org", ("org_id",), "candidate_id IS NULL AND contact_id IS NULL"
        ),
        _partial_unique(
            "uq_policy_settings_candidate", ("org_id", "candidate_id"), "contact_id IS NULL"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    candidate_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    values: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    #: Contact rows only: the candidate's own rules for the contact, kept apart from the
    #: staff-set ``values`` because they may only tighten them (api.policy_bounds).
    own_values: Mapped[dict[str, Any] | None] = mapped_column(JSONType, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ChannelSetting(Base):
    """A channel's settings (SMTP server, Twilio account); secrets are write-only in the API."""

    __tablename__ = "channel_settings"
    __table_args__ = (
        UniqueConstraint("org_id", "candidate_id", "channel"),
        _partial_unique("uq_channel_settings_org", ("org_id", "channel"), "candidate_id IS NULL"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    candidate_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(40))
    values: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Template(Base):
    __tablename__ = "templates"
    __table_args__ = (
        UniqueConstraint("org_id", "candidate_id", "step", "channel"),
        _partial_unique("uq_templates_org", ("org_id", "step", "channel"), "candidate_id IS NULL"),
        Index(None, "org_id", "step", "channel"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    candidate_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    step: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str | None] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
