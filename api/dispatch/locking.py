"""Locking this worker's own touches, and keeping its copies of them current.

A touch is re-read under a row lock just before it is fenced or its answer is written;
the worker's copy from the batch load is reused when the row has not changed since.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from api import ledger
from api.models import Touch

# Built once: a statement object reused keeps its cache key and compiled form.
_TOUCHES = Touch.__table__
#: Lock this worker's touches among ``ids`` and read what says whether they changed.
_LOCK_MINE = (
    select(_TOUCHES.c.id, _TOUCHES.c.status, _TOUCHES.c.updated_at)
    .where(
        _TOUCHES.c.id.in_(bindparam("ids", expanding=True)),
        _TOUCHES.c.lease_owner == bindparam("owner"),
    )
    .order_by(_TOUCHES.c.id)
    .with_for_update()
)
#: The whole rows, when the worker's copy is out of date.
_RELOAD = select(Touch).where(Touch.id.in_(bindparam("ids", expanding=True)))


def _current(known: Touch | None, status: str, updated_at: datetime) -> bool:
    """Whether the worker's copy is the row as just read. A copy whose transaction rolled
    back is expired (and detached): it is not, and is read afresh."""
    if known is None:
        return False
    expired = sa_inspect(known).expired_attributes
    if "status" in expired or "updated_at" in expired:
        return False
    return known.status == status and known.updated_at == updated_at


class LockMixin:
    """Row locks on the worker's touches (``_lock``), and news of its own changes (``_saw``)."""

    def _mine(self, session: Session, touch_id: int, statuses: tuple[str, ...]) -> Touch | None:
        return self._lock(session, {touch_id: statuses}).get(touch_id)

    def _lock(self, session: Session, wanted: dict[int, tuple[str, ...]]) -> dict[int, Touch]:
        """Lock and re-read this worker's touches among ``wanted`` (id -> the statuses it
        may be in), in one statement, in id order."""
        rows = (
            session.connection()
            .execute(_LOCK_MINE, {"ids": sorted(wanted), "owner": self.id})
            .all()
        )
        found: dict[int, Touch] = {}
        stale = []
        for touch_id, status, updated_at in rows:
            if status not in wanted[touch_id]:
                continue
            known = self._touches.get(touch_id)
            if _current(known, status, updated_at):
                # Every change but lease bookkeeping moves updated_at: the worker's copy
                # (from the batch load, or as it last wrote it) is the row as it is now.
                session.add(known)
                found[touch_id] = known
            else:
                stale.append(touch_id)
        if stale:
            reloaded = session.scalars(
                _RELOAD, {"ids": stale}, execution_options={"populate_existing": True}
            ).all()
            for touch in reloaded:
                found[touch.id] = self._touches[touch.id] = touch
        return found

    def _saw(self, touch: Touch | None) -> None:
        """Tell the rest of the batch about a change this worker made to ``touch``."""
        watching = self._watchers.get(touch.id) if touch is not None else None
        if watching:
            record = ledger.touch_record(touch)
            for ctx in watching:
                ctx.saw(touch, record)
