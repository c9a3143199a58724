"""The outbox: an event is written in the same transaction as the change it reports.

A write path *notes* its event (:func:`note`); the touch ledger does it for every touch
event (api.ledger.events), so the planner, the worker, inbound mail and the resources are
all covered by one call. Just before the transaction commits, the notes become a
:class:`WebhookEvent` and one :class:`WebhookDelivery` per enabled endpoint of the org that
subscribes to its type, with the payload read from the objects as they are then (the
fields a change sets after noting its event are in it). A rolled-back transaction writes
nothing; so does a savepoint rolled back: a note whose witness (the touch event, the
response...) did not survive is dropped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from api.models import (
    Contact,
    InboundMail,
    Response,
    Touch,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    utcnow,
)
from api.models.webhooks import WEBHOOK_EVENT_TYPES
from api.webhooks.signing import new_msg_id

KEY = "touchbase.webhooks"

#: The touch event kinds a portal hears of, and the event type each is. An approved draft
#: is scheduled; "created" is followed by its "scheduled"/"draft" in the same transaction.
TOUCH_TYPES = {
    "scheduled": "touch.scheduled",
    "approved": "touch.scheduled",
    "rescheduled": "touch.rescheduled",
    "draft": "touch.awaiting_approval",
    "sent": "touch.sent",
    "delivered": "touch.delivered",
    "failed": "touch.failed",
    "skipped": "touch.skipped",
    "cancelled": "touch.cancelled",
    "unknown": "touch.unknown",
}


@dataclass
class _Note:
    type: str
    subject: Any  # the ORM object the payload describes (or a touch id, from insert_events)
    build: Callable[[Any], dict[str, Any]]
    at: datetime
    witness: Any = None  # an object that exists only if the change stood
    extra: dict[str, Any] | None = None


def note(
    session: Session,
    type_: str,
    subject: Any,
    build: Callable[[Any], dict[str, Any]],
    *,
    at: datetime | None = None,
    witness: Any = None,
    extra: dict[str, Any] | None = None,
) -> None:
    if type_ not in WEBHOOK_EVENT_TYPES:
        raise ValueError(f"Unknown webhook event type {type_!r}: add it to WEBHOOK_EVENT_TYPES")
    session.info.setdefault(KEY, []).append(
        _Note(type_, subject, build, at or utcnow(), witness, extra)
    )


# -- what each write path notes ----------------------------------------------------------


def touch_event(
    session: Session, touch: Touch | int, kind: str, at: datetime | None, *, witness=None, **extra
) -> None:
    """A touch event (api.ledger.events calls this for every one it records)."""
    type_ = TOUCH_TYPES.get(kind)
    if type_ is None:
        return
    data = {"kind": kind, **{k: v for k, v in extra.items() if v is not None}}
    note(session, type_, touch, touch_data, at=at, witness=witness, extra=data)


def response_recorded(session: Session, response: Response) -> None:
    note(session, "response.recorded", response, response_data, at=response.occurred_at)


def contact_opted_out(session: Session, contact: Contact, at: datetime | None) -> None:
    note(session, "contact.opted_out", contact, opt_out_data, at=at)


def inbound_unmatched(session: Session, row: InboundMail) -> None:
    note(session, "inbound.unmatched", row, inbound_data, at=row.received_at)


# -- payloads: ids and the resource's main fields ----------------------------------------


def touch_data(touch: Touch) -> dict[str, Any]:
    return {
        "touch_id": touch.id,
        "candidate_id": touch.candidate_id,
        "contact_id": touch.contact_id,
        "application_id": touch.application_id,
        "interview_id": touch.interview_id,
        "round": touch.round,
        "step": touch.step,
        "channel": touch.channel,
        "status": touch.status,
        "automated": touch.automated,
        "scheduled_for": touch.scheduled_for,
        "approve_by": touch.approve_by,
        "sent_at": touch.sent_at,
        "attempts": touch.attempts,
        "reason": touch.reason,
        "rule": touch.rule,
    }


def response_data(response: Response) -> dict[str, Any]:
    return {
        "response_id": response.id,
        "candidate_id": response.candidate_id,
        "contact_id": response.contact_id,
        "application_id": response.application_id,
        "round": response.round,
        "kind": response.kind,
        "channel": response.channel,
        "source": response.source,
        "occurred_at": response.occurred_at,
        "decision_date": response.decision_date,
        "until": response.until,
    }


def opt_out_data(contact: Contact) -> dict[str, Any]:
    return {
        "contact_id": contact.id,
        "candidate_id": contact.candidate_id,
        "channel": "sms",
        "source": contact.sms_opt_source,
        "opted_out_at": contact.sms_opt_changed_at,
    }


def inbound_data(row: InboundMail) -> dict[str, Any]:
    return {
        "inbound_id": row.id,
        "candidate_id": row.candidate_id,
        "contact_id": row.contact_id,
        "source": row.source,
        "sender": row.sender,
        "subject": row.subject,
        "received_at": row.received_at,
        "classification": row.classification,
        "reason": row.reason,
    }


def body(type_: str, at: datetime, data: dict[str, Any]) -> dict[str, Any]:
    """The payload every event has: ``{type, timestamp, data}``, JSON-ready."""
    return {"type": type_, "timestamp": _plain(at), "data": _plain(data)}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def dumps(payload: dict[str, Any]) -> str:
    """The exact bytes sent and signed (compact, stable key order)."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True)


