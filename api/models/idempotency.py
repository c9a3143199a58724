"""Idempotency keys: a POST's first answer, kept 24 hours for its retries (api.idempotency)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from api.models.base import Base


class IdempotencyKey(Base):
    """One `Idempotency-Key` of one user. While `status` is null the first request is in
    flight, owning the row by `lease_token` until `lease_expires_at` (a crashed request's
    claim runs out, so the client can retry); once answered, `status`, `headers` and `body`
    are what every retry with the same `fingerprint` gets back."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("user_id", "key"),
        Index("ix_idempotency_keys_expires_at", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    #: SHA-256 of method, path, query and body: "the same request".
    fingerprint: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(2048))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    lease_token: Mapped[str | None] = mapped_column(String(32))
    lease_expires_at: Mapped[datetime | None]
    status: Mapped[int | None]
    headers: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    body: Mapped[str | None] = mapped_column(Text)
    #: The answer held a secret shown once (a token): kept out of the database, not replayed.
    withheld: Mapped[bool] = mapped_column(default=False)
