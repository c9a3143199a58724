"""Inbound SMS: each message acts at most once; STOP/START are ordered; replies are recorded.

At most once: a message is first entered in the inbound log (``InboundMessage``, unique
MessageSid) and only then acted on, in the same transaction. Two deliveries of one webhook
at the same moment both try the insert; the database lets one through and the other
fails on the unique constraint (on PostgreSQL it waits for the first to commit), so a
replay, concurrent or not, changes nothing and makes no second response.

Order of opt-out changes: Twilio's inbound webhook carries no timestamp, so STOP/START
are ordered by the order the server first saw them (the log's id). Each contact keeps
the position of the STOP/START that set its state (``sms_opt_seq``) and what set it
(``sms_opt_source``: the MessageSid) and when; a message seen earlier never undoes one
seen later, even if their transactions commit in the other order. The limit that
remains: two distinct messages that reach the server out of order (Twilio retried the
first one late) are applied in the order they arrived.

Twilio's error 21610 (it refused an SMS because the contact opted out) opts the contact
out too, unless their state was set after that SMS was handed to Twilio (a START seen
since then is newer news than the refusal).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session

from api import ledger
from api.inbound.classify import classify
from api.models import (
    Application,
    Contact,
    InboundMessage,
    Interview,
    Interviewer,
    Touch,
    TouchEvent,
)
from api.scheduling.responses import record_response
from api.webhooks import events as webhook_events

log = logging.getLogger("touchbase.webhooks")

# Twilio's opt-out / opt-in keywords (a message consisting of the keyword alone).
OPT_OUT_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"}
)
OPT_IN_WORDS = frozenset({"START", "UNSTOP", "YES"})
ACTIVE_APPLICATION = ("active", "next_round")
#: Twilio delivers at most 1600 characters of one message; kept whole, and no more.
SMS_TEXT_MAX = 1600


def keyword(body: str) -> str:
    return re.sub(r"[\s.!]+$", "", body.strip()).upper()


def message_kind(body: str) -> str:
    """What an inbound text is: ``opt_out``, ``opt_in``, ``reply`` or ``other`` (empty)."""
    word = keyword(body)
    if word in OPT_OUT_WORDS:
        return "opt_out"
    if word in OPT_IN_WORDS:
        return "opt_in"
    return "reply" if body.strip() else "other"


def claim(session: Session, sid: str, kind: str, now: datetime) -> InboundMessage | None:
    """Enter the message in the inbound log; None (and the transaction rolled back) when
    its SID was seen before: then nothing more may be done for it."""
    message = InboundMessage(sid=sid, kind=kind, received_at=now)
    session.add(message)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        log.info("inbound SMS %s was seen before: a replay, ignored", sid)
        return None
    return message


def opt_change_applies(current_seq: int | None, seq: int) -> bool:
    """A STOP/START first seen at position ``seq`` may set a state set at ``current_seq``."""
    return current_seq is None or seq > current_seq


def set_sms_opt(
    session: Session, contacts: list[Contact], message: InboundMessage, opted_out: bool
) -> list[Contact]:
    """Apply a STOP (``opted_out``) or START to the contacts it is from, each locked (in id
    order) and re-read, unless a later-seen STOP/START already set it. Returns those set."""
    applied = []
    for contact in sorted(contacts, key=lambda c: c.id):
        session.refresh(contact, with_for_update=True)
        if not opt_change_applies(contact.sms_opt_seq, message.id):
            log.info(
                "inbound SMS %s: contact %s was set by a message seen later; left as is",
                message.sid,
                contact.id,
            )
            continue
        contact.sms_opted_out = opted_out
        contact.sms_opt_seq = message.id
        contact.sms_opt_source = message.sid
        contact.sms_opt_changed_at = message.received_at
        if opted_out:
            webhook_events.contact_opted_out(session, contact, message.received_at)
        applied.append(contact)
    return applied


def refusal_applies(opt_changed_at: datetime | None, handed_at: datetime | None) -> bool:
    """Twilio's 21610 for an SMS handed over at ``handed_at`` is news unless the contact's
    state was set after that."""
    return opt_changed_at is None or handed_at is None or opt_changed_at <= handed_at


def opt_out_refused(session: Session, contact: Contact, touch: Touch, now: datetime) -> bool:
    """Twilio refused ``touch`` (error 21610): opt the contact out, recording the touch as
    the source, unless already out or their state is newer than the send. True if set."""
    session.refresh(contact, with_for_update=True)
    if contact.sms_opted_out:
        return False
    handed_at = touch.sent_at or session.scalar(
        select(func.max(TouchEvent.at)).where(
            TouchEvent.touch_id == touch.id, TouchEvent.kind == "sending"
        )
    )
    if not refusal_applies(contact.sms_opt_changed_at, handed_at):
        log.info("touch %s: 21610 predates contact %s's opt-in; kept", touch.id, contact.id)
        return False
    mark_refused(contact, touch, now)
    return True


def mark_refused(contact: Contact, touch: Touch, now: datetime) -> None:
    """Opted out because Twilio refused ``touch`` with 21610 (the order is kept)."""
    contact.sms_opted_out = True
    contact.sms_opt_source = f"touch:{touch.id}"
    contact.sms_opt_changed_at = now
    session = object_session(contact)
    if session is not None:
        webhook_events.contact_opted_out(session, contact, now)


# -- replies ----------------------------------------------------------------------------


def replying_contact(session: Session, contacts: list[Contact]) -> Contact | None:
    """The contact a reply is from: the one texted most recently, or the only one."""
    ids = [c.id for c in contacts]
    latest = session.scalar(
        select(Touch.contact_id)
        .where(
            Touch.contact_id.in_(ids),
            Touch.channel == "sms",
            Touch.status.in_(("sending", "sent", "delivered", "unknown")),
        )
        .order_by(Touch.id.desc())
    )
    if latest is not None:
        return next(c for c in contacts if c.id == latest)
    return contacts[0] if len(contacts) == 1 else None


def reply_application(session: Session, contact: Contact) -> Application | None:
    """The contact's latest active application (by touches, then interviews), else the latest."""
    ids = list(
        session.scalars(
            select(Touch.application_id)
            .where(Touch.contact_id == contact.id)
            .order_by(Touch.id.desc())
        )
    )
    ids += list(
        session.scalars(
            select(Interview.application_id)
            .join(Interviewer, Interviewer.interview_id == Interview.id)
            .where(Interviewer.contact_id == contact.id)
            .order_by(Interview.starts_at.desc())
        )
    )
    ordered = list(dict.fromkeys(ids))
    if not ordered:
        return None
    apps = {
        a.id: a for a in session.scalars(select(Application).where(Application.id.in_(ordered)))
    }
    for app_id in ordered:
        if apps[app_id].status in ACTIVE_APPLICATION:
            return apps[app_id]
    return apps[ordered[0]]


