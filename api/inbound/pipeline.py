"""One pipeline for every email Touchbase hears: parse -> dedupe -> match -> classify -> act.

Posted raw (``POST /v1/inbound/email``) or read from a mailbox, a message is entered in the
inbound log first (unique per org by Message-ID, else a digest), so a second delivery is a
``duplicate`` and acts never. It is matched to the touch it answers by In-Reply-To and
References against the Message-IDs Touchbase stored when it scheduled its touches, else to
a contact by the sender's address, else by the sender's company domain (api.inbound.matching);
a copy of one of our own messages is ignored. Then:

- a bounce marks the touch it refers to failed (permanent, 5.x.x), and the contact's
  address undeliverable (api.inbound.undeliverable), or notes it (4.x.x);
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
from api.inbound import matching, message, undeliverable
from api.inbound.classify import Classification, classify
from api.inbound.message import NotAMessage
from api.models import Application, Contact, InboundMail, Touch
from api.scheduling.responses import record_response
from api.webhooks import events as webhook_events
from channels.inbound import InboundEvent

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

    def event(self, org_id: int, candidate_id: int | None, source: str, at) -> InboundEvent:
        """What the ``inbound_message`` hook hears of it, once it is committed."""
        return InboundEvent(
            outcome=self.outcome,
            reason=self.reason,
            source=source,
            org_id=org_id,
            candidate_id=candidate_id,
            inbound_id=self.inbound_id,
            classification=self.classification,
            response_id=self.response_id,
            touch_id=self.touch_id,
            contact_id=self.contact_id,
            at=at,
        )


def _key(msg: EmailMessage, raw: bytes) -> str:
    own = message.message_id(msg)
    return own[:300] if own else "sha256:" + hashlib.sha256(raw).hexdigest()


#: The match _act works with (api.inbound.matching decides it).
_Match = matching.Match


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
    match = matching.match(session, org_id, msg, sender, candidate_id)
    tz = match.contact.timezone if match.contact else "UTC"
    found = classify(msg, received_at=row.sent_at or now, tz=tz)
    if found.kind != "bounce":
        match = matching.named_contact(session, match, found.text)
    row.classification, row.confidence = found.kind, found.confidence
    row.text = (found.text or "")[:TEXT_MAX]
    row.decision_date, row.until = found.decision_date, found.until
    if match.contact is not None:
        row.contact_id, row.candidate_id = match.contact.id, match.contact.candidate_id
    row.application_id = match.application.id if match.application else None
    row.touch_id = match.touch.id if match.touch else None
    outcome = _act(session, row, match, found, now, config)
    if outcome.outcome == "unmatched":
        webhook_events.inbound_unmatched(session, row)
    return outcome


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
    if bounce is not None and bounce.permanent:
        return _permanent_bounce(session, row, touch, bounce, f"Bounced ({status}): {diagnostic}")
    ledger.record_event(
        session,
        touch,
        "bounce",
        f"inbound:{row.id}",
        reason=f"A transient delivery problem ({status}): {diagnostic}",
        data={"dsn": status},
    )
    return _done(row, "recorded", f"A transient bounce ({status}): noted on the touch.")


def _permanent_bounce(session, row, touch: Touch, bounce, reason: str) -> Outcome:
    """The touch failed (if it had gone out), and the address it went to is marked
    undeliverable when it is still the contact's (api.inbound.undeliverable)."""
    actor, data = f"inbound:{row.id}", {"dsn": bounce.status}
    said = "A permanent bounce"
    if touch.status in ("sent", "delivered", "unknown"):
        touch.status, touch.reason = "failed", reason
        ledger.record_event(session, touch, "failed", actor, reason=reason, data=data)
        said += ": the touch failed"
    else:
        ledger.record_event(session, touch, "bounce", actor, reason=reason, data=data)
    contact = session.get(Contact, touch.contact_id)
    address = contact.email if contact is not None else None
    if (
        contact is not None
        and touch.channel == "email"
        and undeliverable.mark_undeliverable(
            session,
            contact,
            bounce.recipient,
            f"{address} {reason[0].lower()}{reason[1:].rstrip('.')}.",
            row.received_at,
            actor,
        )
    ):
        said += f"; {address} is marked undeliverable: nothing more goes to it by email"
    return _done(row, "recorded", f"{said}. {reason}")


def attach(
    session: Session,
    row: InboundMail,
    contact: Contact,
    application: Application,
    now: datetime,
    config: Mapping[str, Any],
) -> Outcome:
    """Record an unmatched message against the contact (and application) the candidate
    chose, through the same act path as a matched one, from what the row kept: the
    classification, the dates read and the reply's text. The caller checked that the row
    is unmatched and the contact and application are the candidate's."""
    touch = session.scalars(
        select(Touch)
        .where(Touch.application_id == application.id, Touch.contact_id == contact.id)
        .order_by(Touch.sent_at.desc().nulls_last(), Touch.id.desc())
    ).first()
    row.contact_id, row.candidate_id = contact.id, contact.candidate_id
    row.application_id, row.touch_id = application.id, touch.id if touch else None
    found = Classification(
        kind=row.classification or "replied",
        confidence=row.confidence or 0.5,
        text=row.text or "",
        reason=f"Classified {row.classification or 'replied'} when it arrived.",
        until=row.until,
        decision_date=row.decision_date,
    )
    match = _Match(contact, application, touch, "attached by hand")
    return _act(session, row, match, found, now, config)
