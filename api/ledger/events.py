"""Touch events: appending them (one object, or many rows in one INSERT), updating a locked
touch past the unit of work, and telling plugins once the transaction commits. Every
event is also noted for the portal's webhooks (api.webhooks.events), which writes it to the
outbox in the same transaction.

The session listeners below are registered when this module is imported (importing
:mod:`api.ledger` does it); events of a rolled-back transaction are forgotten, so
observers never hear of a change that did not happen.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, event, insert
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from api.models import Touch, TouchEvent, utcnow
from api.models.touches import EVENT_KINDS
from api.webhooks import events as webhook_events

log = logging.getLogger("touchbase.ledger")


def actor_for_user(user_id: int) -> str:
    return f"user:{user_id}"


def record_event(
    session: Session,
    touch: Touch,
    kind: str,
    actor: str,
    *,
    reason: str | None = None,
    rule: str | None = None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> TouchEvent:
    """Append an event; plugins hear of it once the transaction commits."""
    fields = event_row(touch.id, kind, actor, reason=reason, rule=rule, data=data, at=at)
    del fields["touch_id"]  # the relationship sets it (a new touch has no id yet)
    evt = TouchEvent(touch=touch, **fields)
    session.add(evt)
    session.info.setdefault("touchbase.events", []).append(evt)
    webhook_events.touch_event(
        session, touch, kind, fields["at"], witness=evt, actor=actor, reason=reason, rule=rule
    )
    return evt


def event_row(
    touch_id: int | None,
    kind: str,
    actor: str,
    *,
    reason: str | None = None,
    rule: str | None = None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """The columns of one event, for :func:`insert_events`. Its kind is one the API
    documents (EVENT_KINDS): a portal's client is generated to expect no other."""
    if kind not in EVENT_KINDS:
        raise ValueError(f"Unknown touch event kind {kind!r}: add it to EVENT_KINDS")
    return {
        "touch_id": touch_id,
        "kind": kind,
        "actor": actor,
        "reason": reason,
        "rule": rule,
        "data": _jsonable(data or {}),
        "at": at or utcnow(),
    }


def insert_events(session: Session, rows: list[dict[str, Any]]) -> None:
    """Append events (:func:`event_row`) in one INSERT, past the unit of work: the worker
    writes two per touch, and the unit of work costs more than the statement. Plugins
    hear of them once the transaction commits, like :func:`record_event`'s."""
    if not rows:
        return
    session.connection().execute(insert(TouchEvent.__table__), rows)
    session.info.setdefault("touchbase.events", []).extend(SimpleNamespace(**r) for r in rows)
    for r in rows:
        webhook_events.touch_event(
            session, r["touch_id"], r["kind"], r["at"], actor=r["actor"], reason=r["reason"]
        )


_UPDATE_TOUCH = Touch.__table__.update().where(Touch.__table__.c.id == bindparam("touch_pk"))


def update_touch(session: Session, touch: Touch, **values: Any) -> None:
    """UPDATE a loaded (and locked) touch by primary key, past the unit of work, and set
    the same values on ``touch`` as its committed state, so the object stays true and
    clean. For the worker's hot path; elsewhere, change the object."""
    values.setdefault("updated_at", utcnow())
    if "scheduled_for" in values and values["scheduled_for"] != touch.scheduled_for:
        values.setdefault("sequence", touch.sequence + 1)  # as Touch's own hook (feed SEQUENCE)
    session.connection().execute(_UPDATE_TOUCH, {"touch_pk": touch.id, **values})
    for key, value in values.items():
        set_committed_value(touch, key, value)


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime | date) else v) for k, v in data.items()}


@event.listens_for(Session, "after_commit")
def _notify_observers(session: Session) -> None:
    events = session.info.pop("touchbase.events", None)
    if not events:
        return
    try:
        from channels.registry import notify_event
    except ImportError:
        return
    for evt in events:
        payload = {
            "touch_id": evt.touch_id,
            "kind": evt.kind,
            "at": evt.at,
            "actor": evt.actor,
            "reason": evt.reason,
            "rule": evt.rule,
            "data": evt.data,
        }
        try:
            notify_event(payload)
        except Exception:  # an observer must never break the ledger
            log.exception("touch_event observer failed for touch %s", evt.touch_id)


@event.listens_for(Session, "after_rollback")
def _forget_events(session: Session) -> None:
    session.info.pop("touchbase.events", None)


def pending_events(session: Session) -> int:
    """How many events wait for the commit: a savepoint's mark (api.idempotency.hold)."""
    return len(session.info.get("touchbase.events", ()))


def forget_events_after(session: Session, mark: int) -> None:
    """Forget the events recorded since ``mark``: a savepoint of theirs was rolled back, and
    the DBAPI transaction goes on (after_rollback only hears of a real rollback)."""
    events = session.info.get("touchbase.events")
    if events is not None:
        del events[mark:]