def record_reply(
    session: Session,
    contact: Contact,
    body: str,
    message: InboundMessage,
    now: datetime,
    config: Mapping[str, Any],
) -> None:
    """The reply as the response it is (api.inbound.classify: a rejection, an invitation,
    a promised date, an out-of-office, else a plain reply that stops the sequence, R8),
    with the effect of one recorded by hand (api.scheduling.responses). An automatic reply
    without a date is not recorded. The caller claimed ``message``, so this runs once per
    MessageSid; the response keeps the SID, the text and what the classifier said."""
    application = reply_application(session, contact)
    if application is None:
        log.info("SMS reply from contact %s with no application; not recorded", contact.id)
        return
    found = classify(body, received_at=now, tz=contact.timezone, channel="sms")
    if found.kind in ("auto_reply", "bounce"):
        log.info("SMS from contact %s is an automatic reply; not recorded", contact.id)
        return
    ledger.lock_contact(session, contact.id)
    record_response(
        session,
        contact=contact,
        application=application,
        round_=ledger.current_round(session, application.id),
        kind=found.kind,
        occurred_at=now,
        now=now,
        config=config,
        channel="sms",
        decision_date=found.decision_date,
        until=found.until,
        source="sms",
        message_id=message.sid,
        text=(found.text or body.strip())[:SMS_TEXT_MAX],
        classified_as=found.kind,
        confidence=found.confidence,
    )
