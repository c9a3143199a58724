"""The audit trail: staff actions that matter to a candidate (api.privacy.audit)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from api.models.base import Base, utcnow
from api.models.touches import JSONType


class AuditEvent(Base):
    """One action, written in the transaction of the action itself.

    Actor and subject are plain ids, not foreign keys: the row outlives an erasure of
    either, and then says only "user 12 was erased by user 3". ``data`` holds ids and
    field names, never personal data (no names, addresses, texts, values typed in)."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index(None, "org_id", "id"),
        Index(None, "org_id", "subject_id", "id"),
        Index(None, "org_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    action: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_role: Mapped[str | None] = mapped_column(String(20))
    subject_id: Mapped[int | None] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