# -- turning the notes into rows, in the committing transaction ---------------------------


def _stood(obj: Any) -> bool:
    """Whether the note's object still exists: pending or persistent, or a row written
    by a bulk INSERT and kept out of the session (the inbound log's: detached, with its
    identity). An object of a rolled-back savepoint is transient: its note is dropped."""
    if obj is None:
        return True
    state = inspect(obj, raiseerr=False)
    return state is None or state.pending or state.persistent or state.detached


def _resolve(session: Session, notes: Iterable[_Note]) -> list[_Note]:
    """Touch ids (from insert_events) become their touches: from the session if it holds
    them, else in one query (the transaction's own writes are visible to it)."""
    notes = list(notes)
    wanted = {n.subject for n in notes if isinstance(n.subject, int)}
    found: dict[int, Touch] = {}
    for touch_id in list(wanted):
        obj = session.identity_map.get(identity_key(Touch, touch_id))
        if obj is not None:
            found[touch_id] = obj
            wanted.discard(touch_id)
    if wanted:
        for touch in session.scalars(select(Touch).where(Touch.id.in_(wanted))):
            found[touch.id] = touch
    for n in notes:
        if isinstance(n.subject, int):
            n.subject = found.get(n.subject)
    return [n for n in notes if n.subject is not None]


def write_outbox(session: Session) -> None:
    notes = [n for n in session.info.pop(KEY, []) if _stood(n.witness) and _stood(n.subject)]
    if not notes:
        return
    has_endpoints = session.scalar(
        select(WebhookEndpoint.id).where(WebhookEndpoint.enabled.is_(True)).limit(1)
    )
    if has_endpoints is None:  # the common case: one small query, nothing else
        return
    session.flush()  # the ids the payloads carry
    notes = _resolve(session, notes)
    orgs = {n.subject.org_id for n in notes}
    endpoints = session.scalars(
        select(WebhookEndpoint)
        .where(WebhookEndpoint.org_id.in_(orgs), WebhookEndpoint.enabled.is_(True))
        .order_by(WebhookEndpoint.id)
    ).all()
    now = utcnow()
    for n in notes:
        org_id = n.subject.org_id
        listening = [e for e in endpoints if e.org_id == org_id and n.type in e.event_types]
        if not listening:
            continue
        data = n.build(n.subject)
        if n.extra:
            data["event"] = n.extra
        touch_id = n.subject.id if isinstance(n.subject, Touch) else None
        session.add(
            WebhookEvent(
                org_id=org_id,
                msg_id=new_msg_id(),
                type=n.type,
                touch_id=touch_id,
                payload=body(n.type, n.at, data),
                created_at=now,
                deliveries=[
                    WebhookDelivery(
                        endpoint_id=e.id, touch_id=touch_id, next_attempt_at=now, created_at=now
                    )
                    for e in listening
                ],
            )
        )


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if session.info.get(KEY):
        write_outbox(session)


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction) -> None:
    if transaction.parent is None:  # the whole transaction ended (committed or not)
        session.info.pop(KEY, None)
