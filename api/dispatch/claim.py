"""The database is the queue: claiming due touches under a lease, and giving leases back.

A *claim* marks due touches as this worker's for a while (``lease_owner``,
``lease_expires_at``) in one statement; the touch stays ``scheduled``. Nothing is
sent under a mere claim: before calling a provider the worker commits the touch as
``sending`` (see :mod:`api.dispatch.worker`), so a claim that lapses is simply
claimable again.

- PostgreSQL: ``WITH due AS (SELECT id ... ORDER BY scheduled_for LIMIT n FOR UPDATE
  SKIP LOCKED) UPDATE touches ... FROM due RETURNING``: concurrent workers on any
  number of machines never wait for each other and never claim the same row.
- SQLite: one conditional ``UPDATE ... WHERE id IN (SELECT ... LIMIT n) AND <still
  free> RETURNING``; SQLite serialises writers (the engine starts every transaction
  with ``BEGIN IMMEDIATE``).

Every query keeps ``status = 'scheduled'`` (or ``'sending'`` for the reaper) in its
``WHERE`` so the planner uses the partial indexes ``ix_touches_due`` /
``ix_touches_leased``: the cost of a claim depends on the batch, not on how many
touches the ledger holds.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, or_, select, update

from api.models import Touch

TOUCHES = Touch.__table__
C = TOUCHES.c
#: Lease bookkeeping is not a change of the touch: ``updated_at`` keeps its value (it is
#: what API clients sync on, and what the send-time freshness stamp watches).
UNCHANGED = {"updated_at": C.updated_at}


def _due(now: datetime):
    return (
        C.status == "scheduled",
        C.scheduled_for <= now,
        or_(C.lease_expires_at.is_(None), C.lease_expires_at < now),
    )


def claim_statement(dialect: str, owner: str, now: datetime, lease: timedelta, limit: int):
    """The single statement that claims up to ``limit`` due touches for ``owner``."""
    values = {"lease_owner": owner, "lease_expires_at": now + lease, **UNCHANGED}
    if dialect == "postgresql":
        due = (
            select(C.id)
            .where(*_due(now))
            .order_by(C.scheduled_for)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .cte("due")
        )
        return (
            update(TOUCHES)
            .where(C.id == due.c.id)
            .values(**values)
            .returning(C.id, C.scheduled_for)
        )
    candidates = (
        select(C.id).where(*_due(now)).order_by(C.scheduled_for).limit(limit).scalar_subquery()
    )
    return (
        update(TOUCHES)
        .where(C.id.in_(candidates), *_due(now))
        .values(**values)
        .returning(C.id, C.scheduled_for)
    )


def claim(engine: Engine, owner: str, now: datetime, lease: timedelta, limit: int) -> list[int]:
    """Claim up to ``limit`` due, unleased touches (oldest first); their ids in due order."""
    if limit <= 0:
        return []
    stmt = claim_statement(engine.dialect.name, owner, now, lease, limit)
    with engine.begin() as conn:
        rows = conn.execute(stmt).all()
    rows.sort(key=lambda r: (r.scheduled_for, r.id))
    return [r.id for r in rows]


def release(conn_or_engine: Engine | Connection, owner: str, ids: Iterable[int]) -> int:
    """Give back claimed touches that were not started; returns how many were released."""
    ids = list(ids)
    if not ids:
        return 0
    stmt = (
        update(TOUCHES)
        .where(C.id.in_(ids), C.lease_owner == owner, C.status == "scheduled")
        .values(lease_owner=None, lease_expires_at=None, **UNCHANGED)
    )
    return _run(conn_or_engine, stmt)


def extend(
    conn_or_engine: Engine | Connection,
    owner: str,
    ids: Iterable[int],
    now: datetime,
    lease: timedelta,
) -> int:
    """Heartbeat: push the lease of touches this worker still holds (claimed or sending)."""
    ids = list(ids)
    if not ids:
        return 0
    stmt = (
        update(TOUCHES)
        .where(
            C.id.in_(ids),
            C.lease_owner == owner,
            C.status.in_(("scheduled", "sending")),
        )
        .values(lease_expires_at=now + lease, **UNCHANGED)
    )
    return _run(conn_or_engine, stmt)


def lost_sends_query(now: datetime, limit: int = 100):
    """Touches left in ``sending`` whose lease ran out: their worker is gone (ORM select,
    rows locked and skipped when another reaper has them)."""
    return (
        select(Touch)
        .where(Touch.status == "sending", Touch.lease_expires_at < now)
        .order_by(Touch.lease_expires_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )


def _run(conn_or_engine: Engine | Connection, stmt) -> int:
    if isinstance(conn_or_engine, Engine):
        with conn_or_engine.begin() as conn:
            return conn.execute(stmt).rowcount
    return conn_or_engine.execute(stmt).rowcount
