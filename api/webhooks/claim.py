"""Webhook deliveries, with the database as the queue: claimed under a lease like touches
(api.dispatch.claim), so any number of workers on any number of machines share them.

A delivery is due when it is pending, its time has come, nobody holds a live lease on it,
its endpoint is enabled, and no earlier delivery of the same touch to the same endpoint is
still pending: a touch's events reach an endpoint in the order they happened (a later one
waits while an earlier one is retried). A worker that dies holding deliveries loses
nothing: its leases run out and another claims them, with the same ``webhook-id``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, and_, exists, or_, select, update
from sqlalchemy.orm import aliased

from api.models import WebhookDelivery, WebhookEndpoint

D = WebhookDelivery.__table__
C = D.c


def _due(now: datetime):
    earlier = aliased(WebhookDelivery)
    blocked = exists().where(
        earlier.endpoint_id == C.endpoint_id,
        earlier.touch_id == C.touch_id,
        earlier.status == "pending",
        earlier.id < C.id,
    )
    enabled = exists().where(WebhookEndpoint.id == C.endpoint_id, WebhookEndpoint.enabled.is_(True))
    return (
        C.status == "pending",
        C.next_attempt_at <= now,
        or_(C.lease_expires_at.is_(None), C.lease_expires_at < now),
        or_(C.touch_id.is_(None), ~blocked),
        enabled,
    )


def claim_statement(dialect: str, owner: str, now: datetime, lease: timedelta, limit: int):
    values = {"lease_owner": owner, "lease_expires_at": now + lease}
    if dialect == "postgresql":
        due = (
            select(C.id)
            .where(*_due(now))
            .order_by(C.next_attempt_at, C.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=D)
            .cte("due")
        )
        return update(D).where(C.id == due.c.id).values(**values).returning(C.id)
    candidates = (
        select(C.id).where(*_due(now)).order_by(C.next_attempt_at, C.id).limit(limit)
    ).scalar_subquery()
    return update(D).where(C.id.in_(candidates), *_due(now)).values(**values).returning(C.id)


def claim(engine: Engine, owner: str, now: datetime, lease: timedelta, limit: int) -> list[int]:
    """Claim up to ``limit`` due deliveries; their ids, oldest first."""
    stmt = claim_statement(engine.dialect.name, owner, now, lease, limit)
    with engine.begin() as conn:
        return sorted(conn.execute(stmt).scalars().all())


def renew(engine: Engine, owner: str, delivery_id: int, now: datetime, lease: timedelta) -> bool:
    """Just before its attempt: the lease is still this worker's, pushed for the attempt
    (a batch's last delivery may wait for the ones before it)."""
    stmt = (
        update(D)
        .where(C.id == delivery_id, C.lease_owner == owner, C.status == "pending")
        .values(lease_expires_at=now + lease)
    )
    with engine.begin() as conn:
        return conn.execute(stmt).rowcount == 1


def release(engine: Engine, owner: str, ids: list[int]) -> None:
    if not ids:
        return
    stmt = (
        update(D)
        .where(and_(C.id.in_(ids), C.lease_owner == owner, C.status == "pending"))
        .values(lease_owner=None, lease_expires_at=None)
    )
    with engine.begin() as conn:
        conn.execute(stmt)
