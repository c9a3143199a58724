"""One pipeline for every email Touchbase hears: parse -> dedupe -> match -> classify -> act.

Posted raw (``POST /v1/inbound/email``) or read from a mailbox, a message is entered in the
inbound log first (unique per org by Message-ID, else a digest), so a second delivery is a
``duplicate`` and acts never. It is matched to the touch it answers by In-Reply-To and
References against the Message-IDs Touchbase stored when it scheduled its touches, else to
a contact by the sender's address; a copy of one of our own messages is ignored. Then:

- a bounce marks the touch it refers to failed (permanent, 5.x.x) or notes it (4.x.x);
- an automatic reply is logged and changes nothing, unless it is an out-of-office with a
  return date, which is recorded as such (the pending touches move past it);
- a human reply is recorded as the response it is (``replied``, ``rejected``, ...), with
  exactly the effect of one typed into ``POST /v1/responses`` (api.scheduling.responses).

Nothing is ever dropped: what matches no one is kept as ``unmatched``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api import ledger
from api.inbound import message
from api.inbound.classify import Classification, classify
from api.inbound.message import NotAMessage
from api.models import Application, Contact, InboundMail, Touch
from api.scheduling.responses import record_response

__all__ = ["NotAMessage", "Outcome", "receive"]

#: The stored text of a message (the log's, its response's) is cut here.
TEXT_MAX = 20_000
HUMAN = ("replied", "rejected", "next_round", "offer", "decision_date")


@dataclass(frozen=True)
class Outcome:
    """What became of one message (the endpoint's answer)."""

    outcome: str  # recorded | duplicate | ignored | unmatched
    reason: str
    classification: str | None = None
    inbound_id: int | None = None
    response_id: int | None = None
    touch_id: int | None = None
    contact_id: int | None = None


def _key(msg: EmailMessage, raw: bytes) -> str:
    own = message.message_id(msg)
    return own[:300] if own else "sha256:" + hashlib.sha256(raw).hexdigest()


@dataclass(frozen=True)
class _Match:
    contact: Contact | None
    application: Application | None
    touch: Touch | None
    how: str


def _match(session: Session, org_id: int, msg: EmailMessage, sender: str | None) -> _Match:
    answered = message.in_reply_to(msg) + message.references(msg)
    if answered:
        touch = session.scalars(
            select(Touch)
            .where(Touch.org_id == org_id, Touch.message_id.in_(answered))
            .order_by(Touch.id.desc())
        ).first()
        if touch is not None:
            contact = session.get(Contact, touch.contact_id)
            application = session.get(Application, touch.application_id)
            return _Match(contact, application, touch, "by In-Reply-To/References")
    if sender:
        contacts = session.scalars(
            select(Contact).where(Contact.org_id == org_id, Contact.email == sender)
        ).all()
        best = None
        for contact in contacts:
            last = session.scalars(
                select(Touch).where(Touch.contact_id == contact.id).order_by(Touch.id.desc())
            ).first()
            if best is None or (last is not None and (best[1] is None or last.id > best[1].id)):
                best = (contact, last)
        if best is not None:
            contact, last = best
            application = session.get(Application, last.application_id) if last else None
            return _Match(contact, application, last, "by the sender's address")
    return _Match(None, None, None, "no touch or contact matches")


def receive(
    session: Session,
    org_id: int,
    raw: bytes,
    *,
    source: str,
    now: datetime,
    config: Mapping[str, Any],
    candidate_id: int | None = None,
) -> Outcome:
    """Hear one raw message (``NotAMessage`` if it is none); the caller commits."""
    msg = message.parse(raw)
    key = _key(msg, raw)
    if session.scalar(
        select(InboundMail.id).where(InboundMail.org_id == org_id, InboundMail.dedupe_key == key)
    ):
        return Outcome("duplicate", "This message was heard before; it acts once.")
    sender = message.sender(msg)
    own = message.message_id(msg)
    row = InboundMail(
        org_id=org_id,
        candidate_id=candidate_id,
        dedupe_key=key,
        message_id=own[:300] if own else None,
        source=source,
        sender=sender[:320] if sender else None,
        subject=message.subject(msg)[:300] or None,
        sent_at=message.sent_at(msg),
        received_at=now,
        outcome="unmatched",
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:  # the same message, delivered at the same moment
        return Outcome("duplicate", "This message was heard before; it acts once.")
    if own and session.scalar(
        select(Touch.id).where(Touch.org_id == org_id, Touch.message_id == own)
    ):
        return _done(row, "ignored", "A copy of a message Touchbase sent; never a reply.")
    match = _match(session, org_id, msg, sender)
    tz = match.contact.timezone if match.contact else "UTC"
    found = classify(msg, received_at=row.sent_at or now, tz=tz)
    row.classification, row.confidence = found.kind, found.confidence
    row.text = (found.text or "")[:TEXT_MAX]
    if match.contact is not None:
        row.contact_id, row.candidate_id = match.contact.id, match.contact.candidate_id
    row.application_id = match.application.id if match.application else None
    row.touch_id = match.touch.id if match.touch else None
    return _act(session, row, match, found, now, config)


def _done(row: InboundMail, outcome: str, reason: str, response_id: int | None = None):
    row.outcome, row.reason, row.response_id = outcome, reason, response_id
    return Outcome(
        outcome,
        reason,
        row.classification,
        row.id,
        response_id,
        row.touch_id,
        row.contact_id,
    )


def _act(session, row, match: _Match, found: Classification, now, config) -> Outcome:
    if found.kind == "bounce":
        return _bounce(session, row, match, found)
    if found.kind == "auto_reply" or (found.kind == "out_of_office" and not found.until):
        return _done(row, "ignored", f"An automatic reply: logged, never a reply. {found.reason}")
    if match.contact is None or match.application is None:
        return _done(row, "unmatched", f"Kept for the candidate: {match.how}. {found.reason}")
    kind = found.kind if found.kind in HUMAN or found.kind == "out_of_office" else "replied"
    ledger.lock_contact(session, match.contact.id)
    response, _, _ = record_response(
        session,
        contact=match.contact,
        application=match.application,
        round_=match.touch.round
        if match.touch
        else ledger.current_round(session, row.application_id),
        kind=kind,
        occurred_at=row.sent_at if row.sent_at and row.sent_at <= now else now,
        now=now,
        config=config,
        channel="email",
        decision_date=found.decision_date,
        until=found.until,
        source="email",
        message_id=row.message_id,
        text=row.text,
        classified_as=found.kind,
        confidence=found.confidence,
        inbound_id=row.id,
    )
    return _done(row, "recorded", f"Recorded as {kind}, {match.how}. {found.reason}", response.id)


def _bounce(session, row, match: _Match, found: Classification) -> Outcome:
    bounce = found.bounce
    touch = match.touch
    if bounce is not None and bounce.original_message_id:
        touch = (
            session.scalars(
                select(Touch).where(
                    Touch.org_id == row.org_id, Touch.message_id == bounce.original_message_id
                )
            ).first()
            or touch
        )
    if touch is None:
        return _done(row, "unmatched", "A bounce for no message Touchbase sent.")
    row.touch_id, row.contact_id, row.application_id = (
        touch.id,
        touch.contact_id,
        touch.application_id,
    )
    row.candidate_id = touch.candidate_id
    status = bounce.status if bounce else "unknown"
    diagnostic = (bounce.diagnostic if bounce else None) or "no diagnostic"
    if bounce is not None and bounce.permanent and touch.status in ("sent", "delivered", "unknown"):
        reason = f"Bounced ({status}): {diagnostic}"
        touch.status, touch.reason = "failed", reason
        ledger.record_event(
            session, touch, "failed", f"inbound:{row.id}", reason=reason, data={"dsn": status}
        )
        return _done(row, "recorded", f"A permanent bounce: the touch failed. {reason}")
    ledger.record_event(
        session,
        touch,
        "bounce",
        f"inbound:{row.id}",
        reason=f"A transient delivery problem ({status}): {diagnostic}",
        data={"dsn": status},
    )
    return _done(row, "recorded", f"A transient bounce ({status}): noted on the touch.")
